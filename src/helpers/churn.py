"""Stage 05, churn early warning: features of every active customer at a snapshot, out-of-time
training and testing of a logistic regression and gradient-boosted trees, the chosen model's
risk for today's customers, by region and value tier.

The snapshots and their features are ``helpers.snapshots``. Definitions (stated in the
notebook too): at a snapshot date T, a customer is **active** with a
purchase in the behaviour window before T (12 months, shorter when the history is short: see
``behaviour_window``), and **churned** when active but without any purchase in the ``horizon``
months after T.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import progress
from helpers.activity import SaleOrders
from helpers.retention import ACTIVE_MONTHS
from helpers.snapshots import (  # noqa: F401  (HISTORY_TABLES: re-exported, churn's input)
    FEATURES,
    HISTORY_TABLES,
    behaviour_window,
    churn_labels,
    feature_meanings,
    snapshot_dates,
    snapshot_features,
)
from helpers.stats import rate_table


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

    def drivers(self, confidence: float = 0.95,
                window_months: int = ACTIVE_MONTHS) -> pd.DataFrame:
        """Odds ratio per standard deviation of each feature, with its interval and p-value;
        the meanings name the behaviour window the features were computed over."""
        params = self.result.params.drop("const")
        ci = self.result.conf_int(alpha=1 - confidence).drop("const")
        table = pd.DataFrame({
            "meaning": [feature_meanings(window_months)[f] for f in params.index],
            "odds_ratio_per_sd": np.exp(params), "ci_low": np.exp(ci[0]),
            "ci_high": np.exp(ci[1]), "p_value": self.result.pvalues.drop("const")})
        table["direction"] = np.where(table["ci_low"] > 1, "raises risk", np.where(
            table["ci_high"] < 1, "lowers risk", "unclear"))
        return table.sort_values("odds_ratio_per_sd", ascending=False)


def _varying(train: pd.DataFrame, features: list[str] | None) -> list[str]:
    """The features that vary in the training data (complaints do not when none were
    delivered): a constant column carries no information and makes the logit singular."""
    return [f for f in features or list(FEATURES) if train[f].nunique(dropna=True) > 1]


def _independent(train: pd.DataFrame, features: list[str]) -> list[str]:
    """The features in order, without one that is a linear combination of the constant and the
    earlier ones in the training data (on a short history every customer's first purchase lies
    in the window, so the lifetime pace is the window's purchase count): it would make the
    logit singular and adds nothing."""
    kept: list[int] = []
    standardised = (train[features] - train[features].mean()) / train[features].std()
    # X = QR: any set of X's columns has the singular values of the same columns of R, so one
    # factorisation of the customers' rows serves every rank check (each on a small matrix)
    r = np.linalg.qr(np.column_stack([np.ones(len(train)), standardised.to_numpy(float)]),
                     mode="r")
    for position in range(1, len(features) + 1):
        if np.linalg.matrix_rank(r[:, [0, *kept, position]],
                                 tol=1e-8 * np.sqrt(len(train))) == len(kept) + 2:
            kept.append(position)
    return [features[position - 1] for position in kept]


def fit_churn_model(train: pd.DataFrame, features: list[str] | None = None) -> ChurnModel:
    """Logistic regression (statsmodels) of ``churned`` on standardised features; a feature
    that does not vary in the training data, or repeats the earlier ones (``_independent``),
    is left out."""
    import statsmodels.api as sm

    features = _independent(train, _varying(train, features))
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


BOOSTING_ROWS = 200_000  # the trees learn from at most this many customer-snapshots


def fit_boosted_churn_model(train: pd.DataFrame, features: list[str] | None = None,
                            max_rows: int = BOOSTING_ROWS) -> BoostedChurnModel:
    """Gradient-boosted trees of ``churned`` on the features (``BOOSTING_SETTINGS``). With more
    than ``max_rows`` training rows the trees learn from a fixed random ``max_rows`` of them:
    150 rounds over millions of rows take minutes and a few features need far fewer rows (the
    logistic model, whose odds ratios are reported with intervals, uses every row)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    features = _varying(train, features)
    if len(train) > max_rows:
        train = train.iloc[np.sort(np.random.default_rng(0).choice(len(train), max_rows,
                                                                   replace=False))]
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
    window_months: int  # the behaviour window before each snapshot (``behaviour_window``)
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
                        window_months: int = ACTIVE_MONTHS,
                        confidence: float = 0.95) -> ChurnWarning:
    """Fit the churn model on earlier snapshots, test it out of time, score today's customers.

    The inputs are the contract tables (empty ones where none were delivered). The scoring
    model is the better of a logistic regression and gradient-boosted
    trees on the latest training snapshot (``select_churn_model``), refitted on all training
    snapshots; the test snapshot is used only to evaluate it. The current snapshot is the day
    after the last order: the risk that an active customer makes no purchase in the next
    ``horizon_months``. Every snapshot's features look back over the longest behaviour window
    up to ``window_months`` that the history allows (``behaviour_window``).
    """
    lines = order_lines
    window = behaviour_window(lines, horizon_months, n_train, spacing_months, window_months)
    history = {"order_lines": SaleOrders.of(order_lines),  # prepared once for every snapshot
               "customers": customers, "complaints": complaints,
               "engagement": engagement, "survey_responses": survey_responses,
               "referrals": referrals, "window_months": window}
    train_dates, test_date = snapshot_dates(lines, horizon_months, n_train, spacing_months,
                                            window)

    def labelled(snapshot: pd.Timestamp) -> pd.DataFrame:
        frame = snapshot_features(snapshot, **history)
        frame["churned"] = churn_labels(history["order_lines"], frame.index, snapshot,
                                        horizon_months)
        return frame.assign(snapshot=snapshot)

    train = pd.concat([labelled(s) for s in progress.steps(
        train_dates, "churn model: training snapshots", unit="snapshots")])
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
    return ChurnWarning(horizon_months, window, train_dates, test_date, model, drivers_model,
                        selection, metrics, calibration, current, today)






