"""Stage 03: behaviour. Purchase rates per category, region and year; RFM; behavioural segments;
customer value from a BG/NBD purchase model with a Gamma-Gamma spend model.

Pure functions over ``order_lines`` (after the history repair) and ``customers``. A purchase is
an order with at least one sale line; spend is net of returns. Rates come with denominators and
Wilson intervals, means with t intervals (``helpers.stats``); groups below a minimum size are
flagged.

Customer value combines the BG/NBD purchase model and the Gamma-Gamma spend model
(``helpers.value_models``) over ``rfm_summary``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import engines, frames
from helpers.stats import mean_table, rate_table
from helpers.value_intervals import assign_tiers, tier_labels, value_intervals
from helpers.value_models import (
    bgnbd_expected_purchases,
    bgnbd_p_alive,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_expected_spend,
)

# ----------------------------------------------------------------------------------------------
# per customer and period
GROUPS = {"category": "l.category", "region": "c.region",  # region: the customer's home one
          "year": "CAST(year(l.order_date) AS INTEGER)"}


def _grouped_lines(order_lines: pd.DataFrame, customers: pd.DataFrame,
                   by: list[str]) -> tuple[str, dict[str, pd.DataFrame]]:
    """The FROM clause and tables of a DuckDB query over the order lines (``l``) with the
    groups of ``by`` as columns (``GROUPS``: 'year' from the order date; 'region' the
    customer's home region from ``customers``, not the line's), rows with a missing group
    left out as a pandas group-by leaves them."""
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"cannot group order lines by {sorted(unknown)}; use {sorted(GROUPS)}")
    columns = ["customer_id", "order_id", "order_date", "amount", "is_return", "is_estimated",
               *(["category"] if "category" in by else [])]
    tables = {"l": order_lines[columns]}
    source = "l"
    if "region" in by:
        tables["c"] = customers[["customer_id", "region"]]
        source = "l LEFT JOIN c USING (customer_id)"
    selected = ", ".join(f"{GROUPS[g]} AS {g}" for g in by if g not in columns)
    present = " AND ".join(["l.customer_id IS NOT NULL", *(f"{GROUPS[g]} IS NOT NULL"
                                                           for g in by)])
    return (f"(SELECT l.*{', ' + selected if selected else ''} FROM {source} WHERE {present})",
            tables)


def _indexed(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``table`` indexed by its ``by`` columns, keeping their dtypes (``set_index`` widens a
    32-bit year to 64 bits, unlike a group-by's index)."""
    index = (pd.Index(table[by[0]]) if len(by) == 1
             else pd.MultiIndex.from_frame(table[by]))
    return table.drop(columns=by).set_axis(index, axis=0)


def customer_periods(order_lines: pd.DataFrame, customers: pd.DataFrame,
                     by: list[str]) -> pd.DataFrame:
    """One row per customer and group of ``by`` (any of 'category', 'year', 'region') with a
    sale line: purchases (orders with a sale line), spend (net of returns), sale_lines,
    returned_lines, estimated_spend (spend resting on estimated values). Money is summed
    exactly (``frames.money_sum``)."""
    source, tables = _grouped_lines(order_lines, customers, by)
    keys = ", ".join(["customer_id", *by])
    table = frames.sql(f"""
        SELECT {keys},
               count(DISTINCT order_id) FILTER (WHERE NOT is_return) AS purchases,
               count(*) FILTER (WHERE NOT is_return) AS sale_lines,
               {frames.money_sum("amount")} AS spend,
               count(*) FILTER (WHERE is_return) AS returned_lines,
               {frames.money_sum("amount", "is_estimated")} AS estimated_spend
        FROM {source}
        GROUP BY {keys} HAVING count(*) FILTER (WHERE NOT is_return) > 0
        ORDER BY {keys}""", **tables)
    return table[["customer_id", *by, "purchases", "sale_lines", "spend", "returned_lines",
                  "estimated_spend"]]


def purchase_rates(order_lines: pd.DataFrame, customers: pd.DataFrame, by: list[str], *,
                   confidence: float = 0.95, min_size: int = 30) -> pd.DataFrame:
    """Per group of ``by``: customers, repeat-purchase rate (share of the group's buyers with
    two or more purchases in it, Wilson interval), purchases per customer, spend per customer
    and order value (means with t intervals), return rate (returned lines / sale lines),
    estimated_share (share of spend resting on estimated values) and, by year, months_in_data
    (a year with fewer than 12 is partial: its per-customer figures are not comparable)."""
    per = customer_periods(order_lines, customers, by)
    grouped = per.groupby(by)
    repeat = rate_table(grouped["purchases"].apply(lambda p: float((p >= 2).sum())),
                        grouped.size().astype(float), confidence=confidence, min_size=min_size)
    table = pd.DataFrame({"customers": grouped.size(),
                          "repeat_rate": repeat["rate"], "repeat_rate_low": repeat["ci_low"],
                          "repeat_rate_high": repeat["ci_high"]})
    for name, column in [("purchases_per_customer", "purchases"),
                         ("spend_per_customer", "spend")]:
        means = mean_table(per, column, by, confidence)
        table[name] = means["mean"]
        table[f"{name}_low"], table[f"{name}_high"] = means["ci_low"], means["ci_high"]
    orders = order_value_table(order_lines, customers, by, confidence)
    table = table.join(orders)
    returns = grouped[["returned_lines", "sale_lines"]].sum()
    table["return_rate"] = returns["returned_lines"] / returns["sale_lines"]
    spend = grouped[["estimated_spend", "spend"]].sum()
    table["estimated_share"] = (spend["estimated_spend"] / spend["spend"]).where(
        spend["spend"] != 0)
    table["small_group"] = table["customers"] < min_size
    if "year" in by:
        months = order_lines["order_date"].dt.to_period("M")
        covered = months.groupby(order_lines["order_date"].dt.year).nunique()
        table["months_in_data"] = table.index.get_level_values("year").map(covered)
    return table


def interval_view(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    """One measure of ``purchase_rates`` as value, ci_low, ci_high, small_group (for charts)."""
    return pd.DataFrame({"value": table[measure], "ci_low": table[f"{measure}_low"],
                         "ci_high": table[f"{measure}_high"],
                         "small_group": table["small_group"]})


def order_value_table(order_lines: pd.DataFrame, customers: pd.DataFrame, by: list[str],
                      confidence: float = 0.95) -> pd.DataFrame:
    """Mean order value (sale lines of the order in the group) per group, with a t interval."""
    from scipy import stats as sps

    source, tables = _grouped_lines(order_lines, customers, by)
    keys = ", ".join(by)
    means = frames.sql(f"""
        WITH orders AS (SELECT order_id, {keys}, {frames.money_sum("amount")} AS amount
                        FROM {source} WHERE NOT is_return AND order_id IS NOT NULL
                        GROUP BY order_id, {keys})
        SELECT {keys}, count(*) AS n, avg(amount) AS mean, stddev_samp(amount) AS std
        FROM orders GROUP BY {keys} ORDER BY {keys}""", **tables).pipe(_indexed, by)
    half = (sps.t.ppf(0.5 + confidence / 2, (means["n"] - 1).clip(lower=1)) * means["std"]
            / np.sqrt(means["n"]))
    return pd.DataFrame({"order_value": means["mean"], "order_value_low": means["mean"] - half,
                         "order_value_high": means["mean"] + half})


def cross_purchase_rate(order_lines: pd.DataFrame, customers: pd.DataFrame, by: list[str],
                        *, confidence: float = 0.95, min_size: int = 30) -> pd.DataFrame:
    """Share of buyers in each group of ``by`` (e.g. ['year'] or ['region']) who bought in more
    than one category there (``rate_table``)."""
    source, tables = _grouped_lines(order_lines, customers, [*by, "category"])
    keys = ", ".join(by)
    counts = frames.sql(f"""
        WITH buyers AS (SELECT customer_id, {keys}, count(DISTINCT category) AS categories
                        FROM {source} WHERE NOT is_return GROUP BY customer_id, {keys})
        SELECT {keys}, count(*) FILTER (WHERE categories >= 2) AS cross_buyers,
               count(*) AS buyers
        FROM buyers GROUP BY {keys} ORDER BY {keys}""", **tables).pipe(_indexed, by)
    return rate_table(counts["cross_buyers"].astype(float), counts["buyers"].astype(float),
                      confidence=confidence, min_size=min_size)


# ----------------------------------------------------------------------------------------------
# RFM
RFM_SEGMENTS = [  # (name, rule on the 1-5 scores), first match wins
    ("champions", lambda r, f, m: (r >= 4) & (f >= 4)),
    ("loyal", lambda r, f, m: (r >= 3) & (f >= 4)),
    ("at risk", lambda r, f, m: (r <= 2) & (f >= 3)),
    ("new or occasional", lambda r, f, m: (r >= 4) & (f <= 2)),
    ("hibernating", lambda r, f, m: (r <= 2) & (f <= 2)),
    ("needs attention", lambda r, f, m: r > 0),
]


def customer_totals(order_lines: pd.DataFrame) -> pd.DataFrame:
    """Per customer with a sale line (by customer id): first_sale and last_sale (dates),
    purchases (orders with a sale line), sale_lines, categories (bought), sale_spend (of the
    sale lines), spend (net of returns) and returned_lines: ``engines.totals_expression`` run
    by embedded DuckDB on ``order_lines`` (notebook 03 runs the same expression on its
    engine, Spark included: ``engines.customer_totals``). Money is summed exactly."""
    return engines.customer_totals(order_lines=order_lines)


def rfm(order_lines: pd.DataFrame, as_of: pd.Timestamp | None = None,
        totals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Recency (days since the last purchase), frequency (purchases) and monetary value (net
    spend) per customer, scored 1-5 by quintile (5 = most recent / most frequent / highest),
    with rfm_segment, the name from ``RFM_SEGMENTS``. ``totals``: ``customer_totals`` of the
    lines when an engine computed them."""
    as_of = as_of or order_lines["order_date"].max() + pd.Timedelta(days=1)
    totals = customer_totals(order_lines) if totals is None else totals
    table = pd.DataFrame({"frequency": totals["purchases"]})
    table["recency_days"] = (as_of - totals["last_sale"]).dt.days
    table["monetary"] = totals["spend"]

    def score(values: pd.Series, ascending: bool) -> pd.Series:
        ranks = values.rank(method="first", ascending=ascending)
        return pd.qcut(ranks, 5, labels=[1, 2, 3, 4, 5]).astype(int)

    table["r"] = score(table["recency_days"], ascending=False)
    table["f"] = score(table["frequency"], ascending=True)
    table["m"] = score(table["monetary"], ascending=True)
    segment = pd.Series("", index=table.index, dtype="str")
    for name, rule in reversed(RFM_SEGMENTS):
        segment[rule(table["r"], table["f"], table["m"]).to_numpy()] = name
    table["rfm_segment"] = segment
    return table


def segment_profile(table: pd.DataFrame, segment: str, columns: list[str]) -> pd.DataFrame:
    """Size, share and the median of ``columns`` per segment."""
    grouped = table.groupby(segment)
    profile = grouped[columns].median()
    profile.insert(0, "share", grouped.size() / len(table))
    profile.insert(0, "customers", grouped.size())
    return profile.sort_values("customers", ascending=False)


# ----------------------------------------------------------------------------------------------
# behavioural segments by clustering
def behaviour_features(order_lines: pd.DataFrame,
                       totals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per customer: purchases per year of their buying life, mean order value, days since the
    last purchase, categories bought, share of lines returned, years since the first purchase
    (``totals``: as in ``rfm``)."""
    end = order_lines["order_date"].max() + pd.Timedelta(days=1)
    per = customer_totals(order_lines) if totals is None else totals
    years = ((end - per["first_sale"]).dt.days / 365.25).clip(lower=0.25)
    return pd.DataFrame({
        "purchases_per_year": per["purchases"] / years,
        "order_value": per["sale_spend"] / per["purchases"],
        "recency_days": (end - per["last_sale"]).dt.days,
        "categories": per["categories"],
        "return_share": per["returned_lines"] / per["sale_lines"],
        "years_buying": (end - per["first_sale"]).dt.days / 365.25,
    })


def _standardised(features: pd.DataFrame) -> np.ndarray:
    """Log-transform the skewed features, then z-scores."""
    x = features.copy()
    for column in ["purchases_per_year", "order_value", "recency_days"]:
        x[column] = np.log1p(x[column].clip(lower=0))
    return ((x - x.mean()) / x.std().replace(0, 1.0)).to_numpy()


def choose_segments(features: pd.DataFrame, k_range: range = range(2, 9), sample: int = 4000,
                    seed: int = 0, fit_sample: int = 25_000) -> tuple[pd.DataFrame, int]:
    """k-means for each k in ``k_range`` on standardised features; the silhouette (on a fixed
    random sample of ``sample`` customers, for speed) picks k. With more than ``fit_sample``
    customers the k-means of this choice are fitted to a fixed random ``fit_sample`` of them
    (the choice of k needs the shape of the cloud, not every point; ``segment_customers``
    then fits the chosen k to everyone). Returns (silhouette per k, best k)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = _standardised(features)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(x), size=min(sample, len(x)), replace=False)
    fitted = (x if len(x) <= fit_sample else
              x[np.random.default_rng(seed + 1).choice(len(x), size=fit_sample, replace=False)])
    scores = {}
    for k in k_range:
        labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(fitted).predict(x)
        scores[k] = silhouette_score(x[rows], labels[rows])
    table = pd.DataFrame({"silhouette": scores})
    table.index.name = "segments"
    return table, int(table["silhouette"].idxmax())


def segment_customers(features: pd.DataFrame, k: int, sample: int = 4000,
                      seed: int = 0) -> tuple[pd.Series, float]:
    """k-means segments of every customer, and the adjusted Rand agreement with Ward
    hierarchical clustering on a sample (1 = the same partition): a check that the segments are
    not an artefact of one method. Segments are numbered by purchases per year (1 = lowest)."""
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.metrics import adjusted_rand_score

    x = _standardised(features)
    labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(x), size=min(sample, len(x)), replace=False)
    ward = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x[rows])
    agreement = float(adjusted_rand_score(labels[rows], ward))
    pace = pd.Series(features["purchases_per_year"].to_numpy()).groupby(labels).median()
    order = {old: new for new, old in enumerate(pace.sort_values().index, start=1)}
    return (pd.Series([order[v] for v in labels], index=features.index,
                      name="behaviour_segment"), agreement)


# ----------------------------------------------------------------------------------------------
# customer value: BG/NBD purchases x Gamma-Gamma spend
def rfm_summary(order_lines: pd.DataFrame, calibration_end: pd.Timestamp | None = None,
                unit_days: float = 7.0) -> pd.DataFrame:
    """The BG/NBD inputs per customer, in weeks: frequency x (repeat purchase days), recency
    t_x (first to last purchase), T (first purchase to ``calibration_end``), monetary_value
    (mean net spend of the repeat days with a positive value; 0 without) and spend_days (those
    days). One day is one purchase; a day with a sale line is one whatever its value (as in
    Fader, Hardie and Lee 2005 and lifetimes' summary; only positive days feed the spend
    model), a day with returns only is none. Data after ``calibration_end`` are ignored."""
    lines = order_lines
    end = calibration_end or lines["order_date"].max() + pd.Timedelta(days=1)
    lines = lines[lines["order_date"] < end]
    sale = ~lines["is_return"] if "is_return" in lines else pd.Series(True, index=lines.index)
    daily = lines.assign(sale=sale).groupby(
        ["customer_id", lines["order_date"].dt.normalize()]).agg(
        amount=("amount", "sum"), sale=("sale", "any")).reset_index()
    daily = daily[daily["sale"]]
    first = daily.groupby("customer_id")["order_date"].transform("min")
    per = daily.groupby("customer_id").agg(first=("order_date", "min"),
                                           last=("order_date", "max"),
                                           days=("order_date", "size"))
    positive = daily[(daily["order_date"] > first) & (daily["amount"] > 0)].groupby(
        "customer_id")["amount"]
    repeat, spend_days = positive.mean(), positive.size()
    return pd.DataFrame({
        "frequency": per["days"] - 1,
        "recency": (per["last"] - per["first"]).dt.days / unit_days,
        "T": (end - per["first"]).dt.days / unit_days,
        "monetary_value": repeat.reindex(per.index, fill_value=0.0),
        "spend_days": spend_days.reindex(per.index, fill_value=0).astype(int),
    })


def customer_value(order_lines: pd.DataFrame, horizon_weeks: float = 52.0,
                   tiers: tuple[float, ...] = (0.5, 0.8, 0.95), confidence: float = 0.95,
                   draws: int = 100, summary: pd.DataFrame | None = None
                   ) -> tuple[pd.DataFrame, dict]:
    """Expected purchases and revenue per customer in the next ``horizon_weeks``, P(alive), the
    value rank and tier ('top 5%', 'next 15%', 'next 30%', 'other 50%' for the default cuts),
    with the intervals and tier stability of ``value_intervals`` (the parameters'
    uncertainty, ``draws`` parameter sets). ``summary``: the ``rfm_summary`` of the order
    lines when it was computed elsewhere (``engines.customer_summary``: DuckDB or Spark).

    Returns (table indexed by customer_id, fitted parameters of both models and the expected
    revenue with its interval under 'revenue')."""
    summary = rfm_summary(order_lines) if summary is None else summary
    purchases_params = fit_bgnbd(summary)
    spend_params = fit_gamma_gamma(summary)
    table = summary.copy()
    table["p_alive"] = bgnbd_p_alive(purchases_params, summary)
    table["expected_purchases"] = bgnbd_expected_purchases(purchases_params, summary,
                                                           horizon_weeks)
    table["expected_spend"] = gamma_gamma_expected_spend(spend_params, summary)
    table["expected_value"] = table["expected_purchases"] * table["expected_spend"]
    table["value_rank"] = table["expected_value"].rank(ascending=False, method="first").astype(
        int)
    labels = np.array(tier_labels(tiers))
    table["value_tier"] = labels[assign_tiers(table["expected_value"].to_numpy(), tiers)]
    table["value_tier"] = table["value_tier"].astype("str")
    intervals, revenue = value_intervals(summary, purchases_params, spend_params,
                                         horizon_weeks, tiers, confidence, draws)
    table = table.join(intervals)
    return table, {"purchases": purchases_params, "spend": spend_params,
                   "horizon_weeks": horizon_weeks, "revenue": revenue}


def value_tiers(values: pd.DataFrame) -> pd.DataFrame:
    """Per value tier: customers, share of customers, expected revenue and its share, mean
    P(alive) and expected purchases, and (where the values have it) tier_kept: the mean share
    of parameter draws that keep a tier's customers in it."""
    grouped = values.groupby("value_tier", sort=False)
    table = grouped.agg(customers=("expected_value", "size"),
                        expected_revenue=("expected_value", "sum"),
                        mean_p_alive=("p_alive", "mean"),
                        expected_purchases=("expected_purchases", "mean"),
                        **({"tier_kept": ("tier_kept", "mean")} if "tier_kept" in values
                           else {}))
    table.insert(1, "share_of_customers", table["customers"] / table["customers"].sum())
    table.insert(3, "share_of_revenue",
                 table["expected_revenue"] / table["expected_revenue"].sum())
    order = values.groupby("value_tier")["value_rank"].min().sort_values().index
    return table.loc[order]






