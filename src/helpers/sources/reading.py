"""Reading the sources a mapping names: files (CSV, Excel, parquet) and SQL databases, every
column as strings (nothing parsed yet: the cleaning decides what a value means) with ``_row``,
the 1-based data row number in the source, for the quarantine."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from helpers import io
from helpers.sources import SourceMapping, SourceMappingError, TableSource


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as strings, missing values as ''."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        text = column.astype("str")
        out[str(name)] = text.where(column.notna(), "")
    return pd.DataFrame(out, index=frame.index)


def _expand_env(url: str) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SourceMappingError(f"database url refers to ${{{name}}}, which is not set")
        return os.environ[name]

    return re.sub(r"\$\{(\w+)\}", value, url)


def shown_url(url: str) -> str:
    """A database URL without its password (for messages)."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def read_sql(url: str, query: str | None = None, table: str | None = None) -> pd.DataFrame:
    """Rows of a SQL query (or a whole table) over a SQLAlchemy database URL, as strings."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(_expand_env(url))
    try:
        with engine.connect() as connection:
            if query is None:
                query = f"SELECT * FROM {sqlalchemy.table(table).name}"
            frame = pd.read_sql(sqlalchemy.text(query), connection)
    except (sqlalchemy.exc.SQLAlchemyError, pd.errors.DatabaseError) as error:
        raise io.RawFileError(f"{shown_url(url)}: query failed: {error.__class__.__name__}: "
                              f"{str(error).splitlines()[0]}") from None
    finally:
        engine.dispose()
    return _as_strings(frame)


CUT_LAST_LINE = "cut_last_line"  # frame.attrs flag: the file ends inside its last line


def _last_line_cut(path: Path, encoding: str, sep: str, n_columns: int) -> bool:
    """True when the file does not end with a line break and its last line has fewer fields
    than the header: the export (or the copy) stopped in the middle of a line. (Short lines
    inside the file read as empty values, which the cleaning's value rules catch.)"""
    import csv

    with path.open("rb") as handle:
        handle.seek(max(path.stat().st_size - 65536, 0))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return False
    last = tail.splitlines()[-1].decode(encoding, errors="replace")
    fields = next(csv.reader([last], delimiter=sep), [])
    return len(fields) < n_columns


def _read_file(source: TableSource, path: Path) -> pd.DataFrame:
    spec = source.spec
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return _as_strings(pd.read_excel(path, sheet_name=spec.get("sheet", 0), dtype=str))
    if suffix == ".parquet":
        return _as_strings(pd.read_parquet(path))
    encoding = spec.get("encoding", "utf-8")
    compressed = ".gz" in "".join(path.suffixes[-2:]).lower() or suffix in (".zip", ".bz2",
                                                                              ".xz")
    options = {"sep": spec.get("sep", ","), "encoding": encoding, "dtype": str,
               "keep_default_na": False, "compression": "infer" if compressed else None}
    try:
        try:  # Arrow's reader: several times faster on millions of lines, the same frame
            frame = pd.read_csv(path, engine="pyarrow", **options)
        except Exception:  # anything it cannot read: pandas' own parser says which line
            frame = pd.read_csv(path, **options)
        if not compressed and len(frame) and _last_line_cut(path, encoding, spec.get("sep", ","),
                                                            len(frame.columns)):
            frame.attrs[CUT_LAST_LINE] = True
        return frame
    except UnicodeDecodeError as error:
        raise io.RawFileError(f"{path}: not readable as {encoding} ({error})") from None
    except pd.errors.EmptyDataError:
        raise io.RawFileError(f"{path}: the file is empty (not even a header line): raw "
                              f"source '{source.name}' of the table '{source.table}'") from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found is None:
            raise io.RawFileError(f"{path}: not readable as a '{spec.get('sep', ',')}'-"
                                  f"separated file ({str(error).strip()})") from None
        expected, line, saw = found.groups()
        raise io.RawFileError(f"{path}: line {line} has {saw} fields where the header has "
                              f"{expected} (a separator inside an unquoted value, or two lines "
                              "run together?); fix that line and run again") from None


def read_source(source: TableSource, raw_dir: str | Path) -> pd.DataFrame:
    """The rows one source delivers: its columns as strings plus ``_row`` (1-based).

    An absent file of an ``optional`` source reads as no rows.

    Raises:
        io.RawFileError: the file is missing or unreadable, or lacks a column the mapping uses
            (the message names the file, the missing columns and the columns found).
    """
    spec = source.spec
    if "file" in spec:
        path = io.resolve(raw_dir) / str(spec["file"])
        where = str(path)
        if not path.exists() and spec.get("optional"):
            frame = pd.DataFrame({c: pd.Series(dtype="str") for c in source.source_columns()})
        elif not path.exists():
            about = f"; {spec['description']}" if spec.get("description") else ""
            raise io.RawFileError(f"{path}: raw source '{source.name}' is missing (a source "
                                  f"of the table '{source.table}'{about})")
        else:
            frame = _read_file(source, path)
    else:
        where = shown_url(str(spec["url"]))
        frame = read_sql(str(spec["url"]), spec.get("query"), spec.get("table"))
    missing = [c for c in source.source_columns() if c not in frame.columns]
    if missing:
        header = " ".join(map(str, frame.columns))
        other = [sep for sep in (";", ",", "\t", "|") if sep in header and sep != spec.get(
            "sep", ",")]
        hint = (f" (the header line holds {other[0]!r}: is the separator {other[0]!r}? Set "
                f"'sep' in the mapping)") if other else ""
        raise io.RawFileError(f"{where}: missing column(s) {missing} (named in the mapping of "
                              f"'{source.table}'); found {list(frame.columns)}{hint}")
    if source.table == "order_lines" and frame.empty:
        raise io.RawFileError(f"{where}: no rows below the header: the order lines of "
                              f"'{source.name}' are required (every report rests on them)")
    if source.table == "customers" and frame.empty and not spec.get("optional"):
        raise io.RawFileError(f"{where}: no rows below the header: the customer file "
                              f"'{source.name}' was delivered empty, so every order would "
                              "belong to an unknown customer (without a customer file, leave "
                              "it out of the mapping: customers are then derived from the "
                              "order lines)")
    cut = frame.attrs.get(CUT_LAST_LINE, False)
    frame = frame.reset_index(drop=True)
    frame.insert(0, "_row", range(1, len(frame) + 1))
    frame.attrs[CUT_LAST_LINE] = cut
    return frame


def read_all(mapping: SourceMapping, raw_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Every source of ``mapping`` read (``read_source``), by its part name."""
    return {source.name: read_source(source, raw_dir) for source in mapping.parts()}
