"""A change from a date in some regions only (a member benefit, a service change): did those
regions' purchases per customer move away from the other regions' after it started?

The gap is the log of the regions' monthly purchases per customer minus the other regions'.
Its difference in differences (after the start minus before) cancels every swing the regions
share: the company-wide seasonal pattern, the economy, other campaigns. What it cannot cancel
is a seasonal pattern of the regions' own; so beside it the same is measured against the
monitoring's seasonal baseline, the same month a year before (``seasonal``): each month's gap
minus its gap a year earlier, after the start against before. That check needs a year more of
history and is noisier; when the two disagree the region has a rhythm of its own.

The intervals rest on how much the gap wanders by itself before the start (one region's months
are the only replication there is; Student's t); months with estimated history are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def regional_series(orders: pd.DataFrame, customers: pd.DataFrame, regions: list[str],
                    skip_months: set[pd.Timestamp] | frozenset = frozenset()) -> pd.DataFrame:
    """Per month: purchases per customer on the books (joined before the month ends) in the
    named regions and in the others, and the difference of their logs. Months in
    ``skip_months`` (estimated history) and the last month when it is partial are left out."""
    region_of = customers.set_index("customer_id")["region"]
    inside = orders["customer_id"].map(region_of).isin(regions)
    month = orders["order_date"].dt.to_period("M").dt.to_timestamp()
    counts = pd.DataFrame({"month": month, "inside": inside}).groupby(
        ["month", "inside"]).size().unstack(fill_value=0).reindex(columns=[True, False],
                                                                  fill_value=0)
    months = counts.index
    ends = months + pd.offsets.MonthEnd(0)
    joined = customers["join_date"].to_numpy()
    in_region = customers["region"].isin(regions).to_numpy()
    books = pd.DataFrame({
        True: [int(((joined <= end) & in_region).sum()) for end in ends],
        False: [int(((joined <= end) & ~in_region).sum()) for end in ends]}, index=months)
    rate = counts / books.where(books > 0)
    series = pd.DataFrame({"treated_rate": rate[True], "comparison_rate": rate[False]})
    positive = series.where(series > 0)  # a month without purchases on one side: no gap
    series["difference"] = np.log(positive["treated_rate"]) - np.log(
        positive["comparison_rate"])
    last_day = orders["order_date"].max()
    if last_day < last_day + pd.offsets.MonthEnd(0):  # the data end within the last month
        series = series.iloc[:-1]
    return series.drop(index=[m for m in skip_months if m in series.index]).dropna()


def _did(pre: pd.DataFrame, post: pd.DataFrame, column: str, confidence: float) -> dict:
    """Mean of ``column`` after minus before as a relative effect exp(d) - 1, its interval
    from the before months' standard deviation s: s x sqrt(1/before + 1/after), Student's t on
    before - 1 degrees of freedom."""
    from scipy.stats import t as student

    d = float(post[column].mean() - pre[column].mean())
    se = float(pre[column].std(ddof=1) * np.sqrt(1 / len(pre) + 1 / len(post)))
    half = student.ppf(0.5 + confidence / 2, len(pre) - 1) * se
    return {"relative": float(np.expm1(d)), "relative_low": float(np.expm1(d - half)),
            "relative_high": float(np.expm1(d + half))}


def regional_effect(series: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp | None,
                    pre_months: int = 12, confidence: float = 0.95,
                    seasonal: bool = False) -> dict:
    """Difference in differences of ``regional_series``: the mean gap after the start (to
    ``end`` or the data end) minus the mean over the ``pre_months`` before, as a relative
    effect with its interval (``_did``; a robust error from so few months would be far too
    narrow), and the pre-trend: the slope of the gap per month before the start, with its
    interval. ``seasonal``: the gap minus the same month's gap a year before instead, the
    after months limited to the first year (their year-before month precedes the start).
    Fewer than 3 months before (or none after) give only the month counts."""
    import statsmodels.api as sm

    start = pd.Timestamp(start)
    gap = series[["difference", "treated_rate"]]
    if seasonal:
        year_before = series["difference"].copy()
        year_before.index = year_before.index + pd.DateOffset(years=1)
        gap = gap.assign(difference=gap["difference"] - year_before.reindex(gap.index)).dropna()
        gap = gap[gap.index < start + pd.DateOffset(years=1)]
    pre = gap[(gap.index < start) & (gap.index >= start - pd.DateOffset(months=pre_months))]
    post = gap[(gap.index >= start) & ((gap.index <= end) if end is not None
                                       and pd.notna(end) else True)]
    if len(pre) < 3 or len(post) < 1:
        return {"months_before": len(pre), "months_after": len(post)}
    trend = sm.OLS(pre["difference"].to_numpy(), sm.add_constant(np.arange(len(pre)))).fit()
    t_low, t_high = trend.conf_int(alpha=1 - confidence)[1]
    return _did(pre, post, "difference", confidence) | {
        "months_before": len(pre), "months_after": len(post),
        "pre_trend": float(trend.params[1]), "pre_trend_low": float(t_low),
        "pre_trend_high": float(t_high), "treated_rate_after": float(post["treated_rate"].mean())}
