"""Behaviour (notebook 03): hand-computed rates, the BG/NBD and Gamma-Gamma models against the
published CDNOW results, and customer value against the generator's truth."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from helpers import behaviour, story, value_models


def _lines(rows: list[tuple]) -> pd.DataFrame:
    """(order_id, customer_id, date, category, amount, is_return) -> order_lines."""
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "order_date", "category",
                                        "amount", "is_return"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["region"] = "Metro"
    frame["is_estimated"] = False
    return frame


LINES = _lines([
    ("O1", "A", "2024-01-05", "Clocks", 100.0, False),
    ("O1", "A", "2024-01-05", "Clocks", 50.0, False),
    ("O2", "A", "2024-03-01", "Clocks", 30.0, False),
    ("O2", "A", "2024-03-20", "Clocks", -30.0, True),
    ("O3", "B", "2024-02-01", "Clocks", 200.0, False),
    ("O4", "B", "2024-02-01", "Paintings", 400.0, False),
])
CUSTOMERS = pd.DataFrame({"customer_id": ["A", "B"], "region": ["Metro", "Central"]})


def test_purchase_rates_by_hand():
    table = behaviour.purchase_rates(LINES, CUSTOMERS, ["category"], min_size=2)
    clocks = table.loc["Clocks"]
    assert clocks["customers"] == 2 and clocks["repeat_rate"] == 0.5  # A twice, B once
    assert clocks["purchases_per_customer"] == 1.5
    assert clocks["spend_per_customer"] == (150.0 + 200.0) / 2  # A: 150 + 30 - 30
    assert clocks["order_value"] == pytest.approx((150 + 30 + 200) / 3)
    assert clocks["return_rate"] == 1 / 4  # one returned line of four sale lines
    assert table.loc["Paintings", "small_group"] and not clocks["small_group"]
    assert clocks["repeat_rate_low"] < 0.5 < clocks["repeat_rate_high"]
    cross = behaviour.cross_purchase_rate(LINES, CUSTOMERS, ["year"])
    assert cross.loc[2024, ["successes", "trials"]].tolist() == [1.0, 2.0]  # only B
    by_year = behaviour.purchase_rates(LINES, CUSTOMERS, ["year"])
    assert by_year.loc[2024, "months_in_data"] == 3


def test_rfm_scores_and_segments():
    rows = []
    for i in range(10):  # customer i buys i+1 times; the last purchase i*30 days before the end
        for k in range(i + 1):
            day = pd.Timestamp("2024-12-31") - pd.Timedelta(days=i * 30 + k)
            rows.append((f"O{i}-{k}", f"C{i}", str(day.date()), "Clocks", 10.0 * (i + 1), False))
    table = behaviour.rfm(_lines(rows))
    assert table.loc["C0", "recency_days"] == 1 and table.loc["C9", "frequency"] == 10
    assert table["r"].value_counts().tolist() == [2] * 5  # quintiles
    assert table.loc["C0", "r"] == 5 and table.loc["C9", "r"] == 1
    assert table.loc["C9", "f"] == 5 and table.loc["C9", "m"] == 5
    assert table.loc["C9", "rfm_segment"] == "at risk"
    assert table.loc["C0", "rfm_segment"] == "new or occasional"


def test_rfm_summary_in_weeks():
    lines = _lines([("O1", "A", "2024-01-01", "X", 10.0, False),
                    ("O2", "A", "2024-01-08", "X", 20.0, False),
                    ("O3", "A", "2024-01-08", "X", 5.0, False),  # same day: one purchase
                    ("O4", "A", "2024-01-22", "X", 40.0, False),
                    ("O5", "A", "2024-03-01", "X", 99.0, False)])  # after the calibration end
    summary = behaviour.rfm_summary(lines, pd.Timestamp("2024-01-29"))
    assert summary.loc["A"].tolist() == [2, 3.0, 4.0, (25.0 + 40.0) / 2, 2]


# --- the published CDNOW results ----------------------------------------------------------------
@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """The CDNOW 1/10 sample summary (2,357 customers; weeks) as shipped with the lifetimes
    package, read without importing it."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None:
        pytest.fail("lifetimes (a pinned dev dependency) is needed for its CDNOW data")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / (
        "cdnow_customers_summary_with_transactions.csv")
    data = pd.read_csv(path).set_index("ID")
    return data.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow):
    params = value_models.fit_bgnbd(cdnow)
    # Fader, Hardie and Lee (2005), CDNOW: r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4
    assert [round(params[k], 3) for k in ["r", "alpha", "a", "b"]] == [0.243, 4.414, 0.793,
                                                                        2.426]
    assert params["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    first = cdnow.loc[[1]]  # x = 2, t_x = 30.43, T = 38.86
    # Fader and Hardie's BG/NBD Excel note: 1.226 expected purchases in the next 39 weeks
    assert value_models.bgnbd_expected_purchases(params, first, 39).iloc[0] == pytest.approx(
        1.226, abs=5e-4)
    assert 0 < value_models.bgnbd_p_alive(params, first).iloc[0] < 1
    assert value_models.bgnbd_p_alive(params, cdnow[cdnow["frequency"] == 0]).eq(1).all()


def test_gamma_gamma_reproduces_fader_hardie_2013(cdnow):
    params = value_models.fit_gamma_gamma(cdnow)
    # Fader and Hardie (2013), CDNOW repeat buyers: p 6.25, q 3.74, gamma 15.44
    assert [params[k] for k in ["p", "q", "gamma"]] == pytest.approx([6.25, 3.74, 15.44],
                                                                     abs=0.01)
    spend = value_models.gamma_gamma_expected_spend(params, cdnow.loc[[1, 2, 3]])
    # lifetimes' documentation of the same fit: 24.6586, 18.9115, 35.1710
    assert spend.tolist() == pytest.approx([24.6586, 18.9115, 35.1710], abs=1e-3)


# --- truth recovery on the default sample -------------------------------------------------------
@pytest.fixture(scope="module")
def valued(default_run):
    lines = default_run["tables"]["order_lines"]
    values, params = behaviour.customer_value(lines)
    return {"values": values, "params": params, "lines": lines,
            "truth": default_run["truth"]["customers"].set_index("customer_id")}


@pytest.mark.slow
def test_customer_value_ranks_the_truly_loyal_customers(valued):
    from scipy.stats import spearmanr

    loyalty = valued["truth"]["loyalty_z"].reindex(valued["values"].index)
    rho = spearmanr(valued["values"]["expected_value"], loyalty).statistic
    assert rho >= 0.5, rho
    tiers = behaviour.value_tiers(valued["values"])
    assert tiers.index[0] == "top 5%" and tiers["share_of_revenue"].iloc[0] > 0.1
    assert tiers["customers"].sum() == len(valued["values"])


@pytest.mark.slow
def test_purchase_model_predicts_a_holdout_year(valued):
    from scipy.stats import spearmanr

    lines = valued["lines"]
    end = lines["order_date"].max() + pd.Timedelta(days=1)
    calibration_end = end - pd.DateOffset(months=12)
    summary = behaviour.rfm_summary(lines, calibration_end)
    params = value_models.fit_bgnbd(summary)
    predicted = value_models.bgnbd_expected_purchases(params, summary,
                                                   (end - calibration_end).days / 7)
    later = lines[(lines["order_date"] >= calibration_end) & ~lines["is_return"]]
    actual = (later.groupby(["customer_id", later["order_date"].dt.normalize()]).size()
              .groupby("customer_id").size().reindex(summary.index, fill_value=0))
    assert predicted.sum() == pytest.approx(actual.sum(), rel=0.10)
    assert spearmanr(predicted, actual).statistic >= 0.55


@pytest.mark.slow
def test_behaviour_segments_separate_loyalty(valued):
    features = behaviour.behaviour_features(valued["lines"])
    silhouettes, k = behaviour.choose_segments(features, range(2, 6))
    segments, agreement = behaviour.segment_customers(features, k)
    assert silhouettes["silhouette"].max() > 0.2 and -1 <= agreement <= 1
    loyalty = valued["truth"]["loyalty_z"].reindex(segments.index)
    by_segment = loyalty.groupby(segments).mean()
    assert by_segment.idxmax() == segments.max()  # the highest-pace segment is the most loyal
    assert by_segment.max() - by_segment.min() > 0.5


def test_segments_sentence_warns_when_methods_disagree():
    silhouettes = pd.DataFrame({"silhouette": [0.29, 0.25]}, index=[2, 3])
    weak = story.behaviour.segments_sentence(silhouettes, 2, 0.26)
    assert "weak structure" in weak and "not as natural groups" in weak
    assert "largely agree" in story.behaviour.segments_sentence(silhouettes, 2, 0.67)


def test_value_model_sentence_warns_when_nobody_drops_out():
    spend = {"p": 2.0, "q": 3.0, "gamma": 400.0}
    usual = {"purchases": {"r": 0.8, "alpha": 10.0, "a": 0.8, "b": 2.4}, "spend": spend}
    assert "upper bounds" not in story.behaviour.value_model_sentence(usual)
    stuck = {"purchases": {"r": 0.8, "alpha": 10.0, "a": 0.001, "b": 2891.0}, "spend": spend}
    text = story.behaviour.value_model_sentence(stuck)
    assert "a / (a + b) = 0.00% per purchase" in text and "upper bounds" in text


def test_the_headline_names_no_small_category_as_an_extreme():
    """A category with two buyers both buying again (100%) is flagged small and not named; the
    extremes come from the categories with enough buyers, with their intervals."""
    by_category = pd.DataFrame({
        "repeat_rate": [0.30, 0.55, 1.0], "repeat_rate_low": [0.25, 0.50, 0.34],
        "repeat_rate_high": [0.35, 0.60, 1.0], "small_group": [False, False, True]},
        index=pd.Index(["Clocks", "Paintings", "Coins & Stamps"], name="category"))
    tiers = pd.DataFrame({"share_of_customers": [0.05], "share_of_revenue": [0.4]})
    values = pd.DataFrame({"expected_value": [10.0, 20.0]})
    text = story.behaviour.summary_sentence(values, tiers, by_category, 52.0)
    assert ("Repeat buying ranges from 30% of buyers in Clocks (25%-35%) to 55% in Paintings "
            "(50%-60%) (1 category with too few buyers to compare is left out).") in text
    assert "Coins" not in text


def test_a_zero_value_purchase_counts_for_frequency_but_not_for_spend():
    lines = _lines([("O1", "A", "2024-01-01", "X", 10.0, False),
                    ("O2", "A", "2024-01-08", "X", 0.0, False),    # a free item: a purchase
                    ("O2", "A", "2024-01-15", "X", -10.0, True),   # a return only: none
                    ("O3", "A", "2024-01-22", "X", 40.0, False)])
    summary = behaviour.rfm_summary(lines, pd.Timestamp("2024-01-29"))
    assert summary.loc["A"].tolist() == [2, 3.0, 4.0, 40.0, 1]


def test_the_cdnow_summary_is_recovered_from_its_raw_transactions():
    """lifetimes ships the CDNOW 1/10 sample's raw transactions and the published calibration
    summary (Fader, Hardie and Lee 2005: 39 weeks to 1997-09-30); 8 purchases have a value of 0
    and count as purchases there. Frequency and recency are recovered exactly, the mean spend to
    the cent; the published T ends on 1997-09-30 itself, ours the day after (1/7 week)."""
    folder = Path(importlib.util.find_spec("lifetimes").submodule_search_locations[0]) / (
        "datasets")
    raw = pd.read_csv(folder / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "quantity", "amount"])
    assert (raw["amount"] == 0).sum() == 8
    lines = pd.DataFrame({"customer_id": raw["customer_id"], "amount": raw["amount"],
                          "order_date": pd.to_datetime(raw["date"].astype(str)),
                          "is_return": False})
    published = pd.read_csv(folder / "cdnow_customers_summary_with_transactions.csv").set_index(
        "ID")
    ours = behaviour.rfm_summary(lines, pd.Timestamp("1997-10-01")).reindex(published.index)
    assert (ours["frequency"] == published["x"]).all()
    assert (ours["recency"] - published["t_x"]).abs().max() < 0.005
    assert (ours["monetary_value"] - published["zbar"]).abs().max() <= 0.01 + 1e-9
    assert ((ours["T"] - published["T"]).abs() - 1 / 7).abs().max() < 0.005
