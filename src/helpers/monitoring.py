"""Stage 08, monitoring: monthly indicators per region (orders, buyers, revenue, repeat rate,
complaints per order) and the months that move abnormally against a seasonal baseline or cross
a fixed limit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


# ----------------------------------------------------------------------------------------------
# monitoring
def _month_start(month_number: int) -> pd.Timestamp:
    """The first day of month ``month_number`` (year x 12 + month - 1)."""
    return pd.Timestamp(year=int(month_number) // 12, month=int(month_number) % 12 + 1, day=1)


def _by_month_start(series: pd.Series) -> pd.Series:
    """``series`` indexed by month number, re-indexed by the months' first days."""
    year, month = np.divmod(series.index.to_numpy("int64"), 12)
    starts = pd.to_datetime(pd.DataFrame({"year": year, "month": month + 1, "day": 1}))
    return pd.Series(series.to_numpy(), index=pd.DatetimeIndex(starts, name="month"),
                     name=series.name)


def returning_buyers(customer_ids: pd.Series, month_numbers: pd.Series,
                     months: int = 12) -> pd.Series:
    """Per month number: how many of the month's buyers had also bought in one of the
    ``months`` months before it. Each (customer, month) counts once; a customer's nearest
    earlier buying month decides, so one sort replaces a pairwise comparison of months."""
    pairs = pd.DataFrame({"customer_id": customer_ids.to_numpy(),
                          "month_number": month_numbers.to_numpy("int64")}).drop_duplicates()
    pairs = pairs.sort_values(["customer_id", "month_number"], ignore_index=True)
    gap = pairs["month_number"].diff()
    same_customer = pairs["customer_id"].eq(pairs["customer_id"].shift())
    returning = same_customer & (gap >= 1) & (gap <= months)
    return pairs.loc[returning.to_numpy(), "month_number"].value_counts().sort_index().rename(
        "returning")


def monitoring_series(*, order_lines: pd.DataFrame, complaints: pd.DataFrame,
                      customers: pd.DataFrame, monthly_sales: pd.DataFrame) -> pd.DataFrame:
    """Monthly indicators per region (and 'all'): orders, buyers, revenue (counts), repeat rate
    (share of the month's buyers who had bought in the 12 months before) and complaints per
    order (rates, with their denominators). Long format: indicator, region, month, value,
    denominator, kind ('count' or 'rate'), estimated (the month rests on estimated history).
    A last month the data cover only partly (ending more than 3 days before its end) is left
    out: its counts are not comparable."""
    lines = order_lines
    last_day = lines["order_date"].max()
    month_end = last_day + pd.offsets.MonthEnd(0)
    if (month_end - last_day).days > 3:  # the data stop early in their last month: leave it out
        lines = lines[lines["order_date"] < last_day.to_period("M").to_timestamp()]
    sales = lines.loc[~lines["is_return"], ["order_id", "customer_id", "region", "order_date",
                                             "amount"]]
    month_number = sales["order_date"].dt.year * 12 + sales["order_date"].dt.month - 1
    # ids as numbers once (a missing id stays missing): counting distinct numbers per month is
    # many times faster than distinct texts, and a region's loop repeats it
    customer_number, _ = pd.factorize(sales["customer_id"])
    order_number, _ = pd.factorize(sales["order_id"])
    sales = pd.DataFrame({
        "order_id": pd.Series(order_number, index=sales.index).where(order_number >= 0),
        "customer_id": pd.Series(customer_number, index=sales.index).where(
            customer_number >= 0),
        "region": sales["region"], "amount": sales["amount"],
        "month_number": month_number.astype("int64")})
    has_complaints = len(complaints) > 0  # none delivered: not an indicator
    complaints = complaints.merge(customers[["customer_id", "region"]], on="customer_id")
    complaints["month"] = complaints["complaint_date"].dt.to_period("M").dt.to_timestamp()
    frames = []
    for region, part in [("all", sales), *sales.groupby("region")]:
        grouped = part.groupby("month_number")
        orders = grouped["order_id"].nunique()
        buyers = grouped["customer_id"].nunique()
        revenue = grouped["amount"].sum()
        repeat = returning_buyers(part["customer_id"], part["month_number"]).reindex(
            orders.index, fill_value=0)
        orders, buyers, revenue, repeat = (_by_month_start(s)
                                           for s in (orders, buyers, revenue, repeat))
        mine = complaints if region == "all" else complaints[complaints["region"] == region]
        complaint_count = mine.groupby("month").size().reindex(orders.index, fill_value=0)
        history = orders.index >= _month_start(part["month_number"].min()) + pd.DateOffset(
            months=12)
        indicators = [("orders", orders, orders, "count"), ("buyers", buyers, buyers, "count"),
                      ("revenue", revenue, orders, "amount"),
                      ("repeat rate", (repeat / buyers)[history], buyers[history], "rate")]
        if has_complaints:
            indicators.append(("complaints per order", complaint_count / orders, orders, "rate"))
        for name, value, denominator, kind in indicators:
            frames.append(pd.DataFrame({"indicator": name, "region": region,
                                        "month": value.index, "value": value.to_numpy(),
                                        "denominator": denominator.reindex(value.index)
                                        .to_numpy(float), "kind": kind}))
    series = pd.concat(frames, ignore_index=True)
    estimated = monthly_sales.groupby(["region", "month"])["is_estimated"].any()
    any_region = estimated.groupby("month").any()
    key = list(zip(series["region"], series["month"], strict=True))
    series["estimated"] = [any_region.get(m, False) if r == "all" else estimated.get((r, m),
                                                                                      False)
                           for r, m in key]
    return series


def detect_alerts(series: pd.DataFrame, z_threshold: float = 4.0, min_history: int = 12,
                  thresholds: dict[str, dict[str, float]] | None = None) -> pd.DataFrame:
    """Abnormal months against a seasonal baseline, and breaches of fixed thresholds.

    For each indicator and region, a count's expected value is the same month a year before
    times the recent level change (median ratio of the previous 3 months to their own values a
    year before), compared on the log scale with the spread (MAD) of earlier months'
    deviations, never below the sampling noise of a count of that size; a rate's expected value
    is the pooled rate of the previous 12 months, compared by the binomial error at its
    denominator, inflated by the same robust spread. A month is abnormal when |z| >=
    ``z_threshold`` with at least ``min_history`` earlier deviations; months resting on
    estimated history are skipped (their dips are known). ``thresholds`` (indicator ->
    {'min': x} or {'max': x}) adds fixed limits.

    Returns one row per alert: indicator, region, month, value, expected, change (relative),
    z, p_value (two-sided), since (first month of the run of alerts in this direction), kind
    ('abnormal' or 'threshold').
    """
    from scipy.stats import norm

    alerts = []
    for (indicator, region), part in series.groupby(["indicator", "region"], sort=False):
        part = part.sort_values("month").set_index("month")
        months = pd.date_range(part.index.min(), series["month"].max(), freq="MS")
        part = part.reindex(months)  # a month without data is missing, not skipped
        part["estimated"] = part["estimated"].fillna(True).astype(bool)
        part["kind"] = part["kind"].ffill()
        value = part["value"].astype(float)
        kind = part["kind"].iloc[0]
        if kind in ("count", "amount"):
            a_year_ago = value.shift(12)
            ratio = (value / a_year_ago).replace([np.inf, -np.inf], np.nan)
            level = ratio.shift(1).rolling(3, min_periods=3).median()
            expected = a_year_ago * level
            deviation = np.log(value / expected)
        else:  # rates: the previous 12 months' pooled rate (rates carry little seasonality)
            hits = (value * part["denominator"]).shift(1).rolling(12, min_periods=6).sum()
            expected = hits / part["denominator"].shift(1).rolling(12, min_periods=6).sum()
            binomial = np.sqrt(expected * (1 - expected) / part["denominator"])
            deviation = (value - expected) / binomial
        deviation = deviation.where(~part["estimated"] & ~part["estimated"].shift(12,
                                                                                  fill_value=False))
        center = pd.Series(np.nan, index=deviation.index)
        spread = pd.Series(np.nan, index=deviation.index)
        for position, month in enumerate(deviation.index):
            history = deviation.iloc[:position].dropna()
            if len(history) >= min_history:
                center[month] = history.median()
                spread[month] = 1.4826 * (history - center[month]).abs().median()
        if kind == "rate":
            spread = spread.clip(lower=1.0)
        else:  # sampling floor: a count of n varies by about 1/sqrt(n), amounts more
            volume = part["denominator"].where(part["denominator"] > 0)
            spread = np.fmax(spread, np.sqrt(2 * (1 if kind == "count" else 3) / volume))
        z = (deviation - center) / spread
        flagged = z.abs() >= z_threshold
        direction = np.sign(z)
        for month in z.index[flagged.fillna(False)]:
            run_start = month
            previous = z.index[z.index < month]
            for earlier in reversed(previous):
                if flagged.get(earlier, False) and direction[earlier] == direction[month]:
                    run_start = earlier
                else:
                    break
            alerts.append({"indicator": indicator, "region": region, "month": month,
                           "value": value[month], "expected": expected[month],
                           "change": value[month] / expected[month] - 1, "z": z[month],
                           "p_value": 2 * norm.sf(abs(z[month])), "since": run_start,
                           "kind": "abnormal"})
        limits = (thresholds or {}).get(indicator, {})
        for bound, breached in [("min", value < limits.get("min", -np.inf)),
                                ("max", value > limits.get("max", np.inf))]:
            for month in value.index[breached]:
                alerts.append({"indicator": indicator, "region": region, "month": month,
                               "value": value[month], "expected": limits[bound],
                               "change": value[month] / limits[bound] - 1, "z": np.nan,
                               "p_value": np.nan, "since": month,
                               "kind": f"threshold ({bound})"})
    columns = ["indicator", "region", "month", "value", "expected", "change", "z", "p_value",
               "since", "kind"]
    return pd.DataFrame(alerts, columns=columns).sort_values(["month", "indicator", "region"],
                                                             ignore_index=True)


# ----------------------------------------------------------------------------------------------
