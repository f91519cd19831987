"""The manager's first screen in numbers: one tile per headline indicator (value, interval,
change against the previous period, trend of up to 24 months) and the tier mix now and a year
before. Notebook 08 computes them from the run's tables and writes them (``dashboard``,
``dashboard_trends``, ``dashboard_tiers``); the run's index page draws them.

No wording here: tiles are named by key (``TILES``); the pages translate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from helpers import frames, scorecard
from helpers.activity import CustomerActivity, prepared

# tile -> (the page behind it, which direction is good news)
TILES: dict[str, tuple[str, str]] = {
    "loyalty_index": ("08_scorecard", "higher"),
    "active_customers": ("08_scorecard", "higher"),
    "revenue": ("08_scorecard", "higher"),
    "repeat_purchase": ("03_behaviour", "higher"),
    "recommendation": ("04_attitude", "higher"),
    "churn_risk": ("05_retention", "lower"),
    "price_sensitivity": ("07_regional_regression", "higher"),  # nearer 0: less sensitive
    "alerts": ("08_scorecard", "lower"),
}
TREND_MONTHS = 24
COLUMNS = ["tile", "month", "evaluated", "value", "ci_low", "ci_high", "previous", "change",
           "change_kind", "better", "estimated", "n", "small", "page", "raw_value", "raw_low",
           "raw_high"]


def _tile(tile: str, **values) -> dict:
    page, better = TILES[tile]
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(tile=tile, evaluated=True, page=page, better=better, estimated=False,
               small=False, change_kind="")
    row.update(values)
    return row


def rolling_facts(order_lines: pd.DataFrame | CustomerActivity, monthly_sales: pd.DataFrame,
                  end: pd.Timestamp, months: int = TREND_MONTHS, window: int = 12) -> pd.DataFrame:
    """``scorecard.period_facts``' figures (``scorecard.window_facts``) for the ``window``
    months before each of the last ``months`` month steps back from ``end`` (the latest point
    is the tile's own figure); only windows the history covers. Columns: month (the window's
    last month), active_customers, revenue, repeat_rate, estimated (its revenue rests partly on
    estimated history)."""
    order_lines = prepared(order_lines)
    rows = []
    for back in range(months):
        stop = end - pd.DateOffset(months=back)
        start = stop - pd.DateOffset(months=window)
        if not scorecard.covers(order_lines, start):
            break
        facts = scorecard.window_facts(order_lines, monthly_sales, start, stop)
        active = facts["active_customers"]
        rows.append({"month": (stop - pd.Timedelta(days=1)).to_period("M").to_timestamp(),
                     "active_customers": float(active), "revenue": facts["revenue"],
                     "repeat_rate": facts["repeaters"] / active if active else np.nan,
                     "estimated": scorecard.rests_on_estimates(facts["estimated_share"])})
    return pd.DataFrame(rows, columns=["month", "active_customers", "revenue", "repeat_rate",
                                       "estimated"]).iloc[::-1].reset_index(drop=True)


def expected_share_interval(risk: pd.Series, confidence: float = 0.95) -> tuple[float, float,
                                                                                float]:
    """The share of customers expected to churn (mean risk) and the interval of the share that
    will (a sum of independent Bernoulli outcomes, normal approximation); the model's own
    error is not in it."""
    n = len(risk)
    share = float(risk.mean())
    spread = norm.ppf(0.5 + confidence / 2) * float(np.sqrt((risk * (1 - risk)).sum())) / n
    return share, max(share - spread, 0.0), min(share + spread, 1.0)


def pooled_elasticity(elasticities: pd.DataFrame) -> tuple[float, float, float]:
    """The units-weighted mean of the regional elasticities with a conservative interval:
    the regions' errors taken as perfectly correlated (they share products), so the half-width
    is the weighted mean of their half-widths."""
    weights = elasticities["units"] / elasticities["units"].sum()
    mean = float((weights * elasticities["elasticity"]).sum())
    low = float((weights * elasticities["ci_low"]).sum())
    high = float((weights * elasticities["ci_high"]).sum())
    return mean, low, high


def dashboard_tiles(*, index: pd.Series, period_facts: pd.DataFrame,
                    waves: pd.DataFrame | None, churn_risk: pd.DataFrame | None,
                    elasticities: pd.DataFrame | None, alerts: pd.DataFrame,
                    latest_month: pd.Timestamp, confidence: float = 0.95,
                    min_group_size: int = 30) -> pd.DataFrame:
    """One row per tile (``TILES`` order): value, interval (where there is one), the previous
    period's value and the change ('relative', 'points' or 'count'), which direction is good
    news, whether it rests on estimated history, its denominator, and ``evaluated`` False when
    the notebook behind it was not (its figures are then missing). The recommendation tile is
    weighted to all invitees; ``raw_*`` holds the respondents-only figure; ``small`` flags a
    figure resting on fewer than ``min_group_size`` answers or customers."""
    now, before = period_facts.loc["this period"], period_facts.loc["previous period"]
    compare = bool(before.get("covered", True))
    previous = lambda value: value if compare else np.nan  # noqa: E731
    rows = [_tile("loyalty_index", value=float(index.median()), n=len(index))]
    rows.append(_tile("active_customers", value=float(now["active_customers"]),
                      previous=previous(float(before["active_customers"])),
                      change_kind="relative", n=float(now["active_customers"])))
    rows.append(_tile("revenue", value=float(now["revenue"]),
                      previous=previous(float(before["revenue"])), change_kind="relative",
                      estimated=scorecard.rests_on_estimates(now["estimated_share"]) or (
                          compare and scorecard.rests_on_estimates(before["estimated_share"]))))
    rows.append(_tile("repeat_purchase", value=float(now["repeat_rate"]),
                      ci_low=float(now["repeat_low"]), ci_high=float(now["repeat_high"]),
                      previous=previous(float(before["repeat_rate"])), change_kind="points",
                      n=float(now["active_customers"])))
    if waves is not None and len(waves):
        last = waves.iloc[-1]
        rows.append(_tile("recommendation", value=float(last["score"]),
                          ci_low=float(last["ci_low"]), ci_high=float(last["ci_high"]),
                          previous=float(waves.iloc[-2]["score"]) if len(waves) > 1 else np.nan,
                          change_kind="points", n=float(last["n"]),
                          small=bool(last["n"] < min_group_size),
                          raw_value=float(last["raw_score"]), raw_low=float(last["raw_low"]),
                          raw_high=float(last["raw_high"])))
    else:
        rows.append(_tile("recommendation", evaluated=False))
    if churn_risk is not None and len(churn_risk):
        share, low, high = expected_share_interval(churn_risk["risk"], confidence)
        rows.append(_tile("churn_risk", value=share, ci_low=low, ci_high=high,
                          n=len(churn_risk)))
    else:
        rows.append(_tile("churn_risk", evaluated=False))
    if elasticities is not None and len(elasticities):
        mean, low, high = pooled_elasticity(elasticities)
        rows.append(_tile("price_sensitivity", value=mean, ci_low=low, ci_high=high,
                          n=len(elasticities)))
    else:
        rows.append(_tile("price_sensitivity", evaluated=False))
    months = pd.to_datetime(alerts["month"])
    rows.append(_tile("alerts", value=float((months == latest_month).sum()),
                      previous=float((months == latest_month - pd.DateOffset(months=1)).sum()),
                      change_kind="count"))
    tiles = pd.DataFrame(rows, columns=COLUMNS)
    tiles["month"] = pd.Timestamp(latest_month)
    counts_people = tiles["tile"].isin(["loyalty_index", "active_customers", "repeat_purchase",
                                        "recommendation", "churn_risk"])
    tiles["small"] = tiles["small"].astype(bool) | (counts_people & tiles["evaluated"] & (
        tiles["n"] < min_group_size))
    tiles["change"] = np.where(tiles["change_kind"] == "relative",
                               tiles["value"] / tiles["previous"] - 1,
                               tiles["value"] - tiles["previous"])
    return tiles


def dashboard_trends(*, rolling: pd.DataFrame, waves: pd.DataFrame | None,
                     alerts: pd.DataFrame, series_months: pd.Series,
                     months: int = TREND_MONTHS) -> pd.DataFrame:
    """The tiles' trend points: tile, month, value, estimated. The 12-month figures at each
    of the last ``months`` months (``rolling_facts``), the weighted score per survey wave (at
    its sending month) and the alerts per monitored month."""
    frames = [pd.DataFrame({"tile": tile, "month": rolling["month"],
                            "value": rolling[column].astype(float),
                            "estimated": rolling["estimated"] if tile == "revenue"
                            else False})
              for tile, column in [("active_customers", "active_customers"),
                                   ("revenue", "revenue"), ("repeat_purchase", "repeat_rate")]]
    if waves is not None and len(waves):
        frames.append(pd.DataFrame({
            "tile": "recommendation", "value": waves["score"].astype(float).to_numpy(),
            "month": pd.to_datetime(waves["sent"]).dt.to_period("M").dt.to_timestamp()
            .to_numpy(), "estimated": False}))
    monitored = pd.Series(sorted(pd.to_datetime(series_months).unique()))[-months:]
    counts = pd.to_datetime(alerts["month"]).value_counts()
    frames.append(pd.DataFrame({"tile": "alerts", "month": monitored,
                                "value": counts.reindex(monitored, fill_value=0).to_numpy(
                                    float), "estimated": False}))
    trends = pd.concat(frames, ignore_index=True)
    trends["estimated"] = trends["estimated"].astype(bool)
    return trends[["tile", "month", "value", "estimated"]]


def tier_mix(order_lines: pd.DataFrame | CustomerActivity, tier_now: pd.Series,
             tier_before: pd.Series, end: pd.Timestamp, order: list[str],
             months: int = 12) -> pd.DataFrame:
    """Per tier, now and a year before: customers and their share of the customers known by
    then, the window's net spend and its share. A year before counts only customers who had
    bought by then. Columns: period ('now', 'a year before'), tier, customers, share_customers,
    value, share_value."""
    order_lines = prepared(order_lines)
    rows = []
    first = order_lines.first_dates()
    for period, tiers, stop in [("a year before", tier_before,
                                 end - pd.DateOffset(months=months)), ("now", tier_now, end)]:
        known = tiers[frames.isin(tiers.index.to_series(), first.index[first < stop]).to_numpy()]
        spend = scorecard.activity(order_lines, stop - pd.DateOffset(months=months), stop)[
            "spend"].reindex(known.index, fill_value=0.0)
        frame = pd.DataFrame({"tier": known, "spend": spend})
        grouped = frame.groupby("tier")
        table = pd.DataFrame({"customers": grouped.size().astype(float),
                              "value": grouped["spend"].sum()}).reindex(order, fill_value=0.0)
        total_value = table["value"].clip(lower=0).sum()
        rows.append(table.assign(
            period=period, share_customers=table["customers"] / max(len(known), 1),
            share_value=table["value"].clip(lower=0) / total_value if total_value else 0.0))
    mix = pd.concat(rows).rename_axis("tier").reset_index()
    return mix[["period", "tier", "customers", "share_customers", "value", "share_value"]]
