"""Stage 04: attitude. Recommendation (scores and actual referrals), satisfaction, emotional
connection, survey quality (non-response bias, weighting, misunderstood answers) and complaints.

Pure functions over the contract tables. The 0-10 likelihood-to-recommend score is primary:
promoters answer 9-10, passives 7-8, detractors 0-6, and the net score is
100 x (share of promoters - share of detractors). Rates carry their denominators and Wilson
intervals (``helpers.stats``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import churn, frames, progress
from helpers.activity import CustomerActivity, SaleOrders, prepared, sale_orders
from helpers.stats import mean_table, poisson_rate_interval, rate_table

PROMOTER_MIN, PASSIVE_MIN = 9, 7
# the row of ``repurchase_after_complaint`` that compares with the complainers' usual repurchase
COMPLAINT_BASELINE = "baseline: any order of these customers"

# A small complaint hierarchy: group -> (definition, categories of cleaning.COMPLAINT_RULES)
COMPLAINT_TAXONOMY: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "product": ("the item itself fell short", [
        ("damaged", "arrived broken, chipped or scratched"),
        ("not_as_described", "differs from its description or photos, or is not authentic")]),
    "fulfilment": ("getting the item or the money to the customer", [
        ("delivery", "late or missing delivery"),
        ("refund", "refund or return not processed, or slow")]),
    "commercial": ("what the customer was charged", [
        ("price", "price too high, wrong price charged, hidden fees")]),
    "service": ("how staff dealt with the customer", [
        ("service", "rude, unhelpful or unresponsive staff")]),
}


def taxonomy_table() -> pd.DataFrame:
    """The complaint taxonomy as a table: group, group definition, category, definition."""
    rows = [(group, group_definition, category, definition)
            for group, (group_definition, categories) in COMPLAINT_TAXONOMY.items()
            for category, definition in categories]
    rows.append(("unmapped", "no keyword rule matched the label", "other",
                 "left for review; extend the rules in cleaning.COMPLAINT_RULES"))
    return pd.DataFrame(rows, columns=["group", "group definition", "category", "definition"])


def recommend_group(scores: pd.Series) -> pd.Series:
    """'promoter' (9-10), 'passive' (7-8), 'detractor' (0-6); <NA> where no score."""
    values = scores.astype("Float64")
    out = pd.Series(pd.NA, index=scores.index, dtype="str")
    out[values >= PROMOTER_MIN] = "promoter"
    out[(values >= PASSIVE_MIN) & (values < PROMOTER_MIN)] = "passive"
    out[values < PASSIVE_MIN] = "detractor"
    return out


def net_score(scores: pd.Series, weights: pd.Series | None = None,
              confidence: float = 0.95) -> dict[str, float]:
    """Net recommendation score with its interval.

    The score is 100 x (p_promoter - p_detractor). Its variance is
    (p_P + p_D - (p_P - p_D)^2) / n, with n the effective sample size (sum w)^2 / sum w^2 when
    weighted (Kish); the interval is normal. Returns n, n_effective, promoters, passives,
    detractors (shares), score, ci_low, ci_high.
    """
    from scipy.stats import norm

    valid = scores.notna()
    scores = scores[valid].astype(float)
    w = (weights[valid] if weights is not None else pd.Series(1.0, index=scores.index)).astype(
        float)
    total = w.sum()
    p_promoter = w[scores >= PROMOTER_MIN].sum() / total
    p_detractor = w[scores < PASSIVE_MIN].sum() / total
    n_effective = total ** 2 / (w ** 2).sum()
    diff = p_promoter - p_detractor
    se = np.sqrt(max(p_promoter + p_detractor - diff ** 2, 0.0) / n_effective)
    z = norm.ppf(0.5 + confidence / 2)
    return {"n": int(valid.sum()), "n_effective": float(n_effective),
            "promoters": float(p_promoter), "passives": float(1 - p_promoter - p_detractor),
            "detractors": float(p_detractor), "score": float(100 * diff),
            "ci_low": float(100 * (diff - z * se)), "ci_high": float(100 * (diff + z * se))}


# ----------------------------------------------------------------------------------------------
# the survey with what we know of every invitee
def invitee_features(*, survey_responses: pd.DataFrame,
                     order_lines: pd.DataFrame | SaleOrders,
                     customers: pd.DataFrame, complaints: pd.DataFrame,
                     engagement: pd.DataFrame, referrals: pd.DataFrame) -> pd.DataFrame:
    """Every survey invitation with the invitee's behaviour before it was sent.

    One row per invitation (survey_responses columns) plus the ``churn.snapshot_features``
    of the customer at the wave's sent date (zeros for customers not active then), their pace
    over their whole buying life in the data (orders_per_year, follows, events attended: the
    best proxies of loyalty, known for every invitee; weighting may use information from after
    the survey, nothing predicts an answer from it) and region. Known for respondents and
    non-respondents alike, so it can explain who answers.
    """
    survey = survey_responses
    region = customers.set_index("customer_id")["region"]
    sales = sale_orders(order_lines)  # prepared once for every wave (``activity``)
    history = {"order_lines": sales, "customers": customers, "complaints": complaints,
               "engagement": engagement, "survey_responses": survey_responses,
               "referrals": referrals}
    parts = []
    waves = survey.groupby("sent_date")
    for sent, invited in progress.steps(waves, "survey waves: features of the invitees",
                                        total=waves.ngroups, unit="waves"):
        features = churn.snapshot_features(sent, **history, only=invited["customer_id"])
        numeric = features.drop(columns=["region", "satisfaction", "recommend",
                                         "answered_survey"])
        numeric = numeric.reindex(invited["customer_id"]).fillna(0.0)
        numeric["active"] = invited["customer_id"].isin(features.index).to_numpy().astype(int)
        parts.append(pd.concat([invited.reset_index(drop=True),
                                numeric.reset_index(drop=True)], axis=1))
    frame = pd.concat(parts, ignore_index=True)
    whole = engagement_by_customer(order_lines=sales, engagement=engagement,
                                   customers=customers)[["orders_per_year", "follows", "events"]]
    frame = frame.join(whole, on="customer_id")
    frame[whole.columns] = frame[whole.columns].fillna(0.0)
    frame["region"] = frame["customer_id"].map(region)
    return frame


def flag_reversed_scale(frame: pd.DataFrame, max_recommend: int = 2,
                        min_satisfaction: int = 4) -> pd.Series:
    """Answers that look like a reversed 0-10 scale: a recommendation of at most
    ``max_recommend`` from a customer who, in the same answer, is satisfied (at least
    ``min_satisfaction`` of 5). Such answers contradict themselves; they are flagged and
    counted. ``corrected_recommend`` scores them as reversed; figures are also shown without
    them."""
    flag = ((frame["recommend_score"] <= max_recommend)
            & (frame["satisfaction"] >= min_satisfaction))
    return flag.fillna(False).astype(bool)


def corrected_recommend(frame: pd.DataFrame, flagged: pd.Series) -> pd.Series:
    """The recommendation score with flagged (reversed-looking) answers read as 10 - answer."""
    scores = frame["recommend_score"].astype("Float64")
    return scores.where(~flagged, 10 - scores)


RESPONSE_FEATURES = ["orders_12m", "orders_3m", "recency_days", "tenure_years", "categories",
                     "engagement_6m", "referrals", "complaints_3m", "active", "orders_per_year",
                     "follows", "events"]


def _varying(frame: pd.DataFrame, features: list[str]) -> list[str]:
    """The features that take more than one value among the invitees."""
    return [f for f in features if frame[f].nunique(dropna=True) > 1]


def response_weights(frame: pd.DataFrame, features: list[str] | None = None,
                     trim_quantile: float = 0.99) -> tuple[pd.Series, object]:
    """Inverse-propensity weights that make respondents resemble all invitees.

    A logistic regression (statsmodels) of ``responded`` on behaviour known for every invitee
    gives each respondent's probability of answering; its weight is 1 / probability, trimmed at
    ``trim_quantile`` and scaled to average 1. Features that do not vary (e.g. complaints when
    no complaint data was delivered) are left out. Returns (weights for respondents, the fit).
    """
    import statsmodels.api as sm

    features = _varying(frame, features or RESPONSE_FEATURES)
    x = frame[features].astype(float)
    x = (x - x.mean()) / x.std().replace(0, 1.0)
    x.insert(0, "const", 1.0)
    fit = sm.Logit(frame["responded"].astype(float), x).fit(disp=False, maxiter=200)
    propensity = pd.Series(fit.predict(x), index=frame.index)
    respondents = frame["responded"]
    weights = 1.0 / propensity[respondents]
    weights = weights.clip(upper=weights.quantile(trim_quantile))
    return weights / weights.mean(), fit


def non_response_bias(frame: pd.DataFrame, features: list[str] | None = None,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Respondents vs non-respondents on behaviour: means, difference and its Welch interval
    (features that do not vary are left out)."""
    from scipy import stats as sps

    rows = []
    for feature in _varying(frame, features or RESPONSE_FEATURES):
        answered = frame.loc[frame["responded"], feature].astype(float)
        silent = frame.loc[~frame["responded"], feature].astype(float)
        test = sps.ttest_ind(answered, silent, equal_var=False)
        ci = test.confidence_interval(confidence)
        rows.append({"feature": feature, "respondents": answered.mean(),
                     "non_respondents": silent.mean(), "difference": answered.mean()
                     - silent.mean(), "ci_low": ci.low, "ci_high": ci.high,
                     "p_value": test.pvalue})
    return pd.DataFrame(rows).set_index("feature")


# ----------------------------------------------------------------------------------------------
# behaviour after the answer, referrals, engagement
def repeat_after(frame: pd.DataFrame, order_lines: pd.DataFrame | SaleOrders, months: int,
                 date_column: str) -> pd.Series:
    """Per row: 1 when the customer buys within ``months`` after ``date_column``, 0 when not,
    <NA> when that window runs past the end of the data (cannot be judged yet)."""
    history = sale_orders(order_lines)  # each customer's sale days, sorted (``activity``)
    start = frame[date_column]
    stop = start + pd.DateOffset(months=months)
    following = history.next_purchase(frame["customer_id"], start)
    bought = ~np.isnat(following) & (following <= stop.to_numpy().astype(following.dtype))
    out = pd.Series(bought.astype("int64"), index=frame.index).astype("Int64")
    out[(stop > history.last_date).to_numpy()] = pd.NA
    return out


def referred_within(frame: pd.DataFrame, referrals: pd.DataFrame, months: int,
                    date_column: str) -> pd.Series:
    """Per row: 1 when the customer referred someone within ``months`` around ``date_column``
    (from ``months`` before to ``months`` after), else 0."""
    merged = frame[["customer_id", date_column]].assign(_row=np.arange(len(frame))).merge(
        referrals.rename(columns={"referrer_id": "customer_id"}), on="customer_id", how="left")
    window = pd.DateOffset(months=months)
    hit = ((merged["referral_date"] >= merged[date_column] - window)
           & (merged["referral_date"] <= merged[date_column] + window))
    return pd.Series(hit.groupby(merged["_row"]).any().to_numpy().astype("int64"),
                     index=frame.index)


def rate_by(frame: pd.DataFrame, outcome: str, by: str | list[str], *,
            confidence: float = 0.95, min_size: int = 30) -> pd.DataFrame:
    """``rate_table`` of a 0/1 (or <NA>) outcome per group; <NA> rows are not judged."""
    judged = frame[frame[outcome].notna()]
    grouped = judged.groupby(by)[outcome]
    return rate_table(grouped.sum().astype(float), grouped.size(), confidence=confidence,
                      min_size=min_size)


KIND_PREFIX = "kind:"


def engagement_by_customer(*, order_lines: pd.DataFrame | CustomerActivity | SaleOrders,
                           engagement: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Per customer who ever bought: follows (0/1), events attended, purchases per year of
    their buying life, region, and the number of events of each delivered kind (columns
    ``kind:<kind>``, kinds as delivered, lower-cased). Follows and events are the kinds whose
    names contain 'follow' and 'event'; with no such kind delivered they are missing for
    everyone (not 0: the data cannot say), so the scorecard leaves them out."""
    lines = order_lines if isinstance(order_lines, SaleOrders) else prepared(order_lines)
    per = lines.sale_totals().rename(columns={"first_sale": "first", "purchases": "orders"})
    end = lines.last_date if isinstance(lines, SaleOrders) else lines.last_sale_date
    years = ((end - per["first"]).dt.days / 365.25).clip(lower=0.25)
    events = engagement
    kind = events["kind"].str.lower()
    follows = set(events.loc[kind.str.contains("follow"), "customer_id"])
    attended = events[kind.str.contains("event")].groupby("customer_id").size()
    out = pd.DataFrame({"follows": frames.isin(per.index.to_series(), follows).to_numpy(
                            ).astype("int64"),
                        "events": attended.reindex(per.index, fill_value=0),
                        "orders_per_year": per["orders"] / years}, index=per.index)
    out["attended_event"] = (out["events"] > 0).astype("int64")
    if not kind.str.contains("follow").any():
        out["follows"] = np.nan
    if not kind.str.contains("event").any():
        out[["events", "attended_event"]] = np.nan
    out["region"] = customers.set_index("customer_id")["region"].reindex(per.index)
    counts = events.assign(kind=kind).groupby(["customer_id", "kind"]).size().unstack(
        fill_value=0).reindex(per.index, fill_value=0)
    return out.join(counts.add_prefix(KIND_PREFIX).astype("int64"))


# ----------------------------------------------------------------------------------------------
# complaints
def complaint_rates(*, complaints: pd.DataFrame, order_lines: pd.DataFrame,
                    customers: pd.DataFrame, by: str = "region",
                    confidence: float = 0.95) -> pd.DataFrame:
    """Complaints per 100 orders per category and ``by`` group, with exact Poisson intervals.

    Orders are the distinct order ids with a sale line in the group; complaints are matched to
    the complaining customer's region. Returns complaints, orders, per_100_orders, ci_low,
    ci_high, indexed by (category, ``by``).
    """
    orders = frames.sql(f"""
        SELECT {by}, count(DISTINCT order_id) AS order_id FROM l
        WHERE NOT is_return AND {by} IS NOT NULL GROUP BY {by} ORDER BY {by}""",
                        l=order_lines[["order_id", "is_return", by]]).set_index(by)["order_id"]
    complaints = complaints.merge(customers[["customer_id", by]], on="customer_id", how="left")
    counts = complaints.groupby(["category", by]).size().rename("complaints")
    table = counts.reset_index().merge(orders.rename("orders").reset_index(), on=by)
    k, n = table["complaints"].to_numpy(float), table["orders"].to_numpy(float)
    low, high = poisson_rate_interval(k, n, confidence)
    table["per_100_orders"] = 100 * k / n
    table["ci_low"], table["ci_high"] = 100 * low, 100 * high
    return table.set_index(["category", by])


def repurchase_after_complaint(*, complaints: pd.DataFrame,
                               order_lines: pd.DataFrame | SaleOrders,
                               months: int = 6, confidence: float = 0.95,
                               min_size: int = 30) -> pd.DataFrame:
    """Share of complaints followed by a purchase within ``months``, per complaint category,
    and a like-for-like baseline: the share of all orders *of the customers who complained* (at
    any time) followed by another purchase within ``months``. Complainers buy more often than
    the average customer, so the baseline uses the same people. Windows running past the data's
    end are not judged."""
    history = sale_orders(order_lines)
    complaints = complaints.assign(repurchased=repeat_after(complaints, history, months,
                                                            "complaint_date"))
    table = rate_by(complaints, "repurchased", "category", confidence=confidence,
                    min_size=min_size)
    orders = history.order_starts()
    orders = orders[frames.isin(orders["customer_id"], complaints["customer_id"]).to_numpy()]
    orders = orders.assign(category=COMPLAINT_BASELINE)
    orders["repurchased"] = repeat_after(orders, history, months, "order_date")
    baseline = rate_by(orders, "repurchased", "category", confidence=confidence,
                       min_size=min_size)
    return pd.concat([table.sort_values("rate"), baseline])


def recommendation_estimates(frame: pd.DataFrame, flagged: pd.Series, weights: pd.Series,
                             confidence: float = 0.95) -> pd.DataFrame:
    """The net recommendation score three ways, each with its interval:

    * 'respondents, reversed answers corrected' (the primary figure for those who answered);
    * 'respondents, reversed-looking answers left out' (sensitivity);
    * 'weighted to all invitees' (corrected answers, inverse-propensity weights): what the
      score would be if every invited customer had answered, as far as behaviour explains who
      answers.
    """
    answered = frame[frame["responded"] & frame["recommend_score"].notna()]
    corrected = corrected_recommend(answered, flagged[answered.index])
    rows = {
        "respondents, reversed answers corrected": net_score(corrected, None, confidence),
        "respondents, reversed-looking answers left out": net_score(
            answered.loc[~flagged[answered.index], "recommend_score"], None, confidence),
        "weighted to all invitees": net_score(corrected, weights.reindex(answered.index),
                                              confidence),
    }
    return pd.DataFrame(rows).T


def delivered_kinds(connected: pd.DataFrame) -> list[str]:
    """The engagement kinds the data delivered (from ``engagement_by_customer``)."""
    return [c.removeprefix(KIND_PREFIX) for c in connected if c.startswith(KIND_PREFIX)]


def connection_rates(connected: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per delivered engagement kind (the index: the kind as delivered): the share of customers
    who ever bought with at least one such event (``rate_table`` rows), from
    ``engagement_by_customer``. A kind the data does not have has no row."""
    kinds = delivered_kinds(connected)
    successes = pd.Series({k: (connected[KIND_PREFIX + k] > 0).sum() for k in kinds},
                          dtype=float)
    return rate_table(successes, pd.Series(len(connected), index=successes.index, dtype=float),
                      confidence=confidence).rename_axis("kind")


def pace_by_connection(connected: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Purchases per year (mean with interval) of customers with and without each delivered
    engagement kind: index (kind, has it)."""
    parts = {}
    for kind in delivered_kinds(connected):
        has = (connected[KIND_PREFIX + kind] > 0).rename("has")
        parts[kind] = mean_table(connected.assign(has=has), "orders_per_year", "has",
                                 confidence).reindex([True, False]).dropna(subset=["n"])
    return pd.concat(parts, names=["kind", "has"])
