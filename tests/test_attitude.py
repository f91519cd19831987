"""Attitude (notebook 04): hand-computed cases, and recovery of the survey truth."""

import numpy as np
import pandas as pd
import pytest

from helpers import attitude, churn, cleaning, i18n, story
from tests.conftest import pick


def test_net_score_and_its_interval_by_hand():
    scores = pd.Series([10, 9, 9, 8, 7, 6, 5, 0, 10, 3, None], dtype="Float64")
    result = attitude.net_score(scores)
    assert result["n"] == 10 and (result["promoters"], result["detractors"]) == (0.4, 0.4)
    assert result["score"] == 0.0
    half = 100 * 1.959964 * np.sqrt((0.4 + 0.4 - 0.0) / 10)
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((-half, half), abs=1e-4)
    weights = pd.Series([3.0] * 3 + [1.0] * 8)  # the first three (promoters) count triple
    weighted = attitude.net_score(scores, weights)
    assert weighted["promoters"] == pytest.approx(10 / 16)
    assert weighted["n_effective"] == pytest.approx(16 ** 2 / (3 * 9 + 7))


def test_recommend_groups_at_the_boundaries():
    groups = attitude.recommend_group(pd.Series([0, 6, 7, 8, 9, 10, None], dtype="Float64"))
    assert groups.tolist()[:6] == ["detractor", "detractor", "passive", "passive", "promoter",
                                   "promoter"]
    assert pd.isna(groups.iloc[6])


def test_reversed_looking_answers_are_flagged_and_read_reversed():
    frame = pd.DataFrame({"recommend_score": pd.array([1, 1, 9, None, 2], dtype="Int64"),
                          "satisfaction": pd.array([5, 2, 5, 5, 4], dtype="Int64")})
    flagged = attitude.flag_reversed_scale(frame)
    assert flagged.tolist() == [True, False, False, False, True]
    assert attitude.corrected_recommend(frame, flagged).tolist()[:3] == [9, 1, 9]


def test_repeat_purchase_and_referral_windows():
    lines = pd.DataFrame({"customer_id": ["A", "A", "B", "C"],
                          "order_date": pd.to_datetime(["2024-01-01", "2024-03-15",
                                                        "2024-01-01", "2024-12-31"]),
                          "is_return": False})
    frame = pd.DataFrame({"customer_id": ["A", "B", "C"],
                          "when": pd.to_datetime(["2024-01-10", "2024-01-10", "2024-10-01"])})
    bought = attitude.repeat_after(frame, lines, 3, "when")
    assert bought.tolist()[:2] == [1, 0] and pd.isna(bought.iloc[2])  # past the data's end
    referrals = pd.DataFrame({"referrer_id": ["A", "B"],
                              "referral_date": pd.to_datetime(["2024-06-01", "2025-06-01"])})
    assert attitude.referred_within(frame, referrals, 6, "when").tolist() == [1, 0, 0]


def test_complaint_rates_use_exact_poisson_intervals():
    tables = {
        "order_lines": pd.DataFrame({"order_id": [f"O{i}" for i in range(200)],
                                     "region": ["East"] * 100 + ["West"] * 100,
                                     "is_return": False}),
        "customers": pd.DataFrame({"customer_id": ["A", "B"], "region": ["East", "West"]}),
        "complaints": pd.DataFrame({"customer_id": ["A", "A"], "category": ["price", "price"]}),
    }
    rates = attitude.complaint_rates(**tables)
    east = rates.loc[("price", "East")]
    assert east["per_100_orders"] == 2.0
    # Garwood exact 95% interval for 2 events: 0.2422 to 7.2247
    assert (east["ci_low"], east["ci_high"]) == pytest.approx((0.2422, 7.2247), abs=1e-4)
    assert ("price", "West") not in rates.index  # no complaints: no row, not a zero rate


def test_headline_without_survey_data_by_hand():
    from helpers import contract

    dates = pd.to_datetime(["2024-01-05", "2024-02-05", "2024-03-05", "2024-12-20"])
    lines = pd.DataFrame({"order_id": ["O1", "O2", "O3", "O4"], "customer_id": ["A", "A", "B", "B"],
                          "order_date": dates, "is_return": False})
    complaints = pd.DataFrame({"customer_id": ["A", "B"], "category": ["price", "delivery"],
                               "complaint_date": pd.to_datetime(["2024-01-10", "2024-03-10"])})
    engagement = pd.DataFrame({"customer_id": ["A"], "event_date": pd.to_datetime(["2024-01-01"]),
                               "kind": ["follow"]})
    customers = pd.DataFrame({"customer_id": ["A", "B"], "region": ["East", "West"]})
    tables = {"order_lines": lines, "customers": customers, "complaints": complaints,
              "engagement": engagement, "survey_responses": contract.empty("survey_responses")}
    given = pick(tables, "order_lines", "customers", "complaints", "engagement")
    sentence = story.attitude.no_survey_sentence(**given, followup_months=6)
    assert sentence.startswith("No survey data was delivered")
    # 2 complaints in 4 orders: 50 per 100 orders, Garwood limits 0.2422 and 7.2247 per 4 orders
    assert "complained 50.00 times per 100 orders (95% interval 6.06-180.62; 2 complaints)" \
        in sentence
    # A's complaint (10 Jan) is followed by A's order of 5 Feb; B's (10 Mar) is not (B buys
    # again in December). Baseline, the same customers' orders followed by another within 6
    # months: A's O1 yes, A's O2 no, B's O3 no; O4's window runs past the data (not judged)
    assert "50% (" in sentence and "of the 2 complaints that can be judged" in sentence
    assert "against 33% after any order of the same customers" in sentence
    assert "50% of buyers follow the brand" in sentence
    with i18n.speaking("zh"):
        chinese = story.attitude.no_survey_sentence(**given, followup_months=6)
    assert chinese.startswith("没有提供问卷数据") and "每 100 单有 50.00 条投诉" in chinese
    assert "50% 的购买客户关注了品牌" in chinese
    without = story.attitude.no_survey_sentence(**{**given, "engagement": None,
                                                   "complaints": complaints.iloc[:0]})
    assert without == ("No survey data was delivered, so the likelihood to recommend, the "
                       "primary measure of attitude, is not measured.")


def test_the_taxonomy_covers_every_category_the_cleaning_assigns():
    table = attitude.taxonomy_table()
    assert set(table["category"]) == {c for c, _ in cleaning.COMPLAINT_RULES} | {"other"}
    assert table["definition"].str.len().min() > 10


# --- truth recovery on the default sample -------------------------------------------------------
@pytest.fixture(scope="module")
def scored(default_run):
    tables = default_run["tables"]
    survey = attitude.invitee_features(**pick(tables, *churn.HISTORY_TABLES))
    flagged = attitude.flag_reversed_scale(survey)
    weights, _ = attitude.response_weights(survey)
    estimates = attitude.recommendation_estimates(survey, flagged, weights)
    truth = default_run["truth"]["survey"].set_index("invitation_id")
    survey = survey.join(truth[["true_recommend", "reversed"]], on="invitation_id")
    return {"survey": survey, "flagged": flagged, "estimates": estimates, "tables": tables}


@pytest.mark.slow
def test_the_net_score_interval_covers_the_respondents_true_score(scored):
    survey, estimates = scored["survey"], scored["estimates"]
    true = attitude.net_score(survey.loc[survey["responded"], "true_recommend"])["score"]
    primary = estimates.loc["respondents, reversed answers corrected"]
    print(f"\nrespondents' true score {true:+.1f}, estimate {primary['score']:+.1f} "
          f"({primary['ci_low']:+.1f} to {primary['ci_high']:+.1f})")
    assert primary["ci_low"] <= true <= primary["ci_high"]


@pytest.mark.slow
def test_weighting_moves_the_score_toward_all_invited_customers(scored):
    survey, estimates = scored["survey"], scored["estimates"]
    everyone = attitude.net_score(survey["true_recommend"])["score"]
    unweighted = estimates.loc["respondents, reversed answers corrected", "score"]
    weighted = estimates.loc["weighted to all invitees", "score"]
    print(f"\nall invitees' true score {everyone:+.1f}: unweighted {unweighted:+.1f}, "
          f"weighted {weighted:+.1f}")
    assert abs(weighted - everyone) < abs(unweighted - everyone) - 10


@pytest.mark.slow
def test_reversed_scale_answers_are_found(scored):
    survey, flagged = scored["survey"], scored["flagged"]
    answered = survey["responded"]
    misleading = answered & survey["reversed"] & (
        (survey["true_recommend"] - survey["recommend_score"]).abs() >= 6)
    precision = (flagged & survey["reversed"]).sum() / flagged.sum()
    recall = (flagged & misleading).sum() / misleading.sum()
    assert misleading.sum() > 50 and precision >= 0.9 and recall >= 0.8, (precision, recall)


@pytest.mark.slow
def test_promoters_refer_more_than_detractors(scored):
    survey = scored["survey"]
    survey = survey.assign(group=attitude.recommend_group(attitude.corrected_recommend(
        survey, scored["flagged"])), referred=attitude.referred_within(
        survey, scored["tables"]["referrals"], 12, "sent_date"))
    rates = attitude.rate_by(survey[survey["responded"]], "referred", "group")
    assert rates.loc["promoter", "ci_low"] > rates.loc["passive", "ci_high"]
    assert rates.loc["passive", "ci_low"] > rates.loc["detractor", "ci_high"]


@pytest.mark.slow
def test_the_attitude_stage_gives_the_same_figures_in_one_call(default_run, scored):
    from helpers import stages

    tables = default_run["tables"]
    result = stages.attitude.evaluate_attitude(**pick(tables, *churn.HISTORY_TABLES))
    pd.testing.assert_frame_equal(result.estimates, scored["estimates"])
    assert result.answer_quality.reversed == int(scored["flagged"].sum())
    assert set(result.outputs()) == {"survey_scored"}
    assert {"reversed_flag", "recommend_used", "group", "weight", "repeat_purchase",
            "referred"} <= set(result.survey.columns)
    # without survey answers the survey parts are None (their sections are left out)
    without = stages.attitude.evaluate_attitude(**{
        **pick(tables, *churn.HISTORY_TABLES),
        "survey_responses": tables["survey_responses"].iloc[:0]})
    assert without.survey is None and without.estimates is None and without.outputs() == {}
    assert without.connection_rates is not None and without.complaint_rates is not None


def test_a_companys_own_engagement_kinds_are_reported_and_absent_ones_are_not():
    """Coupon redemptions as the only engagement: the page reports that kind, never '0% follow
    the brand' or '0% came to an event', and the scorecard's follow and event indicators are
    missing, not 0."""
    from helpers import attitude

    lines = pd.DataFrame({"order_id": ["O1", "O2", "O3", "O4"],
                          "customer_id": ["A", "A", "B", "C"],
                          "order_date": pd.to_datetime(["2024-01-05", "2024-06-05", "2024-03-05",
                                                        "2024-04-01"]), "is_return": False})
    engagement = pd.DataFrame({"customer_id": ["A", "A", "B"],
                               "event_date": pd.to_datetime(["2024-01-01", "2024-02-01",
                                                             "2024-03-01"]),
                               "kind": ["coupon_redeemed"] * 3})
    customers = pd.DataFrame({"customer_id": ["A", "B", "C"], "region": ["East"] * 3})
    connected = attitude.engagement_by_customer(order_lines=lines, engagement=engagement,
                                                customers=customers)
    assert connected["follows"].isna().all() and connected["events"].isna().all()
    assert connected["kind:coupon_redeemed"].to_dict() == {"A": 2, "B": 1, "C": 0}
    rates = attitude.connection_rates(connected)
    assert list(rates.index) == ["coupon_redeemed"]
    assert rates.loc["coupon_redeemed", "rate"] == pytest.approx(2 / 3)
    pace = story.attitude.pace_frame(attitude.pace_by_connection(connected))
    assert list(pace.index) == ["coupon_redeemed: yes", "coupon_redeemed: no"]
    assert pace["n"].tolist() == [2, 1]
    sentence = story.attitude.no_survey_sentence(
        order_lines=lines, customers=customers, complaints=None, engagement=engagement)
    assert "67% of buyers have engagement of the kind 'coupon_redeemed'" in sentence
    assert "follow the brand" not in sentence
