"""Paths, raw-file specifications, clean-table read/write and file hashes.

All file I/O of the workbook goes through here; stage modules stay pure.

Relative paths are resolved against the project folder: the repository root, or the folder named
by the environment variable ``LOYALTY_PROJECT_DIR`` when it is set (tests use it to run notebooks
against a throw-away copy of the data).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def project_dir() -> Path:
    """The folder relative paths are resolved against (``LOYALTY_PROJECT_DIR`` or the repo)."""
    override = os.environ.get("LOYALTY_PROJECT_DIR")
    return Path(override).resolve() if override else PACKAGE_ROOT


def resolve(path: str | Path) -> Path:
    """An absolute path: ``path`` itself if absolute, else relative to ``project_dir()``."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else project_dir() / path


@dataclass(frozen=True)
class RawFile:
    """How one raw source is delivered: file name, text encoding, field separator, columns."""

    filename: str
    encoding: str
    sep: str
    columns: tuple[str, ...]
    description: str
    required: bool = True  # an optional source that is absent reads as an empty table


RAW_FILES: dict[str, RawFile] = {
    "customers": RawFile(
        "customers.csv", "utf-8", ",",
        ("customer_id", "region", "city", "join_date", "channel"),
        "CRM export of customers (messy region, city and channel spellings)"),
    "orders_current": RawFile(
        "orders_current.csv", "utf-8", ",",
        ("order_id", "line_no", "customer_id", "order_date", "product_id", "category", "region",
         "quantity", "unit_price", "list_price", "amount", "line_type"),
        "current order system, one row per order line; returns are line_type='return'"),
    "orders_legacy": RawFile(
        "orders_legacy.csv", "gbk", ";",
        ("BILL_NO", "ITEM_SEQ", "CUST_NO", "BILL_DATE", "ITEM_CODE", "CATEGORY_CN", "AREA_CN",
         "QTY", "PRICE_FEN", "LIST_FEN", "AMOUNT_FEN"),
        "legacy order system export: GBK, ';', dd/mm/yyyy, amounts in fen, "
        "returns as negative QTY"),
    "price_changes": RawFile(
        "price_changes.csv", "utf-8", ",",
        ("product_id", "region", "effective_date", "old_price", "new_price"),
        "regional list-price changes"),
    "market_index": RawFile(
        "market_index.csv", "utf-8", ",",
        ("category", "region", "month", "index"),
        "market-wide price level per category, region and month (100 = Jan 2022)"),
    "survey_invitations": RawFile(
        "survey_invitations.csv", "utf-8", ",",
        ("invitation_id", "customer_id", "sent_date", "wave"),
        "survey invitations, one row per invitation"),
    "survey_responses": RawFile(
        "survey_responses.csv", "utf-8", ",",
        ("invitation_id", "response_date", "q_recommend", "q_satisfaction"),
        "survey answers: likelihood to recommend 0-10, satisfaction 1-5"),
    "referrals": RawFile(
        "referrals.csv", "utf-8", ",",
        ("referrer_id", "referred_customer_id", "referral_date"),
        "referral programme: who brought whom"),
    "engagement": RawFile(
        "engagement.csv", "utf-8", ",",
        ("customer_id", "event_date", "kind"),
        "marketing-tool events: follows, event attendance, newsletter clicks"),
    "complaints": RawFile(
        "complaints.csv", "utf-8", ",",
        ("complaint_id", "customer_id", "complaint_date", "label", "severity"),
        "complaint log with free-form labels and mixed severity notation"),
    "customer_id_map": RawFile(
        "customer_id_map.csv", "utf-8", ",",
        ("legacy_customer_no", "customer_id"),
        "CRM migration table: legacy member numbers of customers re-keyed in the CRM "
        "(optional: without a legacy system, leave it out)", required=False),
}


class RawFileError(ValueError):
    """A raw file is missing, undecodable or lacks required columns."""


def read_raw(raw_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read every raw source as delivered, all columns as strings (nothing parsed yet).

    Args:
        raw_dir: folder holding the files named in ``RAW_FILES``.

    Returns:
        Source name -> DataFrame with the file's columns as strings; empty cells are "" (so
        cleaning decides what missing means). A ``_row`` column holds the 1-based data row
        number in the file, for quarantine messages.

    Raises:
        RawFileError: naming the file and what is wrong (missing, wrong encoding, columns).
    """
    raw_dir = resolve(raw_dir)
    tables = {}
    for name, spec in RAW_FILES.items():
        path = raw_dir / spec.filename
        if not path.exists() and not spec.required:
            frame = pd.DataFrame({c: pd.Series(dtype="str") for c in spec.columns})
            frame.insert(0, "_row", pd.Series(dtype="int64"))
            tables[name] = frame
            continue
        if not path.exists():
            raise RawFileError(f"{path}: raw source '{name}' is missing ({spec.description})")
        try:
            frame = pd.read_csv(path, sep=spec.sep, encoding=spec.encoding, dtype=str,
                                keep_default_na=False)
        except UnicodeDecodeError as error:
            raise RawFileError(f"{path}: not readable as {spec.encoding} ({error})") from error
        missing = [c for c in spec.columns if c not in frame.columns]
        if missing:
            raise RawFileError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
        frame = frame.loc[:, list(spec.columns)]
        frame.insert(0, "_row", range(1, len(frame) + 1))
        tables[name] = frame
    return tables


def write_clean(tables: dict[str, pd.DataFrame], clean_dir: str | Path) -> dict[str, Path]:
    """Write each table to ``clean_dir/<name>.parquet``; returns the paths written."""
    clean_dir = resolve(clean_dir)
    clean_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in tables.items():
        path = clean_dir / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        paths[name] = path
    return paths


# which notebook writes which clean table (the rest come from 01_cleaning)
PRODUCED_BY = {"order_lines": "02_history_repair", "repair_log": "02_history_repair",
               "monthly_sales": "02_history_repair", "customer_value": "03_behaviour",
               "customer_segments": "03_behaviour", "survey_scored": "04_attitude",
               "churn_risk": "05_retention", "price_sensitivity": "06_price_sensitivity",
               "regional_elasticities": "07_regional_regression",
               "scorecard": "08_scorecard", "alerts": "08_scorecard"}


def read_clean(name: str, clean_dir: str | Path = "data/clean", *,
               optional: bool = False) -> pd.DataFrame | None:
    """Read one clean table; a clear error says which notebook produces it if it is missing.

    With ``optional=True`` a contract table the data did not deliver (e.g. no complaint data)
    reads as an empty table with the contract's columns, and a missing analysis output (of a
    notebook that was not evaluated) as None; ``helpers.capabilities`` says what that leaves
    out.
    """
    path = resolve(clean_dir) / f"{name}.parquet"
    if not path.exists() and optional:
        from helpers import contract

        return contract.empty(name) if name in contract.SCHEMAS else None
    if not path.exists():
        producer = PRODUCED_BY.get(name, "01_cleaning")
        raise FileNotFoundError(f"{path} not found: run notebook {producer} first")
    return pd.read_parquet(path)


def read_clean_tables(clean_dir: str | Path, *names: str) -> tuple[pd.DataFrame | None, ...]:
    """``read_clean(name, clean_dir, optional=True)`` for each name, in order: a notebook
    reads the tables it needs into variables named after them."""
    return tuple(read_clean(name, clean_dir, optional=True) for name in names)


def remove_clean(clean_dir: str | Path) -> list[Path]:
    """Delete the workbook's tables from ``clean_dir`` (before 01 writes a new set, so a table
    of an earlier run on other data can never be read as this run's); returns what was
    deleted. Only tables the workbook writes are touched."""
    from helpers import contract

    names = (set(contract.SCHEMAS) | set(PRODUCED_BY)
             | {"quality_report", "quarantine", "data_sources"})
    folder = resolve(clean_dir)
    removed = [folder / f"{name}.parquet" for name in sorted(names)
               if (folder / f"{name}.parquet").exists()]
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
