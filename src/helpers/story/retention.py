"""Retention and the churn early warning, in words (notebook 05)."""

from __future__ import annotations

import pandas as pd

from helpers import i18n
from helpers.churn import ChurnWarning
from helpers.i18n import _
from helpers.retention import ACTIVE_MONTHS
from helpers.snapshots import behaviour_window, shortest_history_months
from helpers.stages.retention import RetentionResult
from helpers.stats import wilson_interval


def churn_model_problem(order_lines: pd.DataFrame, horizon_months: int, n_train: int,
                        spacing_months: int = 3) -> str:
    """Why an out-of-time churn model cannot be fitted on this history ('' when it can).

    It needs a behaviour window (at least 6 months) before a training snapshot, the training
    horizon, and a later test snapshot with its own horizon: ``6 + 2 x horizon`` months.
    """
    try:
        behaviour_window(order_lines, horizon_months, n_train, spacing_months)
    except ValueError:  # its English message is said again here, in the report language
        return history_too_short(order_lines["order_date"], horizon_months)
    return ""


def history_too_short(order_dates: pd.Series, horizon_months: int) -> str:
    """That the orders' dates span too little history for a churn model with this horizon,
    and how much it needs."""
    return _("history from {first:%Y-%m} to {end:%Y-%m} is too short for a {horizon}-month "
             "horizon with a training snapshot; it needs about {months} months of orders",
             first=order_dates.min(), end=order_dates.max() + pd.Timedelta(days=1),
             horizon=horizon_months, months=shortest_history_months(horizon_months))


def headline(result: RetentionResult) -> str:
    """The retention page's headline: the churn early warning, or without a churn model the
    retention within one cycle and why the model is missing."""
    if result.warning is not None:
        return churn_sentence(result.warning, result.risk_by_region)
    return cycle_sentence(result.by_category,
                          history_too_short(result.history, result.horizon_months),
                          result.confidence)


def model_sentence(result: RetentionResult) -> str:
    """How the churn model was chosen and tested, or why there is none."""
    if result.warning is not None:
        return evaluation_sentence(result.warning, result.confidence)
    return _("**Not evaluated:** {reason}.",
             reason=history_too_short(result.history, result.horizon_months))


def tier_risk_sentence(by_tier: pd.DataFrame | None, horizon_months: int) -> str:
    """Churn risk among the most valuable customers, for managers (report language); '' without
    a churn model or value tiers."""
    if by_tier is None:
        return ""
    top = by_tier.index[0]
    row = by_tier.iloc[0]
    large = by_tier[~by_tier["small_group"].astype(bool)] if "small_group" in by_tier else \
        by_tier  # a tier with few customers is never named the riskiest
    riskiest = large["mean_risk"].idxmax() if len(large) else top
    worst = "" if riskiest == top else _(
        " The highest mean risk is in the {tier} tier ({risk:.0%}).", tier=i18n.label(riskiest),
        risk=by_tier.loc[riskiest, "mean_risk"])
    return _("Of the {customers:,} active customers in the {top} by expected value, about "
             "{churners:,.0f} are expected to buy nothing in the next {months} months (mean "
             "risk {risk:.0%}).{worst}", customers=row["customers"], top=i18n.label(top),
             churners=row["expected_churners"], months=horizon_months, risk=row["mean_risk"],
             worst=worst)


def evaluation_sentence(warning: ChurnWarning, confidence: float = 0.95) -> str:
    """How the churn model was chosen and trained, and how it did out of time, in the report
    language."""
    m, snapshots, test = warning.metrics, warning.train_snapshots, warning.test_snapshot
    auc = f"AUC {m['auc']:.2f}"
    interval = f"{m['auc_low']:.2f}-{m['auc_high']:.2f}"
    brier, lift = f"{m['brier']:.3f}", f"{m['lift_top_decile']:.1f}"
    validation = warning.selection["validation_auc"]
    logistic, boosting = validation["logistic regression"], validation["gradient boosting"]
    validated = validation.notna().all()
    chosen = {"logistic regression": _("the logistic regression"),
              "gradient boosting": _("gradient-boosted trees")}[warning.model.name]
    if validated:
        why = _("it ranked the latest training snapshot better when fitted on the earlier ones "
                "(AUC {logistic:.3f} for the logistic regression, {boosting:.3f} for gradient "
                "boosting)", logistic=logistic, boosting=boosting)
    else:
        why = _("there is no snapshot to validate on, so the simpler model is used")
    return _("Risk scores come from {chosen}: {why}. Trained on the snapshots of {months} "
             "({train_customers:,} customer-snapshots, {train_rate:.0%} churned); tested on "
             "{test} ({customers:,} active customers, {rate:.0%} churned). {auc} ({level:.0%} "
             "interval {interval}; 0.5 = guessing), Brier score {brier}, top-decile lift "
             "{lift}x.", level=confidence,
             chosen=chosen, why=why,
             months=i18n.join([i18n.month(s, "short") for s in snapshots]),
             train_customers=m["train_customers"], train_rate=m["train_base_rate"],
             test=i18n.month(test), customers=m["customers"], rate=m["base_rate"], auc=auc,
             interval=interval, brier=brier, lift=lift) + _history_caveats(warning)


# below this many churners at the test snapshot, the page says the test rests on few
FEW_CHURNERS = 100


def _history_caveats(warning: ChurnWarning) -> str:
    """What a short history did to the churn model's design, and a test on few churners."""
    caveats = ""
    if warning.window_months < ACTIVE_MONTHS:
        caveats += " " + _("The history is short, so each snapshot looks back over "
                           "{window} months of behaviour instead of {active}.",
                           window=warning.window_months, active=ACTIVE_MONTHS)
    churners = round(warning.metrics["customers"] * warning.metrics["base_rate"])
    if churners < FEW_CHURNERS:
        caveats += " " + _("The test rests on only {churners} churners: its interval, not "
                           "its point value, is the reading.", churners=churners)
    return caveats


def cycle_sentence(by_category: pd.DataFrame, churn_problem: str = "",
                   confidence: float = 0.95) -> str:
    """The retention headline without a churn model: purchases followed by another within one
    cycle, over all categories (Wilson interval at ``confidence``), and why the churn model is
    missing."""
    kept, judged = by_category["successes"].sum(), by_category["trials"].sum()
    low, high = wilson_interval(kept, judged, confidence)
    cycles = by_category["cycle_days"]
    if cycles.nunique() == 1:
        span = _("{days:.0f} days", days=cycles.min())
    else:
        span = _("{shortest:.0f}-{longest:.0f} days by category", shortest=cycles.min(),
                 longest=cycles.max())
    missing = _(" The churn early-warning model was not evaluated: {reason}.",
                reason=churn_problem) if churn_problem else ""
    return _("{share:.1%} of {judged:,.0f} purchases were followed by another purchase in the "
             "same category within one consumption cycle ({span}; {level:.0%} interval "
             "{low:.1%}-{high:.1%}).{missing}", share=kept / judged, judged=judged, span=span,
             level=confidence,
             low=float(low), high=float(high), missing=missing)


def _regions_clause(by_region: pd.DataFrame) -> str:
    """Which region's customers are most and least at risk, among the regions large enough
    (a small group is never a headline's extreme)."""
    small = by_region["small_group"].astype(bool) if "small_group" in by_region else \
        pd.Series(False, index=by_region.index)
    readable = by_region[~small].sort_values("mean_risk", ascending=False)
    if len(readable) < 2:
        return _("too few customers in each region to compare the regions")
    top, bottom = readable.index[0], readable.index[-1]
    high, low = readable.loc[top, "mean_risk"], readable.loc[bottom, "mean_risk"]
    among = _(" among the {count} regions with enough customers",
              count=len(readable)) if small.any() else ""
    if high - low < 0.03:
        return _("the risk is similar in every region ({low:.0%}-{high:.0%}){among}", low=low,
                 high=high, among=among)
    return _("{top} has the highest mean risk ({high:.0%}; {bottom} the lowest, {low:.0%})"
             "{among}", top=i18n.label(top), high=high, bottom=i18n.label(bottom), low=low,
             among=among)


def churn_sentence(warning: ChurnWarning, by_region: pd.DataFrame) -> str:
    """The churn headline for managers (no customer ids); regions with few customers are not
    named as the riskiest or safest."""
    m = warning.metrics
    horizon, snapshot = warning.horizon_months, warning.test_snapshot
    active, expected = len(warning.current_risk), warning.current_risk["risk"].sum()
    regions = _regions_clause(by_region)
    return _("Churn early warning ({horizon}-month horizon): tested out of time on {test}, the "
             "riskiest 10% of customers churned at {top_rate:.0%} against {rate:.0%} overall "
             "({lift:.1f}x lift, AUC {auc:.2f}). Of {active:,} customers active now, about "
             "{expected:,.0f} are expected to buy nothing in the next {horizon} months; "
             "{regions}.", horizon=horizon, test=i18n.month(snapshot),
             top_rate=m["top_decile_rate"], rate=m["base_rate"], lift=m["lift_top_decile"],
             auc=m["auc"], active=active, expected=expected, regions=regions)


def definitions(cycle_quantile: float = 0.75, horizon_months: int = 6,
                window_months: int = ACTIVE_MONTHS) -> str:
    """The page's definitions paragraph, with the run's cycle quantile, churn horizon and
    behaviour window."""
    return _("**Definitions used on this page.** A *purchase* is an order with at least one sale "
             "line. The *consumption cycle* of a category is the time within which "
             "{share:.0%} of repeat purchases happen (the {share:.0%} quantile of the days "
             "between a customer's consecutive purchases in it). A customer is *retained* after "
             "a purchase when they buy again in the category within one cycle; purchases whose "
             "cycle has not ended yet are not judged. At a snapshot date, a customer is "
             "*active* with a purchase in the past {active} months, and has *churned* when they "
             "then buy nothing for the next {horizon} months (the horizon, a parameter).",
             share=cycle_quantile, active=window_months, horizon=horizon_months)


def retention_intro(confidence: float = 0.95) -> str:
    """What the retention chart shows, with the run's interval level."""
    return _("Share of purchases followed by another purchase in the same category within its "
             "cycle, with {level:.0%} confidence intervals; the denominators are in the table. "
             "Hollow markers are groups below the minimum size.", level=confidence)
