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

from helpers import frames
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
    columns = ["customer_id", "order_id", "category", "order_date", "amount", "is_return",
               "is_estimated"]
    return frames.sql(f"""
        SELECT customer_id, order_id, category, min(order_date) AS order_date,
               {frames.money_sum("amount")} AS amount, bool_or(is_estimated) AS is_estimated
        FROM l
        WHERE NOT is_return AND customer_id IS NOT NULL AND order_id IS NOT NULL
              AND category IS NOT NULL
        GROUP BY customer_id, order_id, category
        ORDER BY customer_id, order_id, category""", l=order_lines[columns])


# each customer's days in a category with the days since the previous one (DuckDB over ``p``)
_GAPS = """
    WITH days AS (SELECT DISTINCT customer_id, category, order_date FROM p
                  WHERE customer_id IS NOT NULL AND category IS NOT NULL
                        AND order_date IS NOT NULL)
    SELECT customer_id, category, order_date,
           CAST(date_diff('day', lag(order_date) OVER same, order_date) AS DOUBLE) AS gap
    FROM days WINDOW same AS (PARTITION BY customer_id, category ORDER BY order_date)
    QUALIFY gap IS NOT NULL"""


def repeat_gaps(purchase_table: pd.DataFrame) -> pd.DataFrame:
    """customer_id, category, order_date and gap: days since the customer's previous purchase in
    the same category (first purchases, which have no gap, left out; same day counts once)."""
    return frames.sql(f"{_GAPS} ORDER BY customer_id, category, order_date",
                      p=purchase_table[["customer_id", "category", "order_date"]])


def consumption_cycles(purchase_table: pd.DataFrame, quantile: float = 0.75) -> pd.DataFrame:
    """Per category: the distribution of days between a customer's consecutive purchases.

    Returns, indexed by category: repeat_gaps (how many gaps were seen), customers (repeat
    buyers), median_days, p75_days, p90_days and cycle_days (the ``quantile`` of the gaps,
    rounded up to whole days). Same-day purchases count as one.
    """
    if not 0 <= quantile <= 1:
        raise ValueError(f"cycle quantile {quantile} is not between 0 and 1")
    table = frames.sql(f"""
        WITH gaps AS ({_GAPS})
        SELECT category, count(*) AS repeat_gaps, count(DISTINCT customer_id) AS customers,
               median(gap) AS median_days, quantile_cont(gap, 0.75) AS p75_days,
               quantile_cont(gap, 0.9) AS p90_days,
               CAST(ceil(quantile_cont(gap, {float(quantile)})) AS BIGINT) AS cycle_days
        FROM gaps GROUP BY category ORDER BY category""",
                       p=purchase_table[["customer_id", "category", "order_date"]])
    return table.set_index("category")


def retention_within_cycle(purchase_table: pd.DataFrame, cycles: pd.DataFrame,
                           data_end: pd.Timestamp, by: list[str] | None = None, *,
                           confidence: float = 0.95, min_size: int = 30) -> pd.DataFrame:
    """Share of purchases followed by another purchase in the same category within one cycle.

    Only purchases whose cycle ends on or before ``data_end`` count (the rest cannot be judged
    yet). ``by`` adds grouping columns of ``purchase_table`` (e.g. region) besides category.
    Returns a ``rate_table`` indexed by category (and ``by``), plus cycle_days.
    """
    by = by or []
    # one row per customer, category and day (``by`` from its first row) with the next day
    # the customer bought in the category; judged when its cycle ends by ``data_end``
    kept = "".join(f", arg_min({column}, _row) AS {column}" for column in by)
    present = "".join(f" AND {column} IS NOT NULL" for column in by)
    keys = ", ".join(["category", *by])
    counts = frames.sql(f"""
        WITH days AS (SELECT customer_id, category, order_date{kept} FROM p
                      GROUP BY customer_id, category, order_date),
             nexts AS (SELECT *, lead(order_date) OVER (PARTITION BY customer_id, category
                                                         ORDER BY order_date) AS following
                       FROM days)
        SELECT {keys},
               count(*) FILTER (WHERE following <= order_date + to_days(c.cycle_days))
                   AS retained,
               count(*) AS judged
        FROM nexts JOIN c USING (category)
        WHERE order_date + to_days(c.cycle_days) <= TIMESTAMP '{pd.Timestamp(data_end)}'
              {present}
        GROUP BY {keys} ORDER BY {keys}""",
                        p=purchase_table[["customer_id", "category", "order_date", *by]].assign(
                            _row=np.arange(len(purchase_table))),
                        c=cycles["cycle_days"].reset_index())
    index = (pd.Index(counts["category"]) if not by
             else pd.MultiIndex.from_frame(counts[["category", *by]]))
    table = rate_table(pd.Series(counts["retained"].to_numpy(), index=index),
                       pd.Series(counts["judged"].to_numpy(), index=index),
                       confidence=confidence, min_size=min_size)
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
