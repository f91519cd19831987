"""The churn model's snapshots (notebook 05): every active customer's features at a snapshot
date from the history strictly before it, the churn label after it, and the out-of-time design
of training and test snapshots, with a behaviour window that shortens on a short history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import frames
from helpers.activity import SaleOrders, sale_orders
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


def snapshot_features(snapshot: pd.Timestamp, *, order_lines: pd.DataFrame | SaleOrders,
                      customers: pd.DataFrame, complaints: pd.DataFrame,
                      engagement: pd.DataFrame, survey_responses: pd.DataFrame,
                      referrals: pd.DataFrame,
                      window_months: int = ACTIVE_MONTHS,
                      only: pd.Index | None = None) -> pd.DataFrame:
    """Features of every customer active at ``snapshot`` (a purchase in the ``window_months``
    before), from data strictly before the snapshot (the contract tables; empty ones where none
    were delivered). The customer's own baseline is the window's months before the last 3.
    Returns one row per customer_id (index) with the columns of ``FEATURES`` plus region;
    with ``only``, the rows of those customers alone (each row is the same either way)."""
    if window_months < SHORTEST_WINDOW_MONTHS:
        raise ValueError(f"a behaviour window of {window_months} months is too short: it needs "
                         f"at least {SHORTEST_WINDOW_MONTHS} months (3 recent, 3 of baseline)")
    snapshot = pd.Timestamp(snapshot)
    history = sale_orders(order_lines)
    orders = history.orders_before(snapshot)
    months_before = lambda k: snapshot - pd.DateOffset(months=k)  # noqa: E731
    who, when = orders["customer"].to_numpy(), orders["order_date"].to_numpy()
    spent = orders["amount"].to_numpy()
    n = len(history.customer_ids)

    def since(months: int) -> np.ndarray:
        return when >= np.datetime64(months_before(months), np.datetime_data(when.dtype)[0])

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(who[mask], minlength=n)

    def total(mask: np.ndarray) -> np.ndarray:
        return np.bincount(who[mask], weights=spent[mask], minlength=n)

    recent_year, last3 = since(window_months), since(3)
    base = recent_year & ~last3
    codes = np.flatnonzero(count(recent_year) > 0)
    codes = codes[np.argsort(history.id_rank[codes], kind="stable")]  # by customer id
    if only is not None:
        codes = codes[frames.isin(pd.Series(history.customer_ids[codes]), only).to_numpy()]
    active = pd.Index(history.customer_ids[codes], name="customer_id")
    blocks = np.flatnonzero(np.r_[True, who[1:] != who[:-1]]) if len(who) else who
    last = pd.Series(np.maximum.reduceat(when, blocks) if len(who) else when,
                     index=who[blocks]).reindex(codes)
    first = pd.Series(np.minimum.reduceat(when, blocks) if len(who) else when,
                      index=who[blocks]).reindex(codes)
    out = pd.DataFrame(index=active)
    out["recency_days"] = (snapshot - last).dt.days.to_numpy()
    base_quarters = (window_months - 3) / 3
    out["orders_3m"] = count(last3)[codes]
    out["orders_12m"] = count(recent_year)[codes]
    years = ((snapshot - first).dt.days / 365.25).clip(lower=1.0).to_numpy()
    out["lifetime_pace"] = count(np.ones(len(who), dtype=bool))[codes] / years
    out["frequency_change"] = out["orders_3m"] - count(base)[codes] / base_quarters
    spend3 = total(last3)[codes]
    base_spend = total(base)[codes] / base_quarters
    out["spend_change"] = (np.log1p(np.clip(spend3, 0, None))
                           - np.log1p(np.clip(base_spend, 0, None)))
    customers = customers.set_index("customer_id")
    out["tenure_years"] = (snapshot - customers["join_date"].reindex(active)).dt.days / 365.25
    out["categories"] = history.categories_between(months_before(window_months),
                                                   snapshot)[codes]
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


def churn_labels(order_lines: pd.DataFrame | SaleOrders, customers: pd.Index,
                 snapshot: pd.Timestamp, horizon_months: int) -> pd.Series:
    """1 when the customer makes no purchase in [snapshot, snapshot + horizon), else 0."""
    snapshot = pd.Timestamp(snapshot)
    end = snapshot + pd.DateOffset(months=horizon_months)
    buyers = sale_orders(order_lines).buyers_between(snapshot, end)
    bought = frames.isin(pd.Series(customers, dtype=buyers.dtype), buyers).to_numpy()
    return pd.Series(np.where(bought, 0, 1), index=customers, name="churned", dtype="int64")


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
