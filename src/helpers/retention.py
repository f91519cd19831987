"""Stage 05: retention against each category's consumption cycle and cohorts (the churn early
warning is ``helpers.churn``).

Pure functions over the contract tables (``order_lines`` after the history repair,
``customers``, ``complaints``, ``survey_responses``, ``engagement``, ``referrals``). Every rate
comes with its denominator and a Wilson confidence interval; groups smaller than a minimum size
are flagged.

Definitions (stated in the notebook too):

* a **purchase** is an order with at least one sale line (returns do not count as purchases);
* the **consumption cycle** of a category is the 75th percentile of the days between a customer's
  consecutive purchases in that category: three in four repeat purchases come within it;
* a customer is **retained** after a purchase when they buy again in the category within one
  cycle; only purchases whose whole cycle lies inside the data count;
* at a snapshot date T, a customer is **active** with a purchase in the 12 months before T (the
  churn model shortens this window on a short history: ``churn.behaviour_window``), and
  **churned** when active but without any purchase in the ``horizon`` months after T.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.stats import rate_table

ACTIVE_MONTHS = 12


# ----------------------------------------------------------------------------------------------
# purchases and cycles
def purchases(order_lines: pd.DataFrame) -> pd.DataFrame:
    """One row per customer purchase (order with a sale line) and category.

    Reads order_id, customer_id, order_date, category, amount, is_return, is_estimated. Returns
    customer_id, order_id, category, order_date, amount (sale amount in the category),
    is_estimated (any estimated value in it).
    """
    sales = order_lines.loc[~order_lines["is_return"]]
    return (sales.groupby(["customer_id", "order_id", "category"], as_index=False)
            .agg(order_date=("order_date", "min"), amount=("amount", "sum"),
                 is_estimated=("is_estimated", "any")))


def repeat_gaps(purchase_table: pd.DataFrame) -> pd.DataFrame:
    """customer_id, category, order_date and gap: days since the customer's previous purchase in
    the same category (first purchases, which have no gap, left out; same day counts once)."""
    days = (purchase_table[["customer_id", "category", "order_date"]].drop_duplicates()
            .sort_values(["customer_id", "category", "order_date"]))
    gap = days.groupby(["customer_id", "category"])["order_date"].diff().dt.days
    return days.assign(gap=gap).dropna(subset=["gap"]).reset_index(drop=True)


def consumption_cycles(purchase_table: pd.DataFrame, quantile: float = 0.75) -> pd.DataFrame:
    """Per category: the distribution of days between a customer's consecutive purchases.

    Returns, indexed by category: repeat_gaps (how many gaps were seen), customers (repeat
    buyers), median_days, p75_days, p90_days and cycle_days (the ``quantile`` of the gaps,
    rounded up to whole days). Same-day purchases count as one.
    """
    days = repeat_gaps(purchase_table)
    grouped = days.groupby("category")
    table = grouped.agg(repeat_gaps=("gap", "size"), customers=("customer_id", "nunique"),
                        median_days=("gap", "median"))
    table["p75_days"] = grouped["gap"].quantile(0.75)
    table["p90_days"] = grouped["gap"].quantile(0.90)
    table["cycle_days"] = np.ceil(grouped["gap"].quantile(quantile)).astype("int64")
    return table


def retention_within_cycle(purchase_table: pd.DataFrame, cycles: pd.DataFrame,
                           data_end: pd.Timestamp, by: list[str] | None = None, *,
                           confidence: float = 0.95, min_size: int = 30) -> pd.DataFrame:
    """Share of purchases followed by another purchase in the same category within one cycle.

    Only purchases whose cycle ends on or before ``data_end`` count (the rest cannot be judged
    yet). ``by`` adds grouping columns of ``purchase_table`` (e.g. region) besides category.
    Returns a ``rate_table`` indexed by category (and ``by``), plus cycle_days.
    """
    by = by or []
    days = (purchase_table[["customer_id", "category", "order_date", *by]]
            .drop_duplicates(["customer_id", "category", "order_date"])
            .sort_values(["customer_id", "category", "order_date"]))
    following = days.groupby(["customer_id", "category"])["order_date"].shift(-1)
    cycle = pd.to_timedelta(days["category"].map(cycles["cycle_days"]), unit="D")
    judged = days["order_date"] + cycle <= data_end
    retained = (following - days["order_date"]) <= cycle
    frame = days.assign(judged=judged, retained=retained & judged).loc[judged]
    grouped = frame.groupby(["category", *by])
    table = rate_table(grouped["retained"].sum(), grouped.size(), confidence=confidence,
                       min_size=min_size)
    table["cycle_days"] = table.index.get_level_values("category").map(cycles["cycle_days"])
    return table


# ----------------------------------------------------------------------------------------------
# cohorts
def cohort_retention(purchase_table: pd.DataFrame, data_end: pd.Timestamp,
                     period: str = "Q") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cohorts by the period of a customer's first purchase; retention by periods since.

    A customer counts as retained in age k (k = 1, 2, ...) when they buy in the k-th period
    after their first one. A cell whose period is not complete by ``data_end`` cannot be
    observed yet and is NaN (not 0). Returns (rates: cohort x age, sizes: cohort size and the
    number retained per age).
    """
    # periods as whole numbers (their ordinals): ages are differences of numbers
    bought = pd.DataFrame({"customer_id": purchase_table["customer_id"].to_numpy(),
                           "period": purchase_table["order_date"].dt.to_period(period)
                           .array.asi8}).drop_duplicates()
    first = bought.groupby("customer_id")["period"].min()
    bought["cohort"] = first.reindex(bought["customer_id"]).to_numpy()
    bought["age"] = bought["period"] - bought["cohort"]
    size = first.value_counts().sort_index().rename("customers")
    size.index = pd.PeriodIndex.from_ordinals(size.index, freq=period, name="order_date")
    counts = bought[bought["age"] > 0].groupby(["cohort", "age"]).size().unstack(fill_value=0)
    counts.index = pd.PeriodIndex.from_ordinals(counts.index, freq=period)
    counts = counts.reindex(size.index, fill_value=0)
    last_complete = (data_end + pd.Timedelta(days=1)).to_period(period) - 1
    ages = range(1, (last_complete - size.index.min()).n + 1) if len(size) else range(0)
    counts = counts.reindex(columns=list(ages), fill_value=0)
    observable = pd.DataFrame({age: [(c + age) <= last_complete for c in counts.index]
                               for age in counts.columns}, index=counts.index)
    rates = counts.div(size, axis=0).where(observable)
    rates.index = rates.index.astype(str)
    rates.columns.name = f"{'quarters' if period == 'Q' else 'periods'} since first purchase"
    counts = counts.where(observable)
    counts.insert(0, "customers", size)
    counts.index = counts.index.astype(str)
    return rates, counts



def periods_with_estimates(monthly_sales: pd.DataFrame, period: str = "Q") -> set[str]:
    """Periods (as strings like '2022Q4') holding a region-month estimated by the history repair:
    cohort figures there rest partly on lost records."""
    estimated = monthly_sales.loc[monthly_sales["is_estimated"], "month"]
    return set(estimated.dt.to_period(period).astype(str))
