"""Recommendation, complaints and engagement, in words (notebook 04)."""

from __future__ import annotations

import pandas as pd

from helpers import i18n
from helpers.attitude import (
    COMPLAINT_BASELINE,
    connection_rates,
    engagement_by_customer,
    repurchase_after_complaint,
)
from helpers.i18n import _
from helpers.stages.attitude import AnswerQuality, AttitudeResult, ComplaintMapping
from helpers.stats import poisson_rate_interval, rate_table
from helpers.words import N_


def summary_sentence(frame: pd.DataFrame, flagged: pd.Series, estimates: pd.DataFrame,
                     confidence: float = 0.95) -> str:
    """The attitude headline: response rate, the net score with its interval (``confidence``:
    the level ``estimates`` were computed at), the weighting's effect and the flagged
    answers."""
    answered = int(frame["responded"].sum())
    primary = estimates.loc["respondents, reversed answers corrected"]
    weighted = estimates.loc["weighted to all invitees"]
    return _("{answered:,} of {invited:,} invited customers answered the survey ({rate:.0%}); "
             "their net recommendation score is {score:+.0f} ({level:.0%} interval {low:+.0f} to "
             "{high:+.0f}), but loyal customers answer more often: weighted to all invited "
             "customers it is {weighted:+.0f} ({weighted_low:+.0f} to {weighted_high:+.0f}), and "
             "probably lower still. {reversed:,} answers looked like a reversed scale and were "
             "read reversed.", answered=answered, invited=len(frame),
             rate=answered / len(frame), score=primary["score"], level=confidence,
             low=primary["ci_low"],
             high=primary["ci_high"], weighted=weighted["score"],
             weighted_low=weighted["ci_low"], weighted_high=weighted["ci_high"],
             reversed=int(flagged.sum()))


def no_survey_sentence(*, order_lines: pd.DataFrame, customers: pd.DataFrame,
                       complaints: pd.DataFrame | None, engagement: pd.DataFrame | None,
                       followup_months: int = 6, confidence: float = 0.95) -> str:
    """The attitude headline when no survey data was delivered: that the likelihood to
    recommend is not measured, then what the delivered data show: complaints per 100 orders
    (exact interval), purchases again within ``followup_months`` after a complaint against
    the same customers after any order, and the share of buyers who follow the brand
    (``complaints`` and ``engagement``: None or empty when not delivered)."""
    after = follow = None
    if complaints is not None and len(complaints):
        after = repurchase_after_complaint(complaints=complaints, order_lines=order_lines,
                                           months=followup_months, confidence=confidence)
    if engagement is not None and len(engagement):
        follow = connection_rates(engagement_by_customer(
            order_lines=order_lines, engagement=engagement, customers=customers), confidence)
    return _no_survey_words(order_lines, complaints, after, follow, followup_months,
                            confidence)


def _no_survey_words(order_lines: pd.DataFrame, complaints: pd.DataFrame | None,
                     after: pd.DataFrame | None, follow: pd.DataFrame | None,
                     followup_months: int, confidence: float) -> str:
    """``no_survey_sentence`` from the figures already computed: ``after`` from
    ``attitude.repurchase_after_complaint``, ``follow`` from ``attitude.connection_rates``
    (None where the data were not delivered)."""
    parts = [_("No survey data was delivered, so the likelihood to recommend, the primary "
               "measure of attitude, is not measured.")]
    if after is not None:
        orders = order_lines.loc[~order_lines["is_return"], "order_id"].nunique()
        count = len(complaints)
        low, high = poisson_rate_interval(count, orders, confidence)
        rate, level = 100 * count / orders, f"{confidence:.0%}"
        baseline = after.loc[COMPLAINT_BASELINE]
        by_category = after.drop(index=COMPLAINT_BASELINE)
        overall = rate_table(pd.Series({"all": by_category["successes"].sum()}),
                             pd.Series({"all": by_category["trials"].sum()}),
                             confidence=confidence).iloc[0]
        judged, again = overall["trials"], overall["rate"]
        again_ci = f"{overall['ci_low']:.0%}-{overall['ci_high']:.0%}"
        parts.append(_(
            "Customers complained {rate:.2f} times per 100 orders ({level} interval "
            "{low:.2f}-{high:.2f}; {count:,} complaints); {again:.0%} ({again_ci}) of the "
            "{judged:,.0f} complaints that can be judged were followed by another purchase "
            "within {months} months, against {baseline:.0%} after any order of the same "
            "customers.", rate=rate, level=level, low=100 * float(low), high=100 * float(high),
            count=count, again=again, again_ci=again_ci, judged=judged, months=followup_months,
            baseline=baseline["rate"]))
    for kind, row in (follow.iterrows() if follow is not None else []):
        if "follow" in kind:
            parts.append(_("{rate:.0%} of buyers follow the brand ({low:.0%}-{high:.0%}).",
                           rate=row["rate"], low=row["ci_low"], high=row["ci_high"]))
        else:
            parts.append(_("{rate:.0%} of buyers have engagement of the kind '{kind}' "
                           "({low:.0%}-{high:.0%}).", rate=row["rate"], kind=kind_label(kind),
                           low=row["ci_low"], high=row["ci_high"]))
    return i18n.sentences(parts)


def headline(result: AttitudeResult, *, order_lines: pd.DataFrame, complaints: pd.DataFrame,
             followup_months: int = 6, confidence: float = 0.95) -> str:
    """The attitude page's headline: the survey's, or without survey data what the delivered
    complaints and engagement show (from the figures the stage already computed)."""
    if result.survey is not None:
        return summary_sentence(result.survey, result.flagged, result.estimates, confidence)
    return _no_survey_words(order_lines, complaints, result.repurchase_after_complaint,
                            result.connection_rates, followup_months, confidence)


def answer_quality_sentence(quality: AnswerQuality | None, max_recommend: int,
                            min_satisfaction: int) -> str:
    """How many answers looked reversed or fell outside their scale ('' without a survey)."""
    if quality is None:
        return ""
    return _("{flagged:,} of {answers:,} answers ({share:.1%}) gave a recommendation of "
             "{max_recommend} or less with satisfaction {min_satisfaction} or more; "
             "{out_of_scale:,} answers were outside their scale (kept as responses without a "
             "score).", flagged=quality.reversed, answers=quality.answers,
             share=quality.reversed_share, max_recommend=max_recommend,
             min_satisfaction=min_satisfaction, out_of_scale=quality.out_of_scale)


def complaint_mapping_sentence(mapping: ComplaintMapping | None) -> str:
    """How many complaints the taxonomy could not map ('' without complaint data)."""
    if mapping is None:
        return ""
    return _("{complaints:,} complaints; {unmapped:,} ({share:.1%}) could not be mapped to the "
             "taxonomy.", complaints=mapping.complaints, unmapped=mapping.unmapped,
             share=mapping.unmapped_share)


def definitions(confidence: float = 0.95) -> str:
    """The page's definitions paragraph, with the run's interval level."""
    return _("**Definitions.** The likelihood to recommend (0-10) is the primary measure: "
             "*promoters* answer 9-10, *passives* 7-8, *detractors* 0-6, and the *net "
             "recommendation score* is the share of promoters minus the share of detractors, in "
             "points (-100 to +100). Actual referrals corroborate it. Every rate is shown with "
             "its denominator and a {level:.0%} interval.", level=confidence)


def referrals_intro(referral_window_months: int = 12) -> str:
    """What the referral chart shows, with the run's referral window."""
    return _("Share of respondents in each group who actually referred a new customer within "
             "{months} months of the survey. If the score means something, promoters refer far "
             "more often than detractors.", months=referral_window_months)


KIND_WORDS = (N_("clicked a newsletter"),)  # a built-in kind's words ('follow us' etc. in labels)


def kind_label(kind: str) -> str:
    """An engagement kind on the page: the built-in kinds in words, a company's own kinds as
    delivered."""
    if "follow" in kind:
        return i18n.label("follow us")
    if "event" in kind:
        return i18n.label("came to an event")
    if "newsletter" in kind:
        return i18n.label("clicked a newsletter")
    return kind


def connection_frame(rates: pd.DataFrame | None) -> pd.DataFrame | None:
    """``attitude.connection_rates`` with each kind named for the page."""
    if rates is None:
        return None
    return rates.set_axis([kind_label(k) for k in rates.index]).rename_axis(None)


def pace_frame(pace: pd.DataFrame | None) -> pd.DataFrame | None:
    """``attitude.pace_by_connection`` with one readable label per row: customers with and
    without each kind."""
    if pace is None:
        return None
    words = {("follow", True): _("follows"), ("follow", False): _("does not follow"),
             ("event", True): _("came to an event"),
             ("event", False): _("never came to an event")}
    labels = []
    for kind, has in pace.index:
        known = next((w for (part, flag), w in words.items() if part in kind and flag == has),
                     None)
        labels.append(known or (_("{kind}: yes", kind=kind_label(kind)) if has else
                                _("{kind}: no", kind=kind_label(kind))))
    return pace.set_axis(labels)
