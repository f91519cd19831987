"""Source mappings: where each contract table comes from and how its columns map (YAML).

Every run reads its data through a mapping, the built-in sample included
(``configs/sources/builtin.yaml`` describes the reference company's twelve raw files, its legacy
export among them). A mapping names, for each contract table, one source or a list of sources
(``parts``) and how their columns map::

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
is read and lists every problem at once; ``sources.reading`` reads the parts and
``cleaning.clean`` cleans them.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers import contract, io, vocabulary
from helpers.sources.keys import (  # noqa: F401 (part of this package's interface)
    ANSWER_COLUMNS,
    BUILTIN_MAPPING,
    DERIVED_COLUMNS,
    EXTRA_COLUMNS,
    LOOKUP_KEYS,
    MAPPABLE_TABLES,
    RULE_KEYS,
    SOURCE_KEYS,
    TABLE_KEYS,
    lookup_problems,
)
from helpers.words import N_


class SourceMappingError(ValueError):
    """The mapping file is invalid, or a source lacks a mapped column; the message lists all."""


@dataclass(frozen=True)
class TableSource:
    """One source of a contract table (a ``tables`` entry, or one of its parts)."""

    table: str
    spec: dict[str, Any]
    name: str = ""  # the source's name in the quality report (``part``; default the table)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", str(self.spec.get("part") or self.table))

    @property
    def columns(self) -> dict[str, str]:
        return dict(self.spec.get("columns") or {})

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.spec.get("defaults") or {})

    @property
    def lookups(self) -> list[Lookup]:
        """The lookup tables joined to this source before its columns are mapped."""
        out = []
        for k, spec in enumerate(self.spec.get("lookups") or []):
            key = str(spec.get("key") or spec["on"])
            brought = [str(c) for c in spec.get("columns") or []]
            where = {name: value for name, value in spec.items()
                     if name not in ("on", "key", "columns")}
            where["columns"] = {c: c for c in [key, *brought]}
            part = str(spec.get("part") or f"{self.name}_lookup_{k + 1}")
            out.append(Lookup(source=TableSource(self.table, where, part), on=str(spec["on"]),
                              key=key, columns=brought))
        return out

    @property
    def answers(self) -> TableSource | None:
        """A survey's separate answers source (``answers:``), joined on ``invitation_id``."""
        spec = self.spec.get("answers")
        return TableSource(self.table, spec, str(spec.get("part") or "survey_answers")) \
            if spec else None

    def describe(self) -> str:
        """Where the rows come from, in a few words ('file x.csv', 'SQL query on sqlite')."""
        if "derive" in self.spec:
            return N_("derived from {table}").format(table=self.spec["derive"])
        if "file" in self.spec:
            return N_("file {name}").format(name=self.spec["file"])
        dialect = str(self.spec.get("url", "")).split(":", 1)[0].split("+", 1)[0]
        if "query" in self.spec:
            return N_("SQL query ({dialect})").format(dialect=dialect)
        return N_("SQL table {table} ({dialect})").format(table=self.spec.get("table"),
                                                          dialect=dialect)

    def source_columns(self) -> list[str]:
        """Every column of the source the mapping refers to (those its lookups bring are the
        lookups'; the columns they are joined on are the source's)."""
        used = list(self.columns.values())
        used += [rule["column"] for rule in self.spec.get("exclude") or []]
        if self.spec.get("returns"):
            used.append(self.spec["returns"]["column"])
        brought = {c for lookup in self.lookups for c in lookup.columns}
        used = [c for c in used if c not in brought]
        used += [lookup.on for lookup in self.lookups]
        return list(dict.fromkeys(used))


@dataclass(frozen=True)
class Lookup:
    """A lookup table (e.g. products -> category) joined to a source: rows whose ``on`` value
    matches the lookup's ``key`` get its ``columns``."""

    source: TableSource
    on: str
    key: str
    columns: list[str]


@dataclass(frozen=True)
class SourceMapping:
    """A validated mapping: display name, currency label and each table's sources."""

    name: str
    currency: str
    tables: dict[str, tuple[TableSource, ...]] = field(default_factory=dict)
    path: Path | None = None

    def parts(self) -> list[TableSource]:
        """Every source that is read (derived tables excluded; a survey's answers included)."""
        out = []
        for sources in self.tables.values():
            for source in sources:
                if "derive" not in source.spec:
                    out.append(source)
                    out += [lookup.source for lookup in source.lookups]
                    if source.answers is not None:
                        out.append(source.answers)
        return out

    def part(self, name: str) -> TableSource:
        """The source called ``name`` (its ``part``), e.g. ``orders_legacy``."""
        found = {source.name: source for source in self.parts()}
        if name not in found:
            raise KeyError(f"{self.name}: no source part '{name}' (parts: {', '.join(found)})")
        return found[name]

    def describe(self, table: str) -> str:
        """Where ``table`` comes from: 'file x.csv', 'files a.csv + b.csv', 'not delivered'."""
        sources = list(self.tables.get(table, ()))
        if not sources:
            return (N_("derived from order_lines (no customer source)") if table == "customers"
                    else N_("not delivered"))
        sources += [s.answers for s in sources if s.answers is not None]
        sources += [lookup.source for s in list(sources) for lookup in s.lookups]
        if len(sources) > 1 and all("file" in s.spec for s in sources):
            return N_("files {names}").format(
                names=" + ".join(str(s.spec["file"]) for s in sources))
        return " + ".join(s.describe() for s in sources)


# --------------------------------------------------------------------------------------------
# checking a mapping
def _rule_problems(where: str, rule: Any) -> list[str]:
    if not isinstance(rule, dict):
        return [f"{where}: expected a mapping like {{reason: ..., column: ..., pattern: ...}}"]
    problems = [f"{where}: unknown key '{k}' (allowed: {', '.join(sorted(RULE_KEYS))})"
                for k in rule if k not in RULE_KEYS | {"sales_pattern"}]
    if "column" not in rule:
        problems.append(f"{where}: 'column' is required")
    tests = [k for k in ("pattern", "empty", "below", "at_most") if k in rule]
    if len(tests) != 1:
        problems.append(f"{where}: give exactly one of pattern, empty, below, at_most")
    for key in ("below", "at_most"):
        if key in rule and not isinstance(rule[key], int | float):
            problems.append(f"{where}: '{key}' must be a number, got {rule[key]!r}")
    for key in ("pattern", "sales_pattern"):
        problems += _regex_problems(f"{where}: {key}", rule.get(key))
    if rule.get("applies_to", "all") not in ("all", "sales", "returns"):
        problems.append(f"{where}: applies_to must be all, sales or returns")
    return problems


def _regex_problems(where: str, pattern: Any) -> list[str]:
    if pattern is None:
        return []
    try:
        re.compile(str(pattern))
    except re.error as error:
        return [f"{where} {pattern!r} is not a regex ({error})"]
    return []


def _format_problems(where: str, formats: Any) -> list[str]:
    if not isinstance(formats, dict):
        return [f"{where}: expected {{column: format}}, e.g. {{customer_id: 'C{{:0>6}}'}}"]
    problems = []
    for column, template in formats.items():
        try:
            str(template).format("1")
            fields = [f for _, f, _, _ in string.Formatter().parse(str(template))
                      if f is not None]
        except (ValueError, IndexError, KeyError) as error:
            problems.append(f"{where}.{column}: {template!r} is not a format ({error})")
            continue
        if fields != [""]:
            problems.append(f"{where}.{column}: {template!r} needs exactly one '{{}}' field")
    return problems


def _part_problems(where: str, table: str, spec: dict[str, Any], *,
                   allowed: set[str] | None = None) -> list[str]:
    """Problems of one source of ``table`` (its keys, columns, rules and formats)."""
    problems = [f"{where}: unknown key '{k}' (allowed: {', '.join(sorted(TABLE_KEYS))})"
                for k in spec if k not in TABLE_KEYS]
    given = [k for k in ("file", "query", "table", "derive") if k in spec]
    if len(given) != 1:
        problems.append(f"{where}: give exactly one of file, query, table (SQL) or derive")
    if ("query" in spec or "table" in spec) and "url" not in spec:
        problems.append(f"{where}: a SQL source needs 'url' (e.g. sqlite:///path.db)")
    if "derive" in spec:
        if table != "customers" or spec["derive"] != "order_lines":
            problems.append(f"{where}: only 'customers: {{derive: order_lines}}' is supported")
        return problems
    columns, defaults = spec.get("columns") or {}, spec.get("defaults") or {}
    if not isinstance(columns, dict) or not isinstance(defaults, dict):
        return [*problems, f"{where}: 'columns' and 'defaults' must be mappings"]
    schema_columns = contract.SCHEMAS[table].columns
    allowed = allowed if allowed is not None else set(schema_columns) | set(
        EXTRA_COLUMNS.get(table, {}))
    for name in [*columns, *defaults]:
        if name not in allowed:
            problems.append(f"{where}: '{name}' is not a column of the contract table "
                            f"(columns: {', '.join(schema_columns)})")
    problems += [f"{where}: columns.{name} must name one source column, got {value!r}"
                 for name, value in columns.items() if not isinstance(value, str)]
    both = sorted(set(columns) & set(defaults))
    if both:
        problems.append(f"{where}: {both} given both as a source column and a default")
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
    for column, name in (spec.get("vocabulary") or {}).items():
        if name not in vocabulary.VOCABULARIES:
            problems.append(f"{where}: vocabulary.{column}: unknown vocabulary {name!r} "
                            f"(built in: {', '.join(vocabulary.VOCABULARIES)})")
    if "id_format" in spec:
        problems += _format_problems(f"{where}: id_format", spec["id_format"])
    for column, pattern in (spec.get("patterns") or {}).items():
        problems += _regex_problems(f"{where}: patterns.{column}", pattern)
    if not isinstance(spec.get("money_scale", 1), int | float):
        problems.append(f"{where}: money_scale must be a number (0.01 for cents)")
    if spec.get("system", "current") not in ("current", "legacy") or (
            "system" in spec and table != "order_lines"):
        problems.append(f"{where}: system is 'current' or 'legacy', for order_lines only")
    if "optional" in spec and ("file" not in spec or not isinstance(spec["optional"], bool)):
        problems.append(f"{where}: optional (true/false) applies to file sources")
    if "answers" in spec:
        problems += _answers_problems(where, table, spec)
    if "lookups" in spec:
        problems += lookup_problems(where, spec["lookups"])
    return problems


def _answers_problems(where: str, table: str, spec: dict[str, Any]) -> list[str]:
    answers = spec["answers"]
    if table != "survey_responses" or not isinstance(answers, dict):
        return [f"{where}: 'answers' (a mapping) applies to survey_responses only"]
    problems = _part_problems(f"{where}.answers", table, answers, allowed=set(ANSWER_COLUMNS))
    for side, columns in [("", spec.get("columns") or {}),
                          (".answers", answers.get("columns") or {})]:
        if "invitation_id" not in columns:
            problems.append(f"{where}{side}: map invitation_id, the key the answers join on")
    return problems


def _required_problems(where: str, table: str, sources: list[dict[str, Any]]) -> list[str]:
    derivable = DERIVED_COLUMNS.get(table, {})
    problems = []
    for spec in sources:
        if "derive" in spec or not isinstance(spec.get("columns") or {}, dict):
            continue
        given = {*(spec.get("columns") or {}), *(spec.get("defaults") or {})}
        if isinstance(spec.get("answers"), dict):
            given |= set(spec["answers"].get("columns") or {})
        missing = [c for c in contract.SCHEMAS[table].columns
                   if c not in given and c not in derivable]
        if missing:
            problems.append(f"{where}: contract column(s) {missing} are neither mapped to a "
                            "source column nor given a default")
    return problems


def validate_mapping(raw: Any, origin: str = "mapping") -> SourceMapping:
    """Check a parsed mapping and return it as a ``SourceMapping``.

    Raises:
        SourceMappingError: listing every problem (unknown table or column, missing required
            table or column, a default of the wrong type, a bad rule or format, two sources
            with one name), each prefixed with ``origin`` and the table.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), dict):
        raise SourceMappingError(f"{origin}: expected a mapping with a 'tables' section")
    problems = [f"{origin}: unknown key '{k}' (allowed: name, currency, tables)"
                for k in raw if k not in ("name", "currency", "tables")]
    if "order_lines" not in raw["tables"]:
        problems.append(f"{origin}: the required table 'order_lines' is not mapped")
    tables: dict[str, tuple[TableSource, ...]] = {}
    for table, entry in raw["tables"].items():
        where = f"{origin}: tables.{table}"
        if table not in MAPPABLE_TABLES:
            problems.append(f"{where}: not a contract table (mappable: "
                            f"{', '.join(MAPPABLE_TABLES)})")
            continue
        specs = entry if isinstance(entry, list) else [entry]
        if not specs or not all(isinstance(spec, dict) for spec in specs):
            problems.append(f"{where}: expected a mapping, or a list of them (one per source)")
            continue
        for k, spec in enumerate(specs):
            part_where = f"{where}[{k}]" if isinstance(entry, list) else where
            if isinstance(entry, list) and len(specs) > 1 and "part" not in spec:
                problems.append(f"{part_where}: name each of several sources with 'part'")
            problems += _part_problems(part_where, table, spec)
        problems += _required_problems(where, table, specs)
        tables[table] = tuple(TableSource(table, spec) for spec in specs)
    names = [s.name for sources in tables.values() for s in sources]
    names += [s.answers.name for sources in tables.values() for s in sources
              if "answers" in s.spec and isinstance(s.spec["answers"], dict)]
    if not problems:
        names += [lookup.source.name for sources in tables.values() for s in sources
                  for lookup in s.lookups]
    problems += [f"{origin}: two sources are called '{name}' (give each its own 'part')"
                 for name in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise SourceMappingError("invalid source mapping:\n  " + "\n  ".join(problems))
    return SourceMapping(name=str(raw.get("name", origin)), currency=str(raw.get("currency", "")),
                         tables=tables)


def load_mapping(path: str | Path = "") -> SourceMapping:
    """Read and validate a mapping YAML file (empty: the built-in sample's). A relative path
    is looked up in the project folder, then in the workbook's own folder (the mappings shipped
    in configs/sources)."""
    path = path or BUILTIN_MAPPING
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


def is_builtin(path: str | Path) -> bool:
    """Whether ``path`` names the built-in sample's mapping ('' does too)."""
    return not path or (io.PACKAGE_ROOT / BUILTIN_MAPPING).resolve() in {
        io.resolve(path).resolve(), (io.PACKAGE_ROOT / Path(path)).resolve()}
