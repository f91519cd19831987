"""docs/tables.md describes every table a run writes, with exactly its columns."""

import re

import pandas as pd

from helpers import io


def _conditional() -> set[str]:
    """The tables docs/tables.md says are written only for some data."""
    text = (io.PACKAGE_ROOT / "docs" / "tables.md").read_text(encoding="utf-8")
    return set(re.findall(r"^### (\w+)\nWritten only when", text, flags=re.M))


def _documented() -> dict[str, set[str]]:
    """Table name -> the columns named in its section of docs/tables.md."""
    text = (io.PACKAGE_ROOT / "docs" / "tables.md").read_text(encoding="utf-8")
    tables: dict[str, set[str]] = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        name, body = section.split("\n", 1)
        rows = [line.split("|")[1] for line in body.splitlines() if line.startswith("| `")]
        tables[name.strip()] = {c for row in rows for c in re.findall(r"`([^`]+)`", row)}
    return tables


def test_every_written_table_and_column_is_documented(report_run):
    clean = report_run["project"] / "data" / "clean"
    written = {p.stem: set(pd.read_parquet(p).columns) for p in clean.glob("*.parquet")}
    documented = _documented()
    assert len(written) >= 20  # the run wrote its tables
    assert sorted(written) == sorted(set(documented) - _conditional())
    for name, columns in written.items():
        assert columns == documented[name], (name, sorted(columns ^ documented[name]))


def test_tables_written_only_for_some_data_are_documented_too(cleaned):
    """The price tables notebook 02 derives when none were delivered (the built-in sample
    delivers them, so the default run does not write them)."""
    from helpers import pricing

    lines = cleaned.tables["order_lines_unrepaired"].dropna(subset=["list_price"])
    derived = pricing.derive_missing(lines, cleaned.tables["price_changes"].iloc[:0],
                                     cleaned.tables["market_index"].iloc[:0]).outputs()
    documented = _documented()
    assert set(derived) == _conditional() == {"derived_price_changes", "derived_market_index"}
    for name, table in derived.items():
        assert len(table) and set(table.columns) == documented[name], name
