"""Reading a source's columns as contract columns: renamed, parsed as the contract's types
(dates in the source's formats, numbers and money units, ids with their ``id_format``,
``aliases`` and ``vocabulary`` spellings), defaults filled in; and the mapping's row rules."""

from __future__ import annotations

from typing import Any

import pandas as pd

from helpers import contract, frames, vocabulary
from helpers.cleaning.values import (
    ISO_DATE,
    normalise_ids,
    parse_dates,
    parse_numbers,
    parse_severity,
)
from helpers.sources import EXTRA_COLUMNS, TableSource

MONEY_COLUMNS = {"unit_price", "list_price", "amount", "old_price", "new_price"}
PRICE_COLUMNS = ("unit_price", "list_price", "amount")
DEFAULT_DATE_FORMATS = [ISO_DATE, "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d"]


def rule_matches(frame: pd.DataFrame, rule: dict[str, Any], test: str = "") -> pd.Series:
    """Rows of ``frame`` (string columns) matched by one exclude/returns rule (``test``: the
    rule's key to use instead of its own test, e.g. ``sales_pattern``)."""
    values = frame[rule["column"]].astype("str").str.strip()
    if test or "pattern" in rule:
        pattern = str(rule[test or "pattern"])
        return values.str.fullmatch(pattern).fillna(False).astype(bool)
    if "empty" in rule:
        return (values == "") == bool(rule["empty"])
    number = pd.to_numeric(values, errors="coerce")
    hit = number < rule["below"] if "below" in rule else number <= rule["at_most"]
    return hit.fillna(False).astype(bool)


def date_formats(spec: dict[str, Any], column: str) -> list[str]:
    """The date formats a source gives for ``column`` (tried in turn), else the defaults."""
    formats = spec.get("date_format") or DEFAULT_DATE_FORMATS
    if isinstance(formats, dict):
        formats = formats.get(column) or DEFAULT_DATE_FORMATS
    return [formats] if isinstance(formats, str) else list(formats)


def column_type(table: str, column: str) -> str:
    schema = contract.SCHEMAS[table].columns
    if column in schema:
        return str(schema[column].dtype)
    return EXTRA_COLUMNS.get(table, {}).get(column, "str")


def parse_column(table: str, column: str, values: pd.Series, spec: dict[str, Any]) -> pd.Series:
    """One column's delivered strings as the contract's type (unreadable values missing)."""
    dtype = column_type(table, column)
    if column == "severity":
        return parse_severity(values)
    if column in ("wave", "line_no"):  # numbers where most values are, else text labels
        text = values.astype("str").str.strip()
        number = pd.to_numeric(text, errors="coerce")
        whole = number.where(number % 1 == 0)  # 1.5 is no line number: missing, quarantined
        numbered = whole.notna().sum() > (text != "").sum() / 2  # a junk label among numbers
        return whole.astype("Int64") if column == "line_no" or numbered else text
    if dtype.startswith("datetime"):
        return parse_dates(values, date_formats(spec, column)).dt.normalize()
    if dtype.startswith(("float", "int", "Int")):
        number = parse_numbers(values)
        return number * float(spec.get("money_scale", 1)) if column in MONEY_COLUMNS else number
    if dtype == "bool":
        words = {"true": True, "t": True, "1": True, "yes": True, "y": True,
                 "false": False, "f": False, "0": False, "no": False, "n": False}
        return frames.map_unique(values.astype("str"),
                                 lambda value: words.get(value.strip().lower()), dtype=None)
    if column in (spec.get("vocabulary") or {}):
        aliases = vocabulary.VOCABULARIES[spec["vocabulary"][column]]
        return frames.map_unique(values.astype("str"),
                                 lambda spelling: aliases.get(vocabulary.key(spelling)))
    if column.endswith("_id"):
        ids = normalise_ids(values)
        template = (spec.get("id_format") or {}).get(column)
        if template:
            ids = frames.map_unique(ids, lambda v: template.format(v) if v else v)
        return ids
    return values.astype("str").str.strip()


def mapped_frame(source: TableSource, frame: pd.DataFrame) -> pd.DataFrame:
    """Contract-named columns (parsed) from a source frame, with defaults filled in."""
    spec = source.spec
    aliases = spec.get("aliases") or {}
    out = pd.DataFrame({"_row": frame["_row"]}, index=frame.index)
    for column, source_column in source.columns.items():
        values = frame[source_column]
        if column in aliases:
            lookup = {str(k).strip().lower(): v for k, v in aliases[column].items()}
            values = frames.map_unique(values.astype("str"), lambda value, lookup=lookup: (
                lookup.get(value.strip().lower(), value.strip())))
        out[column] = parse_column(source.table, column, values, spec)
    for column, value in source.defaults.items():
        out[column] = parse_column(source.table, column,
                                   pd.Series(str(value), index=frame.index), spec)
    if source.table == "complaints" and "complaint_id" not in out:  # the row number
        out["complaint_id"] = out["_row"].astype("str")
    return out


def delivered_text(source: TableSource, frame: pd.DataFrame, column: str) -> pd.Series:
    """What the source delivered for contract ``column`` (stripped; the default if given)."""
    if column in source.columns:
        return frame[source.columns[column]].astype("str").str.strip()
    return pd.Series(str(source.defaults.get(column, "")), index=frame.index)
