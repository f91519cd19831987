"""Loyalty scorecard (notebook 08): index, weights, tiers, alerts."""

import numpy as np
import pandas as pd
import pytest

from helpers import churn, cleaning, history, monitoring, scorecard, sources
from helpers.sources import reading
from tests.conftest import pick


def _scores(seed: int = 0, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    indicators = pd.DataFrame({name: rng.gamma(2.0, 1.0, n) for name in scorecard.INDICATORS},
                              index=[f"C{i}" for i in range(n)])
    indicators.loc[indicators.index[:200], scorecard.SURVEY_INDICATORS] = np.nan
    return indicators


def test_weights_sum_to_one_and_bad_weights_are_errors():
    weights = scorecard.normalised_weights({"behaviour": 2, "attitude": 1, "retention": 1})
    assert weights.sum() == pytest.approx(1.0) and weights["price"] == 0
    with pytest.raises(ValueError, match="unknown dimension"):
        scorecard.normalised_weights({"loyalty": 1})
    with pytest.raises(ValueError, match="non-negative"):
        scorecard.normalised_weights({"behaviour": -1, "price": 2})


def test_index_is_monotone_in_every_indicator():
    indicators = _scores()
    weights = scorecard.normalised_weights({d: 1 for d in scorecard.DIMENSIONS})
    base = scorecard.loyalty_index(scorecard.dimension_scores(
        scorecard.scale_indicators(indicators)), weights)
    for name in scorecard.INDICATORS:
        for customer in ["C0", "C250"]:  # without and with a survey answer
            if pd.isna(indicators.loc[customer, name]):
                continue
            raised = indicators.copy()
            raised.loc[customer, name] = indicators[name].max() + 1
            index = scorecard.loyalty_index(scorecard.dimension_scores(
                scorecard.scale_indicators(raised)), weights)
            assert index[customer] >= base[customer], (name, customer)


def test_missing_dimensions_renormalise_the_weights():
    scores = pd.DataFrame({"behaviour": [0.8, 0.8], "attitude": [np.nan, 0.2],
                           "retention": [0.5, 0.5], "price": [0.5, 0.5]}, index=["A", "B"])
    weights = scorecard.normalised_weights({"behaviour": 0.4, "attitude": 0.2,
                                            "retention": 0.2, "price": 0.2})
    index = scorecard.loyalty_index(scores, weights)
    assert index["A"] == pytest.approx(100 * (0.4 * 0.8 + 0.2 * 0.5 + 0.2 * 0.5) / 0.8)
    assert index["B"] == pytest.approx(100 * (0.32 + 0.04 + 0.1 + 0.1))


def test_entropy_gives_no_weight_to_a_dimension_that_does_not_vary():
    rng = np.random.default_rng(1)
    scores = pd.DataFrame({"behaviour": rng.uniform(0.1, 1, 100), "attitude": 0.5,
                           "retention": rng.uniform(0.4, 0.6, 100),
                           "price": rng.uniform(0.1, 1, 100)})
    weights = scorecard.entropy_weights(scores)
    assert weights.sum() == pytest.approx(1.0) and weights["attitude"] == pytest.approx(0.0)
    assert weights["behaviour"] > weights["retention"]


def test_weight_sensitivity_reports_perfect_agreement_for_equal_dimensions():
    column = np.linspace(0, 1, 50)
    scores = pd.DataFrame({d: column for d in scorecard.DIMENSIONS})
    weights = scorecard.normalised_weights({d: 1 for d in scorecard.DIMENSIONS})
    draws, dropped = scorecard.weight_sensitivity(scores, weights, draws=20)
    assert draws["spearman"].min() == pytest.approx(1.0)
    assert (dropped["top_decile_kept"] == 1.0).all()


def test_tier_thresholds_are_honoured():
    values = pd.Series([0, 39.9, 40, 79.9, 80, 100])
    tiers = scorecard.assign_tiers(values, {"regular": 0, "silver": 40, "gold": 80})
    assert tiers.tolist() == ["regular", "regular", "silver", "silver", "gold", "gold"]
    lines = pd.DataFrame({
        "customer_id": ["A", "A", "B", "B", "B", "C", "D"],
        "order_id": ["1", "2", "3", "4", "5", "6", "7"],
        "order_date": pd.to_datetime(["2024-03-01", "2024-05-01", "2024-02-01", "2024-03-01",
                                      "2024-04-01", "2024-06-01", "2022-01-01"]),
        "amount": [600.0, 600.0, 100.0, 100.0, 100.0, 5000.0, 50.0], "is_return": False})
    thresholds = {"regular": {"spend": 0, "purchases": 1},
                  "silver": {"spend": 1000, "purchases": 2},
                  "gold": {"spend": 1000, "purchases": 3}}
    tiers = scorecard.activity_tiers(lines, pd.Timestamp("2024-07-01"), thresholds)
    # A: 1200 in 2 purchases (silver); B: 3 purchases but 300 (regular); C: 5000 in one
    # purchase (regular: spend alone is not enough); D: nothing in the last 12 months
    assert tiers.to_dict() == {"A": "silver", "B": "regular", "C": "regular", "D": "inactive"}
    matrix = scorecard.migration_matrix(pd.Series(["regular", "regular", "silver"]),
                                        pd.Series(["regular", "silver", "silver"]),
                                        ["regular", "silver"])
    assert matrix.loc["regular", ["customers", "regular", "silver"]].tolist() == [2, 0.5, 0.5]


def _monthly(values: np.ndarray, region: str = "East") -> pd.DataFrame:
    months = pd.date_range("2022-01-01", periods=len(values), freq="MS")
    return pd.DataFrame({"indicator": "orders", "region": region, "month": months,
                         "value": values, "denominator": np.nan, "kind": "count",
                         "estimated": False})


def test_alerts_find_a_drop_against_the_seasonal_baseline_and_nothing_without_it():
    rng = np.random.default_rng(5)
    months = np.arange(42)
    clean = 1000 * (1 + 0.3 * np.cos(2 * np.pi * months / 12)) * np.exp(
        rng.normal(0, 0.03, 42))
    assert monitoring.detect_alerts(_monthly(clean)).empty
    dropped = clean.copy()
    dropped[36:] *= 0.7
    alerts = monitoring.detect_alerts(_monthly(dropped))
    first = alerts.iloc[0]
    assert first["month"] == pd.Timestamp("2025-01-01") and first["change"] < -0.2
    assert (alerts["since"] == pd.Timestamp("2025-01-01")).all()
    limits = monitoring.detect_alerts(_monthly(clean), thresholds={"orders": {"min": 800}})
    assert set(limits["kind"]) == {"threshold (min)"}
    assert (limits["value"] < 800).all() and len(limits) == (clean < 800).sum()


@pytest.fixture(scope="module")
def monitored(default_run, tmp_path_factory):
    """Monitoring series of the default sample as generated (control) and with an injected
    drop of 40% in Southeast from February 2025."""
    from helpers.sample import write_sample

    folder = tmp_path_factory.mktemp("drop")
    write_sample(folder / "raw", folder / "truth", size="default",
                 injected_drop=("Southeast", "2025-02", 0.6))
    mapping = sources.load_mapping(sources.BUILTIN_MAPPING)
    cleaned = cleaning.clean(mapping, reading.read_all(mapping, folder / "raw"))
    repaired = history.repair_history(cleaned.tables["order_lines_unrepaired"],
                                      cleaned.tables["customer_id_map"])
    dropped = {**cleaned.tables, "order_lines": repaired.order_lines,
               "monthly_sales": repaired.monthly_sales}
    needed = ("order_lines", "complaints", "customers", "monthly_sales")
    return {"control": monitoring.monitoring_series(**pick(default_run["tables"], *needed)),
            "drop": monitoring.monitoring_series(**pick(dropped, *needed))}


@pytest.mark.slow
def test_an_injected_drop_is_detected_and_the_control_run_stays_quiet(monitored):
    control = monitoring.detect_alerts(monitored["control"])
    months = monitored["control"].groupby(["indicator", "region"]).size().sum()
    print(f"\nfalse alarms in the control run: {len(control)} in {months:,} series-months")
    assert len(control) == 0  # at z = 3.5 one month (z = 3.7) was flagged: see the note
    alerts = monitoring.detect_alerts(monitored["drop"])
    hits = alerts[(alerts["region"] == "Southeast") & (alerts["indicator"].isin(
        ["orders", "buyers", "revenue"]))]
    assert set(hits["indicator"]) == {"orders", "buyers", "revenue"}, alerts
    assert hits["month"].min() == pd.Timestamp("2025-02-01")
    assert (hits["change"] < -0.3).all() and (hits["since"] == pd.Timestamp("2025-02-01")).all()
    elsewhere = alerts[~alerts["region"].isin(["Southeast", "all"])]
    assert len(elsewhere) <= 2


@pytest.mark.slow
def test_the_index_ranks_customers_by_their_true_loyalty(default_run):
    from scipy.stats import spearmanr

    from helpers import attitude, behaviour, price

    tables = default_run["tables"]
    lines = tables["order_lines"]
    values, _ = behaviour.customer_value(lines)
    segments = behaviour.rfm(lines).join(behaviour.behaviour_features(lines).drop(
        columns="recency_days"))
    history = pick(tables, *churn.HISTORY_TABLES)
    survey = attitude.invitee_features(**history)
    survey["recommend_used"] = attitude.corrected_recommend(
        survey, attitude.flag_reversed_scale(survey))
    warning = churn.churn_early_warning(**history)
    indicators = scorecard.customer_indicators(
        values.reset_index(), segments.reset_index(), survey,
        warning.current_risk.reset_index(),
        price.customer_price_sensitivity(lines, tables["market_index"]).reset_index(),
        attitude.engagement_by_customer(**pick(tables, "order_lines", "engagement", "customers")))
    scores = scorecard.dimension_scores(scorecard.scale_indicators(indicators))
    index = scorecard.loyalty_index(scores, scorecard.normalised_weights(
        {"behaviour": 0.35, "attitude": 0.25, "retention": 0.25, "price": 0.15}))
    loyalty = default_run["truth"]["customers"].set_index("customer_id")["loyalty_z"]
    rho = spearmanr(index, loyalty.reindex(index.index)).statistic
    print(f"\nloyalty index vs true loyalty: Spearman {rho:.3f}")
    assert rho >= 0.55
    assert index.between(0, 100).all() and index.notna().all()


def test_monitoring_leaves_out_a_partly_covered_last_month():
    from helpers import contract

    lines = pd.DataFrame({
        "order_id": ["1", "2", "3", "4"], "customer_id": ["a", "a", "b", "b"],
        "order_date": pd.to_datetime(["2024-01-10", "2024-02-29", "2024-03-29", "2024-04-09"]),
        "region": "X", "amount": [1.0, 2.0, 3.0, 4.0], "is_return": False})
    tables = {"order_lines": lines, "complaints": contract.empty("complaints"),
              "customers": pd.DataFrame({"customer_id": ["a", "b"], "region": ["X", "X"]}),
              "monthly_sales": contract.empty("monthly_sales")}
    months = monitoring.monitoring_series(**tables)["month"]
    assert months.max() == pd.Timestamp("2024-03-01")  # April holds 9 of its 30 days
    indicators = set(monitoring.monitoring_series(**tables)["indicator"])
    assert {"orders", "buyers", "revenue"} <= indicators
    assert "complaints per order" not in indicators  # no complaint data: no complaint rate
    complete = {**tables, "order_lines": lines.iloc[:3]}  # ends on 29 March: complete enough
    assert monitoring.monitoring_series(**complete)["month"].max() == pd.Timestamp("2024-03-01")


def test_index_by_region_and_weight_agreement_by_hand():
    index = pd.Series([10.0, 20.0, 30.0, 40.0], index=list("abcd"))
    regions = pd.Series(["X", "X", "X", "Y"], index=list("abcd"))
    table = scorecard.index_by_region(index, regions, min_group_size=2)
    assert table.loc["X", "count"] == 3 and table.loc["X", "50%"] == 20.0
    assert table["small_group"].tolist() == [False, True] and table.index.name == "region"
    scores = pd.DataFrame({"behaviour": [0.1, 0.2, 0.3, 0.4], "price": [0.4, 0.3, 0.2, 0.1]},
                          index=list("abcd"))
    expert = scorecard.loyalty_index(scores, pd.Series({"behaviour": 1.0, "price": 0.0}))
    # all weight on price ranks the customers in the opposite order: rank correlation -1
    assert scorecard.weight_agreement(scores, expert, pd.Series(
        {"behaviour": 0.0, "price": 1.0})) == pytest.approx(-1.0)
