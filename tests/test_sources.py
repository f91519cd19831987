"""Bring your own data: mapping validation, file and SQL sources (SQLite always, PostgreSQL when
its binaries are installed), and the public Online Retail data checked against plain pandas."""

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import capabilities, cleaning, contract, io, sample, sources
from helpers.sources import reading
from tests.test_browser import chromium  # noqa: F401 (the fixture)

# --- a hand-made source in the Online Retail layout -------------------------------------------
HEADER = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
          "Country"]
ROWS = [
    ["1001", "A", "2", "2011-01-02 10:00:00", "1.5", "17850.0", "UK"],
    ["1001", "A", "2", "2011-01-02 10:00:00", "1.5", "17850.0", "UK"],    # exact duplicate
    ["1001", "POST", "1", "2011-01-02 10:00:00", "18", "17850.0", "UK"],  # postage: excluded
    ["C1002", "A", "-1", "2011-01-05 09:00:00", "1.5", "17850.0", "UK"],  # cancellation
    ["1003", "B", "3", "2011-01-06 09:00:00", "2.0", "", "France"],       # no customer
    ["1004", "B", "4", "2011-02-01 12:00:00", "2.0", "12345.0", "France"],
    ["1004", "B", "1", "2011-02-01 12:00:00", "2.0", "12345.0", "France"],
    ["1005", "B", "1", "31/02/2011", "2.0", "12345.0", "France"],         # impossible date
    ["1006", "B", "-5", "2011-03-01 12:00:00", "2.0", "12345.0", "Germany"],  # adjustment
    ["1007", "C", "1", "2011-03-02 12:00:00", "0", "12345.0", "Germany"],  # free item
]
ORDER_LINES_SPEC = {
    "columns": {"order_id": "InvoiceNo", "customer_id": "CustomerID",
                "order_date": "InvoiceDate", "product_id": "StockCode", "region": "Country",
                "quantity": "Quantity", "unit_price": "UnitPrice"},
    "defaults": {"category": "All products"},
    "date_format": "%Y-%m-%d %H:%M:%S",
    "returns": {"column": "InvoiceNo", "pattern": "C.*"},
    "exclude": [
        {"reason": "non-product line", "column": "StockCode", "pattern": "POST|DOT"},
        {"reason": "stock adjustment", "column": "Quantity", "at_most": 0,
         "applies_to": "sales"},
        {"reason": "no price", "column": "UnitPrice", "at_most": 0},
        {"reason": "no customer id", "column": "CustomerID", "empty": True},
    ],
}


def _clean(mapping: sources.SourceMapping, raw_dir: Path) -> cleaning.CleaningResult:
    """Read the mapping's sources below ``raw_dir`` and clean them (what notebook 01 does)."""
    return cleaning.clean(mapping, reading.read_all(mapping, raw_dir))


def _mapping(order_lines_source: dict, **tables) -> sources.SourceMapping:
    return sources.validate_mapping({"name": "test", "currency": "GBP", "tables": {
        "order_lines": {**order_lines_source, **ORDER_LINES_SPEC}, **tables}})


@pytest.fixture
def csv_dir(tmp_path) -> Path:
    pd.DataFrame(ROWS, columns=HEADER).to_csv(tmp_path / "lines.csv", index=False)
    return tmp_path


def _check_hand_case(result: cleaning.CleaningResult) -> None:
    lines = result.tables["order_lines_unrepaired"]
    assert lines[["order_id", "line_no", "customer_id", "quantity", "amount",
                  "is_return"]].values.tolist() == [
        ["1001", 1, "17850", 2, 3.0, False], ["C1002", 1, "17850", -1, -1.5, True],
        ["1004", 1, "12345", 4, 8.0, False], ["1004", 2, "12345", 1, 2.0, False]]
    assert (lines["list_price"] == lines["unit_price"]).all()
    assert lines["order_date"].iloc[0] == pd.Timestamp("2011-01-02")  # day precision
    customers = result.tables["customers"].set_index("customer_id")
    assert customers["region"].to_dict() == {"12345": "France", "17850": "UK"}
    assert customers.loc["12345", "join_date"] == pd.Timestamp("2011-02-01")
    steps = result.quality_report.query("source == 'order_lines'").set_index("rule")[
        "rows_affected"]
    assert steps["exact duplicate rows"] == 1
    assert [steps[r] for r in ["non-product line", "stock adjustment", "no price",
                               "no customer id"]] == [1, 1, 1, 1]
    reasons = result.quarantine.set_index("row")["reason"].to_dict()
    assert reasons[8] == "invalid order_date"
    assert reasons[3] == "excluded: non-product line"
    summary = cleaning.source_summary(result).loc["order_lines"]
    assert summary[["rows_read", "duplicates_removed", "excluded", "quarantined",
                    "rows_clean"]].tolist() == [10, 1, 4, 1, 4]
    assert set(result.tables) >= {"customers", "order_lines_unrepaired", "customer_id_map"}
    assert "referrals" not in result.tables  # not delivered: absent, not invented
    contract.validate("order_lines_unrepaired", lines)


def test_csv_source_cleans_to_the_hand_computed_tables(csv_dir):
    result = _clean(_mapping({"file": "lines.csv"}), csv_dir)
    _check_hand_case(result)
    origins = result.sources.set_index("table")["origin"]
    assert origins["order_lines"] == "file lines.csv"
    assert "currency" in cleaning.sources_shown(result.sources)  # GBP: shown
    assert origins["complaints"] == "not delivered"


def test_sqlite_source_gives_the_same_tables(csv_dir):
    database = csv_dir / "shop.db"
    with sqlite3.connect(database) as connection:
        pd.DataFrame(ROWS, columns=HEADER).to_sql("invoice_lines", connection, index=False)
        pd.DataFrame({"id": ["K1", "K2"], "customer": ["17850", "99999"],
                      "opened": ["2011-01-09", "2011-01-10"],
                      "label": ["Vase arrived broken", "rude staff"],
                      "level": ["High", "low"]}).to_sql("complaints", connection, index=False)
    url = f"sqlite:///{database}"
    mapping = _mapping({"url": url, "query": "SELECT * FROM invoice_lines"}, complaints={
        "url": url, "table": "complaints",
        "columns": {"complaint_id": "id", "customer_id": "customer",
                    "complaint_date": "opened", "raw_label": "label", "severity": "level"}})
    result = _clean(mapping, csv_dir)
    _check_hand_case(result)
    complaints = result.tables["complaints"]
    # the complaint of an unknown customer is set aside; the other is classified
    assert complaints[["complaint_id", "category", "severity"]].values.tolist() == [
        ["K1", "damaged", 3]]
    assert "unknown customer_id" in set(result.quarantine["reason"])
    assert result.sources.set_index("table").loc["complaints", "origin"] == \
        "SQL table complaints (sqlite)"


def test_sql_errors_name_the_database_not_the_password(tmp_path):
    mapping = _mapping({"url": f"sqlite:///{tmp_path / 'empty.db'}",
                        "query": "SELECT * FROM nowhere"})
    with pytest.raises(io.RawFileError, match=r"empty\.db: query failed.*nowhere"):
        _clean(mapping, tmp_path)
    shown = sources.validate_mapping({"tables": {"order_lines": {
        **ORDER_LINES_SPEC, "url": "postgresql+psycopg://me:secret@127.0.0.1:1/db",
        "query": "SELECT 1"}}})
    with pytest.raises(io.RawFileError) as error:
        _clean(shown, tmp_path)
    assert "secret" not in str(error.value) and "***" in str(error.value)


def test_database_url_reads_environment_variables(monkeypatch, csv_dir):
    database = csv_dir / "shop.db"
    with sqlite3.connect(database) as connection:
        pd.DataFrame(ROWS, columns=HEADER).to_sql("invoice_lines", connection, index=False)
    monkeypatch.setenv("SHOP_DB", str(database))
    result = _clean(_mapping({"url": "sqlite:///${SHOP_DB}",
                                            "query": "SELECT * FROM invoice_lines"}), csv_dir)
    _check_hand_case(result)
    monkeypatch.delenv("SHOP_DB")
    with pytest.raises(sources.SourceMappingError, match=r"\$\{SHOP_DB\}, which is not set"):
        _clean(_mapping({"url": "sqlite:///${SHOP_DB}", "query": "SELECT 1"}),
                             csv_dir)


def test_mapping_errors_are_listed_together():
    bad = {"tables": {
        "order_lines": {"file": "x.csv", "columns": {"order_id": "Inv", "colour": "C",
                                                     "quantity": ["Qty", "Units"]},
                        "exclude": [{"column": "Qty", "below": "zero"}]},
        "surveys": {"file": "s.csv"},
        "complaints": {"query": "SELECT 1", "columns": {}},
    }}
    with pytest.raises(sources.SourceMappingError) as error:
        sources.validate_mapping(bad, origin="shop.yaml")
    message = str(error.value)
    for expected in ["tables.order_lines: 'colour' is not a column of the contract table",
                     "contract column(s) ['customer_id', 'order_date', 'product_id', "
                     "'category', 'region', 'unit_price'] are neither mapped",
                     "exclude[0]: 'below' must be a number",
                     "columns.quantity must name one source column, got ['Qty', 'Units']",
                     "tables.surveys: not a contract table",
                     "tables.complaints: a SQL source needs 'url'"]:
        assert expected in message, message
    with pytest.raises(sources.SourceMappingError, match="'order_lines' is not mapped"):
        sources.validate_mapping({"tables": {"customers": {"derive": "order_lines"}}})


def test_missing_source_column_names_file_and_columns(csv_dir):
    spec = {**ORDER_LINES_SPEC, "columns": {**ORDER_LINES_SPEC["columns"],
                                            "product_id": "Sku"}}
    mapping = sources.validate_mapping({"tables": {"order_lines": {"file": "lines.csv",
                                                                   **spec}}})
    with pytest.raises(io.RawFileError, match=r"lines\.csv: missing column\(s\) \['Sku'\] "
                                              r"\(named in the mapping of 'order_lines'\)"):
        _clean(mapping, csv_dir)


def test_excel_and_parquet_sources(csv_dir):
    frame = pd.DataFrame(ROWS, columns=HEADER)
    frame.to_excel(csv_dir / "lines.xlsx", index=False)
    frame.to_parquet(csv_dir / "lines.parquet", index=False)
    for name in ["lines.xlsx", "lines.parquet"]:
        _check_hand_case(_clean(_mapping({"file": name}), csv_dir))


# --- the built-in sample's files, read through its mapping --------------------------------------
BUILTIN = sources.load_mapping(sources.BUILTIN_MAPPING)


@pytest.fixture
def raw_copy(raw_dir, tmp_path):
    target = tmp_path / "raw"
    shutil.copytree(raw_dir, target)
    return target


def test_reads_every_source_as_strings_with_row_numbers(raw, builtin):
    assert set(raw) == {part.name for part in builtin.parts()}
    legacy = raw["orders_legacy"]
    assert legacy["_row"].tolist()[:3] == [1, 2, 3]
    assert legacy["AREA_CN"].isin(["东北", "西北", "东南", "西南", "华中", "都会"]).all()
    assert all(pd.api.types.is_string_dtype(legacy[c]) for c in legacy.columns if c != "_row")


def test_missing_file_is_named(raw_copy):
    (raw_copy / "complaints.csv").unlink()
    missing = r"complaints\.csv: raw source 'complaints' is missing"
    with pytest.raises(io.RawFileError, match=missing):
        reading.read_all(BUILTIN, raw_copy)


def test_missing_column_is_named(raw_copy):
    path = raw_copy / "referrals.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0].replace("referral_date", "date"), *lines[1:]]) + "\n")
    missing = r"referrals\.csv: missing column\(s\) \['referral_date'\]"
    with pytest.raises(io.RawFileError, match=missing):
        reading.read_all(BUILTIN, raw_copy)


def test_undecodable_file_names_the_encoding(raw_copy):
    (raw_copy / "orders_legacy.csv").write_bytes(b"BILL_NO;ITEM_SEQ\n\xff\xff;1\n")
    with pytest.raises(io.RawFileError, match="not readable as gbk"):
        reading.read_all(BUILTIN, raw_copy)


def test_optional_source_may_be_absent_but_required_ones_may_not(raw_copy):
    (raw_copy / "customer_id_map.csv").unlink()
    tables = reading.read_all(BUILTIN, raw_copy)
    assert tables["customer_id_map"].empty
    assert list(tables["customer_id_map"].columns) == ["_row", "legacy_customer_no",
                                                       "customer_id"]


def test_shipped_mapping_is_valid():
    mapping = sources.load_mapping("configs/sources/online_retail.yaml")
    assert set(mapping.tables) == {"order_lines", "customers"} and mapping.currency == "GBP"


# --- PostgreSQL, for real, when the server binaries are installed ----------------------------
def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    """A throw-away PostgreSQL server on loopback (as the 'postgres' user when we are root)."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL binaries (pg_ctl, initdb) not found: install Debian's "
                    "postgresql to run the PostgreSQL source test")
    prefix = []
    # not below pytest's private tmp folder: the server's user must be able to reach it
    folder = Path(tempfile.mkdtemp(prefix="loyalty-postgres-"))
    if os.geteuid() == 0:  # the server refuses to run as root
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    for command in [[str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "loyalty",
                     "--no-sync", "-E", "UTF8"],
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l",
                     str(folder / "server.log"), "-o",
                     f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"]]:
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{command[0]} failed: {done.stdout}{done.stderr}"
    try:
        yield f"postgresql+psycopg://loyalty@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                        "stop"], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_source_gives_the_same_tables(postgres_url, csv_dir):
    import sqlalchemy

    typed = pd.DataFrame(ROWS, columns=HEADER)
    typed["Quantity"] = typed["Quantity"].astype(int)
    typed["UnitPrice"] = typed["UnitPrice"].astype(float)
    typed["CustomerID"] = pd.to_numeric(typed["CustomerID"])  # a float column, as exported
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.begin() as connection:
        typed.to_sql("invoice_lines", connection, index=False, if_exists="replace")
    engine.dispose()
    result = _clean(_mapping({"url": postgres_url,
                                            "query": 'SELECT * FROM invoice_lines'}), csv_dir)
    _check_hand_case(result)


# --- partial data through the whole chain ------------------------------------------------------
@pytest.mark.slow
def test_partial_data_runs_with_the_missing_analyses_marked(cleaned, tmp_path):
    """Orders, customers, surveys and price changes from a database, nothing else: the
    attitude page runs without its referral, engagement and complaint parts; the price pages
    run without the market adjustment and say so."""
    from helpers import run

    (tmp_path / "raw").mkdir()
    database = tmp_path / "raw" / "shop.db"
    lines = cleaned.tables["order_lines_unrepaired"].query("source == 'current'")
    with sqlite3.connect(database) as connection:
        lines.drop(columns=["source", "is_estimated"]).to_sql("lines", connection, index=False)
        cleaned.tables["customers"].to_sql("crm", connection, index=False)
        cleaned.tables["survey_responses"].to_sql("answers", connection, index=False)
        cleaned.tables["price_changes"].to_sql("prices", connection, index=False)
    url = f"sqlite:///{database}"
    same = lambda names: {n: n for n in names}  # noqa: E731
    mapping = {"name": "partial", "tables": {
        "order_lines": {"url": url, "table": "lines", "columns": same(
            ["order_id", "line_no", "customer_id", "order_date", "product_id", "category",
             "region", "quantity", "unit_price", "list_price", "amount"])},
        "customers": {"url": url, "table": "crm", "columns": same(
            ["customer_id", "region", "city", "join_date", "channel"])},
        "survey_responses": {"url": url, "query": "SELECT * FROM answers", "columns": same(
            ["customer_id", "wave", "sent_date", "responded", "response_date",
             "recommend_score", "satisfaction", "quality_flag"])},
        "price_changes": {"url": url, "table": "prices", "columns": same(
            ["product_id", "region", "effective_date", "old_price", "new_price"])}}}
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    code, run_dir = run.run_chain(
        config_path=io.PACKAGE_ROOT / "configs" / "default.yaml",
        overrides=[f"clean_dir={tmp_path / 'clean'}", f"raw_dir={tmp_path / 'raw'}",
                   f"source_mapping={tmp_path / 'mapping.yaml'}"],
        notebooks_dir=io.PACKAGE_ROOT / "notebooks", reports_dir=tmp_path / "reports",
        log=lambda *a, **k: None)
    manifest = pd.read_json(run_dir / "manifest.json", typ="series")
    status = {nb["name"]: (nb["status"], nb["error"]) for nb in manifest["notebooks"]}
    assert code == 0, status
    assert {name: s for name, (s, _) in status.items()} == dict.fromkeys(status, "ok") | {
        "09_interventions": "not evaluated"}  # no campaign data in the database
    # no market index delivered: 02 builds one from the company's own prices, and 06 says so
    assert "an index of the company's own regular prices" in (
        run_dir / "06_price_sensitivity.html").read_text().replace("&#x27;", "'")
    assert "the market adjustment (no market price index)" not in (
        run_dir / "07_regional_regression.html").read_text()
    assert len(pd.read_parquet(tmp_path / "clean" / "derived_market_index.parquet"))
    assert not (tmp_path / "clean" / "derived_price_changes.parquet").exists()  # delivered
    attitude = (run_dir / "04_attitude.html").read_text()
    for left_out in ["actual referrals (no referral data)",
                     "complaint taxonomy and rates (no complaint data)"]:
        assert left_out in attitude
    for hidden in ["Do scores and actual referrals agree?", "Emotional connection",
                   "A small taxonomy"]:  # sections without data are not shown empty
        assert hidden not in attitude
    assert "Satisfaction and repeat purchase" in attitude
    survey = pd.read_parquet(tmp_path / "clean" / "survey_responses.parquet")
    assert len(survey) == len(cleaned.tables["survey_responses"])


@pytest.mark.slow
def test_attitude_without_surveys_reports_complaints_and_engagement(report_run, tmp_path):
    """Complaints and engagement but no survey: the attitude page runs on what there is, says
    what it cannot measure, and shows no empty survey section; the scorecard still runs."""
    import shutil

    from helpers import run

    clean = tmp_path / "clean"
    shutil.copytree(report_run["project"] / "data" / "clean", clean)
    (clean / "survey_scored.parquet").unlink()
    io.write_clean({"survey_responses": contract.empty("survey_responses"),
                    "referrals": contract.empty("referrals")}, clean)
    code, run_dir = run.run_chain(
        config_path=io.PACKAGE_ROOT / "configs" / "default.yaml",
        overrides=[f"clean_dir={clean}"], notebooks_dir=io.PACKAGE_ROOT / "notebooks",
        reports_dir=tmp_path / "reports", only=["04_attitude", "08_scorecard"],
        log=lambda *a, **k: None)
    manifest = pd.read_json(run_dir / "manifest.json", typ="series")
    status = {nb["name"]: (nb["status"], nb["error"]) for nb in manifest["notebooks"]}
    assert code == 0 and {n: s for n, (s, _) in status.items()} == dict.fromkeys(status, "ok")
    page = (run_dir / "04_attitude.html").read_text()
    assert "No survey data was delivered" in page and "times per 100 orders" in page
    assert "the likelihood to recommend, satisfaction, survey quality" in page  # not evaluated
    for shown in ["A small taxonomy", "Emotional connection", "could not be mapped to the"]:
        assert shown in page
    for hidden in ["Would customers recommend us?", "Satisfaction and repeat purchase",
                   "Survey quality", "Do scores and actual referrals agree?"]:
        assert hidden not in page
    assert not (clean / "survey_scored.parquet").exists()
    card = pd.read_parquet(clean / "scorecard.parquet")
    assert len(card) and card["loyalty_index"].notna().all()


# --- capabilities ----------------------------------------------------------------------------
def test_capabilities_follow_the_delivered_tables(tmp_path):
    io.write_clean({"customers": contract.empty("customers"),
                    "order_lines_unrepaired": contract.empty("order_lines_unrepaired")},
                   tmp_path)
    assert not capabilities.check("04_attitude", tmp_path).runnable
    assert "no survey" in capabilities.check("04_attitude", tmp_path).reason
    assert not capabilities.check("06_price_sensitivity", tmp_path).runnable
    assert not capabilities.check("07_regional_regression", tmp_path).runnable
    scorecard = capabilities.check("08_scorecard", tmp_path)
    assert scorecard.runnable and len(scorecard.not_evaluated) == 2
    with pytest.raises(capabilities.NotEvaluated, match="04_attitude: no survey"):
        capabilities.require("04_attitude", tmp_path)
    complaints = pd.DataFrame({"complaint_id": ["K1"], "customer_id": ["C1"],
                               "complaint_date": pd.to_datetime(["2024-01-01"]),
                               "raw_label": ["late"], "category": ["delivery"],
                               "severity": pd.array([1], dtype="Int64")})
    io.write_clean({"complaints": complaints}, tmp_path)
    attitude = capabilities.check("04_attitude", tmp_path)
    # complaints without a survey: the page runs, says what it cannot measure, hides the rest
    assert attitude.runnable
    assert attitude.not_evaluated[0].startswith("the likelihood to recommend, satisfaction")
    assert attitude.hidden_sections == ["survey_responses", "survey_answers", "referrals",
                                       "engagement"]
    io.remove_clean(tmp_path)
    referrals = pd.DataFrame({"referrer_id": ["C1"], "referred_customer_id": ["C2"],
                              "referral_date": pd.to_datetime(["2024-01-01"])})
    io.write_clean({"customers": contract.empty("customers"), "referrals": referrals,
                    "order_lines_unrepaired": contract.empty("order_lines_unrepaired")},
                   tmp_path)
    attitude = capabilities.check("04_attitude", tmp_path)
    assert not attitude.runnable and "only referrals" in attitude.reason
    changes = pd.DataFrame({"product_id": ["P1"], "region": ["North"],
                            "effective_date": pd.to_datetime(["2024-01-01"]),
                            "old_price": [10.0], "new_price": [11.0]})
    one_region = pd.DataFrame({"customer_id": ["C1"], "region": ["North"], "city": [""],
                               "join_date": pd.to_datetime(["2023-01-01"]), "channel": ["web"]})
    io.write_clean({"price_changes": changes, "customers": one_region}, tmp_path)
    assert capabilities.check("06_price_sensitivity", tmp_path).runnable
    # a single region gives one pooled elasticity (tests/test_regression.py)
    assert capabilities.check("07_regional_regression", tmp_path).runnable
    assert capabilities.check("05_retention", tmp_path).not_evaluated == [
        "complaints as a churn warning sign (no complaint data)",
        "survey answers as churn warning signs (no survey data)"]


def test_requirements_use_the_notebooks_parameters(tmp_path):
    """The churn model's need for history is declared once and follows the horizon: 15 months
    of orders are too few for a 6-month horizon (about 18 needed) but enough for 3 months."""
    days = pd.date_range("2023-10-01", "2024-12-31", freq="7D")
    lines = pd.DataFrame({"order_date": days})
    io.write_clean({"order_lines": lines}, tmp_path)
    six = capabilities.check("05_retention", tmp_path, {"horizon_months": 6})
    assert six.runnable and not six.evaluates("churn-model")
    assert any("about 18 months" in item for item in six.not_evaluated)
    three = capabilities.check("05_retention", tmp_path, {"horizon_months": 3,
                                                          "n_train_snapshots": 2,
                                                          "snapshot_spacing_months": 2})
    assert three.evaluates("churn-model")
    assert all(r.notebook[:2].isdigit() and r.scope in ("notebook", "section", "remark")
               and (r.section or r.scope != "section") for r in capabilities.REQUIREMENTS)


def test_cleaning_replaces_the_tables_of_an_earlier_run(tmp_path):
    io.write_clean({"complaints": contract.empty("complaints"), "notes": pd.DataFrame({"a": [1]})},
                   tmp_path)
    removed = io.remove_clean(tmp_path)
    assert [p.name for p in removed] == ["complaints.parquet"]
    assert (tmp_path / "notes.parquet").exists()  # not the workbook's: left alone


# --- the public Online Retail data -----------------------------------------------------------
def shared_data() -> Path:
    """../shared/data next to the repository, or LOYALTY_SHARED_DATA."""
    return Path(os.environ.get("LOYALTY_SHARED_DATA", io.PACKAGE_ROOT.parent / "shared" / "data"))


ONLINE_RETAIL = shared_data() / "online_retail" / "online_retail.csv.gz"
needs_online_retail = pytest.mark.skipif(
    not ONLINE_RETAIL.exists(),
    reason=f"{ONLINE_RETAIL} not found (set LOYALTY_SHARED_DATA to the shared data folder)")
# the README's list of non-product stock codes
NON_PRODUCT = {"POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK",
               "PADS", "B"}


@pytest.fixture(scope="module")
def online_retail():
    mapping = sources.load_mapping("configs/sources/online_retail.yaml")
    result = _clean(mapping, ONLINE_RETAIL.parent)
    raw = pd.read_csv(ONLINE_RETAIL, dtype=str, keep_default_na=False)
    return result, raw


@needs_online_retail
def test_online_retail_cleaning_counts_match_plain_pandas(online_retail):
    result, raw = online_retail
    # the dataset README's own counts
    assert len(raw) == 541_909
    assert (raw["CustomerID"] == "").sum() == 135_080
    assert raw.duplicated().sum() == 5_268
    # the mapping's rules, recomputed step by step
    rows = raw[~raw.duplicated()]
    non_product = rows["StockCode"].isin(NON_PRODUCT) | rows["StockCode"].str.startswith(
        "gift_0001_")
    rows = rows[~non_product]
    cancelled = rows["InvoiceNo"].str.startswith("C")
    adjustment = (pd.to_numeric(rows["Quantity"]) <= 0) & ~cancelled
    rows = rows[~adjustment]
    no_price = pd.to_numeric(rows["UnitPrice"]) <= 0
    rows = rows[~no_price]
    no_customer = rows["CustomerID"] == ""
    rows = rows[~no_customer]
    steps = result.quality_report.set_index("rule")["rows_affected"]
    mapping_rules = yaml.safe_load(Path(io.PACKAGE_ROOT / "configs" / "sources" /
                                        "online_retail.yaml").read_text())
    reasons = [rule["reason"] for rule in mapping_rules["tables"]["order_lines"]["exclude"]]
    assert [steps[r] for r in reasons] == [non_product.sum(), adjustment.sum(),
                                           no_price.sum(), no_customer.sum()]
    lines = result.tables["order_lines_unrepaired"]
    assert len(lines) == len(rows) and len(result.quarantine.query(
        "not reason.str.startswith('excluded')")) == 0
    assert lines["customer_id"].nunique() == rows["CustomerID"].nunique()
    assert len(result.tables["customers"]) == rows["CustomerID"].nunique()
    assert lines["order_id"].nunique() == rows["InvoiceNo"].nunique()
    revenue = (pd.to_numeric(rows["Quantity"]) * pd.to_numeric(rows["UnitPrice"])).sum()
    assert lines["amount"].sum() == pytest.approx(revenue, rel=1e-9)
    assert lines["is_return"].sum() == rows["InvoiceNo"].str.startswith("C").sum()
    print(f"\nOnline Retail: {len(lines):,} clean lines, {lines['customer_id'].nunique():,} "
          f"customers, {lines['order_id'].nunique():,} invoices, revenue {revenue:,.2f} GBP")


@pytest.fixture(scope="module")
def online_retail_run(tmp_path_factory) -> tuple[int, Path, Path]:
    """The shipped Online Retail configuration run end to end: (exit code, run folder, clean
    folder)."""
    from helpers import run

    folder = tmp_path_factory.mktemp("online-retail")
    code, run_dir = run.run_chain(
        config_path=io.PACKAGE_ROOT / "configs" / "online_retail.yaml",
        overrides=[f"clean_dir={folder / 'clean'}",
                   f"01_cleaning.raw_dir={ONLINE_RETAIL.parent}"],
        notebooks_dir=io.PACKAGE_ROOT / "notebooks", reports_dir=folder / "reports",
        log=lambda *a, **k: None)
    return code, run_dir, folder / "clean"


@needs_online_retail
@pytest.mark.slow
def test_online_retail_runs_the_whole_chain(online_retail_run):
    code, run_dir, clean_dir = online_retail_run
    assert code == 0
    manifest = pd.read_json(run_dir / "manifest.json", typ="series")
    status = {nb["name"]: nb["status"] for nb in manifest["notebooks"]}
    assert status == {"01_cleaning": "ok", "02_history_repair": "ok", "03_behaviour": "ok",
                      "04_attitude": "not evaluated", "05_retention": "ok",
                      "06_price_sensitivity": "ok",  # on price changes found in the lines
                      "07_regional_regression": "ok", "08_scorecard": "ok",
                      "09_interventions": "not evaluated"}
    index = (run_dir / "index.html").read_text()
    assert "2 reports not evaluated for lack of data" in index
    assert "no survey, referral, engagement or complaint data" in index
    assert "lasting price changes found in the order lines" in index
    scorecard = (run_dir / "08_scorecard.html").read_text()
    assert "from behaviour, retention and price only" in scorecard
    derived = pd.read_parquet(clean_dir / "derived_price_changes.parquet")
    assert len(derived) > 100 and (derived["origin"] == "derived").all()
    # 37 countries, most with a handful of products: the small ones share one slope
    elasticities = pd.read_parquet(clean_dir / "regional_elasticities.parquet")
    assert "other regions" in set(elasticities["region"]) and "United Kingdom" in set(
        elasticities["region"])
    uk = elasticities.set_index("region").loc["United Kingdom"]
    assert uk["ci_low"] < uk["elasticity"] < uk["ci_high"] < 0
    repair = (run_dir / "02_history_repair.html").read_text()
    assert "passed on as delivered" in repair and "One set of definitions" not in repair
    card = pd.read_parquet(clean_dir / "scorecard.parquet")
    assert "attitude_score" not in card and card["loyalty_index"].notna().all()
    # one year of orders: the churn model looks back over 6 months instead of 12
    risk = pd.read_parquet(clean_dir / "churn_risk.parquet")
    assert (risk["window_months"] == 6).all() and (risk["horizon_months"] == 3).all()
    retention_page = (run_dir / "05_retention.html").read_text()
    assert "looks back over 6 months of behaviour instead of 12" in retention_page
    # the executive summary quotes the run's own numbers, and compares nothing it cannot
    lines = pd.read_parquet(clean_dir / "order_lines.parquet")
    assert f"median {card['loyalty_index'].median():.0f} over {len(card):,} customers" in index
    assert "no comparison: the data do not cover the 12 months before" in index
    assert re.search(r"last 12 months: [\d,]+ GBP", index)  # the mapping's currency
    cleaning_page = (run_dir / "01_cleaning.html").read_text()
    assert f"{len(lines):,} order lines remain" in cleaning_page
    # the dashboard: no survey: that tile links to why
    from bs4 import BeautifulSoup

    from tests.test_dashboard import _tile_texts

    shown = _tile_texts(BeautifulSoup(index, "html.parser"))
    assert shown["recommendation"]["value"] == "not evaluated"
    assert shown["recommendation"]["links"][0] == "04_attitude.html"
    assert shown["churn_risk"]["value"] != "not evaluated"
    assert "no comparison: the history is too short" in shown["active_customers"]["text"]
    assert shown["revenue"]["value"].endswith(" GBP")


@needs_online_retail
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("name", ["index", "01_cleaning", "02_history_repair", "03_behaviour",
                                  "04_attitude", "05_retention", "06_price_sensitivity",
                                  "07_regional_regression", "08_scorecard",
                                  "09_interventions"])
def test_online_retail_pages_render(chromium, online_retail_run, tmp_path, name):  # noqa: F811
    from tests.test_browser import _images_decode, _rendered_dom

    dom = _rendered_dom(chromium, online_retail_run[1] / f"{name}.html", tmp_path)
    text = dom.get_text(" ", strip=True)
    assert "Traceback" not in text and "import " not in text
    assert dom.select(".jp-InputArea .jp-Editor") == []
    _images_decode(dom)
    if name == "04_attitude":
        assert "not evaluated" in text and "no survey" in text
    elif name == "09_interventions":  # no campaign data in the export
        assert "not evaluated" in text and "no interventions" in text
    elif name == "02_history_repair":  # nothing to repair: one sentence, no empty tables
        assert "passed on as delivered" in text and dom.find("table") is None
    elif name != "index":
        assert dom.find_all("img"), "no chart on the page"


# --- the mapping keys the built-in sample needs, open to every company -------------------------
def test_several_sources_of_one_table_are_stacked_with_their_own_rules(tmp_path):
    """A current system and a legacy export (its own columns, separator, encoding, day-first
    dates, money in cents, ids to rewrite): one order-line table; the legacy values stay as
    delivered for the history repair, a current line without a price is set aside."""
    pd.DataFrame({"Bill": ["7", "7", "8"], "Client": ["42", "42", "5"],
                  "Day": ["31/01/2023", "31/01/2023", "01/02/2023"], "Item": ["P1", "P2", "P1"],
                  "Region": ["东北", "NE", "Metro"], "Qty": ["2", "1", "-1"],
                  "Cents": ["1250", "", "1250"], "List": ["1250", "1300", "1250"],
                  "Total": ["2500", "", "1250"]}).to_csv(
        tmp_path / "old.csv", sep=";", index=False, encoding="gbk")
    pd.DataFrame({"order": ["S1", "S2"], "customer": ["C000042", "C000005"],
                  "date": ["2024-03-01", "2024-03-02"], "sku": ["P1", "P1"],
                  "region": ["north-east", "Metro"], "qty": ["1", "1"],
                  "price": ["13.5", ""]}).to_csv(tmp_path / "new.csv", index=False)
    common = {"defaults": {"category": "All products"}, "vocabulary": {"region": "regions"}}
    mapping = sources.validate_mapping({"tables": {"order_lines": [
        {"part": "new", "file": "new.csv", **common,
         "columns": {"order_id": "order", "customer_id": "customer", "order_date": "date",
                     "product_id": "sku", "region": "region", "quantity": "qty",
                     "unit_price": "price"}},
        {"part": "old", "file": "old.csv", "sep": ";", "encoding": "gbk", "system": "legacy",
         "date_format": "%d/%m/%Y", "money_scale": 0.01, **common,
         "id_format": {"order_id": "L{}", "customer_id": "C{:0>6}"},
         "columns": {"order_id": "Bill", "customer_id": "Client", "order_date": "Day",
                     "product_id": "Item", "region": "Region", "quantity": "Qty",
                     "unit_price": "Cents", "list_price": "List", "amount": "Total"}}]}})
    result = _clean(mapping, tmp_path)
    lines = result.tables["order_lines_unrepaired"]
    assert lines[["order_id", "customer_id", "region", "source", "quantity"]].values.tolist() == [
        ["L7", "C000042", "Northeast", "legacy", 2], ["L7", "C000042", "Northeast", "legacy", 1],
        ["L8", "C000005", "Metro", "legacy", -1], ["S1", "C000042", "Northeast", "current", 1]]
    assert lines["unit_price"].iloc[0] == 12.5 and np.isnan(lines["unit_price"].iloc[1])
    assert lines["amount"].iloc[0] == 25.0 and np.isnan(lines["amount"].iloc[1])  # as delivered
    assert lines["amount"].iloc[2] == 12.5  # a legacy return's wrong sign is left for 02
    quarantined = result.quarantine.set_index(["source", "row"])["reason"].to_dict()
    assert quarantined == {("new", 2): "invalid price"}
    steps = result.quality_report.set_index(["source", "rule"])["rows_affected"]
    assert steps[("old", "money units")] == 3 and steps[("old", "region spelling")] == 2
    assert steps[("new", "region spelling")] == 1
    assert result.sources.set_index("table").loc["order_lines", "origin"] == \
        "files new.csv + old.csv"


def test_survey_answers_from_their_own_source_are_joined_to_the_invitations(tmp_path):
    pd.DataFrame({"inv": ["I1", "I2", "I3"], "cust": ["17850", "17850", "12345"],
                  "sent": ["2011-01-02", "2011-02-02", "2011-02-02"]}).to_csv(
        tmp_path / "invitations.csv", index=False)
    pd.DataFrame({"inv": ["I1", "I1", "I9", "I3"], "nps": ["9", "3", "8", "12"],
                  "when": ["2011-01-05", "2011-01-06", "2011-01-07", "2011-02-03"]}).to_csv(
        tmp_path / "answers.csv", index=False)
    csv = _mapping({"file": "lines.csv"}, survey_responses={
        "file": "invitations.csv",
        "columns": {"invitation_id": "inv", "customer_id": "cust", "sent_date": "sent"},
        "answers": {"file": "answers.csv", "columns": {
            "invitation_id": "inv", "recommend_score": "nps", "response_date": "when"}}})
    pd.DataFrame(ROWS, columns=HEADER).to_csv(tmp_path / "lines.csv", index=False)
    result = _clean(csv, tmp_path)
    survey = result.tables["survey_responses"].set_index("invitation_id")
    assert survey["responded"].to_dict() == {"I1": True, "I2": False, "I3": True}
    assert survey.loc["I1", "recommend_score"] == 9 and pd.isna(survey.loc["I3",
                                                                          "recommend_score"])
    # no satisfaction question in this survey: a missing one is not off its scale
    assert survey["quality_flag"].to_dict() == {"I1": "ok", "I2": "no_response",
                                                "I3": "out_of_range"}
    reasons = result.quarantine.query("source == 'survey_answers'")["reason"].tolist()
    assert reasons == ["unknown invitation", "second answer"]


def test_a_patterned_key_and_a_key_given_twice_are_set_aside(builtin):
    raw = pd.DataFrame({"legacy_customer_no": ["42", "x7", "9", "9", ""],
                        "customer_id": ["C1", "C2", "C3", "C4", "C5"]})
    raw.insert(0, "_row", range(1, 6))
    out = cleaning.clean_other(builtin.part("customer_id_map"), raw)
    assert out.table.values.tolist() == [["C000042", "C1"]]
    reasons = pd.concat(out.quarantine).set_index("row")["reason"].to_dict()
    assert reasons == {5: "missing legacy_customer_id", 2: "invalid legacy_customer_id",
                       3: "ambiguous legacy number", 4: "ambiguous legacy number"}


def test_the_new_mapping_keys_are_checked_too():
    bad = {"tables": {
        "order_lines": [{**ORDER_LINES_SPEC, "file": "a.csv", "system": "old",
                         "id_format": {"order_id": "L", "customer_id": "C{x}"}},
                        {**ORDER_LINES_SPEC, "file": "b.csv",
                         "vocabulary": {"region": "planets"}}],
        "complaints": {"file": "c.csv", "answers": {"file": "d.csv"},
                       "columns": {"customer_id": "c", "complaint_date": "d", "raw_label": "l"}},
        "referrals": {"query": "SELECT 1", "url": "sqlite://", "optional": True,
                      "columns": {"referrer_id": "a", "referred_customer_id": "b",
                                  "referral_date": "c"}},
    }}
    with pytest.raises(sources.SourceMappingError) as error:
        sources.validate_mapping(bad, origin="shop.yaml")
    message = str(error.value)
    for expected in ["tables.order_lines[0]: name each of several sources with 'part'",
                     "tables.order_lines[0]: system is 'current' or 'legacy'",
                     "id_format.order_id: 'L' needs exactly one '{}' field",
                     "id_format.customer_id: 'C{x}' is not a format",
                     "vocabulary.region: unknown vocabulary 'planets'",
                     "tables.complaints: 'answers' (a mapping) applies to survey_responses only",
                     "tables.referrals: optional (true/false) applies to file sources"]:
        assert expected in message, message


def test_the_built_in_mapping_reads_every_file_the_sample_writes(builtin):
    written = set(sample.generate(sample.SampleParams.for_size("tiny", 1)).raw)
    assert written == {part.name for part in builtin.parts()}
    assert sources.is_builtin("") and sources.is_builtin(sources.BUILTIN_MAPPING)
    assert not sources.is_builtin("configs/sources/online_retail.yaml")


# --- a damaged file stops with a message that names it ------------------------------------------
def test_an_empty_file_names_itself(raw_copy):
    (raw_copy / "referrals.csv").write_bytes(b"")
    with pytest.raises(io.RawFileError, match=r"referrals\.csv: the file is empty \(not even a "
                                              r"header line\)"):
        reading.read_all(BUILTIN, raw_copy)


def test_a_row_with_too_many_fields_names_the_file_and_line(raw_copy):
    path = raw_copy / "referrals.csv"
    lines = path.read_text().splitlines()
    lines[5] += ",extra,fields"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(io.RawFileError, match=r"referrals\.csv: line 6 has 5 fields where the "
                                              r"header has 3"):
        reading.read_all(BUILTIN, raw_copy)


def test_order_lines_with_a_header_only_stop_the_run(raw_copy):
    path = raw_copy / "orders_current.csv"
    content = path.read_text()
    path.write_text(content.splitlines()[0] + "\n")
    with pytest.raises(io.RawFileError, match=r"orders_current\.csv: no rows below the header"):
        reading.read_all(BUILTIN, raw_copy)
    path.write_text(content)
    # another table with a header only is simply empty (not delivered)
    path = raw_copy / "customer_id_map.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    assert reading.read_all(BUILTIN, raw_copy)["customer_id_map"].empty


def test_a_wrong_separator_is_pointed_out(raw_copy):
    path = raw_copy / "referrals.csv"
    path.write_text(path.read_text().replace(",", ";"))
    with pytest.raises(io.RawFileError, match=r"referrals\.csv: missing column.*the header "
                                              r"line holds ';': is the separator ';'"):
        reading.read_all(BUILTIN, raw_copy)


def test_a_lookup_table_brings_the_category_and_region(tmp_path):
    """Order lines that name only the product and the store: products.csv gives the category,
    stores.csv the region. A product missing from the lookup leaves its line without a
    category (set aside as such, counted), a product listed twice keeps its first row."""
    pd.DataFrame({"InvoiceNo": ["1", "1", "2", "3"], "StockCode": ["A", "B", "A", "Z"],
                  "Store": ["S1", "S1", "S2", "S2"], "Quantity": ["1", "2", "1", "1"],
                  "InvoiceDate": ["2011-01-02 10:00:00"] * 4, "UnitPrice": ["1.5"] * 4,
                  "CustomerID": ["C1", "C1", "C2", "C2"]}).to_csv(tmp_path / "lines.csv",
                                                                  index=False)
    pd.DataFrame({"code": ["A", "B", "B"], "family": ["Vases", "Clocks", "Lamps"]}).to_csv(
        tmp_path / "products.csv", index=False)
    pd.DataFrame({"Store": ["S1", "S2"], "area": ["North", "South"]}).to_csv(
        tmp_path / "stores.csv", index=False)
    spec = {"columns": {"order_id": "InvoiceNo", "customer_id": "CustomerID",
                        "order_date": "InvoiceDate", "product_id": "StockCode",
                        "category": "family", "region": "area", "quantity": "Quantity",
                        "unit_price": "UnitPrice"},
            "date_format": "%Y-%m-%d %H:%M:%S", "file": "lines.csv",
            "lookups": [{"part": "products", "file": "products.csv", "on": "StockCode",
                         "key": "code", "columns": ["family"]},
                        {"part": "stores", "file": "stores.csv", "on": "Store",
                         "columns": ["area"]}]}
    mapping = sources.validate_mapping({"name": "lookups", "tables": {"order_lines": spec}})
    assert [p.name for p in mapping.parts()] == ["order_lines", "products", "stores"]
    result = _clean(mapping, tmp_path)
    lines = result.tables["order_lines_unrepaired"]
    assert lines["category"].tolist() == ["Vases", "Clocks", "Vases"]
    assert lines["region"].tolist() == ["North", "North", "South"]
    joined = result.quality_report[result.quality_report["rule"] == "lookup joined"]
    assert joined["rows_affected"].tolist() == [1, 0]  # Z is not in products.csv
    assert "1 keys listed twice" in joined["detail"].iloc[0]
    assert (result.quarantine["reason"] == "missing category").sum() == 1


def test_a_wrong_lookup_is_named():
    spec = {**ORDER_LINES_SPEC, "file": "x.csv", "lookups": [{"file": "p.csv",
                                                              "columns": "family"}]}
    with pytest.raises(sources.SourceMappingError) as error:
        sources.validate_mapping({"tables": {"order_lines": spec}})
    assert "'on' names this source's column" in str(error.value)
    assert "'columns' lists the lookup's columns" in str(error.value)
