"""What each customer did in the windows around an intervention (notebook 09): the orders with a
sale, per customer purchases, spend, bought at all, complaints and the loyalty index recomputed
for the window after the exposure and the window before it, and the pre-period features the
propensity model of a targeted campaign weighs on (``helpers.interventions`` estimates the
effects from these).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import frames

OUTCOMES = ("purchases", "spend", "bought", "loyalty_index", "complaints")
# the loyalty index for a window (``window_loyalty_index``): the scorecard's behaviour
# indicators that a window's orders show, spend standing in for the expected value
WINDOW_INDEX_INDICATORS = ("purchases", "categories", "spend")
# the propensity model's inputs (``pre_period_features``)
PROPENSITY_FEATURES = ("recency_days", "orders_3m", "orders_12m", "log_spend_12m",
                       "tenure_years")


def orders_with_sales(order_lines: pd.DataFrame) -> pd.DataFrame:
    """One row per order with a sale line: customer, date, net amount of the order."""
    orders = frames.sql(f"""
        SELECT order_id, arg_min(customer_id, _row) FILTER (WHERE customer_id IS NOT NULL)
                             AS customer_id,
               min(order_date) AS order_date, {frames.money_sum("amount")} AS amount
        FROM l WHERE order_id IS NOT NULL GROUP BY order_id
        HAVING bool_or(NOT is_return) ORDER BY order_id""",
                        l=order_lines[["order_id", "customer_id", "order_date", "amount",
                                       "is_return"]].assign(_row=np.arange(len(order_lines))))
    return orders.set_index("order_id")


def _window_measures(frame: pd.DataFrame, date: str, starts: pd.Series, months: int,
                     measures: dict[str, str]) -> pd.DataFrame:
    """Per customer of ``starts`` (customer_id -> start), each of ``measures`` (name -> a DuckDB
    aggregate whose filter is ``{window}``) over the rows of ``frame`` (customer_id, ``date``)
    in the ``months`` from the start (the name as given) and in the ``months`` before it
    ('pre_' + name); 0 for a customer without rows. Months are calendar months, clipped to
    the month's end as ``pd.DateOffset`` does (31 May + 3 months = 31 Aug, 30 Nov + 3 = 28
    Feb). One DuckDB join and group-by: pandas spent half a minute per window on ten million
    lines mapping each line's customer to its start."""
    after = f'"{date}" >= start AND "{date}" < start + INTERVAL {int(months)} MONTH'
    before = f'"{date}" >= start - INTERVAL {int(months)} MONTH AND "{date}" < start'
    columns = ", ".join(f"{sql.format(window=window)} AS {prefix}{name}"
                        for prefix, window in (("", after), ("pre_", before))
                        for name, sql in measures.items())
    table = frames.sql(
        f"""SELECT customer_id, {columns} FROM lines JOIN starts USING (customer_id)
            WHERE "{date}" >= start - INTERVAL {int(months)} MONTH
              AND "{date}" < start + INTERVAL {int(months)} MONTH
            GROUP BY customer_id""",
        lines=frame, starts=pd.DataFrame({"customer_id": starts.index.astype("str"),
                                          "start": starts.to_numpy()}))
    index = pd.Index(starts.index, name="customer_id")
    return table.set_index("customer_id").reindex(index, fill_value=0)


def customer_outcomes(orders: pd.DataFrame, starts: pd.Series, months: int,
                      complaints: pd.DataFrame | None = None,
                      sale_lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per customer of ``starts`` (customer_id -> the date the customer was exposed, or for a
    comparison customer the intervention's start): purchases, spend, bought (retained: at least
    one purchase) and, with ``complaints`` delivered, complaints in [start, start + months),
    and the same with pre_ in the ``months`` before (``orders`` from ``orders_with_sales``).
    Given the ``sale_lines`` (customer_id, order_date, category), also the categories bought
    and the loyalty index of each window (``window_loyalty_index``)."""
    windows = _window_measures(
        orders[["customer_id", "order_date", "amount"]], "order_date", starts, months,
        {"purchases": "count(*) FILTER (WHERE {window})",
         "spend": frames.money_sum("amount", "{window}")})
    out = pd.DataFrame(index=windows.index)
    for prefix in ("", "pre_"):
        out[f"{prefix}purchases"] = windows[f"{prefix}purchases"].astype(float)
        out[f"{prefix}spend"] = windows[f"{prefix}spend"].astype(float)
        out[f"{prefix}bought"] = (out[f"{prefix}purchases"] > 0).astype(float)
    if sale_lines is not None:
        categories = _window_measures(
            sale_lines[["customer_id", "order_date", "category"]], "order_date", starts, months,
            {"categories": "count(DISTINCT category) FILTER (WHERE {window})"})
        for prefix in ("", "pre_"):
            out[f"{prefix}categories"] = categories[f"{prefix}categories"].astype(float)
        out["loyalty_index"], out["pre_loyalty_index"] = window_loyalty_index(out)
    if complaints is not None and len(complaints):
        counted = _window_measures(complaints[["customer_id", "complaint_date"]],
                                   "complaint_date", starts, months,
                                   {"complaints": "count(*) FILTER (WHERE {window})"})
        for prefix in ("", "pre_"):
            out[f"{prefix}complaints"] = counted[f"{prefix}complaints"].astype(float)
    return out


def _mid_percentile(values: pd.Series, ordered: np.ndarray) -> np.ndarray:
    """Each value's percentile rank in the sorted reference ``ordered`` (0-1, ties counted
    half: the scorecard's average rank), so a value below all of it scores 0, above it 1."""
    x = values.to_numpy(float)
    return (np.searchsorted(ordered, x, "left") + np.searchsorted(ordered, x, "right")) / (
        2 * len(ordered))


def window_loyalty_index(outcomes: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The loyalty index recomputed for the window after the exposure and the one before
    (0-100): the scorecard's behaviour dimension on what a window's orders show (purchases,
    categories bought, spend for the expected value: ``WINDOW_INDEX_INDICATORS``), each scaled
    by its percentile among the *pre-period* values of all the customers here, treated and
    comparison alike, then averaged. One fixed yardstick for both windows and both groups: a
    lift for the treated does not push the comparison down, as a rank within each window
    would. The survey, churn-model and price dimensions cannot be recomputed for a window."""
    post, pre = [], []
    for name in WINDOW_INDEX_INDICATORS:
        reference = np.sort(outcomes[f"pre_{name}"].to_numpy(float))
        post.append(_mid_percentile(outcomes[name], reference))
        pre.append(_mid_percentile(outcomes[f"pre_{name}"], reference))
    return (pd.Series(100 * np.mean(post, axis=0), index=outcomes.index),
            pd.Series(100 * np.mean(pre, axis=0), index=outcomes.index))


def pre_period_features(orders: pd.DataFrame, customers: pd.DataFrame, at: pd.Timestamp,
                        also: pd.Index | None = None) -> pd.DataFrame:
    """Per customer active at ``at`` (an order in the 12 months before), and each customer of
    ``also`` (e.g. targeted customers who were not active): the propensity model's inputs
    (``PROPENSITY_FEATURES``), from orders strictly before ``at``. A customer who never
    bought has as recency the days since joining."""
    at = pd.Timestamp(at)
    before = orders[orders["order_date"] < at]
    year = before[before["order_date"] >= at - pd.DateOffset(months=12)]
    active = pd.Index(year["customer_id"].unique(), name="customer_id")
    if also is not None:
        active = active.append(pd.Index(also).difference(active)).rename("customer_id")
    last = before.groupby("customer_id")["order_date"].max().reindex(active)
    quarter = year[year["order_date"] >= at - pd.DateOffset(months=3)]
    join = customers.set_index("customer_id")["join_date"].reindex(active)
    return pd.DataFrame({
        "recency_days": (at - last.fillna(join)).dt.days.astype(float).fillna(0.0),
        "orders_3m": quarter.groupby("customer_id").size().reindex(active, fill_value=0),
        "orders_12m": year.groupby("customer_id").size().reindex(active, fill_value=0),
        "log_spend_12m": np.log1p(year.groupby("customer_id")["amount"].sum().clip(lower=0)
                                  .reindex(active, fill_value=0.0)),
        "tenure_years": ((at - join).dt.days / 365.25).fillna(0.0)}, index=active).astype(float)
