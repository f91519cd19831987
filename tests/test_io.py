"""Raw-file reading errors, clean-table round trip, hashing and path resolution."""

import shutil

import pandas as pd
import pytest

from helpers import io


@pytest.fixture
def raw_copy(raw_dir, tmp_path):
    target = tmp_path / "raw"
    shutil.copytree(raw_dir, target)
    return target


def test_reads_every_source_as_strings_with_row_numbers(raw):
    assert set(raw) == set(io.RAW_FILES)
    legacy = raw["orders_legacy"]
    assert legacy["_row"].tolist()[:3] == [1, 2, 3]
    assert legacy["AREA_CN"].isin(["东北", "西北", "东南", "西南", "华中", "都会"]).all()
    assert all(pd.api.types.is_string_dtype(legacy[c]) for c in io.RAW_FILES[
        "orders_legacy"].columns)


def test_missing_file_is_named(raw_copy):
    (raw_copy / "complaints.csv").unlink()
    missing = r"complaints\.csv: raw source 'complaints' is missing"
    with pytest.raises(io.RawFileError, match=missing):
        io.read_raw(raw_copy)


def test_missing_column_is_named(raw_copy):
    path = raw_copy / "referrals.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0].replace("referral_date", "date"), *lines[1:]]) + "\n")
    missing = r"referrals\.csv: missing column\(s\) \['referral_date'\]"
    with pytest.raises(io.RawFileError, match=missing):
        io.read_raw(raw_copy)


def test_undecodable_file_names_the_encoding(raw_copy):
    (raw_copy / "orders_legacy.csv").write_bytes(b"BILL_NO;ITEM_SEQ\n\xff\xff;1\n")
    with pytest.raises(io.RawFileError, match="not readable as gbk"):
        io.read_raw(raw_copy)


def test_clean_round_trip_and_missing_table_message(tmp_path):
    table = pd.DataFrame({"a": ["x", "y"], "d": pd.to_datetime(["2024-01-01", "2024-02-29"])})
    io.write_clean({"t": table}, tmp_path)
    pd.testing.assert_frame_equal(io.read_clean("t", tmp_path), table)
    with pytest.raises(FileNotFoundError, match="run notebook 01_cleaning first"):
        io.read_clean("nope", tmp_path)
    with pytest.raises(FileNotFoundError, match="run notebook 02_history_repair first"):
        io.read_clean("repair_log", tmp_path)


def test_file_hashes_change_with_content(tmp_path):
    (tmp_path / "a.txt").write_text("1")
    before = io.file_hashes(tmp_path)
    assert list(before) == ["a.txt"] and len(before["a.txt"]) == 64
    (tmp_path / "a.txt").write_text("2")
    assert io.file_hashes(tmp_path) != before


def test_relative_paths_resolve_against_the_project_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("LOYALTY_PROJECT_DIR", str(tmp_path))
    assert io.resolve("data/raw") == tmp_path.resolve() / "data" / "raw"
    assert io.resolve("/abs/x") == io.Path("/abs/x")
    monkeypatch.delenv("LOYALTY_PROJECT_DIR")
    assert io.resolve("data") == io.PACKAGE_ROOT / "data"


def test_optional_source_may_be_absent_but_required_ones_may_not(raw_copy):
    (raw_copy / "customer_id_map.csv").unlink()
    tables = io.read_raw(raw_copy)
    assert tables["customer_id_map"].empty
    assert list(tables["customer_id_map"].columns) == ["_row", "legacy_customer_no",
                                                       "customer_id"]
