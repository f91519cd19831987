"""The regional price-sensitivity regression (notebook 07)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from helpers import regression, story
from helpers.sample import TRUE_ELASTICITY


def _panel(seed: int = 7, products: int = 12, periods: int = 8) -> pd.DataFrame:
    """A small hand-made panel: two regions with elasticities -0.5 and -2, fixed effects."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(products):
        for region, slope in [("East", -0.5), ("West", -2.0)]:
            level = rng.normal(3, 0.5)
            for t in range(periods):
                log_price = rng.normal(4, 0.2)
                index = 100 * np.exp(0.02 * t + rng.normal(0, 0.01))
                log_relative = log_price - np.log(index / 100)
                units = np.exp(level + 0.1 * t * (region == "East") + slope * log_relative
                               + rng.normal(0, 0.1))
                rows.append({"product_id": f"P{p}", "category": "X", "region": region,
                             "period": pd.Period("2023Q1") + t, "units": units,
                             "lines": 1, "price": np.exp(log_price), "index": index})
    return pd.DataFrame(rows)


def test_absorbing_fixed_effects_reproduces_a_dummy_variable_regression():
    import statsmodels.formula.api as smf

    panel = _panel()
    fit = regression.fit_elasticities(panel)
    data = fit.data.rename(columns={"price x East": "x_east", "price x West": "x_west"})
    # the dummy design is rank-deficient by construction (each region's period dummies sum to
    # its product dummies); statsmodels solves it with a pseudo-inverse and warns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularMatrixWarning)
        plain = smf.ols("log_units ~ x_east + x_west + C(product_region) + C(region_period)",
                        data=data).fit(cov_type="cluster",
                                       cov_kwds={"groups": pd.factorize(data["product_id"])[0]})
    assert fit.table["elasticity"].tolist() == pytest.approx(
        [plain.params["x_east"], plain.params["x_west"]], abs=1e-8)
    # the dummy regression also counts the product x region effects, which are nested in the
    # product clusters; ours does not (Cameron and Miller 2015): the factor between the two
    n, k = len(data), 2
    pr, rp = data["product_region"].nunique(), data["region_period"].nunique()
    ratio = np.sqrt((n - k - (rp - 1)) / (n - k - pr - (rp - 1)))
    assert fit.table["std_error"].tolist() == pytest.approx(
        [plain.bse["x_east"] / ratio, plain.bse["x_west"] / ratio], rel=1e-6)
    assert fit.table["elasticity"].tolist() == pytest.approx([-0.5, -2.0], abs=0.25)


def test_absorb_removes_one_set_of_group_means_exactly():
    frame = pd.DataFrame({"g": ["a", "a", "b", "b", "b"], "y": [1.0, 3.0, 2.0, 4.0, 6.0]})
    assert regression.absorb(frame, ["y"], ["g"])["y"].tolist() == [-1.0, 1.0, -2.0, 0.0, 2.0]


def test_equal_slopes_wald_test_by_hand():
    test = regression.equal_slopes_test(np.array([1.0, 2.0]), np.eye(2), dof=100)
    assert test["F"] == pytest.approx(0.5) and test["df_num"] == 1  # (1-2)^2 / (1+1)
    assert 0.4 < test["p_value"] < 0.5


def test_panel_leaves_out_estimated_lines_and_small_cells():
    lines = pd.DataFrame({
        "product_id": ["P1", "P1", "P1", "P2"], "category": "X", "region": "East",
        "order_date": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-01-09", "2024-01-01"]),
        "quantity": [1, 2, 5, 1], "list_price": [10.0, 12.0, 99.0, 5.0],
        "is_return": False, "is_estimated": [False, False, True, False]})
    market = pd.DataFrame({"category": "X", "region": "East",
                           "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
                           "index": [100.0, 110.0, 120.0]})
    panel = regression.price_panel(lines, market, "Q", min_lines=2).set_index("product_id")
    assert list(panel.index) == ["P1"]
    assert panel.loc["P1", ["units", "lines", "price", "index"]].tolist() == [3, 2, 11.0, 110.0]


# --- truth recovery on the default sample -------------------------------------------------------
@pytest.fixture(scope="module")
def panel(default_run):
    tables = default_run["tables"]
    return regression.price_panel(tables["order_lines"], tables["market_index"])


def assert_truth_inside_and_ranked(table: pd.DataFrame) -> None:
    """Every region's true elasticity inside its interval, the regions in their true order."""
    truth = pd.Series(TRUE_ELASTICITY).reindex(table.index)
    print("\n" + "\n".join(f"{r}: estimate {e:.2f} ({lo:.2f} to {hi:.2f}), truth {truth[r]}"
                           for r, e, lo, hi in table[["elasticity", "ci_low", "ci_high"]]
                           .itertuples()))
    assert ((table["ci_low"] <= truth) & (truth <= table["ci_high"])).all()
    assert list(table["elasticity"].sort_values().index) == list(truth.sort_values().index)


@pytest.mark.slow
def test_every_region_recovers_its_true_elasticity(panel):
    assert_truth_inside_and_ranked(regression.fit_elasticities(panel).table)


@pytest.mark.slow
def test_without_the_market_adjustment_the_answer_is_biased(panel):
    truth = pd.Series(TRUE_ELASTICITY)
    adjusted = regression.fit_elasticities(panel).table["elasticity"]
    naive = regression.fit_elasticities(panel, market_adjusted=False,
                                        period_effects=False).table["elasticity"]
    raw_price = regression.fit_elasticities(panel, market_adjusted=False).table["elasticity"]
    error = {name: (values - truth.reindex(values.index)).abs().mean()
             for name, values in [("adjusted", adjusted), ("naive", naive),
                                  ("raw price", raw_price)]}
    print(f"\nmean absolute error: {error}")
    assert error["naive"] > 5 * error["adjusted"]
    assert error["raw price"] > error["adjusted"]


def test_findings_state_the_effect_of_a_ten_percent_rise_in_words():
    table = pd.DataFrame({"elasticity": [-2.0, -0.003], "ci_low": [-2.2, -0.1],
                          "ci_high": [-1.8, 0.1]}, index=pd.Index(["South", "North"],
                                                                   name="region"))
    test = {"p_value": 0.001}
    text = story.regression.findings(table, test)
    # 1 - 1.1**-2 = 17.4%; the least sensitive region rounds to 0%, not "-0%"
    assert "Most price-sensitive: South, where a 10% price rise relative to the market cuts " \
           "units sold by about 17% (95% interval 16% to 19%)" in text
    assert "Least: North, about 0% (-1% to 1%)" in text and "-0%" not in text
    assert "relative to the market" not in story.regression.findings(table, test,
                                                               market_adjusted=False)
    assert "(90% interval 16% to 19%)" in story.regression.findings(table, test,
                                                                    confidence=0.9)


def test_the_pooled_small_regions_are_never_named_most_or_least_sensitive():
    table = pd.DataFrame({"elasticity": [-2.0, -0.5, -4.0], "ci_low": [-2.2, -0.7, -6.0],
                          "ci_high": [-1.8, -0.3, -2.0]},
                         index=pd.Index(["South", "North", regression.OTHER_REGIONS],
                                        name="region"))
    text = story.regression.findings(table, {"p_value": 0.001}, pooled=["X", "Y", "Z"])
    assert "Most price-sensitive: South" in text and "Least: North" in text
    assert "3 small regions are estimated together as 'other regions'" in text
    summary_line = next(fact for fact in story.scorecard.executive_summary(
        index=pd.Series([50.0] * 40), regions=pd.Series(["South"] * 40), periods=pd.DataFrame({
            "this period": {"active_customers": 40, "revenue": 1.0, "repeat_rate": 0.5,
                            "repeat_low": 0.3, "repeat_high": 0.7, "estimated_share": 0.0,
                            "covered": False},
            "previous period": {"active_customers": 40, "revenue": 1.0, "repeat_rate": 0.5,
                                "repeat_low": 0.3, "repeat_high": 0.7, "estimated_share": 0.0,
                                "covered": False}}).T,
        waves=None, churn_risk=None, elasticities=table.reset_index(),
        alerts=pd.DataFrame(columns=["month", "z", "indicator", "region", "change", "since"]),
        latest_month=pd.Timestamp("2024-06-01")) if "Price sensitivity" in fact)
    assert "strongest in South" in summary_line and "weakest in North" in summary_line


def test_a_single_region_gives_one_pooled_elasticity_and_no_test():
    """One region: the fit is estimable (it used to divide by zero in the equality test), the
    equality test is NaN, and the page's words say there is nothing to compare."""
    panel = _panel().query("region == 'West'")
    fit = regression.fit_elasticities(panel)
    assert list(fit.table.index) == ["West"]
    assert fit.table.loc["West", "elasticity"] == pytest.approx(-2.0, abs=0.25)
    assert fit.equality_test["df_num"] == 0 and np.isnan(fit.equality_test["p_value"])
    assert "One region: a 10% price rise relative to the market cuts units sold by about" in (
        story.regression.findings(fit.table, fit.equality_test))
    assert "no regions to compare" in story.regression.equality_sentence(
        fit.equality_test, fit.table)


def test_small_regions_share_one_slope_but_keep_their_own_product_levels():
    """Two big regions and three with a product each: the three get one 'other regions'
    slope and period effects; each product keeps its level in its own region."""
    panel = _panel()
    small = []
    for k, name in enumerate(["Tiny1", "Tiny2", "Tiny3"]):
        part = panel.query(f"region == 'West' and product_id == 'P{k}'").assign(region=name)
        small.append(part)
    pooled, names = regression.pool_small_regions(pd.concat([panel, *small]), min_products=5)
    assert names == ["Tiny1", "Tiny2", "Tiny3"]
    assert set(pooled["region"]) == {"East", "West", regression.OTHER_REGIONS}
    assert set(pooled.loc[pooled["region"] == regression.OTHER_REGIONS, "home_region"]) == set(
        names)
    fit = regression.fit_elasticities(pooled)
    assert fit.table.loc[regression.OTHER_REGIONS, "elasticity"] == pytest.approx(-2.0,
                                                                                  abs=0.3)
    assert fit.data["product_region"].nunique() == 12 * 2 + 3  # own fixed effects kept
    assert regression.pool_small_regions(panel, min_products=5)[1] == []  # none small


def test_the_specification_says_what_the_price_was_measured_against():
    from helpers import story

    derived = story.regression.specification(True, "derived", "Q")
    assert "built from the company's own regular prices" in derived
    assert "not a competitor's" in derived and "x quarter cells" in derived
    assert "delivered market price index" in story.regression.specification(True, "delivered")
    charged = story.regression.specification(False, "delivered", "M")
    assert "as charged" in charged and "x month cells" in charged


def test_a_region_of_a_few_customers_is_pooled_whatever_its_products():
    panel = _panel().assign(region=lambda t: t["region"].astype(str))
    third = panel[panel["region"] == "West"].assign(region="North")
    fourth = panel[panel["region"] == "East"].assign(region="South")
    panel = pd.concat([panel, third, fourth], ignore_index=True)
    buyers = pd.Series({"East": 500, "West": 400, "North": 8, "South": 12})
    pooled, small = regression.pool_small_regions(panel, min_products=5, customers=buyers,
                                                  min_customers=30)
    assert small == ["North", "South"]
    assert set(pooled["region"]) == {"East", "West", "other regions"}
    _, none = regression.pool_small_regions(panel, min_products=5)
    assert none == []
