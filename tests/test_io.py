"""Clean-table round trip, hashing and path resolution."""

import pandas as pd
import pytest

from helpers import io


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
