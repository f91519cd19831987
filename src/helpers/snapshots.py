"""The churn model's snapshots (notebook 05): every active customer's features at a snapshot
date from the history strictly before it, the churn label after it, and the out-of-time design
of training and test snapshots, with a behaviour window that shortens on a short history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.retention import ACTIVE_MONTHS

# the shortest behaviour window a snapshot may rest on (months of orders before it)
SHORTEST_WINDOW_MONTHS = 6
# the meanings of the features; {window} is the behaviour window, {earlier} its months before
# the last 3 (``feature_meanings``). orders_12m keeps its name whatever the window.
FEATURES = {
    "recency_days": "days since the last purchase",
    "orders_3m": "purchases in the last 3 months",
    "orders_12m": "purchases in the last {window} months",
    "lifetime_pace": "purchases per year since the first purchase in the data",
    "frequency_change": "purchases in the last 3 months minus the customer's own 3-month "
                        "average over the {earlier} months before",
    "spend_change": "log ratio of spend in the last 3 months to the own 3-month average before",
    "tenure_years": "years since joining",
    "categories": "categories bought in the last {window} months",
    "complaints_3m": "complaints in the last 3 months",
    "complaints_before": "complaints in the {earlier} months before that",
    "engagement_6m": "follows and event visits in the last 6 months",
    "satisfaction": "latest satisfaction answer (1-5), centred; 0 when never answered",
    "recommend": "latest likelihood to recommend (0-10), centred; 0 when never answered",
    "referrals": "customers referred so far",
    "answered_survey": "has ever answered a survey",
}


def feature_meanings(window_months: int = ACTIVE_MONTHS) -> dict[str, str]:
    """What each feature measures, with the run's behaviour window (English, as the tables
    hold it; the pages translate the formatted texts)."""
    return {name: meaning.format(window=window_months, earlier=window_months - 3)
            for name, meaning in FEATURES.items()}


# the contract tables a customer's history is read from (``snapshot_features``)
HISTORY_TABLES = ("order_lines", "customers", "complaints", "engagement", "survey_responses",
                  "referrals")


def snapshot_features(snapshot: pd.Timestamp, *, order_lines: pd.DataFrame,
                      customers: pd.DataFrame, complaints: pd.DataFrame,
                      engagement: pd.DataFrame, survey_responses: pd.DataFrame,
                      referrals: pd.DataFrame,
                      window_months: int = ACTIVE_MONTHS) -> pd.DataFrame:
    """Features of every customer active at ``snapshot`` (a purchase in the ``window_months``
    before), from data strictly before the snapshot (the contract tables; empty ones where none
    were delivered). The customer's own baseline is the window's months before the last 3.
    Returns one row per customer_id (index) with the columns of ``FEATURES`` plus region."""
    if window_months < SHORTEST_WINDOW_MONTHS:
        raise ValueError(f"a behaviour window of {window_months} months is too short: it needs "
                         f"at least {SHORTEST_WINDOW_MONTHS} months (3 recent, 3 of baseline)")
    snapshot = pd.Timestamp(snapshot)
    lines = order_lines
    lines = lines.loc[(lines["order_date"] < snapshot) & ~lines["is_return"]]
    orders = lines.groupby(["customer_id", "order_id"], as_index=False).agg(
        order_date=("order_date", "min"), amount=("amount", "sum"))
    months_before = lambda k: snapshot - pd.DateOffset(months=k)  # noqa: E731
    recent_year = orders[orders["order_date"] >= months_before(window_months)]
    active = pd.Index(recent_year["customer_id"].unique(), name="customer_id")
    out = pd.DataFrame(index=active)
    last = orders.groupby("customer_id")["order_date"].max()
    out["recency_days"] = (snapshot - last.reindex(active)).dt.days
    last3 = orders[orders["order_date"] >= months_before(3)]
    base = orders[(orders["order_date"] >= months_before(window_months))
                  & (orders["order_date"] < months_before(3))]
    base_quarters = (window_months - 3) / 3
    out["orders_3m"] = last3.groupby("customer_id").size().reindex(active, fill_value=0)
    out["orders_12m"] = recent_year.groupby("customer_id").size().reindex(active, fill_value=0)
    first = orders.groupby("customer_id")["order_date"].min().reindex(active)
    years = ((snapshot - first).dt.days / 365.25).clip(lower=1.0)
    out["lifetime_pace"] = orders.groupby("customer_id").size().reindex(active) / years
    base_orders = base.groupby("customer_id").size().reindex(active, fill_value=0) / base_quarters
    out["frequency_change"] = out["orders_3m"] - base_orders
    spend3 = last3.groupby("customer_id")["amount"].sum().reindex(active, fill_value=0.0)
    base_spend = base.groupby("customer_id")["amount"].sum().reindex(
        active, fill_value=0.0) / base_quarters
    out["spend_change"] = np.log1p(spend3.clip(lower=0)) - np.log1p(base_spend.clip(lower=0))
    customers = customers.set_index("customer_id")
    out["tenure_years"] = (snapshot - customers["join_date"].reindex(active)).dt.days / 365.25
    out["categories"] = (lines[lines["order_date"] >= months_before(window_months)]
                         .groupby("customer_id")["category"].nunique()
                         .reindex(active, fill_value=0))
    complaints = complaints[complaints["complaint_date"] < snapshot]
    recent = complaints["complaint_date"] >= months_before(3)
    earlier = ~recent & (complaints["complaint_date"] >= months_before(window_months))
    out["complaints_3m"] = complaints[recent].groupby("customer_id").size().reindex(
        active, fill_value=0)
    out["complaints_before"] = complaints[earlier].groupby("customer_id").size().reindex(
        active, fill_value=0)
    engagement = engagement[(engagement["event_date"] < snapshot)
                            & (engagement["event_date"] >= months_before(6))]
    out["engagement_6m"] = engagement.groupby("customer_id").size().reindex(active, fill_value=0)
    survey = survey_responses
    answered = survey[survey["responded"] & (survey["response_date"] < snapshot)
                      & (survey["quality_flag"] == "ok")]
    latest = answered.sort_values("response_date").groupby("customer_id")[
        ["satisfaction", "recommend_score"]].last().reindex(active).astype("float64")
    out["answered_survey"] = latest["satisfaction"].notna().astype("int64")
    out["satisfaction"] = (latest["satisfaction"] - 3).fillna(0.0)
    out["recommend"] = (latest["recommend_score"] - 5).fillna(0.0)
    out["referrals"] = (referrals[referrals["referral_date"] < snapshot]
                        .groupby("referrer_id").size().reindex(active, fill_value=0))
    out["region"] = customers["region"].reindex(active)
    return out


def churn_labels(order_lines: pd.DataFrame, customers: pd.Index, snapshot: pd.Timestamp,
                 horizon_months: int) -> pd.Series:
    """1 when the customer makes no purchase in [snapshot, snapshot + horizon), else 0."""
    snapshot = pd.Timestamp(snapshot)
    end = snapshot + pd.DateOffset(months=horizon_months)
    window = order_lines[(order_lines["order_date"] >= snapshot)
                         & (order_lines["order_date"] < end) & ~order_lines["is_return"]]
    bought = set(window["customer_id"])
    return pd.Series([0 if c in bought else 1 for c in customers], index=customers,
                     name="churned", dtype="int64")


def snapshot_dates(order_lines: pd.DataFrame, horizon_months: int, n_train: int,
                   spacing_months: int = 3, window_months: int = ACTIVE_MONTHS,
                   ) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """Out-of-time design: the test snapshot is the latest month start whose horizon fits in
    the data; training snapshots lie ``spacing_months`` apart and their horizons end on or
    before the test snapshot (no look-ahead). Each snapshot keeps a full behaviour window
    (``window_months``) of history before it."""
    first = order_lines["order_date"].min()
    end = order_lines["order_date"].max() + pd.Timedelta(days=1)
    test = (end - pd.DateOffset(months=horizon_months)).to_period("M").to_timestamp()
    last_train = test - pd.DateOffset(months=horizon_months)
    train = [last_train - pd.DateOffset(months=spacing_months * k) for k in range(n_train)]
    earliest = first.normalize() + pd.DateOffset(months=window_months)
    train = sorted(t for t in train if t >= earliest)
    if not train:
        raise ValueError(f"history from {first:%Y-%m} to {end:%Y-%m} is too short for a "
                         f"{horizon_months}-month horizon with a training snapshot")
    return train, test


def behaviour_window(order_lines: pd.DataFrame, horizon_months: int, n_train: int,
                     spacing_months: int = 3, longest_months: int = ACTIVE_MONTHS) -> int:
    """The longest behaviour window (at most ``longest_months``, at least
    ``SHORTEST_WINDOW_MONTHS``) that leaves a training snapshot before the test snapshot: a
    year when the history allows, less on a short history (one year of orders with a 3-month
    horizon: 6 months). Raises ValueError when even the shortest leaves none."""
    problem = None
    for window in range(longest_months, SHORTEST_WINDOW_MONTHS - 1, -1):
        try:
            snapshot_dates(order_lines, horizon_months, n_train, spacing_months, window)
        except ValueError as error:
            problem = error
            continue
        return window
    raise ValueError(f"{problem}: even a {SHORTEST_WINDOW_MONTHS}-month behaviour window "
                     f"leaves no training snapshot")


def shortest_history_months(horizon_months: int) -> int:
    """Months of orders a churn model needs at least: the shortest behaviour window, then a
    training horizon and a test horizon."""
    return SHORTEST_WINDOW_MONTHS + 2 * horizon_months
