"""Paths, clean-table read/write and file hashes (raw sources are read by ``sources.reading``).

All file I/O of the workbook goes through here; stage modules stay pure.

Relative paths are resolved against the project folder: the repository root, or the folder named
by the environment variable ``LOYALTY_PROJECT_DIR`` when it is set (tests use it to run notebooks
against a throw-away copy of the data).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd

from helpers import contract

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def project_dir() -> Path:
    """The folder relative paths are resolved against (``LOYALTY_PROJECT_DIR`` or the repo)."""
    override = os.environ.get("LOYALTY_PROJECT_DIR")
    return Path(override).resolve() if override else PACKAGE_ROOT


def resolve(path: str | Path) -> Path:
    """An absolute path: ``path`` itself if absolute, else relative to ``project_dir()``."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else project_dir() / path


class RawFileError(ValueError):
    """A raw source is missing, undecodable or lacks required columns; the message names it."""


def write_clean(tables: dict[str, pd.DataFrame], clean_dir: str | Path) -> dict[str, Path]:
    """Write each table to ``clean_dir/<name>.parquet``; returns the paths written.

    Each file is written beside its target under a hidden name and then renamed over it, so a
    reader never sees a half-written table, a process killed while writing leaves the old one,
    and a table hard-linked from elsewhere (``publishing.stage``) is replaced, never changed.
    """
    clean_dir = resolve(clean_dir)
    clean_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in tables.items():
        path = clean_dir / f"{name}.parquet"
        temporary = clean_dir / f".{name}.parquet.tmp-{os.getpid()}"
        try:
            frame.to_parquet(temporary, index=False)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        paths[name] = path
    return paths


# which notebook writes which clean table (the rest come from 01_cleaning)
PRODUCED_BY = {"order_lines": "02_history_repair", "repair_log": "02_history_repair",
               "monthly_sales": "02_history_repair", "derived_price_changes": "02_history_repair",
               "derived_market_index": "02_history_repair", "customer_value": "03_behaviour",
               "customer_segments": "03_behaviour", "survey_scored": "04_attitude",
               "survey_drivers": "04_attitude",
               "churn_risk": "05_retention", "price_sensitivity": "06_price_sensitivity",
               "regional_elasticities": "07_regional_regression",
               "scorecard": "08_scorecard", "alerts": "08_scorecard",
               "dashboard": "08_scorecard", "dashboard_trends": "08_scorecard",
               "dashboard_tiers": "08_scorecard", "intervention_effects": "09_interventions",
               "intervention_subgroups": "09_interventions"}


def read_clean(name: str, clean_dir: str | Path = "data/clean", *,
               optional: bool = False, columns: list[str] | None = None) -> pd.DataFrame | None:
    """Read one clean table; a clear error says which notebook produces it if it is missing.

    With ``optional=True`` a contract table the data did not deliver (e.g. no complaint data)
    reads as an empty table with the contract's columns, and a missing analysis output (of a
    notebook that was not evaluated) as None; ``helpers.capabilities`` says what that leaves
    out. ``columns``: read only these (a notebook that needs a few columns of ten million
    order lines holds a fraction of them).
    """
    path = resolve(clean_dir) / f"{name}.parquet"
    if not path.exists() and optional:
        if name not in contract.SCHEMAS:
            return None
        empty = contract.empty(name)
        return empty if columns is None else empty[list(columns)]
    if not path.exists():
        producer = PRODUCED_BY.get(name, "01_cleaning")
        raise FileNotFoundError(f"{path} not found: run notebook {producer} first")
    return pd.read_parquet(path, columns=None if columns is None else list(columns))


def read_clean_tables(clean_dir: str | Path, *names: str,
                      columns: dict[str, list[str]] | None = None
                      ) -> tuple[pd.DataFrame | None, ...]:
    """``read_clean(name, clean_dir, optional=True)`` for each name, in order: a notebook
    reads the tables it needs into variables named after them (``columns``: table -> the
    columns to read of it; the others whole)."""
    columns = columns or {}
    return tuple(read_clean(name, clean_dir, optional=True, columns=columns.get(name))
                 for name in names)


def workbook_table_files() -> list[str]:
    """The file names of every table the workbook writes into a clean folder."""
    names = (set(contract.SCHEMAS) | set(PRODUCED_BY)
             | {"quality_report", "quarantine", "data_sources"})
    return [f"{name}.parquet" for name in sorted(names)]


def remove_clean(clean_dir: str | Path) -> list[Path]:
    """Delete the workbook's tables from ``clean_dir`` (before 01 writes a new set, so a table
    of an earlier run on other data can never be read as this run's); returns what was
    deleted. Only tables the workbook writes are touched."""
    folder = resolve(clean_dir)
    removed = [folder / name for name in workbook_table_files() if (folder / name).exists()]
    for path in removed:
        path.unlink()
    return removed


def file_hashes(folder: str | Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` (relative path -> hex digest), sorted by path."""
    folder = resolve(folder)
    hashes = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        hashes[str(path.relative_to(folder))] = digest.hexdigest()
    return hashes


def file_states(folder: str | Path) -> dict[str, tuple[int, int]]:
    """Size and modification time (ns) of every file below ``folder`` (relative path ->
    state): a cheap first look for a change, before ``file_hashes`` reads every byte."""
    folder = resolve(folder)
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in sorted(p for p in folder.rglob("*") if p.is_file())}


def unchanged(folder: str | Path, states: dict[str, tuple[int, int]],
              hashes: dict[str, str]) -> bool:
    """True when the files below ``folder`` are still those of ``hashes``: their sizes and
    modification times equal ``states`` (nothing was written), or, when they do not, their
    contents hash the same (a file touched but not changed)."""
    return file_states(folder) == states or file_hashes(folder) == hashes
