"""The benchmark runs (at the tiny size: CI keeps it working; the sizes worth measuring are for
``make bench``), and its yardsticks compute the workbook's own per-customer figures."""

import json

import pandas as pd
import pytest

from helpers import behaviour, bench, io, run


@pytest.mark.slow
def test_bench_runs_and_writes_its_table_and_chart(tmp_path):
    assert bench.main(["--sizes", "tiny", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / "bench.csv")
    steps = set(frame["step"])
    assert {"generator", "whole run", "01_cleaning", "08_scorecard",
            "per-customer summary: DuckDB"} <= steps
    result = json.loads((tmp_path / "bench.json").read_text())[0]
    assert result["order_lines"] > 1000 and result["customers"] > 100
    assert len(result["notebooks"]) == len(run.discover_notebooks(io.PACKAGE_ROOT / "notebooks"))
    assert all(nb["kernel_peak_gib"] > 0.05 for nb in result["notebooks"])  # kernels measured
    assert result["chain_peak_gib"] >= max(nb["kernel_peak_gib"] for nb in result["notebooks"])
    assert result["chain_s"] > result["notebooks_wall_s"] > 0
    assert result["notebooks_s"] >= result["notebooks_wall_s"]  # side by side: counted once
    assert all(0 < nb["cells_s"] < nb["seconds"] for nb in result["notebooks"])
    assert any(nb["warm_kernel"] for nb in result["notebooks"])  # kernels warmed ahead
    assert all(nb["imports_s"] > 0 for nb in result["notebooks"])
    assert 0 < result["computing_s"] < result["chain_s"]
    assert 0 < bench.overhead_share(result) < 1
    assert (tmp_path / "bench.png").stat().st_size > 10_000

    lines = tmp_path / "work" / "tiny" / "data" / "clean" / "order_lines.parquet"
    workbook = behaviour.rfm_summary(pd.read_parquet(lines)).sort_index()
    for summary in (bench.pandas_summary(lines), bench.duckdb_summary(lines)):
        summary = summary.reindex(workbook.index)
        for column in ("frequency", "recency", "T"):
            assert summary[column].astype(float).to_numpy() == pytest.approx(
                workbook[column].to_numpy(float)), column


def test_busy_seconds_count_notebooks_running_side_by_side_once():
    spans = [{"started_s": 0.0, "duration_s": 10.0}, {"started_s": 5.0, "duration_s": 10.0},
             {"started_s": 20.0, "duration_s": 2.0}, {"started_s": 21.0, "duration_s": 0.5}]
    assert bench.busy_seconds(spans) == 17.0  # 0-15 and 20-22


def test_the_union_of_spans_counts_overlaps_once():
    assert bench.union_seconds([(0.0, 10.0), (5.0, 15.0), (20.0, 22.0), (21.0, 21.5)]) == 17.0
    assert bench.union_seconds([]) == 0.0
    assert bench.overhead_share({"chain_s": 40.0, "computing_s": 30.0}) == 0.25
