"""Stage 05 as one call: retention against each category's consumption cycle, cohorts, and the
churn early warning when the history is long enough for it.

``evaluate_retention`` returns a ``RetentionResult``; without enough history for an
out-of-time churn model (``helpers.capabilities`` declares how much) its churn fields are None.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers import churn, retention

# the order_lines columns this stage reads (its notebook reads only these)
ORDER_LINE_COLUMNS = [
    "customer_id", "order_id", "order_date", "category", "amount", "is_return", "is_estimated"]


@dataclass
class RetentionResult:
    """Everything the retention page shows; the churn fields are None without a churn model."""

    horizon_months: int
    window_months: int  # the behaviour window the churn model's snapshots looked back over
    cycle_quantile: float
    confidence: float
    gaps: pd.DataFrame  # days between a customer's consecutive purchases, per category
    cycles: pd.DataFrame  # each category's consumption cycle
    by_category: pd.DataFrame  # retained within one cycle (rate table)
    by_region: pd.DataFrame  # the same per category x region
    cohort_rates: pd.DataFrame
    estimated_periods: set[str]  # cohort periods holding estimated history
    history: pd.Series  # the order dates (what the churn model's need for history is judged on)
    warning: churn.ChurnWarning | None
    drivers: pd.DataFrame | None  # odds ratio per standard deviation of each driver
    risk_by_region: pd.DataFrame | None
    risk_by_tier: pd.DataFrame | None

    @property
    def calibration(self) -> pd.DataFrame | None:
        return None if self.warning is None else self.warning.calibration

    def outputs(self) -> dict[str, pd.DataFrame]:
        """The tables the stage writes to the clean folder: today's churn risk."""
        if self.warning is None:
            return {}
        return {"churn_risk": self.warning.current_risk.assign(
            horizon_months=self.horizon_months,
            window_months=self.window_months).reset_index()}


def evaluate_retention(*, order_lines: pd.DataFrame, customers: pd.DataFrame,
                       complaints: pd.DataFrame, engagement: pd.DataFrame,
                       survey_responses: pd.DataFrame, referrals: pd.DataFrame,
                       monthly_sales: pd.DataFrame, customer_value: pd.DataFrame | None,
                       churn_model: bool = True, horizon_months: int = 6, n_train: int = 4,
                       spacing_months: int = 3, window_months: int = retention.ACTIVE_MONTHS,
                       cycle_quantile: float = 0.75,
                       confidence: float = 0.95, min_group_size: int = 30) -> RetentionResult:
    """The retention page's figures from the contract tables (empty ones where none were
    delivered) and 03's ``customer_value`` (None when it was not evaluated). ``churn_model``:
    the verdict of ``capabilities`` that the history supports a churn model; its snapshots look
    back over at most ``window_months`` (less on a short history)."""
    data_end = order_lines["order_date"].max()
    bought = retention.purchases(order_lines)
    cycles = retention.consumption_cycles(bought, cycle_quantile)
    rates = {"confidence": confidence, "min_size": min_group_size}
    with_region = bought.merge(customers[["customer_id", "region"]], on="customer_id")
    cohort_rates, _counts = retention.cohort_retention(bought, data_end)
    warning = drivers = by_region_risk = by_tier_risk = None
    if churn_model:
        warning = churn.churn_early_warning(
            order_lines=order_lines, customers=customers, complaints=complaints,
            engagement=engagement, survey_responses=survey_responses, referrals=referrals,
            horizon_months=horizon_months, n_train=n_train, spacing_months=spacing_months,
            window_months=window_months, confidence=confidence)
        window_months = warning.window_months
        drivers = warning.drivers_model.drivers(confidence, window_months)
        by_region_risk = churn.risk_by_group(warning.current_risk, ["region"], min_group_size)
        if customer_value is not None and len(customer_value):
            by_tier_risk = churn.risk_by_value_tier(warning.current_risk, customer_value,
                                                    min_group_size)
    return RetentionResult(
        horizon_months=horizon_months, window_months=window_months,
        cycle_quantile=cycle_quantile, confidence=confidence,
        gaps=retention.repeat_gaps(bought), cycles=cycles,
        by_category=retention.retention_within_cycle(bought, cycles, data_end, **rates),
        by_region=retention.retention_within_cycle(with_region, cycles, data_end, ["region"],
                                                   **rates),
        cohort_rates=cohort_rates,
        estimated_periods=retention.periods_with_estimates(monthly_sales),
        history=order_lines["order_date"], warning=warning, drivers=drivers,
        risk_by_region=by_region_risk, risk_by_tier=by_tier_risk)
