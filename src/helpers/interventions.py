"""Did the loyalty strategies work? Effects of campaigns, coupons, member benefits and service
changes on the customers they reached (notebook 09), each with its interval, and the naive
comparison beside the sound one.

Outcomes per customer over ``window_months`` from the exposure: purchases (orders with a sale
line), spend (net amount), bought (retained: at least one purchase) and complaints (where
delivered); the same over the months before as the pre-period. Designs, chosen from the
exposure rows:

* **randomised holdout** (treated and holdout rows): the difference in means (Welch), and the
  same adjusted for each customer's pre-period outcome (regression adjustment, CUPED: the
  variance falls, the estimate stays unbiased), heteroskedasticity-robust intervals;
* **targeted without a holdout** (treated rows only): the comparison group is every other
  customer active at the exposure date, weighted to look like the treated before it (inverse
  propensity weights for the effect on the treated, from a logistic regression on recency,
  purchases in the last 3 and 12 months, spend in the last 12 and tenure), and the effect is a
  difference in differences (post minus pre outcome); the naive treated-vs-rest difference is
  shown beside it, with a balance table (standardised mean differences) before and after;
  its interval from bootstrap resamples that estimate the weights again (``bootstrap_se``);
* **regional change** (no exposure rows; ``regions`` names where it applies): difference in
  differences of the regions' monthly purchases per customer against the other regions
  (``helpers.regional_change``);
* **survey incentive** (kind ``survey incentive``): the response rate of the survey waves sent
  in its window against the other waves (``helpers.survey_incentives``).

An intervention with no exposed customers, or whose window ends after the data, is "not
measurable yet" rather than given a number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import frames, progress
from helpers.intervention_outcomes import OUTCOMES


def _interval(effect: float, se: float, confidence: float) -> tuple[float, float]:
    from scipy.stats import norm

    half = norm.ppf(0.5 + confidence / 2) * se
    return effect - half, effect + half


def effect_row(outcome: str, estimate: str, effect: float, se: float, confidence: float,
               treated: int, comparison: int, comparison_mean: float,
               comparison_se: float = 0.0) -> dict:
    """One row of an effects table: the effect with its normal interval, relative to the
    comparison mean, and the group sizes. The relative interval counts the comparison mean's
    own uncertainty (``comparison_se``; delta method: se of e / b is
    sqrt(se^2 + (e / b)^2 comparison_se^2) / b)."""
    from scipy.stats import norm

    low, high = _interval(effect, se, confidence)
    base = comparison_mean if comparison_mean else np.nan
    relative = effect / base
    half = norm.ppf(0.5 + confidence / 2) * np.sqrt(
        se ** 2 + relative ** 2 * comparison_se ** 2) / abs(base)
    return {"outcome": outcome, "estimate": estimate, "effect": effect, "ci_low": low,
            "ci_high": high, "relative": relative, "relative_low": relative - half,
            "relative_high": relative + half, "treated": treated, "comparison": comparison,
            "comparison_mean": comparison_mean}


def _mean_se(y: pd.Series) -> float:
    return float(y.std(ddof=1) / np.sqrt(len(y))) if len(y) > 1 else 0.0


def _naive_row(y: pd.Series, is_treated: pd.Series, outcome: str, confidence: float,
               comparison_se: bool = False) -> dict:
    """Treated minus comparison mean of ``y`` with its Welch standard error (and, with
    ``comparison_se``, the comparison mean's uncertainty in the relative interval: a holdout
    whose mean is itself an estimate)."""
    y1, y0 = y[is_treated], y[~is_treated]
    se = float(np.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0)))
    return effect_row(outcome, "naive", float(y1.mean() - y0.mean()), se, confidence, len(y1),
                      len(y0), float(y0.mean()), _mean_se(y0) if comparison_se else 0.0)


def holdout_effects(outcomes: pd.DataFrame, treated: pd.Series,
                    confidence: float = 0.95) -> pd.DataFrame:
    """Randomised holdout: per outcome, the difference in means (``naive``: treated minus
    holdout, Welch standard error) and the one adjusted for the pre-period outcome
    (``adjusted``: OLS of the outcome on treated and the centred pre-period outcome, HC1
    errors). ``treated`` is a boolean Series on the same index."""
    import statsmodels.api as sm

    rows = []
    is_treated = treated.reindex(outcomes.index).astype(bool)
    n1, n0 = int(is_treated.sum()), int((~is_treated).sum())
    for outcome in [o for o in OUTCOMES if o in outcomes]:
        y = outcomes[outcome]
        rows.append(_naive_row(y, is_treated, outcome, confidence, comparison_se=True))
        pre = outcomes[f"pre_{outcome}"]
        design = pd.DataFrame({"const": 1.0, "treated": is_treated.astype(float)})
        if pre.nunique() > 1:  # a pre-period outcome that never varies adjusts nothing
            design["pre"] = pre - pre.mean()
        fit = sm.OLS(y, design).fit(cov_type="HC1")
        rows.append(effect_row(outcome, "adjusted", float(fit.params["treated"]),
                               float(fit.bse["treated"]), confidence, n1, n0,
                               float(y[~is_treated].mean()), _mean_se(y[~is_treated])))
    return pd.DataFrame(rows)


def _design(features: pd.DataFrame) -> np.ndarray:
    """A constant and the standardised ``features`` that vary, as the logistic design."""
    usable = [c for c in features.columns if features[c].nunique() > 1]
    x = (features[usable] - features[usable].mean()) / features[usable].std()
    return np.column_stack([np.ones(len(x)), x.to_numpy(float)])


def _att_weights(design: np.ndarray, is_treated: np.ndarray,
                 start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The effect-on-the-treated weights of ``propensity_weights`` and the logistic
    coefficients (``start``: where Newton's method begins, e.g. the full sample's fit)."""
    import statsmodels.api as sm

    fit = sm.Logit(is_treated.astype(float), design).fit(disp=False, maxiter=200,
                                                         start_params=start)
    p = np.clip(fit.predict(design), 1e-6, 1 - 1e-6)
    weights = np.where(is_treated, 1.0, p / (1 - p))
    control = ~is_treated
    weights[control] *= is_treated.sum() / weights[control].sum()
    return weights, np.asarray(fit.params)


def propensity_weights(features: pd.DataFrame, treated: pd.Series) -> pd.Series:
    """Weights for the effect on the treated: 1 for a treated customer, p / (1 - p) for a
    comparison customer, p the logistic propensity from standardised ``features`` (a feature
    that does not vary is left out); comparison weights scaled to sum to the treated count."""
    weights, _params = _att_weights(_design(features), treated.to_numpy(bool))
    return pd.Series(weights, index=features.index)


def balance(features: pd.DataFrame, treated: pd.Series, weights: pd.Series) -> pd.DataFrame:
    """Standardised mean difference of each feature, treated minus comparison (in pooled
    standard deviations), before and after weighting; |d| < 0.1 is the usual bar."""
    is_treated = treated.astype(bool)
    rows = {}
    for column in features.columns:
        x = features[column]
        scale = np.sqrt((x[is_treated].var() + x[~is_treated].var()) / 2) or 1.0
        weighted = np.average(x[~is_treated], weights=weights[~is_treated])
        rows[column] = {"treated_mean": x[is_treated].mean(),
                        "comparison_mean": x[~is_treated].mean(),
                        "weighted_comparison_mean": weighted,
                        "difference_before": (x[is_treated].mean() - x[~is_treated].mean())
                        / scale,
                        "difference_after": (x[is_treated].mean() - weighted) / scale}
    return pd.DataFrame(rows).T.rename_axis("feature")


def _weighted_changes(changes: np.ndarray, is_treated: np.ndarray,
                      weights: np.ndarray) -> np.ndarray:
    """Per column of ``changes``: the treated mean minus the weighted comparison mean."""
    control = ~is_treated
    return changes[is_treated].mean(axis=0) - np.average(changes[control], axis=0,
                                                         weights=weights[control])


def bootstrap_se(changes: pd.DataFrame, features: pd.DataFrame, treated: pd.Series,
                 draws: int = 200, seed: int = 0) -> pd.Series:
    """Standard error of each column's weighted difference in differences (``changes``: post
    minus pre outcome per customer) that counts the propensity model's own uncertainty: the
    customers resampled (treated and comparison apart), the weights estimated again on each
    resample. A robust error with the weights held fixed ignores that they were estimated.
    A resample whose fit fails is skipped (``_resample_weights``); NaN when fewer than half
    could be fitted, and the caller falls back to the fixed-weight error."""
    rng = np.random.default_rng(seed)
    is_treated = treated.to_numpy(bool)
    values, design = changes.to_numpy(float), _design(features)
    _weights, start = _att_weights(design, is_treated)
    treated_rows, control_rows = np.flatnonzero(is_treated), np.flatnonzero(~is_treated)
    found = []
    for _draw in progress.steps(range(draws), "targeted effect: bootstrap resamples"):
        rows = np.concatenate([rng.choice(treated_rows, treated_rows.size),
                               rng.choice(control_rows, control_rows.size)])
        flag = is_treated[rows]
        weights = _resample_weights(design[rows], flag, start)
        if weights is not None:
            found.append(_weighted_changes(values[rows], flag, weights))
    if len(found) < max(draws // 2, 2):  # too few resamples could be fitted: no error
        return pd.Series(np.nan, index=changes.columns)
    return pd.Series(np.std(found, axis=0, ddof=1), index=changes.columns)


def _logit_newton(design: np.ndarray, outcome: np.ndarray, start: np.ndarray,
                  max_iter: int = 200, tol: float = 1e-8) -> np.ndarray | None:
    """The logistic coefficients by Newton's method from ``start``, step for step as
    statsmodels' ``Logit.fit`` takes them (mean log-likelihood, its 1e-10 ridge, a change of
    at most ``tol`` in every coefficient to stop); None where that fit would fail: a singular
    Hessian, perfect prediction (separation), no convergence. Two hundred bootstrap fits run
    in seconds instead of a minute."""
    from scipy.special import expit

    n = len(outcome)
    params = np.asarray(start, dtype=float)
    for _iteration in range(max_iter):
        p = expit(design @ params)
        hessian = (design * (p * (1 - p))[:, None]).T @ design / n
        hessian[np.diag_indices_from(hessian)] += 1e-10
        try:
            step = np.linalg.solve(hessian, design.T @ (p - outcome) / n)
        except np.linalg.LinAlgError:
            return None
        params = params - step
        if np.allclose(expit(design @ params) - outcome, 0):  # perfect prediction
            return None
        if not np.any(np.abs(step) > tol):
            return params
    return None


def _resample_weights(design: np.ndarray, is_treated: np.ndarray,
                      start: np.ndarray) -> np.ndarray | None:
    """``_att_weights`` on one bootstrap resample (by ``_logit_newton``): a feature that
    happens not to vary in it is left out; None when the logistic fit fails there
    (separation, a singular Hessian: small groups), so the draw is skipped rather than the
    page lost."""
    from scipy.special import expit

    varies = np.r_[True, (design[:, 1:] != design[0, 1:]).any(axis=0)]
    with np.errstate(all="ignore"):
        params = _logit_newton(design[:, varies], is_treated.astype(float), start[varies])
        if params is None:
            return None
        p = np.clip(expit(design[:, varies] @ params), 1e-6, 1 - 1e-6)
        weights = np.where(is_treated, 1.0, p / (1 - p))
        control = ~is_treated
        weights[control] *= is_treated.sum() / weights[control].sum()
    return weights if np.isfinite(weights).all() else None


def targeted_effects(outcomes: pd.DataFrame, features: pd.DataFrame, treated: pd.Series,
                     confidence: float = 0.95, weights: pd.Series | None = None,
                     draws: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Targeted without a holdout (module docstring): per outcome the naive treated-vs-rest
    difference after the exposure and the weighted difference in differences (the WLS
    coefficient of post minus pre outcome on treated), its standard error from ``draws``
    bootstrap resamples that estimate the weights again (``bootstrap_se``; the HC1 error with
    fixed weights when ``draws`` is 0). ``outcomes`` and ``features`` cover the treated and
    the comparison customers (the active ones); ``weights`` from ``propensity_weights`` (made
    here when not given); returns (effects, balance)."""
    import statsmodels.api as sm

    features = features.reindex(outcomes.index)
    is_treated = treated.reindex(outcomes.index).astype(bool)
    if weights is None:
        weights = propensity_weights(features, is_treated)
    weights = weights.reindex(outcomes.index)
    n1, n0 = int(is_treated.sum()), int((~is_treated).sum())
    names = [o for o in OUTCOMES if o in outcomes]
    changes = pd.DataFrame({o: outcomes[o] - outcomes[f"pre_{o}"] for o in names})
    boot = bootstrap_se(changes, features, is_treated, draws) if draws else None
    rows = []
    for outcome in names:
        y = outcomes[outcome]
        rows.append(_naive_row(y, is_treated, outcome, confidence))
        change = changes[outcome]
        design = pd.DataFrame({"const": 1.0, "treated": is_treated.astype(float)})
        fit = sm.WLS(change, design, weights=weights).fit(cov_type="HC1")
        # what the treated would have bought without it: their pre-period plus the weighted
        # comparison group's change
        counterfactual = float(outcomes.loc[is_treated, f"pre_{outcome}"].mean()
                               + np.average(change[~is_treated], weights=weights[~is_treated]))
        se = float(fit.bse["treated"])  # weights held fixed: when no bootstrap could run
        if boot is not None and np.isfinite(boot[outcome]):
            se = float(boot[outcome])
        rows.append(effect_row(outcome, "adjusted", float(fit.params["treated"]), se,
                               confidence, n1, n0, counterfactual))
    return pd.DataFrame(rows), balance(features, is_treated, weights)


def event_time_effects(orders: pd.DataFrame, starts: pd.Series, treated: pd.Series,
                       weights: pd.Series, before: int = 6, after: int = 3,
                       confidence: float = 0.95) -> pd.DataFrame:
    """The difference in differences month by month around the exposure (an event-time
    chart): for each month k from -``before`` to ``after`` - 1 (k = 0 is the month from the
    customer's ``starts`` date), each customer's purchases that month minus the customer's own
    mean over the ``before`` months, the treated against the ``weights``-weighted comparison
    (WLS on treated, HC1 errors). Before the exposure the differences should hover around zero
    (the groups moved alike); after it they trace the effect. Returns per month k: treated and
    comparison mean purchases, difference, ci_low, ci_high."""
    import statsmodels.api as sm

    ids = starts.index
    mine = orders[frames.isin(orders["customer_id"], ids).to_numpy()]
    days = (mine["order_date"] - mine["customer_id"].map(starts)).dt.days
    month = np.floor(days / 30.4375).astype(int)
    months = range(-before, after)
    inside = month.between(-before, after - 1).to_numpy()
    counts = (pd.DataFrame({"customer_id": mine["customer_id"].to_numpy()[inside],
                            "month": month.to_numpy()[inside]})
              .groupby(["customer_id", "month"]).size().unstack(fill_value=0)
              .reindex(index=ids, columns=months, fill_value=0).astype(float))
    counts.columns.name = None
    baseline = counts[list(range(-before, 0))].mean(axis=1)
    is_treated = treated.reindex(ids).astype(bool)
    w = weights.reindex(ids)
    design = pd.DataFrame({"const": 1.0, "treated": is_treated.astype(float)}, index=ids)
    rows = []
    for k in counts.columns:
        fit = sm.WLS(counts[k] - baseline, design, weights=w).fit(cov_type="HC1")
        low, high = fit.conf_int(alpha=1 - confidence).loc["treated"]
        rows.append({"month": k, "treated": counts.loc[is_treated, k].mean(),
                     "comparison": np.average(counts.loc[~is_treated, k],
                                              weights=w[~is_treated]),
                     "difference": float(fit.params["treated"]), "ci_low": float(low),
                     "ci_high": float(high)})
    return pd.DataFrame(rows).set_index("month")


def value_before(outcomes: pd.DataFrame, top_share: float = 0.2) -> pd.Series:
    """Each customer's place by spend in the window before the exposure: the top
    ``top_share`` of the intervention's customers, or the rest (known before it, so a fair
    way to split the effect; a tier from today's value would be shaped by the effect)."""
    top = outcomes["pre_spend"].rank(pct=True, method="first") > 1 - top_share
    return pd.Series(np.where(top, "top 20% by spend before it", "other customers"),
                     index=outcomes.index)


def subgroup_effects(outcomes: pd.DataFrame, treated: pd.Series,
                     groupings: dict[str, pd.Series], min_group_size: int = 30,
                     confidence: float = 0.95) -> pd.DataFrame:
    """Randomised holdout: the adjusted effect on purchases (``holdout_effects``) within each
    level of each grouping (e.g. region, ``value_before``, a tier; Series on the customers, a
    categorical one in its categories' order, else sorted). A level
    with fewer than ``min_group_size`` treated or held-out customers is flagged
    ``small_group`` (and not estimated below 2). Rows: by, group, treated, comparison, effect,
    ci_low, ci_high, relative, relative_low, relative_high, small_group."""
    rows = []
    is_treated = treated.reindex(outcomes.index).astype(bool)
    for by, labels in groupings.items():
        labels = labels.reindex(outcomes.index)
        levels = (list(labels.cat.categories)  # an ordered split keeps its order (tiers)
                  if isinstance(labels.dtype, pd.CategoricalDtype)
                  else sorted(labels.dropna().unique()))
        for level in levels:
            inside = labels == level
            if not inside.any():  # a category no customer here has (an empty tier)
                continue
            n1, n0 = int((inside & is_treated).sum()), int((inside & ~is_treated).sum())
            row = {"by": by, "group": level, "treated": n1, "comparison": n0,
                   "small_group": min(n1, n0) < min_group_size}
            if min(n1, n0) >= 2:
                table = holdout_effects(outcomes[inside], is_treated[inside], confidence)
                found = table[(table["outcome"] == "purchases")
                              & (table["estimate"] == "adjusted")].iloc[0]
                row.update({k: float(found[k]) for k in ("effect", "ci_low", "ci_high",
                                                         "relative", "relative_low",
                                                         "relative_high")})
            rows.append(row)
    return pd.DataFrame(rows)
