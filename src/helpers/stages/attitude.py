"""Stage 04 as one call: every figure of the attitude page from the contract tables.

``evaluate_attitude`` runs what the delivered data support: the survey parts when survey
answers were delivered, the engagement parts with engagement events, the complaint parts with
complaints; a part without its data is None in the result (and ``helpers.capabilities`` leaves
its section out of the page).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from helpers import attitude, drivers
from helpers.activity import SaleOrders

# the order_lines columns this stage reads (its notebook reads only these)
ORDER_LINE_COLUMNS = [
    "customer_id", "order_id", "order_date", "category", "region", "amount", "is_return"]


@dataclass
class AnswerQuality:
    """Answers that look like a reversed scale, and answers outside their scale."""

    answers: int
    reversed: int
    out_of_scale: int

    @property
    def reversed_share(self) -> float:
        return self.reversed / self.answers if self.answers else float("nan")


@dataclass
class ComplaintMapping:
    """How many complaints the keyword taxonomy could not map."""

    complaints: int
    unmapped: int

    @property
    def unmapped_share(self) -> float:
        return self.unmapped / self.complaints if self.complaints else float("nan")


@dataclass
class DriverAnalysis:
    """The questionnaire's driver model: the answers as read, the fit, the group comparisons
    (None where fewer than two groups are large enough); ``problem`` says why no model was
    fitted (then ``model`` is None)."""

    questionnaire: drivers.Questionnaire
    answers: drivers.AnswerMatrix
    model: drivers.DriverModel | None
    by_region: drivers.GroupComparison | None
    by_tier: drivers.GroupComparison | None
    problem: str | None = None

    def table(self) -> pd.DataFrame:
        """``survey_drivers``: one row per lever (docs/tables.md)."""
        frame = self.model.drivers.reset_index()
        return frame.assign(target=self.questionnaire.target,
                            respondents=self.model.respondents,
                            samples=self.model.samples, confidence=self.model.confidence)


@dataclass
class AttitudeResult:
    """Everything the attitude page shows; None where the data did not support it."""

    survey: pd.DataFrame | None  # every invitation, scored (written as survey_scored)
    flagged: pd.Series | None  # reversed-looking answers
    estimates: pd.DataFrame | None  # net recommendation score three ways
    referral_rates: pd.DataFrame | None  # referred someone, by recommendation group
    repeat_by_satisfaction: pd.DataFrame | None
    response_by_region: pd.DataFrame | None
    non_response: pd.DataFrame | None  # respondents vs non-respondents
    answer_quality: AnswerQuality | None
    connection_rates: pd.DataFrame | None  # follow us, came to an event
    pace_by_connection: pd.DataFrame | None  # purchases per year of (not) connected customers
    complaint_mapping: ComplaintMapping | None
    complaint_rates: pd.DataFrame | None  # per 100 orders, category x region
    repurchase_after_complaint: pd.DataFrame | None
    drivers: DriverAnalysis | None = None  # the questionnaire's driver model

    @property
    def answered(self) -> pd.DataFrame | None:
        """The invitations that were answered."""
        return None if self.survey is None else self.survey[self.survey["responded"]]

    def outputs(self) -> dict[str, pd.DataFrame]:
        """The tables the stage writes to the clean folder."""
        out = {} if self.survey is None else {"survey_scored": self.survey}
        if self.drivers is not None and self.drivers.model is not None:
            out["survey_drivers"] = self.drivers.table()
        return out


def _score_survey(survey: pd.DataFrame, order_lines: pd.DataFrame | SaleOrders,
                  referrals: pd.DataFrame, *,
                  followup_months: int, referral_window_months: int, max_recommend: int,
                  min_satisfaction: int, confidence: float, min_group_size: int) -> dict:
    flagged = attitude.flag_reversed_scale(survey, max_recommend, min_satisfaction)
    weights, _fit = attitude.response_weights(survey)
    estimates = attitude.recommendation_estimates(survey, flagged, weights, confidence)
    survey = survey.assign(
        reversed_flag=flagged, recommend_used=attitude.corrected_recommend(survey, flagged))
    survey = survey.assign(
        group=attitude.recommend_group(survey["recommend_used"]), weight=weights,
        repeat_purchase=attitude.repeat_after(survey, order_lines, followup_months,
                                              "response_date"),
        referred=attitude.referred_within(survey, referrals, referral_window_months,
                                          "sent_date"))
    answered = survey[survey["responded"]]
    rates = {"confidence": confidence, "min_size": min_group_size}
    return {
        "survey": survey, "flagged": flagged, "estimates": estimates,
        "referral_rates": attitude.rate_by(answered, "referred", "group", **rates).reindex(
            ["promoter", "passive", "detractor"]),
        "repeat_by_satisfaction": attitude.rate_by(answered, "repeat_purchase",
                                                   "satisfaction", **rates),
        "response_by_region": attitude.rate_by(survey.assign(
            answered=survey["responded"].astype(int)), "answered", "region", **rates),
        "non_response": attitude.non_response_bias(survey, confidence=confidence),
        "answer_quality": AnswerQuality(
            answers=len(answered), reversed=int(flagged.sum()),
            out_of_scale=int((answered["quality_flag"] == "out_of_range").sum())),
    }


def analyse_drivers(*, survey_answers: pd.DataFrame, survey_scored: pd.DataFrame,
                    customer_value: pd.DataFrame | None, questionnaire: drivers.Questionnaire,
                    misread_gap: float = 3.0, bootstrap_samples: int = 300,
                    min_group: int = 150, permutations: int = 99,
                    confidence: float = 0.95) -> DriverAnalysis:
    """The driver model of the questionnaire, by region and by value tier (03's
    ``customer_value``, when 03 ran)."""
    if customer_value is not None and "value_tier" in customer_value:
        survey_scored = survey_scored.merge(
            customer_value[["customer_id", "value_tier"]], on="customer_id", how="left")
    answers = drivers.answer_matrix(survey_answers, survey_scored, questionnaire,
                                    misread_gap=misread_gap)
    named = set(questionnaire.model.items) & set(survey_answers["item"])
    if not named:
        shown = ", ".join(answers.unknown_items[:8]) + (" ..." if len(
            answers.unknown_items) > 8 else "")
        return DriverAnalysis(questionnaire, answers, None, None, None, problem=(
            f"none of the delivered items ({shown}) is named in the block definition "
            "(04_attitude.driver_blocks; empty means the ECSI items IMAG1-5, CUEX1-3, ...)"))
    try:
        model = drivers.driver_model(answers, questionnaire, samples=bootstrap_samples,
                                     confidence=confidence)
    except ValueError as problem:
        return DriverAnalysis(questionnaire, answers, None, None, None, problem=str(problem))
    compare = {"qn": questionnaire, "min_group": min_group, "permutations": permutations}
    return DriverAnalysis(questionnaire, answers, model,
                          drivers.group_differences(answers, by="region", **compare),
                          drivers.group_differences(answers, by="value_tier", **compare))


def evaluate_attitude(*, order_lines: pd.DataFrame, customers: pd.DataFrame,
                      complaints: pd.DataFrame, survey_responses: pd.DataFrame,
                      engagement: pd.DataFrame, referrals: pd.DataFrame,
                      survey_answers: pd.DataFrame | None = None,
                      customer_value: pd.DataFrame | None = None,
                      questionnaire: drivers.Questionnaire | None = None,
                      followup_months: int = 6, referral_window_months: int = 12,
                      reversed_max_recommend: int = 2, reversed_min_satisfaction: int = 4,
                      misread_gap: float = 3.0, bootstrap_samples: int = 300,
                      driver_min_group: int = 150, confidence: float = 0.95,
                      min_group_size: int = 30) -> AttitudeResult:
    """The attitude page's figures from the contract tables (empty ones where none were
    delivered); the parameters are notebook 04's. The driver model runs when questionnaire
    answers (``survey_answers``) and a ``questionnaire`` are given."""
    parts: dict = dict.fromkeys(AttitudeResult.__dataclass_fields__)
    sales = SaleOrders.of(order_lines)  # the sale lines as arrays, once for every use below
    if len(survey_responses):
        invitees = attitude.invitee_features(
            survey_responses=survey_responses, order_lines=sales, customers=customers,
            complaints=complaints, engagement=engagement, referrals=referrals)
        parts.update(_score_survey(
            invitees, sales, referrals, followup_months=followup_months,
            referral_window_months=referral_window_months, max_recommend=reversed_max_recommend,
            min_satisfaction=reversed_min_satisfaction, confidence=confidence,
            min_group_size=min_group_size))
    if (parts["survey"] is not None and questionnaire is not None
            and survey_answers is not None and len(survey_answers)):
        parts["drivers"] = analyse_drivers(
            survey_answers=survey_answers, survey_scored=parts["survey"],
            customer_value=customer_value, questionnaire=questionnaire,
            misread_gap=misread_gap, bootstrap_samples=bootstrap_samples,
            min_group=driver_min_group, confidence=confidence)
    if len(engagement):
        connected = attitude.engagement_by_customer(order_lines=sales,
                                                    engagement=engagement, customers=customers)
        parts["connection_rates"] = attitude.connection_rates(connected, confidence)
        parts["pace_by_connection"] = attitude.pace_by_connection(connected, confidence)
    if len(complaints):
        parts["complaint_mapping"] = ComplaintMapping(
            complaints=len(complaints), unmapped=int((complaints["category"] == "other").sum()))
        parts["complaint_rates"] = attitude.complaint_rates(
            complaints=complaints, order_lines=order_lines, customers=customers, by="region",
            confidence=confidence)["per_100_orders"].unstack("region")
        parts["repurchase_after_complaint"] = attitude.repurchase_after_complaint(
            complaints=complaints, order_lines=sales, months=followup_months,
            confidence=confidence, min_size=min_group_size)
    return AttitudeResult(**parts)
