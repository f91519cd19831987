"""The driver analysis: PLS path modelling against published results, a hand-computed case, the
questionnaire's reading rules, and truth recovery on the default sample."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import cleaning, drivers, pls, stages, story
from helpers.sample import questionnaire as sample_questionnaire

MOBI = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecsi_mobi" / "mobi.csv"
ECSI_BLOCKS = {
    "Image": [f"IMAG{i}" for i in range(1, 6)], "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
    "Quality": [f"PERQ{i}" for i in range(1, 8)], "Value": ["PERV1", "PERV2"],
    "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"], "Complaints": ["CUSCO"],
    "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]}
ECSI_PATHS = [("Image", "Expectation"), ("Image", "Satisfaction"), ("Image", "Loyalty"),
              ("Expectation", "Quality"), ("Expectation", "Value"),
              ("Expectation", "Satisfaction"), ("Quality", "Value"), ("Quality", "Satisfaction"),
              ("Value", "Satisfaction"), ("Satisfaction", "Complaints"),
              ("Satisfaction", "Loyalty"), ("Complaints", "Loyalty")]

# SmartPLS 2.0.M3 on the ECSI model of the mobi data, path weighting scheme: the reference of the
# R package semPLS's regression test (semPLS 1.0-10, tests/regtest_SmartPLS.R and
# tests/SmartPLS/results/ecsi/pathWeighting/{pathCoefficients,totalEffects,crossLoadings}.txt).
SMARTPLS_PATHS = {
    ("Image", "Expectation"): 0.50491393, ("Image", "Satisfaction"): 0.17873950,
    ("Image", "Loyalty"): 0.19575534, ("Expectation", "Quality"): 0.55674896,
    ("Expectation", "Value"): 0.04998839, ("Expectation", "Satisfaction"): 0.06252287,
    ("Quality", "Value"): 0.55830438, ("Quality", "Satisfaction"): 0.51202394,
    ("Value", "Satisfaction"): 0.19476510, ("Satisfaction", "Complaints"): 0.52806625,
    ("Satisfaction", "Loyalty"): 0.48547762, ("Complaints", "Loyalty"): 0.06692607}
SMARTPLS_TOTAL_ON_LOYALTY = {"Image": 0.39873238, "Expectation": 0.21763337,
                             "Quality": 0.32330474, "Value": 0.10143737,
                             "Satisfaction": 0.52081902, "Complaints": 0.06692607}
SMARTPLS_LOADINGS = {
    "CUEX1": 0.77076718, "CUEX2": 0.69124548, "CUEX3": 0.60781262, "CUSA1": 0.79241243,
    "CUSA2": 0.84702146, "CUSA3": 0.85669268, "CUSCO": 1.00000000, "CUSL1": 0.82041320,
    "CUSL2": 0.20202172, "CUSL3": 0.91543628, "IMAG1": 0.74520807, "IMAG2": 0.59920038,
    "IMAG3": 0.57635896, "IMAG4": 0.76876167, "IMAG5": 0.74445242, "PERQ1": 0.80317813,
    "PERQ2": 0.63814644, "PERQ3": 0.78374692, "PERQ4": 0.76947974, "PERQ5": 0.75472136,
    "PERQ6": 0.77464331, "PERQ7": 0.77986483, "PERV1": 0.90221120, "PERV2": 0.93962478}

# seminr 2.3 (sem-in-r/seminr tests/fixtures/V_3_6_0): the four-construct model Image,
# Expectation, Value -> Satisfaction, mode A, path weighting: rsquared1.csv, reliability.csv
# (test-summary.R), htmt.csv; PLSc with the factorial scheme: path_coef1.csv, rsquaredplsc.csv,
# loadings1.csv (test-consistent.R).
SEMINR_BLOCKS = {c: ECSI_BLOCKS[c] for c in ["Image", "Expectation", "Value", "Satisfaction"]}
SEMINR_PATHS = [("Image", "Satisfaction"), ("Expectation", "Satisfaction"),
                ("Value", "Satisfaction")]
SEMINR_R2 = 0.590603320426892
SEMINR_RELIABILITY = {  # alpha, rhoC, AVE, rhoA
    "Image": (0.722834595427083, 0.818325774056256, 0.477979834838268, 0.745291554480322),
    "Expectation": (0.451902555978063, 0.733177801505283, 0.480507046633952, 0.461657986928213),
    "Value": (0.823631979352573, 0.917897281748515, 0.84831067540365, 0.857527048393235),
    "Satisfaction": (0.779195021918597, 0.871457927643628, 0.693363990925202,
                     0.784023593590752)}
SEMINR_HTMT = {("Image", "Expectation"): 0.88803042750925, ("Image", "Value"): 0.651659392487802,
               ("Image", "Satisfaction"): 0.910100923782741,
               ("Expectation", "Value"): 0.588628982316289,
               ("Expectation", "Satisfaction"): 0.865108193553153,
               ("Value", "Satisfaction"): 0.740808927759395}
SEMINR_PLSC_PATHS = {"Image": 0.537704707482867, "Expectation": 0.240967661696417,
                     "Value": 0.25827986805094}
SEMINR_PLSC_R2 = 0.885707115746682
SEMINR_PLSC_LOADINGS = {"IMAG1": 0.681330024716575, "IMAG3": 0.410112763312163,
                        "CUEX2": 0.487740006832332, "PERV2": 0.943732643413645,
                        "CUSA3": 0.794919272741098}

needs_mobi = pytest.mark.skipif(not MOBI.exists(), reason="../shared/data/ecsi_mobi is absent")


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(MOBI)


@needs_mobi
def test_ecsi_model_on_mobi_reproduces_smartpls(mobi):
    fit = pls.fit_pls(mobi, pls.PathModel(blocks=ECSI_BLOCKS, paths=ECSI_PATHS))
    for (a, b), value in SMARTPLS_PATHS.items():
        assert fit.paths.loc[a, b] == pytest.approx(value, abs=1e-6), (a, b)
    for a, value in SMARTPLS_TOTAL_ON_LOYALTY.items():
        assert fit.total_effects.loc[a, "Loyalty"] == pytest.approx(value, abs=1e-6), a
    for item, value in SMARTPLS_LOADINGS.items():
        assert fit.loadings[item] == pytest.approx(value, abs=1e-6), item
    # R-squared of a construct with one antecedent is its squared path
    assert fit.r_squared["Complaints"] == pytest.approx(0.52806625 ** 2, abs=1e-6)
    assert fit.r_squared["Expectation"] == pytest.approx(0.50491393 ** 2, abs=1e-6)


@needs_mobi
@pytest.mark.parametrize("scheme, expected", [
    # tests/SmartPLS/results/ecsi/centroid and factorial/pathCoefficients.txt of semPLS
    ("centroid", {("Image", "Expectation"): 0.50470564, ("Image", "Loyalty"): 0.19535971,
                  ("Satisfaction", "Complaints"): 0.52609731,
                  ("Satisfaction", "Loyalty"): 0.48347472}),
    ("factorial", {("Image", "Expectation"): 0.50494314, ("Image", "Loyalty"): 0.19581962,
                   ("Satisfaction", "Complaints"): 0.52585655,
                   ("Satisfaction", "Loyalty"): 0.48305917})])
def test_other_weighting_schemes_reproduce_smartpls(mobi, scheme, expected):
    fit = pls.fit_pls(mobi, pls.PathModel(blocks=ECSI_BLOCKS, paths=ECSI_PATHS), scheme=scheme)
    for (a, b), value in expected.items():
        assert fit.paths.loc[a, b] == pytest.approx(value, abs=1e-6), (scheme, a, b)


@needs_mobi
def test_reliability_htmt_and_r_squared_reproduce_seminr(mobi):
    model = pls.PathModel(blocks=SEMINR_BLOCKS, paths=SEMINR_PATHS)
    fit = pls.fit_pls(mobi, model)
    assert fit.r_squared["Satisfaction"] == pytest.approx(SEMINR_R2, abs=1e-7)
    table = pls.reliability(mobi, fit)
    for construct, values in SEMINR_RELIABILITY.items():
        got = table.loc[construct, ["alpha", "rho_c", "ave", "rho_a"]].to_numpy()
        np.testing.assert_allclose(got, values, atol=1e-7, err_msg=construct)
    ratio = pls.htmt(mobi, model)
    for (a, b), value in SEMINR_HTMT.items():
        assert ratio.loc[a, b] == pytest.approx(value, abs=1e-7), (a, b)


@needs_mobi
def test_consistent_pls_reproduces_seminr(mobi):
    fit = pls.fit_pls(mobi, pls.PathModel(blocks=SEMINR_BLOCKS, paths=SEMINR_PATHS),
                      scheme="factorial", consistent=True)
    for a, value in SEMINR_PLSC_PATHS.items():
        assert fit.paths.loc[a, "Satisfaction"] == pytest.approx(value, abs=1e-6), a
    assert fit.r_squared["Satisfaction"] == pytest.approx(SEMINR_PLSC_R2, abs=1e-6)
    for item, value in SEMINR_PLSC_LOADINGS.items():
        assert fit.loadings[item] == pytest.approx(value, abs=1e-6), item


def _with_correlation(target: np.ndarray, n: int = 400, seed: int = 3) -> np.ndarray:
    """Data whose sample correlation matrix is exactly ``target``."""
    raw = np.random.default_rng(seed).standard_normal((n, len(target)))
    raw -= raw.mean(axis=0)
    white = raw @ np.linalg.inv(np.linalg.cholesky(np.cov(raw, rowvar=False)).T)
    return white @ np.linalg.cholesky(target).T


def test_two_constructs_by_hand():
    """x1, x2 correlate 0.5, y1, y2 0.6, every x with every y 0.3. By symmetry both blocks
    weight their items equally, so the x score is (x1 + x2) / sqrt(2 + 2 * 0.5):
    path = 4 * 0.3 / (sqrt(3) * sqrt(3.2)) = 0.387298; loading of x1 = 1.5 / sqrt(3);
    rho_A of a two-item block with correlation r = 2r / (1 + r): 2/3 and 0.75; the PLSc path
    = 0.387298 / sqrt(2/3 * 0.75) = 0.547723."""
    corr = np.array([[1, 0.5, 0.3, 0.3], [0.5, 1, 0.3, 0.3], [0.3, 0.3, 1, 0.6],
                     [0.3, 0.3, 0.6, 1]])
    items = pd.DataFrame(_with_correlation(corr), columns=["x1", "x2", "y1", "y2"])
    model = pls.PathModel(blocks={"x": ["x1", "x2"], "y": ["y1", "y2"]}, paths=[("x", "y")])
    fit = pls.fit_pls(items, model)
    assert fit.paths.loc["x", "y"] == pytest.approx(1.2 / np.sqrt(3 * 3.2), abs=1e-9)
    assert fit.loadings["x1"] == pytest.approx(1.5 / np.sqrt(3), abs=1e-9)
    assert fit.loadings["y2"] == pytest.approx(1.6 / np.sqrt(3.2), abs=1e-9)
    assert fit.rho_a["x"] == pytest.approx(2 / 3, abs=1e-9)
    assert fit.rho_a["y"] == pytest.approx(0.75, abs=1e-9)
    assert fit.r_squared["y"] == pytest.approx(1.44 / 9.6, abs=1e-9)
    consistent = pls.fit_pls(items, model, consistent=True)
    assert consistent.paths.loc["x", "y"] == pytest.approx(
        1.2 / np.sqrt(9.6) / np.sqrt(0.5), abs=1e-9)


@pytest.mark.parametrize("blocks, paths, message", [
    ({"a": ["i1"], "b": ["i1"]}, [("a", "b")], "more than one block"),
    ({"a": ["i1"], "b": ["i2"]}, [("a", "c")], "without a block"),
    ({"a": ["i1"], "b": ["i2"], "c": ["i3"]}, [("a", "b")], "on no path"),
    ({"a": ["i1"], "b": ["i2"]}, [("a", "b"), ("b", "a")], "cycle"),
    ({"a": [], "b": ["i2"]}, [("a", "b")], "without items")])
def test_a_wrong_block_definition_is_named(blocks, paths, message):
    with pytest.raises(ValueError, match=message):
        pls.PathModel.from_config(blocks, paths)


def test_questionnaire_checks_target_levers_and_reversed_items():
    with pytest.raises(ValueError, match="not a construct"):
        drivers.questionnaire(target="delight")
    with pytest.raises(ValueError, match="levers without a path"):
        drivers.questionnaire(target="satisfaction", levers=["loyalty"])
    with pytest.raises(ValueError, match="reversed items not in any block"):
        drivers.questionnaire(reversed_items=["PERQ9"])
    qn = drivers.questionnaire(target="loyalty")
    assert qn.levers == ("image", "expectation", "quality", "value", "satisfaction",
                         "complaints")
    assert drivers.questionnaire(paths=[{"from": "image", "to": ["loyalty"]}],
                                 blocks={"image": ["a"], "loyalty": ["b"]}).levers == ("image",)


def _small_questionnaire() -> drivers.Questionnaire:
    return drivers.questionnaire(blocks={"q": ["q1", "q2", "q3"], "l": ["l1", "l2"]},
                                 paths=[["q", "l"]], target="l", reversed_items=["q3"])


def test_answer_matrix_reads_the_answers_as_meant():
    qn = _small_questionnaire()
    rows = {  # invitation: q1 q2 q3 (reverse-worded, as written) l1 l2
        "A": [9, 9, 2, 8, 8],     # q3 reversed: 11 - 2 = 9, agrees
        "B": [9, 8, 9, 7, 7],     # q3 as written agrees with 8.5; reversed (2) would not: misread
        "C": [5, 6, 5, 5, 99],    # 99: off the scale -> incomplete
        "D": [3, 2, None, 4, 3],  # q3 missing -> incomplete
        "E": [2, 3, 9, 2, 3]}     # q3 reversed: 2, agrees
    answers = pd.DataFrame([(i, item, v) for i, values in rows.items()
                            for item, v in zip(["q1", "q2", "q3", "l1", "l2"], values,
                                               strict=True) if v is not None],
                           columns=["invitation_id", "item", "score"])
    answers = pd.concat([answers, pd.DataFrame({"invitation_id": ["A"], "item": ["extra"],
                                                "score": [4.0]})])
    survey = pd.DataFrame({"invitation_id": list("ABCDEF"), "customer_id": list("abcdef"),
                           "responded": [True] * 5 + [False]})
    matrix = drivers.answer_matrix(answers, survey, qn, misread_gap=3)
    assert list(matrix.items.index) == ["A", "B", "E"]
    assert matrix.items.loc["A", "q3"] == 9 and matrix.items.loc["E", "q3"] == 2
    assert matrix.items.loc["B", "q3"] == 9  # misread: read as written
    assert (matrix.answered, matrix.with_items, matrix.incomplete) == (5, 5, 2)
    assert (matrix.off_scale, matrix.misread, matrix.reversed_answers) == (1, 1, 3)
    assert matrix.unknown_items == ["extra"]


def test_too_few_questionnaires_give_a_reason_not_a_number():
    qn = _small_questionnaire()
    items = pd.DataFrame(np.random.default_rng(1).integers(1, 11, (8, 5)),
                         columns=["q1", "q2", "q3", "l1", "l2"]).astype(float)
    matrix = drivers.AnswerMatrix(items=items, respondents=pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(8)]}, index=items.index), answered=8,
        with_items=8, incomplete=0, off_scale=0, misread=0, reversed_answers=8,
        unknown_items=[])
    with pytest.raises(ValueError, match="8 complete questionnaires: too few"):
        drivers.driver_model(matrix, qn, samples=10)


def _two_group_answers(effects: dict[str, float], n: int = 400, seed: int = 5):
    rng = np.random.default_rng(seed)
    frames = []
    for group, beta in effects.items():
        q = rng.standard_normal(n)
        loyal = beta * q + np.sqrt(1 - beta ** 2) * rng.standard_normal(n)
        frame = pd.DataFrame({f"q{k}": 0.85 * q + 0.53 * rng.standard_normal(n)
                              for k in (1, 2, 3)})
        frame = frame.assign(**{f"l{k}": 0.85 * loyal + 0.53 * rng.standard_normal(n)
                                for k in (1, 2)})
        frames.append(frame.assign(group=group))
    data = pd.concat(frames, ignore_index=True)
    data.index = [f"i{k}" for k in range(len(data))]
    qn = drivers.questionnaire(blocks={"q": ["q1", "q2", "q3"], "l": ["l1", "l2"]},
                               paths=[["q", "l"]], target="l")
    respondents = pd.DataFrame({"customer_id": [f"c{k}" for k in range(len(data))],
                                "region": data["group"]}, index=data.index)
    matrix = drivers.AnswerMatrix(items=data.drop(columns="group"), respondents=respondents,
                                  answered=len(data), with_items=len(data), incomplete=0,
                                  off_scale=0, misread=0, reversed_answers=0, unknown_items=[])
    return matrix, qn


def test_group_comparison_finds_a_real_difference_and_not_a_false_one():
    matrix, qn = _two_group_answers({"north": 0.7, "south": 0.2})
    differ = drivers.group_differences(matrix, qn, "region", min_group=100, permutations=99)
    assert differ.p_values["q"] == pytest.approx(0.01)  # no permutation reached the spread
    assert differ.effects.loc["q", "north"] > differ.effects.loc["q", "south"] + 0.3
    matrix, qn = _two_group_answers({"north": 0.5, "south": 0.5})
    same = drivers.group_differences(matrix, qn, "region", min_group=100, permutations=99)
    assert same.p_values["q"] > 0.1
    assert drivers.group_differences(matrix, qn, "region", min_group=500) is None


def test_answers_to_unanswered_invitations_are_quarantined():
    tables = {"survey_responses": pd.DataFrame({"invitation_id": ["S1", "S2"],
                                                "responded": [True, False]}),
              "survey_answers": pd.DataFrame({"invitation_id": ["S1", "S2", "S9"],
                                              "item": ["q1", "q1", "q1"],
                                              "score": [5.0, 6.0, 7.0]})}
    kept, steps, quarantined = cleaning.quarantine_unanswered(tables)
    assert list(kept["survey_answers"]["invitation_id"]) == ["S1"]
    assert steps[0]["rows_affected"] == 2
    assert len(quarantined[0]) == 2


@pytest.fixture(scope="module")
def sample_drivers(default_run) -> stages.attitude.DriverAnalysis:
    tables = default_run["tables"]
    survey = tables["survey_responses"].merge(
        tables["customers"][["customer_id", "region"]], on="customer_id").assign(weight=1.0)
    qn = drivers.questionnaire(levers=["image", "expectation", "quality", "value",
                                       "complaints"],
                               reversed_items=list(sample_questionnaire.REVERSED_ITEMS))
    return stages.attitude.analyse_drivers(
        survey_answers=tables["survey_answers"], survey_scored=survey, customer_value=None,
        questionnaire=qn, bootstrap_samples=300, permutations=49)


@pytest.mark.slow
def test_every_true_path_inside_its_interval_and_the_top_driver_recovered(sample_drivers,
                                                                        default_run):
    model = sample_drivers.model
    truth = default_run["truth"]["survey_paths"]
    paths = model.paths.merge(truth, on=["from", "to"], validate="one_to_one")
    assert len(paths) == len(sample_questionnaire.TRUE_PATHS)
    inside = (paths["ci_low"] <= paths["coefficient"]) & (paths["coefficient"] <= paths["ci_high"])
    assert inside.all(), paths[~inside]
    true_total = sample_questionnaire.true_total_effects()["loyalty"]
    levers = list(model.drivers.index)
    assert model.top_driver == true_total[levers].idxmax() == "quality"
    assert model.drivers.loc["quality", "top_share"] > 0.9
    total = model.drivers.assign(truth=true_total[levers])
    assert ((total["total_low"] <= total["truth"]) & (total["truth"] <= total["total_high"])).all()
    assert model.loadings.loc["IMAG3", "low"]  # the item built to measure its construct poorly
    assert len(sample_drivers.by_region.effects.columns) > 2


@pytest.mark.slow
def test_plain_pls_is_attenuated_where_the_consistent_fit_is_not(default_run, sample_drivers):
    """Composite scores carry their items' error: plain PLS paths between multi-item constructs
    fall short of the truth, which is why the page uses the PLSc correction."""
    items = sample_drivers.answers.items
    plain = pls.fit_pls(items, sample_drivers.questionnaire.model)
    truth = default_run["truth"]["survey_paths"]
    gap = [plain.paths.loc[a, b] - v for a, b, v in truth.itertuples(index=False)
           if (a, b) == ("satisfaction", "loyalty")]
    assert gap[0] < -0.05
    consistent = sample_drivers.model.paths.set_index(["from", "to"])["estimate"]
    assert abs(consistent[("satisfaction", "loyalty")] - 0.55) < 0.03


@pytest.mark.slow
def test_misread_answers_are_mostly_true_misreadings(default_run, sample_drivers):
    written = default_run["tables"]["survey_answers"].pivot(
        index="invitation_id", columns="item", values="score")
    flagged = drivers.misread_answers(written.where(written <= 10),  # 99: no answer
                                      sample_drivers.questionnaire, 3)
    found = {(i, item) for item in flagged for i in flagged.index[flagged[item]]}
    truth = {tuple(row) for row in default_run["truth"]["survey_misread"].itertuples(
        index=False)}
    assert len(found) > 100
    assert len(found & truth) / len(found) > 0.95  # nearly no correct answer is overturned


@pytest.mark.slow
def test_the_page_names_the_top_driver_and_how_sure(sample_drivers):
    text = story.drivers.headline(sample_drivers)
    assert text.startswith("**Perceived quality moves loyalty most**")
    assert "of 300 bootstrap samples" in text and "95% interval" in text
    assert "2 groups" not in story.drivers.group_sentence(sample_drivers, "region", 150)
    assert story.drivers.group_sentence(sample_drivers, "value_tier", 150).startswith(
        "Too few groups by value tier")
    frame = story.drivers.drivers_frame(sample_drivers)
    assert frame.index[0] == "perceived quality" and frame["importance"].notna().all()


@needs_mobi
def test_each_item_is_standardised_on_its_own(mobi):
    """Rescaling one item (another unit, another scale length) changes nothing: the items are
    standardised one by one, not by a pooled standard deviation."""
    model = pls.PathModel(blocks=ECSI_BLOCKS, paths=ECSI_PATHS)
    rescaled = mobi.assign(PERQ1=mobi["PERQ1"] * 10 + 3, CUSL3=mobi["CUSL3"] / 4)
    before, after = pls.fit_pls(mobi, model), pls.fit_pls(rescaled, model)
    np.testing.assert_allclose(after.paths.to_numpy(), before.paths.to_numpy(), atol=1e-10)
    np.testing.assert_allclose(after.loadings.to_numpy(), before.loadings.to_numpy(), atol=1e-10)


def test_executive_summary_names_the_top_driver():
    table = pd.DataFrame({"driver": ["image", "quality"], "importance": [0.2, 0.39],
                          "importance_low": [0.1, 0.35], "importance_high": [0.3, 0.43],
                          "top_share": [0.0, 1.0], "performance": [65.0, 59.2],
                          "target": "loyalty", "confidence": 0.9})
    assert story.scorecard.drivers_fact(table) == (
        "**What drives loyalty**: perceived quality most; one point more on its 0-100 score "
        "goes with 0.39 points more loyalty (90% interval 0.35 to 0.43), the strongest driver "
        "in 100% of the bootstrap samples; it scores 59 of 100.")


def test_bootstrap_draws_whole_customers():
    rng = np.random.default_rng(7)
    customers = np.array(["a", "a", "b", "c", "c", "c", "d"])
    for _ in range(20):
        rows = drivers._customer_resample(rng, customers)
        drawn = pd.Series(customers[rows]).value_counts()
        size = pd.Series(customers).value_counts()
        # every drawn customer comes with all their rows, as many times as drawn
        assert (drawn % size[drawn.index] == 0).all()
        assert (drawn // size[drawn.index]).sum() == 4  # four customers drawn


def test_items_the_block_definition_does_not_name_give_a_reason():
    qn = drivers.questionnaire()  # the ECSI items
    answers = pd.DataFrame({"invitation_id": ["S1", "S1"], "item": ["Q1", "Q2"],
                            "score": [5.0, 6.0]})
    survey = pd.DataFrame({"invitation_id": ["S1"], "customer_id": ["c1"], "responded": [True]})
    analysis = stages.attitude.analyse_drivers(survey_answers=answers, survey_scored=survey,
                                               customer_value=None, questionnaire=qn)
    assert analysis.model is None
    assert "none of the delivered items (Q1, Q2) is named" in analysis.problem
    assert story.drivers.headline(analysis).startswith("The driver model was not estimated")
