"""Stage 05, churn early warning: features of every active customer at a snapshot, out-of-time
training and testing of a logistic regression and gradient-boosted trees, the chosen model's
risk for today's customers, by region and value tier.

Definitions (stated in the notebook too): at a snapshot date T, a customer is **active** with a
purchase in the 12 months before T, and **churned** when active but without any purchase in the
``horizon`` months after T.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.retention import ACTIVE_MONTHS
from helpers.stats import rate_table

# ----------------------------------------------------------------------------------------------
# churn early warning
FEATURES = {
    "recency_days": "days since the last purchase",
    "orders_3m": "purchases in the last 3 months",
    "orders_12m": "purchases in the last 12 months",
    "lifetime_pace": "purchases per year since the first purchase in the data",
    "frequency_change": "purchases in the last 3 months minus the customer's own 3-month "
                        "average over the 12 months before",
    "spend_change": "log ratio of spend in the last 3 months to the own 3-month average before",
    "tenure_years": "years since joining",
    "categories": "categories bought in the last 12 months",
    "complaints_3m": "complaints in the last 3 months",
    "complaints_before": "complaints in the 12 months before that",
    "engagement_6m": "follows and event visits in the last 6 months",
    "satisfaction": "latest satisfaction answer (1-5), centred; 0 when never answered",
    "recommend": "latest likelihood to recommend (0-10), centred; 0 when never answered",
    "referrals": "customers referred so far",
    "answered_survey": "has ever answered a survey",
}


# the contract tables a customer's history is read from (``snapshot_features``)
HISTORY_TABLES = ("order_lines", "customers", "complaints", "engagement", "survey_responses",
                  "referrals")


def snapshot_features(snapshot: pd.Timestamp, *, order_lines: pd.DataFrame,
                      customers: pd.DataFrame, complaints: pd.DataFrame,
                      engagement: pd.DataFrame, survey_responses: pd.DataFrame,
                      referrals: pd.DataFrame) -> pd.DataFrame:
    """Features of every customer active at ``snapshot`` (a purchase in the 12 months before),
    from data strictly before the snapshot (the contract tables; empty ones where none were
    delivered). Returns one row per customer_id (index) with the columns of ``FEATURES`` plus
    region."""
    snapshot = pd.Timestamp(snapshot)
    lines = order_lines
    lines = lines.loc[(lines["order_date"] < snapshot) & ~lines["is_return"]]
    orders = lines.groupby(["customer_id", "order_id"], as_index=False).agg(
        order_date=("order_date", "min"), amount=("amount", "sum"))
    months_before = lambda k: snapshot - pd.DateOffset(months=k)  # noqa: E731
    recent_year = orders[orders["order_date"] >= months_before(ACTIVE_MONTHS)]
    active = pd.Index(recent_year["customer_id"].unique(), name="customer_id")
    out = pd.DataFrame(index=active)
    last = orders.groupby("customer_id")["order_date"].max()
    out["recency_days"] = (snapshot - last.reindex(active)).dt.days
    last3 = orders[orders["order_date"] >= months_before(3)]
    base = orders[(orders["order_date"] >= months_before(15))
                  & (orders["order_date"] < months_before(3))]
    out["orders_3m"] = last3.groupby("customer_id").size().reindex(active, fill_value=0)
    out["orders_12m"] = recent_year.groupby("customer_id").size().reindex(active, fill_value=0)
    first = orders.groupby("customer_id")["order_date"].min().reindex(active)
    years = ((snapshot - first).dt.days / 365.25).clip(lower=1.0)
    out["lifetime_pace"] = orders.groupby("customer_id").size().reindex(active) / years
    base_orders = base.groupby("customer_id").size().reindex(active, fill_value=0) / 4
    out["frequency_change"] = out["orders_3m"] - base_orders
    spend3 = last3.groupby("customer_id")["amount"].sum().reindex(active, fill_value=0.0)
    base_spend = base.groupby("customer_id")["amount"].sum().reindex(active, fill_value=0.0) / 4
    out["spend_change"] = np.log1p(spend3.clip(lower=0)) - np.log1p(base_spend.clip(lower=0))
    customers = customers.set_index("customer_id")
    out["tenure_years"] = (snapshot - customers["join_date"].reindex(active)).dt.days / 365.25
    out["categories"] = (lines[lines["order_date"] >= months_before(ACTIVE_MONTHS)]
                         .groupby("customer_id")["category"].nunique()
                         .reindex(active, fill_value=0))
    complaints = complaints[complaints["complaint_date"] < snapshot]
    recent = complaints["complaint_date"] >= months_before(3)
    earlier = ~recent & (complaints["complaint_date"] >= months_before(15))
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
                   spacing_months: int = 3) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """Out-of-time design: the test snapshot is the latest month start whose horizon fits in
    the data; training snapshots lie ``spacing_months`` apart and their horizons end on or
    before the test snapshot (no look-ahead). Each snapshot keeps a full year of history."""
    first = order_lines["order_date"].min()
    end = order_lines["order_date"].max() + pd.Timedelta(days=1)
    test = (end - pd.DateOffset(months=horizon_months)).to_period("M").to_timestamp()
    last_train = test - pd.DateOffset(months=horizon_months)
    train = [last_train - pd.DateOffset(months=spacing_months * k) for k in range(n_train)]
    earliest = first + pd.DateOffset(months=ACTIVE_MONTHS + 3)
    train = sorted(t for t in train if t >= earliest)
    if not train:
        raise ValueError(f"history from {first:%Y-%m} to {end:%Y-%m} is too short for a "
                         f"{horizon_months}-month horizon with a training snapshot")
    return train, test


@dataclass
class ChurnModel:
    """A fitted logistic churn model: the statsmodels fit and its feature scaling. Its odds
    ratios are the drivers table (direction and size of each feature's link with churn)."""

    result: object
    means: pd.Series
    scales: pd.Series
    features: list[str]
    name: str = "logistic regression"

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Churn probability for each row of a ``snapshot_features`` frame."""
        x = (frame[self.features] - self.means) / self.scales
        x.insert(0, "const", 1.0)
        return pd.Series(self.result.predict(x), index=frame.index, name="risk")

    def drivers(self, confidence: float = 0.95) -> pd.DataFrame:
        """Odds ratio per standard deviation of each feature, with its interval and p-value."""
        params = self.result.params.drop("const")
        ci = self.result.conf_int(alpha=1 - confidence).drop("const")
        table = pd.DataFrame({
            "meaning": [FEATURES[f] for f in params.index],
            "odds_ratio_per_sd": np.exp(params), "ci_low": np.exp(ci[0]),
            "ci_high": np.exp(ci[1]), "p_value": self.result.pvalues.drop("const")})
        table["direction"] = np.where(table["ci_low"] > 1, "raises risk", np.where(
            table["ci_high"] < 1, "lowers risk", "unclear"))
        return table.sort_values("odds_ratio_per_sd", ascending=False)


def _varying(train: pd.DataFrame, features: list[str] | None) -> list[str]:
    """The features that vary in the training data (complaints do not when none were
    delivered): a constant column carries no information and makes the logit singular."""
    return [f for f in features or list(FEATURES) if train[f].nunique(dropna=True) > 1]


def fit_churn_model(train: pd.DataFrame, features: list[str] | None = None) -> ChurnModel:
    """Logistic regression (statsmodels) of ``churned`` on standardised features; a feature
    that does not vary in the training data is left out."""
    import statsmodels.api as sm

    features = _varying(train, features)
    means, scales = train[features].mean(), train[features].std().replace(0, 1.0)
    x = (train[features] - means) / scales
    x.insert(0, "const", 1.0)
    result = sm.Logit(train["churned"].astype(float), x).fit(disp=False, maxiter=200)
    return ChurnModel(result=result, means=means, scales=scales, features=features)


# Shallow trees, many customers per leaf, a fixed number of rounds (no random early-stopping
# split): conservative settings that add interactions and thresholds to the logistic model
# (a long silence means more for a customer who usually buys every month) without chasing noise.
BOOSTING_SETTINGS = {"max_iter": 150, "learning_rate": 0.05, "max_depth": 3,
                     "min_samples_leaf": 200, "l2_regularization": 1.0,
                     "early_stopping": False, "random_state": 0}


@dataclass
class BoostedChurnModel:
    """Gradient-boosted trees (scikit-learn ``HistGradientBoostingClassifier``) on the same
    features as the logistic model; probabilities from the log-loss fit."""

    estimator: object
    features: list[str]
    name: str = "gradient boosting"

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Churn probability for each row of a ``snapshot_features`` frame."""
        risk = self.estimator.predict_proba(frame[self.features].astype("float64"))[:, 1]
        return pd.Series(risk, index=frame.index, name="risk")


def fit_boosted_churn_model(train: pd.DataFrame,
                            features: list[str] | None = None) -> BoostedChurnModel:
    """Gradient-boosted trees of ``churned`` on the features (``BOOSTING_SETTINGS``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    features = _varying(train, features)
    estimator = HistGradientBoostingClassifier(**BOOSTING_SETTINGS)
    estimator.fit(train[features].astype("float64"), train["churned"].astype(int))
    return BoostedChurnModel(estimator=estimator, features=features)


CANDIDATES = {"logistic regression": fit_churn_model,
              "gradient boosting": fit_boosted_churn_model}


def select_churn_model(train: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Choose the scoring model without looking at the test snapshot.

    ``train`` holds labelled customer-snapshots with a ``snapshot`` column. Each candidate is
    fitted on all but the latest training snapshot and ranks the latest one (validation); the
    higher validation AUC wins, the logistic regression on a tie (within 0.001) or when there
    is no validation snapshot (one training snapshot, or one outcome only). Returns the chosen
    name and a table indexed by model: validation_auc, chosen.
    """
    from sklearn.metrics import roc_auc_score

    latest = train["snapshot"].max()
    fit_part, validation = train[train["snapshot"] < latest], train[train["snapshot"] == latest]
    scores = pd.Series(np.nan, index=pd.Index(list(CANDIDATES), name="model"))
    usable = (fit_part["churned"].nunique() == 2) and (validation["churned"].nunique() == 2)
    if usable:
        for name, fit in CANDIDATES.items():
            scores[name] = roc_auc_score(validation["churned"],
                                         fit(fit_part).predict(validation))
    chosen = "logistic regression"
    if usable and scores["gradient boosting"] > scores["logistic regression"] + 0.001:
        chosen = "gradient boosting"
    table = pd.DataFrame({"validation_auc": scores, "chosen": scores.index == chosen})
    return chosen, table


def auc_interval(auc: float, positives: int, negatives: int,
                 confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a ROC AUC from its Hanley-McNeil (1982) standard error, clipped
    to [0, 1]."""
    from scipy.stats import norm

    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc ** 2)
                + (negatives - 1) * (q2 - auc ** 2)) / (positives * negatives)
    half = norm.ppf(0.5 + confidence / 2) * np.sqrt(variance)
    return float(max(0.0, auc - half)), float(min(1.0, auc + half))


def evaluate(risk: pd.Series, churned: pd.Series, bins: int = 10,
             confidence: float = 0.95) -> tuple[dict, pd.DataFrame]:
    """Out-of-time quality: ROC AUC, Brier score, base rate, lift of the top decile, and a
    calibration table (per risk decile: customers, mean predicted, observed rate with CI)."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    frame = pd.DataFrame({"risk": risk, "churned": churned})
    frame["decile"] = pd.qcut(frame["risk"].rank(method="first"), bins,
                              labels=range(1, bins + 1)).astype(int)
    grouped = frame.groupby("decile")
    calibration = rate_table(grouped["churned"].sum(), grouped.size(), confidence=confidence)
    calibration["mean_predicted"] = grouped["risk"].mean()
    base = frame["churned"].mean()
    top = calibration.loc[bins, "rate"]
    auc = float(roc_auc_score(frame["churned"], frame["risk"]))
    churners = int(frame["churned"].sum())
    low, high = auc_interval(auc, churners, len(frame) - churners, confidence)
    metrics = {"auc": auc, "auc_low": low, "auc_high": high,
               "brier": float(brier_score_loss(frame["churned"], frame["risk"])),
               "base_rate": float(base), "top_decile_rate": float(top),
               "lift_top_decile": float(top / base) if base else float("nan"),
               "customers": len(frame)}
    return metrics, calibration


def risk_by_group(risk: pd.DataFrame, by: list[str], min_size: int = 30) -> pd.DataFrame:
    """Manager view (no customer ids): customers, mean risk, expected churners per group."""
    grouped = risk.groupby(by)
    table = grouped.agg(customers=("risk", "size"), mean_risk=("risk", "mean"),
                        expected_churners=("risk", "sum"))
    table["high_risk_customers"] = grouped["risk"].apply(lambda r: int((r >= 0.5).sum()))
    table["small_group"] = table["customers"] < min_size
    return table.sort_values("mean_risk", ascending=False)


def risk_by_value_tier(risk: pd.DataFrame, customer_value: pd.DataFrame,
                       min_size: int = 30) -> pd.DataFrame:
    """``risk_by_group`` by value tier (03's ``customer_value``), most valuable tier first.

    ``risk`` is indexed by customer_id with a risk column; customers without a value estimate
    form their own group ('no value estimate') rather than being dropped.
    """
    tiers = customer_value.set_index("customer_id")
    frame = risk[["risk"]].assign(value_tier=tiers["value_tier"].reindex(risk.index)
                                  .fillna("no value estimate"))
    table = risk_by_group(frame, ["value_tier"], min_size)
    order = tiers.groupby("value_tier")["value_rank"].min().sort_values().index.tolist()
    return table.loc[[t for t in [*order, "no value estimate"] if t in table.index]]


@dataclass
class ChurnWarning:
    """Everything the retention notebook reports about churn."""

    horizon_months: int
    train_snapshots: list[pd.Timestamp]
    test_snapshot: pd.Timestamp
    model: ChurnModel | BoostedChurnModel  # scores the customers (chosen on validation)
    drivers_model: ChurnModel  # the logistic regression: direction and size of each driver
    selection: pd.DataFrame  # validation AUC per candidate model, and which was chosen
    metrics: dict
    calibration: pd.DataFrame
    current_snapshot: pd.Timestamp
    current_risk: pd.DataFrame  # customer_id index: risk, region, features (analysts only)


def churn_early_warning(*, order_lines: pd.DataFrame, customers: pd.DataFrame,
                        complaints: pd.DataFrame, engagement: pd.DataFrame,
                        survey_responses: pd.DataFrame, referrals: pd.DataFrame,
                        horizon_months: int = 6, n_train: int = 4, spacing_months: int = 3,
                        confidence: float = 0.95) -> ChurnWarning:
    """Fit the churn model on earlier snapshots, test it out of time, score today's customers.

    The inputs are the contract tables (empty ones where none were delivered). The scoring
    model is the better of a logistic regression and gradient-boosted
    trees on the latest training snapshot (``select_churn_model``), refitted on all training
    snapshots; the test snapshot is used only to evaluate it. The current snapshot is the day
    after the last order: the risk that an active customer makes no purchase in the next
    ``horizon_months``.
    """
    lines = order_lines
    history = {"order_lines": order_lines, "customers": customers, "complaints": complaints,
               "engagement": engagement, "survey_responses": survey_responses,
               "referrals": referrals}
    train_dates, test_date = snapshot_dates(lines, horizon_months, n_train, spacing_months)

    def labelled(snapshot: pd.Timestamp) -> pd.DataFrame:
        frame = snapshot_features(snapshot, **history)
        frame["churned"] = churn_labels(lines, frame.index, snapshot, horizon_months)
        return frame.assign(snapshot=snapshot)

    train = pd.concat([labelled(s) for s in train_dates])
    test = labelled(test_date)
    chosen, selection = select_churn_model(train)
    drivers_model = fit_churn_model(train)
    model = drivers_model if chosen == drivers_model.name else CANDIDATES[chosen](train)
    metrics, calibration = evaluate(model.predict(test), test["churned"],
                                    confidence=confidence)
    metrics.update(train_customers=len(train), train_base_rate=float(train["churned"].mean()))
    current = lines["order_date"].max() + pd.Timedelta(days=1)
    today = snapshot_features(current, **history)
    today.insert(0, "risk", model.predict(today))
    return ChurnWarning(horizon_months, train_dates, test_date, model, drivers_model, selection,
                        metrics, calibration, current, today)






