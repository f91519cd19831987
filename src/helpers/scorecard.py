"""Stage 08: the loyalty scorecard. A composite index from the four dimensions, its weights and
their sensitivity, membership tiers and their migration, monitoring alerts, and the executive
summary managers read first.

Indicators are oriented so that higher means more loyal and scaled to 0-1 by percentile rank
among customers (robust to skew and units). A dimension's score is the mean of its available
indicators; the index is 100 x the weighted mean of the available dimension scores, the weights
renormalised over what a customer has (a customer without a survey answer is scored on the
rest, and marked).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from helpers import io, progress
from helpers.activity import CustomerActivity, prepared
from helpers.attitude import net_score
from helpers.stats import rate_table

DIMENSIONS = ["behaviour", "attitude", "retention", "price"]
INDICATORS: dict[str, str] = {  # indicator -> dimension
    "purchases_per_year": "behaviour", "categories": "behaviour", "expected_value": "behaviour",
    "recommend": "attitude", "satisfaction": "attitude", "follows": "attitude",
    "events": "attitude",
    "p_alive": "retention", "low_churn_risk": "retention",
    "price_tolerance": "price",
}
SURVEY_INDICATORS = ["recommend", "satisfaction"]


def customer_indicators(customer_value: pd.DataFrame, customer_segments: pd.DataFrame,
                        survey_scored: pd.DataFrame | None, churn_risk: pd.DataFrame | None,
                        price_sensitivity: pd.DataFrame | None,
                        engagement: pd.DataFrame, engagement_delivered: bool = True
                        ) -> pd.DataFrame:
    """One row per customer who ever bought, one column per ``INDICATORS`` entry (NaN where the
    data has nothing: no survey answer, not active for the churn model), oriented higher = more
    loyal, plus region.

    ``survey_scored``, ``churn_risk`` or ``price_sensitivity`` None (not evaluated) and
    ``engagement_delivered=False`` leave those indicators NaN for everyone, so the dimension is
    absent rather than a tie at the middle.
    """
    segments = customer_segments.set_index("customer_id")
    if survey_scored is None:
        latest = pd.DataFrame(columns=["recommend_used", "satisfaction"], dtype=float)
    else:
        answered = survey_scored[survey_scored["responded"]].sort_values("response_date")
        latest = answered.groupby("customer_id")[["recommend_used", "satisfaction"]].last()
    if price_sensitivity is None:
        price_sensitivity = pd.DataFrame({"customer_id": pd.Series(dtype="str"),
                                          "price_sensitivity": pd.Series(dtype=float)})
    if not engagement_delivered:
        engagement = engagement.assign(follows=np.nan, events=np.nan)
    risk = (churn_risk.set_index("customer_id")["risk"] if churn_risk is not None
            else pd.Series(dtype=float))
    table = pd.DataFrame({
        "purchases_per_year": segments["purchases_per_year"],
        "categories": segments["categories"],
        "expected_value": customer_value.set_index("customer_id")["expected_value"],
        "recommend": latest["recommend_used"].astype(float),
        "satisfaction": latest["satisfaction"].astype(float),
        "follows": engagement["follows"].astype(float),
        "events": engagement["events"].astype(float),
        "p_alive": customer_value.set_index("customer_id")["p_alive"],
        "low_churn_risk": 1 - risk,
        "price_tolerance": 100 - price_sensitivity.set_index("customer_id")[
            "price_sensitivity"],
    }).reindex(segments.index)
    table["region"] = engagement["region"].reindex(table.index)
    return table


def scale_indicators(indicators: pd.DataFrame) -> pd.DataFrame:
    """Each indicator as its percentile rank among the customers who have it (0-1, ties
    averaged); missing stays missing. Monotone: more of an indicator never lowers its score."""
    columns = [c for c in INDICATORS if c in indicators]
    return indicators[columns].rank(pct=True, method="average")


def dimension_scores(scaled: pd.DataFrame) -> pd.DataFrame:
    """Per customer and dimension, the mean of the available scaled indicators (NaN when the
    customer has none of the dimension's indicators)."""
    scores = {}
    for dimension in DIMENSIONS:
        columns = [c for c, d in INDICATORS.items() if d == dimension and c in scaled]
        scores[dimension] = scaled[columns].mean(axis=1) if columns else np.nan
    return pd.DataFrame(scores, index=scaled.index)


def present_dimensions(scores: pd.DataFrame, weights: pd.Series) -> tuple[pd.DataFrame,
                                                                         pd.Series]:
    """Drop dimensions no customer has a score for (their data was not delivered) and
    renormalise the weights over the rest. Returns (scores, weights summing to one)."""
    present = [d for d in scores.columns if scores[d].notna().any() and weights.get(d, 0) > 0]
    if not present:
        raise ValueError("no loyalty dimension has data: nothing to score")
    kept = weights[present]
    return scores[present], kept / kept.sum()


def normalised_weights(weights: dict[str, float]) -> pd.Series:
    """Dimension weights as a Series summing to one; unknown dimensions and negative or all-zero
    weights are errors."""
    unknown = set(weights) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"weights for unknown dimension(s) {sorted(unknown)}; "
                         f"dimensions are {DIMENSIONS}")
    series = pd.Series({d: float(weights.get(d, 0.0)) for d in DIMENSIONS})
    if (series < 0).any() or series.sum() <= 0:
        raise ValueError(f"weights must be non-negative and not all zero, got {weights}")
    return series / series.sum()


def loyalty_index(scores: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """100 x the weighted mean of each customer's available dimension scores (weights
    renormalised over the available ones)."""
    available = scores.notna()
    w = available.mul(weights, axis=1)
    total = (scores.fillna(0) * w).sum(axis=1) / w.sum(axis=1)
    return (100 * total).rename("loyalty_index")


def entropy_weights(scores: pd.DataFrame) -> pd.Series:
    """The entropy weight method on customers with every dimension: a dimension whose scores
    vary more across customers (lower entropy of its shares) carries more information and gets
    more weight. Returns weights summing to one."""
    complete = scores.dropna()
    shares = complete / complete.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -(shares * np.log(shares)).fillna(0).sum() / np.log(len(complete))
    divergence = 1 - entropy
    return divergence / divergence.sum()


def weight_sensitivity(scores: pd.DataFrame, weights: pd.Series, draws: int = 200,
                       concentration: float = 20.0, seed: int = 0,
                       rank_sample: int = 50_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How much the ranking moves when the weights move.

    Draws weights from a Dirichlet around ``weights`` (``concentration`` sets how far: 20 moves
    a weight of 0.25 by about +-0.1) and compares each index with the base one. Returns (per
    draw: Spearman correlation with the base ranking and the share of the base top 10% still in
    the top 10%; per dropped dimension: the same two for leaving that dimension out). With
    more than ``rank_sample`` customers the rank correlations are those of a fixed random
    ``rank_sample`` of them (sorting every customer 200 times took most of the stage; the
    sampling error of a correlation on 50,000 customers is below 0.005); the top decile is
    always judged on everyone."""
    rng = np.random.default_rng(seed)
    ranked = (np.arange(len(scores)) if len(scores) <= rank_sample else np.sort(
        np.random.default_rng(seed + 1).choice(len(scores), rank_sample, replace=False)))
    values = scores[weights.index].to_numpy(float)
    available = ~np.isnan(values)
    filled = np.where(available, values, 0.0)

    def index_of(columns: np.ndarray, weight_values: np.ndarray) -> np.ndarray:
        # loyalty_index on arrays: the weighted mean over each customer's available dimensions
        total = available[:, columns] @ weight_values
        with np.errstate(invalid="ignore", divide="ignore"):
            return 100 * (filled[:, columns] @ weight_values) / total

    every = np.arange(len(weights))
    base = index_of(every, weights.to_numpy(float))
    base_scored = ~np.isnan(base[ranked])
    base_ranks = rankdata(base[ranked][base_scored])
    top = base >= np.nanquantile(base, 0.9)

    def compare(other: np.ndarray) -> dict[str, float]:
        scored = base_scored & ~np.isnan(other[ranked])  # scored in both, as Series.corr
        ranks = base_ranks if (scored == base_scored).all() else rankdata(
            base[ranked][scored])
        other_top = other >= np.nanquantile(other, 0.9)
        return {"spearman": float(np.corrcoef(ranks, rankdata(other[ranked][scored]))[0, 1]),
                "top_decile_kept": float((top & other_top).sum() / top.sum())}

    rows = []
    for _draw in progress.steps(range(draws), "index weights: random weightings"):
        drawn = pd.Series(rng.dirichlet(concentration * weights.to_numpy() + 1e-9),
                          index=weights.index)
        rows.append({**compare(index_of(every, drawn.to_numpy())), **drawn.add_prefix("w_")})
    dropped = {}
    for position, dimension in enumerate(weights.index):
        kept = weights.drop(dimension)
        if kept.sum() > 0:
            dropped[dimension] = compare(index_of(np.delete(every, position),
                                                  (kept / kept.sum()).to_numpy(float)))
    return pd.DataFrame(rows), pd.DataFrame(dropped).T


# ----------------------------------------------------------------------------------------------
# tiers
def weight_agreement(scores: pd.DataFrame, expert_index: pd.Series,
                     entropy_weights_: pd.Series) -> float:
    """Spearman rank correlation between the index with the expert weights and the index with
    the data-driven entropy weights."""
    entropy_index = loyalty_index(scores, entropy_weights_)
    return float(pd.DataFrame({"expert": expert_index, "entropy": entropy_index}).corr(
        method="spearman").iloc[0, 1])


def index_by_region(index: pd.Series, regions: pd.Series, min_group_size: int = 30
                    ) -> pd.DataFrame:
    """Customers and quartiles of the loyalty index per region, small regions flagged."""
    table = index.groupby(regions).describe()[["count", "25%", "50%", "75%"]]
    table["small_group"] = table["count"] < min_group_size
    return table.rename_axis("region")


def assign_tiers(values: pd.Series, thresholds: dict[str, float]) -> pd.Series:
    """Tier per value: the highest tier whose minimum the value reaches (``thresholds`` maps
    tier name -> minimum; the lowest minimum should be 0 so everyone has a tier)."""
    ordered = sorted(thresholds.items(), key=lambda item: item[1])
    tiers = pd.Series(pd.NA, index=values.index, dtype="str")
    for name, minimum in ordered:
        tiers[values >= minimum] = name
    return tiers


def activity(order_lines: pd.DataFrame | CustomerActivity, start: pd.Timestamp,
             end: pd.Timestamp) -> pd.DataFrame:
    """Per customer buying in [start, end), by customer id: purchases (orders with a sale
    line) and net spend. Asked of many windows, prepare the lines once
    (``CustomerActivity.of``) and pass that instead."""
    return prepared(order_lines).window(start, end)


def activity_tiers(order_lines: pd.DataFrame | CustomerActivity, end: pd.Timestamp,
                   thresholds: dict[str, dict[str, float]], months: int = 12) -> pd.Series:
    """Membership tier on the ``months`` before ``end``: the highest tier whose minimum spend
    *and* minimum purchases the customer reaches (``thresholds``: tier -> {'spend': x,
    'purchases': n}); customers without a purchase then are 'inactive'. Indexed by every
    customer of the order lines, in order of first appearance."""
    lines = prepared(order_lines)
    act = lines.window(end - pd.DateOffset(months=months), end)
    names = tier_order(thresholds)
    level = np.zeros(len(act), dtype=int)
    for position, name in enumerate(names[1:], start=1):
        minimum = thresholds[name]
        level[((act["spend"] >= minimum["spend"])
               & (act["purchases"] >= minimum["purchases"])).to_numpy()] = position
    tiers = pd.Series("inactive", index=lines.customer_ids.rename(None), dtype="str")
    tiers[act.index] = np.asarray(names, dtype=object)[level]
    return tiers


def covers(order_lines: pd.DataFrame | CustomerActivity, start: pd.Timestamp) -> bool:
    """True when the order history reaches back to ``start`` (a window from ``start`` is
    complete, so figures for it can be compared)."""
    if isinstance(order_lines, CustomerActivity):
        return bool(order_lines.first_date <= start)
    return bool(order_lines["order_date"].min() <= start)


def tier_order(thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Tier names from lowest to highest ('inactive' first), as ``activity_tiers`` ranks them."""
    return ["inactive", *sorted(thresholds, key=lambda tier: (thresholds[tier]["spend"],
                                                              thresholds[tier]["purchases"]))]


def migration_matrix(before: pd.Series, after: pd.Series, order: list[str]) -> pd.DataFrame:
    """Share of each tier's customers (rows: before) in each tier after (columns), with the row
    counts."""
    table = pd.crosstab(before, after).reindex(index=order, columns=order, fill_value=0)
    shares = table.div(table.sum(axis=1), axis=0)
    shares.insert(0, "customers", table.sum(axis=1))
    shares.index.name, shares.columns.name = "tier before", "tier after"
    return shares


def tier_table(tiers: pd.Series, value: pd.Series, index: pd.Series,
               order: list[str]) -> pd.DataFrame:
    """Per tier: customers, share, expected value share, median loyalty index."""
    frame = pd.DataFrame({"tier": tiers, "value": value, "index": index})
    grouped = frame.groupby("tier")
    table = pd.DataFrame({"customers": grouped.size()})
    table["share_of_customers"] = table["customers"] / table["customers"].sum()
    table["share_of_value"] = grouped["value"].sum() / frame["value"].sum()
    table["median_index"] = grouped["index"].median()
    return table.reindex([t for t in order if t in table.index])


# executive summary
ESTIMATED_MARK = "†"
ESTIMATED_AT_LEAST = 0.005  # a figure whose revenue is at least this share estimated is marked


def rests_on_estimates(estimated_share: float) -> bool:
    """True when a figure rests partly on estimated (repaired) history: at least
    ``ESTIMATED_AT_LEAST`` of its revenue is estimated (it is then marked ``ESTIMATED_MARK``)."""
    return bool(estimated_share >= ESTIMATED_AT_LEAST)


def window_facts(order_lines: pd.DataFrame | CustomerActivity, monthly_sales: pd.DataFrame,
                 start: pd.Timestamp, stop: pd.Timestamp) -> dict[str, float]:
    """The buying in [start, stop): active customers, those with 2+ purchases (repeaters),
    revenue and the share of it resting on estimated history."""
    act = activity(order_lines, start, stop)
    sales = monthly_sales[(monthly_sales["month"] >= start) & (monthly_sales["month"] < stop)]
    revenue = sales["revenue"].sum()
    return {"active_customers": len(act), "repeaters": int((act["purchases"] >= 2).sum()),
            "revenue": revenue,
            "estimated_share": sales["estimated_revenue"].sum() / revenue if revenue else 0.0}


def period_facts(order_lines: pd.DataFrame | CustomerActivity, monthly_sales: pd.DataFrame,
                 end: pd.Timestamp, months: int = 12, confidence: float = 0.95) -> pd.DataFrame:
    """The last ``months`` before ``end`` against the ``months`` before them: active customers,
    revenue, repeat-purchase rate (buyers with 2+ purchases, Wilson interval), and the share of
    each period's revenue resting on estimated history. ``covered`` is False for a period that
    starts before the data does (its figures are partial: no comparison with it)."""
    order_lines = prepared(order_lines)
    rows = {}
    for name, stop in [("this period", end), ("previous period", end - pd.DateOffset(
            months=months))]:
        start = stop - pd.DateOffset(months=months)
        facts = window_facts(order_lines, monthly_sales, start, stop)
        repeat = rate_table(pd.Series([float(facts["repeaters"])]),
                            pd.Series([float(facts["active_customers"])]),
                            confidence=confidence).iloc[0]
        rows[name] = {"start": start, "end": stop - pd.Timedelta(days=1),
                      "covered": covers(order_lines, start),
                      "active_customers": facts["active_customers"],
                      "revenue": facts["revenue"], "estimated_share": facts["estimated_share"],
                      "repeat_rate": repeat["rate"], "repeat_low": repeat["ci_low"],
                      "repeat_high": repeat["ci_high"]}
    return pd.DataFrame(rows).T


def currency(clean_dir: str) -> str:
    """The currency label of the run's data (a source mapping's ``currency``; '' when the data
    did not name one)."""
    sources = io.read_clean("data_sources", clean_dir, optional=True)
    if sources is None or "currency" not in sources or sources.empty:
        return ""
    return str(sources["currency"].iloc[0] or "")


def survey_waves(survey_scored: pd.DataFrame | None,
                 confidence: float = 0.95) -> pd.DataFrame | None:
    """Net recommendation score per survey wave, ordered by sent date: ``score`` (with
    ``ci_low``, ``ci_high``) weighted to all invited customers by the non-response weights of
    04 (the loyal answer more often, so respondents alone overstate it), ``raw_score``
    (``raw_low``, ``raw_high``) of the respondents alone, ``n`` answers and ``n_effective``;
    reversed answers read reversed. Without a ``wave`` column, each calendar quarter of sending
    is a wave. None without survey data (04 not evaluated)."""
    if survey_scored is None:
        return None
    answered = survey_scored[survey_scored["responded"]]
    if "wave" not in answered:  # no wave numbers delivered: the quarter it was sent in
        answered = answered.assign(wave=answered["sent_date"].dt.to_period("Q").astype("str"))
    rows = {}
    for wave, part in answered.groupby("wave"):
        weights = part.get("weight")  # the non-response weights (04)
        raw = net_score(part["recommend_used"], None, confidence)
        weighted = net_score(part["recommend_used"], weights, confidence)
        rows[wave] = {**weighted, "raw_score": raw["score"], "raw_low": raw["ci_low"],
                      "raw_high": raw["ci_high"], "sent": part["sent_date"].min()}
    columns = ["score", "ci_low", "ci_high", "n", "n_effective", "raw_score", "raw_low",
               "raw_high", "sent"]
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(rows).T.sort_values("sent")
