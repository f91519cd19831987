"""Stage 01: the sources a mapping names (``sources.reading.read_all``) become the clean contract
tables, by one path for every company, the built-in sample included.

Every rule is counted in a quality report (rows in, rows out, rows affected per source and rule)
and every row that cannot be used is quarantined with its source row number and reason: nothing
is dropped silently. Only exact duplicate rows are removed (and counted). Pure functions: the
delivered frames in, new frames out, no file I/O. The rules per source are in
``cleaning.parts``, the value normalisers in ``cleaning.values``, the bookkeeping in
``cleaning.ledger`` and the cleaning page's summaries in ``cleaning.report``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers import contract, frames
from helpers.cleaning.ledger import (
    QUALITY_COLUMNS,
    Cleaned,
    Ledger,
    join_lookups,
    quarantine_orphans,
    quarantine_unanswered,
    quarantine_unknown_interventions,
    records,
    stack_quarantine,
)
from helpers.cleaning.parts import (
    clean_complaints,
    clean_customers,
    clean_order_lines,
    clean_other,
    clean_survey,
    derive_customers,
    rule_matches,
)
from helpers.cleaning.report import (
    monthly_lines_by_source,
    quarantine_counts,
    rules_that_acted,
    source_summary,
    sources_shown,
    table_overview,
)
from helpers.cleaning.values import (
    classify_complaints,
    normalise_category,
    normalise_city,
    normalise_ids,
    normalise_region,
    on_scales,
    parse_dates,
    parse_numbers,
    parse_severity,
)
from helpers.sources import MAPPABLE_TABLES, SourceMapping
from helpers.vocabulary import COMPLAINT_RULES
from helpers.words import N_

__all__ = [
    "COMPLAINT_RULES",
    "QUALITY_COLUMNS",
    "Cleaned",
    "CleaningResult",
    "Ledger",
    "classify_complaints",
    "clean",
    "derive_customers",
    "monthly_lines_by_source",
    "normalise_category",
    "normalise_city",
    "normalise_ids",
    "normalise_region",
    "on_scales",
    "parse_dates",
    "parse_numbers",
    "parse_severity",
    "quarantine_counts",
    "quarantine_orphans",
    "records",
    "rule_matches",
    "rules_that_acted",
    "source_summary",
    "sources_shown",
    "stack_quarantine",
    "table_overview",
]


@dataclass
class CleaningResult:
    """All clean contract tables, the quality report, the quarantined rows and where each
    table came from (``sources``: table, origin, rows, currency)."""

    tables: dict[str, pd.DataFrame]
    quality_report: pd.DataFrame
    quarantine: pd.DataFrame
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)

    def outputs(self) -> dict[str, pd.DataFrame]:
        """The tables notebook 01 writes: the contract tables and its three reports."""
        return {**self.tables, "quality_report": self.quality_report,
                "quarantine": self.quarantine, "data_sources": self.sources}


def _stack(parts: list[Cleaned], name: str) -> pd.DataFrame:
    tables = [part.table for part in parts]
    return tables[0] if len(tables) == 1 else contract.validate(
        name, pd.concat(tables, ignore_index=True))


def clean(mapping: SourceMapping, raw: dict[str, pd.DataFrame]) -> CleaningResult:
    """Clean every source of ``mapping`` (``raw``: its parts as read, by part name).

    Order lines of several sources are stacked by date (a ``system: legacy`` source keeps its
    values for the history repair of notebook 02). Without a customer source, customers are
    derived from the order lines. Rows pointing at customers missing from the customer table
    are quarantined ("unknown customer_id"), so every clean table joins to ``customers``
    (order lines may use a legacy member number listed in ``customer_id_map``; 02 maps them).

    Returns:
        CleaningResult whose tables are customers, order_lines_unrepaired, customer_id_map
        (empty when not delivered) and each other delivered table; tables not delivered are
        absent. The quality report has one row per source and rule (rows_in, rows_affected,
        rows_out, action, detail); the quarantine the source, row number, reason and record.
    """
    raw = dict(raw)
    lookup_steps: list[dict] = []
    for sources in mapping.tables.values():
        for source in sources:
            if source.lookups and source.name in raw:
                raw[source.name], steps = join_lookups(source, raw[source.name], raw)
                lookup_steps += steps
    parts: list[Cleaned] = [Cleaned(table=pd.DataFrame(), steps=lookup_steps)]
    lines = [clean_order_lines(source, raw[source.name], mapping.currency)
             for source in mapping.tables["order_lines"]]
    order_lines = pd.concat([part.table for part in lines], ignore_index=True).sort_values(
        ["order_date", "order_id", "line_no"], kind="stable", ignore_index=True)
    parts += lines
    tables = {"order_lines_unrepaired": order_lines}
    first_orders = order_lines.groupby("customer_id")["order_date"].min()
    for name, sources in mapping.tables.items():
        if name == "order_lines" or "derive" in sources[0].spec:
            continue
        cleaned = []
        for source in sources:
            if name == "customers":
                cleaned.append(clean_customers(source, raw[source.name], first_orders))
            elif name == "survey_responses":
                survey, answers = clean_survey(source, raw[source.name], raw.get(
                    source.answers.name) if source.answers is not None else None)
                cleaned.append(survey)
                parts += [answers] if answers is not None else []
            elif name == "complaints":
                cleaned.append(clean_complaints(source, raw[source.name]))
            else:
                cleaned.append(clean_other(source, raw[source.name]))
        parts += cleaned
        tables[name] = _stack(cleaned, name)
    if "customers" not in tables:
        tables["customers"], step = _derived_customers(order_lines)
        parts.append(Cleaned(table=tables["customers"], steps=[step]))
    tables.setdefault("customer_id_map", contract.empty("customer_id_map"))
    known = set(tables["customers"]["customer_id"])
    id_map = tables["customer_id_map"]
    known_legacy = known | set(id_map.loc[frames.isin(id_map["customer_id"], known),
                                          "legacy_customer_id"])
    tables, orphan_steps, orphan_rows = quarantine_orphans(tables, known, known_legacy)
    tables, unanswered_steps, unanswered_rows = quarantine_unanswered(tables)
    tables, unlisted_steps, unlisted_rows = quarantine_unknown_interventions(tables)
    orphan_steps = orphan_steps + unanswered_steps + unlisted_steps
    orphan_rows = orphan_rows + unanswered_rows + unlisted_rows
    steps = [step for part in parts for step in part.steps] + orphan_steps
    quarantined = [rows for part in parts for rows in part.quarantine] + orphan_rows
    return CleaningResult(tables=tables,
                          quality_report=pd.DataFrame(steps, columns=QUALITY_COLUMNS),
                          quarantine=stack_quarantine(quarantined),
                          sources=data_sources(mapping, tables))


def _derived_customers(order_lines: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    derived = contract.validate("customers", derive_customers(order_lines))
    return derived, {
        "source": "customers", "rule": N_("derived from order lines"), "action": "derived",
        "rows_in": len(order_lines), "rows_affected": len(derived), "rows_out": len(derived),
        "detail": N_("no customer source: one row per customer of the order lines; join date "
                     "= first order, region = region of most lines")}


def data_sources(mapping: SourceMapping, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every contract table with where it came from, its clean rows and the currency label."""
    rows = []
    for name in MAPPABLE_TABLES:
        present = tables.get("order_lines_unrepaired" if name == "order_lines" else name)
        rows.append({"table": name, "origin": mapping.describe(name),
                     "rows": len(present) if present is not None else 0})
    return pd.DataFrame(rows).assign(currency=mapping.currency)
