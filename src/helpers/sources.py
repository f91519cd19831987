"""Bring your own data: a source mapping (YAML) turns a company's files or database tables into the
clean contract tables, with the same bookkeeping as the built-in cleaning (quality report rows,
quarantined rows with their reasons, exclusions counted).

A mapping names, for each contract table, where it comes from and how its columns map::

    name: Online Retail (UCI)
    currency: GBP
    tables:
      order_lines:                      # required
        file: online_retail.csv.gz      # relative to the raw_dir parameter; csv, xlsx, parquet
        columns: {order_id: InvoiceNo, customer_id: CustomerID, order_date: InvoiceDate, ...}
        defaults: {category: All products}      # contract columns the source lacks
        date_format: "%Y-%m-%d %H:%M:%S"
        returns: {column: InvoiceNo, pattern: "C.*"}
        exclude:
          - {reason: postage and fees, column: StockCode, pattern: "POST|DOT"}
      customers: {derive: order_lines}  # no customer file: one row per customer from the orders
      complaints:
        url: sqlite:///crm.db           # or postgresql://user@host/db; ${VAR} is expanded
        query: SELECT id, customer, opened, label FROM complaints

Tables left out are "not delivered": the notebooks that need them say so in the report instead of
inventing numbers (``helpers.capabilities``). ``validate_mapping`` checks a mapping before anything
is read and lists every problem at once; ``clean_mapped`` reads and cleans.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from helpers import cleaning, contract, io

MAPPABLE_TABLES = ("order_lines", "customers", "price_changes", "market_index",
                   "survey_responses", "referrals", "engagement", "complaints")
# contract columns the mapping may leave out, because cleaning derives them
DERIVED_COLUMNS: dict[str, dict[str, str]] = {
    "order_lines": {
        "line_no": "numbered within the order in file order",
        "list_price": "the unit price (no list prices delivered: discounts are not measurable)",
        "amount": "quantity x unit price",
        "is_return": "the `returns` rule, else a negative quantity",
        "source": "'current'", "is_estimated": "False"},
    "customers": {"city": "'' (unknown)", "channel": "'unknown'",
                  "join_date": "the customer's first order date"},
    "survey_responses": {"responded": "an answer (score or response date) is present",
                         "response_date": "missing", "satisfaction": "missing",
                         "recommend_score": "missing", "quality_flag": "from the scores"},
    "complaints": {"complaint_id": "the row number", "category": "keyword rules on raw_label",
                   "severity": "missing"},
}
# optional columns beyond the contract that later notebooks use when present
EXTRA_COLUMNS: dict[str, dict[str, str]] = {
    "order_lines": {"line_no": "int"},
    "survey_responses": {"invitation_id": "id", "wave": "text"},
}
MONEY_COLUMNS = {"unit_price", "list_price", "amount", "old_price", "new_price"}
SOURCE_KEYS = {"file", "url", "query", "table", "derive"}
TABLE_KEYS = SOURCE_KEYS | {"columns", "defaults", "date_format", "encoding", "sep", "sheet",
                            "exclude", "returns", "aliases", "money_scale"}
RULE_KEYS = {"reason", "column", "pattern", "empty", "below", "at_most", "applies_to"}
DEFAULT_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d"]


class SourceMappingError(ValueError):
    """The mapping file is invalid, or a source lacks a mapped column; the message lists all."""


@dataclass(frozen=True)
class TableSource:
    """Where one contract table comes from and how its columns map (one ``tables`` entry)."""

    table: str
    spec: dict[str, Any]

    @property
    def columns(self) -> dict[str, str]:
        return dict(self.spec.get("columns") or {})

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.spec.get("defaults") or {})

    def describe(self) -> str:
        """Where the rows come from, in a few words ('file x.csv', 'SQL query on sqlite')."""
        if "derive" in self.spec:
            return f"derived from {self.spec['derive']}"
        if "file" in self.spec:
            return f"file {self.spec['file']}"
        dialect = str(self.spec.get("url", "")).split(":", 1)[0].split("+", 1)[0]
        what = "query" if "query" in self.spec else f"table {self.spec.get('table')}"
        return f"SQL {what} ({dialect})"

    def source_columns(self) -> list[str]:
        """Every column of the source the mapping refers to."""
        used = list(self.columns.values())
        used += [rule["column"] for rule in self.spec.get("exclude") or []]
        if self.spec.get("returns"):
            used.append(self.spec["returns"]["column"])
        return list(dict.fromkeys(used))


@dataclass(frozen=True)
class SourceMapping:
    """A validated mapping: display name, currency label and one ``TableSource`` per table."""

    name: str
    currency: str
    tables: dict[str, TableSource] = field(default_factory=dict)
    path: Path | None = None


# --------------------------------------------------------------------------------------------
# the mapping file
def _rule_problems(where: str, rule: Any) -> list[str]:
    if not isinstance(rule, dict):
        return [f"{where}: expected a mapping like {{reason: ..., column: ..., pattern: ...}}"]
    problems = [f"{where}: unknown key '{k}' (allowed: {', '.join(sorted(RULE_KEYS))})"
                for k in rule if k not in RULE_KEYS]
    if "column" not in rule:
        problems.append(f"{where}: 'column' is required")
    tests = [k for k in ("pattern", "empty", "below", "at_most") if k in rule]
    if len(tests) != 1:
        problems.append(f"{where}: give exactly one of pattern, empty, below, at_most")
    for key in ("below", "at_most"):
        if key in rule and not isinstance(rule[key], int | float):
            problems.append(f"{where}: '{key}' must be a number, got {rule[key]!r}")
    if "pattern" in rule:
        try:
            re.compile(str(rule["pattern"]))
        except re.error as error:
            problems.append(f"{where}: pattern {rule['pattern']!r} is not a regex ({error})")
    if rule.get("applies_to", "all") not in ("all", "sales", "returns"):
        problems.append(f"{where}: applies_to must be all, sales or returns")
    return problems


def validate_mapping(raw: Any, origin: str = "mapping") -> SourceMapping:
    """Check a parsed mapping and return it as a ``SourceMapping``.

    Raises:
        SourceMappingError: listing every problem (unknown table or column, missing required
            table or column, a default of the wrong type, a bad rule), each prefixed with
            ``origin`` and the table.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), dict):
        raise SourceMappingError(f"{origin}: expected a mapping with a 'tables' section")
    problems = [f"{origin}: unknown key '{k}' (allowed: name, currency, tables)"
                for k in raw if k not in ("name", "currency", "tables")]
    tables = raw["tables"]
    if "order_lines" not in tables:
        problems.append(f"{origin}: the required table 'order_lines' is not mapped")
    sources = {}
    for table, spec in tables.items():
        where = f"{origin}: tables.{table}"
        if table not in MAPPABLE_TABLES:
            problems.append(f"{where}: not a contract table (mappable: "
                            f"{', '.join(MAPPABLE_TABLES)})")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        problems += [f"{where}: unknown key '{k}' (allowed: {', '.join(sorted(TABLE_KEYS))})"
                     for k in spec if k not in TABLE_KEYS]
        given = [k for k in ("file", "query", "table", "derive") if k in spec]
        if len(given) != 1:
            problems.append(f"{where}: give exactly one of file, query, table (SQL) or derive")
        if ("query" in spec or "table" in spec) and "url" not in spec:
            problems.append(f"{where}: a SQL source needs 'url' (e.g. sqlite:///path.db)")
        if "derive" in spec:
            if table != "customers" or spec["derive"] != "order_lines":
                problems.append(f"{where}: only 'customers: {{derive: order_lines}}' is supported")
            sources[table] = TableSource(table, spec)
            continue
        schema_columns = contract.SCHEMAS[table].columns
        columns = spec.get("columns") or {}
        defaults = spec.get("defaults") or {}
        if not isinstance(columns, dict) or not isinstance(defaults, dict):
            problems.append(f"{where}: 'columns' and 'defaults' must be mappings")
            continue
        extra = set(EXTRA_COLUMNS.get(table, {}))
        for name in [*columns, *defaults]:
            if name not in schema_columns and name not in extra:
                problems.append(f"{where}: '{name}' is not a column of the contract table "
                                f"(columns: {', '.join(schema_columns)})")
        problems += [f"{where}: columns.{name} must name one source column, got {value!r}"
                     for name, value in columns.items() if not isinstance(value, str)]
        both = sorted(set(columns) & set(defaults))
        if both:
            problems.append(f"{where}: {both} given both as a source column and a default")
        derivable = DERIVED_COLUMNS.get(table, {})
        missing = [c for c in schema_columns
                   if c not in columns and c not in defaults and c not in derivable]
        if missing:
            problems.append(f"{where}: contract column(s) {missing} are neither mapped to a "
                            "source column nor given a default")
        for name, value in defaults.items():
            dtype = str(schema_columns[name].dtype) if name in schema_columns else "str"
            if dtype.startswith(("float", "int", "Int")) and not isinstance(value, int | float):
                problems.append(f"{where}: default for '{name}' must be a number, got {value!r}")
        for k, rule in enumerate(spec.get("exclude") or []):
            problems += _rule_problems(f"{where}.exclude[{k}]", rule)
        if "returns" in spec:
            if table != "order_lines":
                problems.append(f"{where}: 'returns' applies to order_lines only")
            else:
                problems += _rule_problems(f"{where}.returns", spec["returns"])
        aliases = spec.get("aliases") or {}
        if not isinstance(aliases, dict) or any(not isinstance(v, dict) for v in aliases.values()):
            problems.append(f"{where}: 'aliases' maps a contract column to {{spelling: name}}")
        if not isinstance(spec.get("money_scale", 1), int | float):
            problems.append(f"{where}: money_scale must be a number (0.01 for cents)")
        sources[table] = TableSource(table, spec)
    if problems:
        raise SourceMappingError("invalid source mapping:\n  " + "\n  ".join(problems))
    return SourceMapping(name=str(raw.get("name", origin)), currency=str(raw.get("currency", "")),
                         tables=sources)


def load_mapping(path: str | Path) -> SourceMapping:
    """Read and validate a mapping YAML file. A relative path is looked up in the project
    folder, then in the workbook's own folder (the mappings shipped in configs/sources)."""
    shipped = io.PACKAGE_ROOT / Path(path)
    path = io.resolve(path)
    if not path.exists() and shipped.exists():
        path = shipped
    if not path.exists():
        raise SourceMappingError(f"{path}: source mapping file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SourceMappingError(f"{path}: not valid YAML ({error})") from None
    mapping = validate_mapping(raw, origin=str(path))
    return SourceMapping(mapping.name, mapping.currency, mapping.tables, path)


# --------------------------------------------------------------------------------------------
# reading
def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as strings, missing values as '' (what ``io.read_raw`` delivers)."""
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
        shown = re.sub(r"//[^@/]*@", "//***@", url)
        raise io.RawFileError(f"{shown}: query failed: {error.__class__.__name__}: "
                              f"{str(error).splitlines()[0]}") from None
    finally:
        engine.dispose()
    return _as_strings(frame)


def read_source(source: TableSource, raw_dir: str | Path) -> pd.DataFrame:
    """The rows one table source delivers: its columns as strings plus ``_row`` (1-based).

    Raises:
        io.RawFileError: the file is missing or unreadable, or lacks a column the mapping uses
            (the message names the file, the missing columns and the columns found).
    """
    spec = source.spec
    if "file" in spec:
        path = io.resolve(raw_dir) / str(spec["file"])
        where = str(path)
        if not path.exists():
            raise io.RawFileError(f"{path}: source file of '{source.table}' is missing")
        suffixes = "".join(path.suffixes[-2:]).lower()
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            frame = _as_strings(pd.read_excel(path, sheet_name=spec.get("sheet", 0), dtype=str))
        elif path.suffix.lower() == ".parquet":
            frame = _as_strings(pd.read_parquet(path))
        else:
            encoding = spec.get("encoding", "utf-8")
            try:
                frame = pd.read_csv(path, sep=spec.get("sep", ","), encoding=encoding, dtype=str,
                                    keep_default_na=False,
                                    compression="infer" if ".gz" in suffixes or
                                    path.suffix in (".zip", ".bz2", ".xz") else None)
            except UnicodeDecodeError as error:
                raise io.RawFileError(f"{path}: not readable as {encoding} ({error})") from None
    else:
        where = re.sub(r"//[^@/]*@", "//***@", str(spec["url"]))
        frame = read_sql(str(spec["url"]), spec.get("query"), spec.get("table"))
    missing = [c for c in source.source_columns() if c not in frame.columns]
    if missing:
        raise io.RawFileError(f"{where}: column(s) {missing} named in the mapping of "
                              f"'{source.table}' are not in the source; "
                              f"found {list(frame.columns)}")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "_row", range(1, len(frame) + 1))
    return frame


# --------------------------------------------------------------------------------------------
# cleaning
def rule_matches(frame: pd.DataFrame, rule: dict[str, Any]) -> pd.Series:
    """Rows of ``frame`` (string columns) matched by one exclude/returns rule."""
    values = frame[rule["column"]].astype("str").str.strip()
    if "pattern" in rule:
        return values.str.fullmatch(str(rule["pattern"])).fillna(False).astype(bool)
    if "empty" in rule:
        return (values == "") == bool(rule["empty"])
    number = pd.to_numeric(values, errors="coerce")
    hit = number < rule["below"] if "below" in rule else number <= rule["at_most"]
    return hit.fillna(False).astype(bool)


def normalise_ids(values: pd.Series) -> pd.Series:
    """Ids trimmed; ids exported as numbers ('17850.0') written as integers ('17850')."""
    text = values.astype("str").str.strip()
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def _parse(table: str, column: str, values: pd.Series, spec: dict[str, Any]) -> pd.Series:
    dtype = str(contract.SCHEMAS[table].columns[column].dtype) if column in \
        contract.SCHEMAS[table].columns else "str"
    if dtype.startswith("datetime"):
        formats = spec.get("date_format") or DEFAULT_DATE_FORMATS
        if isinstance(formats, dict):
            formats = formats.get(column) or DEFAULT_DATE_FORMATS
        formats = [formats] if isinstance(formats, str) else list(formats)
        return cleaning.parse_dates(values, formats).dt.normalize()
    if dtype.startswith(("float", "int", "Int")):
        number = cleaning.parse_numbers(values)
        if column in MONEY_COLUMNS:
            number = number * float(spec.get("money_scale", 1))
        return number
    if dtype == "bool":
        lower = values.astype("str").str.strip().str.lower()
        return lower.map({"true": True, "t": True, "1": True, "yes": True, "y": True,
                          "false": False, "f": False, "0": False, "no": False, "n": False})
    if column.endswith("_id") or column == "referrer_id":
        return normalise_ids(values)
    return values.astype("str").str.strip()


def _mapped_frame(source: TableSource, frame: pd.DataFrame) -> pd.DataFrame:
    """Contract-named columns (parsed) from a source frame, with defaults filled in."""
    spec = source.spec
    aliases = spec.get("aliases") or {}
    out = pd.DataFrame({"_row": frame["_row"]}, index=frame.index)
    for column, source_column in source.columns.items():
        values = frame[source_column]
        if column in aliases:
            lookup = {str(k).strip().lower(): v for k, v in aliases[column].items()}
            lower = values.astype("str").str.strip().str.lower()
            values = lower.map(lookup).fillna(values.astype("str").str.strip()).astype("str")
        out[column] = _parse(source.table, column, values, spec)
    for column, value in source.defaults.items():
        out[column] = _parse(source.table, column, pd.Series(str(value), index=frame.index),
                             spec)
    return out


def _required_present(track: cleaning._Tracker, source: TableSource, optional: set[str]) -> None:
    """Quarantine rows lacking a value in a mapped column the contract requires."""
    schema = contract.SCHEMAS[source.table].columns
    for column in [*source.columns, *source.defaults]:
        if column not in schema or schema[column].nullable or column in optional:
            continue
        frame = track.result.table
        values = frame[column]
        missing = values.isna() | (values.astype("str").str.strip() == "") if \
            values.dtype != bool else values.isna()
        origin = source.columns.get(column, "default")
        track.quarantine(missing, f"missing or invalid {column}",
                         f"{column} (from {origin}) empty or not parseable")


def _clean_order_lines(source: TableSource, raw: pd.DataFrame,
                       currency: str = "") -> cleaning.Cleaned:
    spec = source.spec
    track = cleaning._Tracker("order_lines", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    returns = spec.get("returns")
    is_return = rule_matches(frame, returns) if returns else None
    columns = source.columns
    for rule in spec.get("exclude") or []:
        frame = track.result.table
        hit = rule_matches(frame, rule)
        applies = rule.get("applies_to", "all")
        if applies != "all" and is_return is not None:
            hit &= is_return.loc[frame.index] if applies == "returns" else \
                ~is_return.loc[frame.index]
        detail = f"mapping rule on {rule['column']}"
        if "amount" in columns or {"quantity", "unit_price"} <= set(columns):
            value = (cleaning.parse_numbers(frame.loc[hit, columns["amount"]])
                     if "amount" in columns else
                     cleaning.parse_numbers(frame.loc[hit, columns["quantity"]])
                     * cleaning.parse_numbers(frame.loc[hit, columns["unit_price"]]))
            net = value.sum() * float(spec.get("money_scale", 1))
            detail += f"; net line value of the rows left out: {net:,.0f} {currency}".rstrip()
        track.exclude(hit, str(rule.get("reason", f"{rule['column']} rule")), detail)
    frame = track.result.table
    mapped = _mapped_frame(source, frame)
    if is_return is None:
        is_return = mapped["quantity"] < 0
    mapped["is_return"] = is_return.loc[mapped.index].astype(bool)
    track.result.table = mapped
    _required_present(track, source, optional={"quantity"})
    frame = track.result.table
    track.quarantine(frame["quantity"].isna() | (frame["quantity"] == 0)
                     | (frame["quantity"] % 1 != 0), "zero, missing or fractional quantity",
                     "a line needs a whole, non-zero quantity")
    frame = track.result.table
    bad_price = frame["unit_price"] < 0
    if "list_price" in frame:
        bad_price |= frame["list_price"] < 0
    track.quarantine(bad_price, "negative price", "unit or list price below zero")
    frame = track.result.table
    sign = np.where(frame["is_return"], -1, 1)
    flipped = int((np.sign(frame["quantity"]) != sign).sum())
    track.changed("returns signed", flipped,
                  "quantity (and amount) made negative on returns and positive on sales")
    quantity = (frame["quantity"].abs() * sign).astype(int)
    derived = []
    if "amount" in frame:
        amount = frame["amount"].abs() * sign
    else:
        amount = quantity * frame["unit_price"]
        derived.append("amount = quantity x unit price")
    if "list_price" in frame:
        list_price = frame["list_price"]
    else:
        list_price = frame["unit_price"]
        derived.append("list price = unit price (not delivered)")
    if "line_no" in frame:
        line_no = pd.to_numeric(frame["line_no"], errors="coerce").astype("Int64")
    else:
        line_no = frame.groupby("order_id").cumcount() + 1
        derived.append("line numbers within each order")
    if derived:
        track.changed("derived columns", len(frame), "; ".join(derived))
    table = pd.DataFrame({
        "order_id": frame["order_id"], "line_no": line_no.astype(int),
        "customer_id": frame["customer_id"], "order_date": frame["order_date"],
        "product_id": frame["product_id"], "category": frame["category"],
        "region": frame["region"], "quantity": quantity, "unit_price": frame["unit_price"],
        "list_price": list_price, "amount": amount, "is_return": frame["is_return"],
        "source": "current", "is_estimated": False})
    table = table.sort_values(["order_date", "order_id", "line_no"], kind="stable")
    return track.finish(table, "order_lines_unrepaired")


def derive_customers(order_lines: pd.DataFrame) -> pd.DataFrame:
    """A ``customers`` table from order lines, for sources without a customer file.

    One row per customer: region = the region of most of their lines (ties: alphabetical),
    join_date = first order date, city '' and channel 'unknown'.
    """
    counts = order_lines.groupby(["customer_id", "region"]).size().rename("n").reset_index()
    region = (counts.sort_values(["customer_id", "n", "region"], ascending=[True, False, True])
              .drop_duplicates("customer_id").set_index("customer_id")["region"])
    first = order_lines.groupby("customer_id")["order_date"].min()
    return pd.DataFrame({"customer_id": first.index.astype("str"),
                         "region": region.reindex(first.index).to_numpy(),
                         "city": "", "join_date": first.to_numpy(),
                         "channel": "unknown"}).reset_index(drop=True)


def _clean_customers(source: TableSource, raw: pd.DataFrame) -> cleaning.Cleaned:
    track = cleaning._Tracker("customers", raw)
    track.drop_exact_duplicates()
    frame = track.result.table
    track.result.table = _mapped_frame(source, frame)
    _required_present(track, source, optional=set())
    frame = track.result.table
    track.quarantine(frame["customer_id"].duplicated(keep="first"), "conflicting duplicate id",
                     "customer_id seen before with different details; first one kept")
    frame = track.result.table
    table = pd.DataFrame({
        "customer_id": frame["customer_id"], "region": frame["region"],
        "city": frame.get("city", ""),
        "join_date": frame["join_date"],
        "channel": frame["channel"].str.lower() if "channel" in frame else "unknown"})
    return track.finish(table, "customers")


def _clean_generic(source: TableSource, raw: pd.DataFrame) -> cleaning.Cleaned:
    """Any other contract table: rename, parse, fill defaults, quarantine unusable rows."""
    name = source.table
    track = cleaning._Tracker(name, raw)
    if name != "engagement":  # events carry no id: identical rows are separate events
        track.drop_exact_duplicates()
    for rule in source.spec.get("exclude") or []:
        frame = track.result.table
        track.exclude(rule_matches(frame, rule), str(rule.get("reason", "mapping rule")),
                      f"mapping rule on {rule['column']}")
    frame = track.result.table
    table = _mapped_frame(source, frame)
    if name == "complaints":
        if "complaint_id" not in table:
            table["complaint_id"] = table["_row"].astype("str")
        if "category" not in table:
            table["category"] = cleaning.classify_complaints(table["raw_label"])
        table["severity"] = (cleaning.parse_severity(frame.loc[table.index, source.columns[
            "severity"]]) if "severity" in source.columns else pd.array(
            [pd.NA] * len(table), dtype="Int64"))
    if name == "survey_responses":
        for column in ("recommend_score", "satisfaction"):
            if column not in table:
                table[column] = np.nan
        if "response_date" not in table:
            table["response_date"] = pd.Series(pd.NaT, index=table.index, dtype="datetime64[us]")
        answered = table[["recommend_score", "satisfaction"]].notna().any(axis=1) | \
            table["response_date"].notna()
        if "responded" not in table:
            table["responded"] = answered
        table["recommend_score"], table["satisfaction"], out_of_range = cleaning.on_scales(
            table["recommend_score"], table["satisfaction"], missing_is_out_of_range=False)
        track.changed("score out of range", int(out_of_range.sum()),
                      "score outside its scale set to missing, flagged out_of_range")
        if "quality_flag" not in source.columns:
            table["quality_flag"] = np.where(out_of_range, "out_of_range", np.where(
                table["responded"].fillna(False), "ok", "no_response"))
    track.result.table = table
    _required_present(track, source, optional=set())
    frame = track.result.table
    if name == "price_changes":
        track.quarantine((frame["old_price"] <= 0) | (frame["new_price"] <= 0),
                         "non-positive price", "a price change needs positive prices")
    if name == "market_index":
        track.quarantine(frame["index"] <= 0, "non-positive index", "index must be above 0")
        frame = track.result.table
        track.result.table = frame.assign(month=frame["month"].dt.to_period("M").dt.to_timestamp())
    keys = {"price_changes": ["product_id", "region", "effective_date"],
            "market_index": ["category", "region", "month"], "complaints": ["complaint_id"]}
    if name in keys:
        frame = track.result.table
        track.quarantine(frame.duplicated(keys[name], keep="first"), "conflicting duplicate key",
                         f"{' + '.join(keys[name])} seen before with other data")
    frame = track.result.table
    columns = list(contract.SCHEMAS[name].columns)
    columns += [c for c in EXTRA_COLUMNS.get(name, {}) if c in frame]
    return track.finish(frame[columns], name)


@dataclass
class MappedResult(cleaning.CleaningResult):
    """``CleaningResult`` plus where each contract table came from (``sources``)."""

    sources: pd.DataFrame = field(default_factory=pd.DataFrame)


def clean_mapped(mapping: SourceMapping, raw_dir: str | Path) -> MappedResult:
    """Read every mapped source and clean it into contract tables.

    Returns:
        MappedResult whose ``tables`` hold customers, order_lines_unrepaired (all lines
        source='current': there is no legacy system to repair), an empty customer_id_map and
        each other mapped table; tables not mapped are absent. ``quality_report`` and
        ``quarantine`` have the built-in cleaning's columns (excluded rows are in the
        quarantine with reason 'excluded: ...'); ``sources`` lists every contract table with
        its origin, rows and the mapping's currency label.
    """
    raws = {name: read_source(src, raw_dir) for name, src in mapping.tables.items()
            if "derive" not in src.spec}
    parts: dict[str, cleaning.Cleaned] = {
        "order_lines": _clean_order_lines(mapping.tables["order_lines"], raws["order_lines"],
                                         mapping.currency)}
    order_lines = parts["order_lines"].table
    if "customers" in raws:
        parts["customers"] = _clean_customers(mapping.tables["customers"], raws["customers"])
    else:
        derived = derive_customers(order_lines)
        parts["customers"] = cleaning.Cleaned(table=contract.validate("customers", derived))
        parts["customers"].steps.append({
            "source": "customers", "rule": "derived from order lines", "action": "derived",
            "rows_in": len(order_lines), "rows_affected": len(derived), "rows_out": len(derived),
            "detail": "no customer source: one row per customer of the order lines; join date "
                      "= first order, region = region of most lines"})
    for name in raws:
        if name not in parts:
            parts[name] = _clean_generic(mapping.tables[name], raws[name])
    tables = {name: part.table for name, part in parts.items()}
    tables["order_lines_unrepaired"] = tables.pop("order_lines")
    tables["customer_id_map"] = pd.DataFrame({"legacy_customer_id": pd.Series(dtype="str"),
                                              "customer_id": pd.Series(dtype="str")})
    steps = [step for part in parts.values() for step in part.steps]
    quarantined = [q for part in parts.values() for q in part.quarantine]
    tables, orphan_steps, orphan_rows = cleaning.quarantine_orphans(
        tables, known=set(tables["customers"]["customer_id"]))
    quality = pd.DataFrame(steps + orphan_steps, columns=cleaning.QUALITY_COLUMNS)
    quarantine = cleaning.stack_quarantine(quarantined + orphan_rows)
    rows = []
    for name in MAPPABLE_TABLES:
        present = tables.get("order_lines_unrepaired" if name == "order_lines" else name)
        if name in mapping.tables:
            origin = mapping.tables[name].describe()
        elif name == "customers":
            origin = "derived from order_lines (no customer source)"
        else:
            origin = "not delivered"
        rows.append({"table": name, "origin": origin,
                     "rows": len(present) if present is not None else 0})
    sources = pd.DataFrame(rows).assign(currency=mapping.currency)
    return MappedResult(tables=tables, quality_report=quality, quarantine=quarantine,
                        sources=sources)
