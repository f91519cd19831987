"""The per-customer summary computed by an engine (DuckDB, Spark) gives ``rfm_summary``'s
numbers: a hand-computed case, the published CDNOW summary, and the default sample, where local
Spark and DuckDB must agree exactly.

Spark needs Java (``.ci/run`` installs Debian's openjdk-17-jre-headless): without it the Spark
test is skipped on a workstation but fails under CI=true."""

import importlib.util
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import behaviour, configs, engines


def _clean_folder(folder: Path, lines: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines.astype({"customer_id": "str"}).to_parquet(folder / "order_lines.parquet", index=False)
    return folder


def _lines(rows: list[tuple]) -> pd.DataFrame:
    """(customer_id, order_date, amount, is_return) rows as order lines."""
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount", "is_return"])
    frame["order_date"] = pd.to_datetime(frame["order_date"], format="ISO8601")
    return frame


HAND = _lines([
    ("A", "2024-01-01 09:30", 10.0, False),
    ("A", "2024-01-08", 20.0, False), ("A", "2024-01-08 18:00", 5.0, False),  # one day
    ("A", "2024-01-15", 30.0, False), ("A", "2024-01-15", -30.0, True),  # net 0: no spend day
    ("A", "2024-01-22", -15.0, True),  # returns only: no purchase
    ("A", "2024-01-29", 40.0, False),
    ("A", "2024-03-01", 99.0, False),  # after the calibration end
    ("B", "2024-01-10", 7.5, False),
    ("C", "2024-01-12", -3.0, True),  # never bought: not in the summary
])


def test_hand_computed_summary(tmp_path):
    folder = _clean_folder(tmp_path / "clean", HAND)
    summary = engines.customer_summary(folder, calibration_end=pd.Timestamp("2024-02-05"))
    # A: purchase days 01-01, 01-08, 01-15, 01-29 -> 3 repeats over 4 weeks, 5 weeks to the
    # end; positive repeat days 01-08 (25) and 01-29 (40). B: one day, 26 days to the end.
    assert summary.index.tolist() == ["A", "B"]
    assert summary.loc["A"].tolist() == [3, 4.0, 5.0, (25.0 + 40.0) / 2, 2]
    assert summary.loc["B"].tolist() == [0, 0.0, 26 / 7, 0.0, 0]
    pandas = behaviour.rfm_summary(HAND, pd.Timestamp("2024-02-05")).sort_index()
    pd.testing.assert_frame_equal(summary, pandas, check_exact=True)
    whole = engines.customer_summary(folder)  # default end: the day after the last line
    assert whole.loc["A", "T"] == (pd.Timestamp("2024-03-02") - pd.Timestamp("2024-01-01")).days / 7


def test_cdnow_summary_is_the_published_one(tmp_path):
    """As ``test_behaviour``'s CDNOW test, through the engine: frequency exactly, recency and
    the mean spend to the published rounding."""
    folder = Path(importlib.util.find_spec("lifetimes").submodule_search_locations[0]) / (
        "datasets")
    raw = pd.read_csv(folder / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "quantity", "amount"])
    lines = pd.DataFrame({"customer_id": raw["customer_id"].astype(str), "amount": raw["amount"],
                          "order_date": pd.to_datetime(raw["date"].astype(str)),
                          "is_return": False})
    published = pd.read_csv(folder / "cdnow_customers_summary_with_transactions.csv")
    published = published.set_index(published["ID"].astype(str))
    ours = engines.customer_summary(_clean_folder(tmp_path, lines),
                                    calibration_end=pd.Timestamp("1997-10-01"))
    ours = ours.reindex(published.index)
    assert (ours["frequency"] == published["x"]).all()
    assert (ours["recency"] - published["t_x"]).abs().max() < 0.005
    assert (ours["monetary_value"] - published["zbar"]).abs().max() <= 0.01 + 1e-9


@pytest.fixture(scope="module")
def sample_clean(default_run, tmp_path_factory) -> Path:
    return _clean_folder(tmp_path_factory.mktemp("engine-clean"),
                         default_run["tables"]["order_lines"])


@pytest.fixture(scope="module")
def duckdb_summary(sample_clean) -> pd.DataFrame:
    return engines.customer_summary(sample_clean)


def test_duckdb_gives_the_workbook_summary_on_the_sample(default_run, duckdb_summary):
    pandas = behaviour.rfm_summary(default_run["tables"]["order_lines"]).sort_index()
    assert len(duckdb_summary) > 15_000
    pd.testing.assert_index_equal(duckdb_summary.index, pandas.index)
    for column in ("frequency", "spend_days", "recency", "T"):  # whole days: exact
        assert (duckdb_summary[column] == pandas[column]).all(), column
    # money: summed in millionths here, in floating point by pandas
    assert duckdb_summary["monetary_value"].to_numpy() == pytest.approx(
        pandas["monetary_value"].to_numpy(), rel=1e-12, abs=1e-9)


def _java() -> None:
    if shutil.which("java") or os.environ.get("JAVA_HOME"):
        return
    message = "Java is not installed (apt-get install -y openjdk-17-jre-headless)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; CI must run the Spark test")
    pytest.skip(message)


@pytest.mark.slow
def test_local_spark_agrees_exactly_with_duckdb(sample_clean, duckdb_summary):
    _java()
    spark = engines.spark_session("local[2]")
    try:
        on_spark = engines.customer_summary(sample_clean, "spark", "local[2]",
                                            connection=engines.connect("spark", spark=spark))
        totals_on_spark = engines.customer_totals(
            sample_clean, "spark", "local[2]", connection=engines.connect("spark", spark=spark))
    finally:
        spark.stop()
    pd.testing.assert_frame_equal(on_spark, duckdb_summary, check_exact=True)
    pd.testing.assert_frame_equal(totals_on_spark, engines.customer_totals(sample_clean),
                                  check_exact=True)


def test_hand_computed_totals_the_same_on_parquet_and_in_memory(tmp_path):
    lines = pd.DataFrame({
        "customer_id": ["A", "A", "A", "A", "B", "C"],
        "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],
        "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-03-01",
                                      "2024-01-05", "2024-01-06"]),
        "category": ["X", "Y", "X", "Y", "Z", "X"],
        "amount": [10.10, 20.20, 0.1, -5.0, 7.0, -3.0],
        "is_return": [False, False, False, True, False, True]})
    totals = engines.customer_totals(_clean_folder(tmp_path / "clean", lines))
    # A: sales on 1 January (o1, two categories) and 1 February (o2), a return in March
    assert totals.index.tolist() == ["A", "B"]  # C only returned: no sale line
    a = totals.loc["A"]
    assert (a["first_sale"], a["last_sale"]) == (pd.Timestamp("2024-01-01"),
                                                 pd.Timestamp("2024-02-01"))
    assert (a["purchases"], a["sale_lines"], a["categories"], a["returned_lines"]) == (
        2, 3, 2, 1)
    assert a["sale_spend"] == 30.4 and a["spend"] == 25.4  # exact, summed in millionths
    pd.testing.assert_frame_equal(totals, behaviour.customer_totals(lines), check_exact=True)


def test_engine_problems_are_named():
    assert engines.engine_problem("duckdb") is None
    assert engines.engine_problem("spark", "local[2]") is None
    assert "not one of duckdb, spark" in engines.engine_problem("polars")
    assert "needs spark_master" in engines.engine_problem("spark", "")
    with pytest.raises(ValueError, match="needs spark_master"):
        engines.customer_summary("data/clean", "spark")


def test_the_runner_refuses_an_unknown_engine_before_running():
    declared = {"03_behaviour": {"engine": {"inferred_type_name": "str", "default": "duckdb"},
                                 "spark_master": {"inferred_type_name": "str", "default": ""}}}
    for common, expected in [({"engine": "spark"}, "03_behaviour: engine 'spark' needs"),
                             ({"engine": "pandas"}, "03_behaviour: engine 'pandas' is not")]:
        with pytest.raises(configs.ParameterError, match=expected):
            configs.resolve_parameters({"common": common}, [], declared)
    resolved = configs.resolve_parameters(
        {"common": {"engine": "spark", "spark_master": "sc://spark.example:15002"}}, [], declared)
    assert resolved["03_behaviour"] == {"engine": "spark",
                                        "spark_master": "sc://spark.example:15002"}


def test_a_missing_clean_table_names_its_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="run notebook 02_history_repair first"):
        engines.customer_summary(tmp_path)
