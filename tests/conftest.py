"""Fixtures: the session's small-sample workspace, its raw files, truth and cleaning result."""

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from helpers import cleaning, io, sources
from helpers.sources import reading


@pytest.fixture(scope="session")
def workspace(pytestconfig) -> Path:
    """Project folder (LOYALTY_PROJECT_DIR) holding data/raw and data/truth of the small sample."""
    return pytestconfig.loyalty_workspace


@pytest.fixture(scope="session")
def raw_dir(workspace) -> Path:
    return workspace / "data" / "raw"


@pytest.fixture(scope="session")
def truth(workspace) -> dict[str, pd.DataFrame]:
    folder = workspace / "data" / "truth"
    return {p.stem: pd.read_parquet(p) for p in folder.glob("*.parquet")}


@pytest.fixture(scope="session")
def builtin() -> sources.SourceMapping:
    """The built-in sample's source mapping (configs/sources/builtin.yaml)."""
    return sources.load_mapping(sources.BUILTIN_MAPPING)


@pytest.fixture(scope="session")
def raw(builtin, raw_dir) -> dict[str, pd.DataFrame]:
    """The small sample's raw sources as read, by part name."""
    return reading.read_all(builtin, raw_dir)


@pytest.fixture(scope="session")
def cleaned(builtin, raw) -> cleaning.CleaningResult:
    return cleaning.clean(builtin, raw)


def make_project(source_raw: Path, target: Path) -> Path:
    """A fresh project folder with a copy of the raw files (so runs never share outputs)."""
    import shutil

    shutil.copytree(source_raw, target / "data" / "raw")
    return target


def run_cli(args: list[str], project: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m helpers.run`` for ``project`` (as LOYALTY_PROJECT_DIR)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "LOYALTY_PROJECT_DIR": str(project)}
    return subprocess.run([sys.executable, "-m", "helpers.run", *args], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def report_run(raw_dir, tmp_path_factory) -> dict:
    """One real run of the default config on a copy of the small sample.

    Returns project, run_dir, the CLI result and the raw hashes taken before the run.
    """
    project = make_project(raw_dir, tmp_path_factory.mktemp("report-project"))
    before = io.file_hashes(project / "data" / "raw")
    done = run_cli([], project)
    latest = project / "reports" / "latest"
    return {"project": project, "result": done, "raw_before": before,
            "run_dir": latest.resolve() if latest.exists() else None}


def pick(tables: dict, *names: str) -> dict:
    """The named tables of ``tables``, to pass as keyword arguments (``**pick(...)``)."""
    return {name: tables[name] for name in names}


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> dict:
    """The default-size sample (about 20,000 customers) cleaned and repaired, with its truth:
    the issues' truth-recovery targets are stated on this sample. About 15 s."""
    from helpers import history
    from helpers.sample import write_sample

    folder = tmp_path_factory.mktemp("default-sample")
    write_sample(folder / "raw", folder / "truth", size="default")
    mapping = sources.load_mapping(sources.BUILTIN_MAPPING)
    cleaned = cleaning.clean(mapping, reading.read_all(mapping, folder / "raw"))
    result = history.repair_history(cleaned.tables["order_lines_unrepaired"],
                                    cleaned.tables["customer_id_map"])
    truth = {p.stem: pd.read_parquet(p) for p in (folder / "truth").glob("*.parquet")}
    tables = {**cleaned.tables, "order_lines": result.order_lines,
              "monthly_sales": result.monthly_sales}
    return {"cleaned": cleaned, "result": result, "truth": truth, "tables": tables}
