"""Stage 08 as one call: the loyalty index from the four dimensions, its weights and their
sensitivity, the membership tiers and their migration, and the monitoring alerts.

``evaluate_scorecard`` takes the contract tables and the earlier notebooks' outputs (None for a
notebook that was not evaluated) and returns a ``ScorecardResult``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers import attitude, dashboard, monitoring, scorecard
from helpers.activity import CustomerActivity
from helpers.words import N_

# the order_lines columns this stage reads (its notebook reads only these)
ORDER_LINE_COLUMNS = [
    "customer_id", "order_id", "order_date", "region", "amount", "is_return"]


@dataclass
class ScorecardResult:
    """Everything the scorecard page and the executive summary show."""

    indicators: pd.DataFrame  # one row per customer: the indicators behind the dimensions
    scores: pd.DataFrame  # dimension scores 0-1 (the dimensions the data have)
    expert_weights: pd.Series  # the configuration's weights, over the present dimensions
    entropy_weights: pd.Series  # data-driven weights, for comparison
    index: pd.Series  # the loyalty index 0-100
    agreement: float  # rank correlation of the expert and the entropy index
    draws: pd.DataFrame  # random weightings: rank correlation, top decile kept
    dropped: pd.DataFrame  # each dimension left out in turn
    tier_order: list[str]
    tier_now: pd.Series
    tier_before: pd.Series
    migration_covered: bool  # the history covers the year before last year
    tier_table: pd.DataFrame
    migration: pd.DataFrame
    series: pd.DataFrame  # the monitoring series
    alerts: pd.DataFrame
    period_facts: pd.DataFrame  # this and the previous 12 months, for the summary
    waves: pd.DataFrame | None  # net recommendation score per survey wave
    dashboard: pd.DataFrame  # the index page's tiles (``dashboard.dashboard_tiles``)
    dashboard_trends: pd.DataFrame  # their trend points
    dashboard_tiers: pd.DataFrame  # the tier mix now and a year before

    @property
    def weights(self) -> pd.DataFrame:
        """The expert and the entropy weights side by side."""
        return pd.DataFrame({N_("expert weights (config)"): self.expert_weights,
                             N_("entropy weights (data)"): self.entropy_weights})

    @property
    def no_survey_answer(self) -> pd.Series:
        return self.indicators["recommend"].isna()

    @property
    def dimensions(self) -> list[str]:
        return list(self.scores.columns)

    @property
    def latest_month(self) -> pd.Timestamp:
        return self.series["month"].max()

    def card(self) -> pd.DataFrame:
        """The scorecard table: one row per customer (written as scorecard)."""
        return self.indicators.assign(
            **self.scores.add_suffix("_score"), loyalty_index=self.index,
            no_survey_answer=self.no_survey_answer,
            tier=self.tier_now.reindex(self.indicators.index)).reset_index()

    def outputs(self) -> dict[str, pd.DataFrame]:
        """The tables the stage writes to the clean folder."""
        return {"scorecard": self.card(), "alerts": self.alerts, "dashboard": self.dashboard,
                "dashboard_trends": self.dashboard_trends,
                "dashboard_tiers": self.dashboard_tiers}


def evaluate_scorecard(*, order_lines: pd.DataFrame, customers: pd.DataFrame,
                       complaints: pd.DataFrame, engagement: pd.DataFrame,
                       monthly_sales: pd.DataFrame, customer_value: pd.DataFrame,
                       customer_segments: pd.DataFrame, survey_scored: pd.DataFrame | None,
                       churn_risk: pd.DataFrame | None, price_sensitivity: pd.DataFrame | None,
                       regional_elasticities: pd.DataFrame | None, weights: dict[str, float],
                       tiers: dict[str, dict[str, float]],
                       alert_z: float = 4.0, alert_thresholds: dict | None = None,
                       confidence: float = 0.95, min_group_size: int = 30) -> ScorecardResult:
    """The scorecard's figures; ``weights``, ``tiers``, ``alert_z`` and ``alert_thresholds``
    are notebook 08's parameters. An empty ``engagement`` table means none was delivered."""
    lines = CustomerActivity.of(order_lines)  # prepared once for the ~30 windows below
    connected = attitude.engagement_by_customer(order_lines=lines, engagement=engagement,
                                                customers=customers)
    indicators = scorecard.customer_indicators(
        customer_value, customer_segments, survey_scored, churn_risk, price_sensitivity,
        connected, engagement_delivered=len(engagement) > 0)
    scores, expert = scorecard.present_dimensions(
        scorecard.dimension_scores(scorecard.scale_indicators(indicators)),
        scorecard.normalised_weights(weights))
    index = scorecard.loyalty_index(scores, expert)
    entropy = scorecard.entropy_weights(scores)
    draws, dropped = scorecard.weight_sensitivity(scores, expert)
    end = order_lines["order_date"].max() + pd.Timedelta(days=1)
    order = scorecard.tier_order(tiers)
    tier_now = scorecard.activity_tiers(lines, end, tiers)
    tier_before = scorecard.activity_tiers(lines, end - pd.DateOffset(months=12), tiers)
    value = customer_value.set_index("customer_id")["expected_value"].reindex(indicators.index)
    series = monitoring.monitoring_series(order_lines=order_lines, complaints=complaints,
                                          customers=customers, monthly_sales=monthly_sales)
    alerts = monitoring.detect_alerts(series, alert_z, thresholds=alert_thresholds)
    facts = scorecard.period_facts(lines, monthly_sales, end, confidence=confidence)
    waves = scorecard.survey_waves(survey_scored, confidence)
    return ScorecardResult(
        indicators=indicators, scores=scores, expert_weights=expert, entropy_weights=entropy,
        index=index, agreement=scorecard.weight_agreement(scores, index, entropy),
        draws=draws, dropped=dropped, tier_order=order, tier_now=tier_now,
        tier_before=tier_before,
        migration_covered=scorecard.covers(lines, end - pd.DateOffset(months=24)),
        tier_table=scorecard.tier_table(tier_now.reindex(indicators.index), value, index,
                                        order).rename_axis("tier"),
        migration=scorecard.migration_matrix(tier_before, tier_now, order).rename_axis(
            index="tier before", columns="tier after"),
        series=series, alerts=alerts, period_facts=facts, waves=waves,
        dashboard=dashboard.dashboard_tiles(
            index=index, period_facts=facts, waves=waves, churn_risk=churn_risk,
            elasticities=regional_elasticities, alerts=alerts,
            latest_month=series["month"].max(), confidence=confidence,
            min_group_size=min_group_size),
        dashboard_trends=dashboard.dashboard_trends(
            rolling=dashboard.rolling_facts(lines, monthly_sales, end),
            waves=waves, alerts=alerts, series_months=series["month"]),
        dashboard_tiers=dashboard.tier_mix(lines, tier_now, tier_before, end, order))
