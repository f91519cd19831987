"""The rules every source goes through, each counted in its ledger: exact duplicates, the
mapping's exclusions, required values ("missing x" / "invalid x"), one row per key, spellings
in the vocabulary, and the counts of values the cleaning changed."""

from __future__ import annotations

import pandas as pd

from helpers import contract
from helpers.cleaning.columns import (
    MONEY_COLUMNS,
    column_type,
    date_formats,
    delivered_text,
    mapped_frame,
    rule_matches,
)
from helpers.cleaning.ledger import Ledger
from helpers.cleaning.values import parse_numbers
from helpers.sources import EXTRA_COLUMNS, TableSource
from helpers.sources.reading import CUT_LAST_LINE
from helpers.words import N_

# columns a row may leave empty ('' is a value: an unknown city, an unlabelled complaint)
MAY_BE_EMPTY = {"customers": {"city", "channel"}, "complaints": {"raw_label"},
                "interventions": {"regions", "description"}}
# one row per key: (key columns, reason, keep the first row or set every copy aside)
KEYS: dict[str, tuple[list[str], str, str]] = {
    "customers": (["customer_id"], N_("conflicting duplicate id"), "first"),
    "order_lines": (["order_id", "line_no"], N_("conflicting duplicate line"), "first"),
    "price_changes": (["product_id", "region", "effective_date"],
                      N_("conflicting duplicate key"), "first"),
    "market_index": (["category", "region", "month"], N_("conflicting duplicate key"), "first"),
    "complaints": (["complaint_id"], N_("conflicting duplicate key"), "first"),
    "survey_answers": (["invitation_id", "item"], N_("second answer"), "first"),
    "customer_id_map": (["legacy_customer_id"], N_("ambiguous legacy number"), "none"),
    "interventions": (["intervention_id"], N_("conflicting duplicate id"), "first"),
    "intervention_exposure": (["intervention_id", "customer_id"], N_("second exposure"),
                              "first"),
}


def start(source: TableSource, raw: pd.DataFrame) -> Ledger:
    """A source's ledger after the rules about its lines rather than its values: the header
    line repeated inside the file (files concatenated, an export in pages) is left out, a last
    line cut off (the file ends inside it, with fewer fields than the header) is set aside,
    exact duplicate rows are removed."""
    ledger = Ledger(source.name, raw)
    delivered = raw.drop(columns="_row")
    if len(delivered.columns):
        names = pd.Series([str(c).strip() for c in delivered.columns], index=delivered.columns)
        header = delivered.apply(lambda column: column.astype("str").str.strip()
                                 == names[column.name]).all(axis=1)
        if header.any():
            ledger.exclude(header, N_("repeated header line"),
                           N_("a line repeating the column names inside the file"))
    if raw.attrs.get(CUT_LAST_LINE) and len(ledger.table):
        last = ledger.table["_row"] == raw["_row"].max()
        ledger.quarantine(last, N_("truncated last line"),
                          N_("the file ends inside its last line, which has fewer fields than "
                             "the header (an export or copy that stopped early?)"))
    if source.table != "engagement":  # events carry no id: identical rows are separate events
        ledger.drop_exact_duplicates()
    return ledger


def mapped_rows(source: TableSource, raw: pd.DataFrame) -> tuple[Ledger, pd.DataFrame]:
    """The rules every source starts with: exact duplicates, the mapping's exclusions, the
    columns mapped and parsed, required values. Returns the ledger (its table the mapped rows)
    and the delivered rows they came from (for the counts of changed values)."""
    ledger = start(source, raw)
    exclusions(ledger, source)
    frame = ledger.table
    ledger.table = mapped_frame(source, frame)
    required_values(ledger, source, frame)
    unreadable_values(ledger, source, frame)
    plausible_values(ledger, source)
    return ledger, frame


def unreadable_values(ledger: Ledger, source: TableSource, frame: pd.DataFrame,
                      shown: int = 3) -> None:
    """Count, per column, the values a row may leave empty but that were delivered unreadable
    (text in a number column, '31/02/2024' for a date, a number with a thousands separator
    the mapping did not declare): the row stays, the value is set to missing, and the quality
    report names the column, the first delivered values and their rows. (A required column's
    unreadable value sets its row aside: ``required_values``.)"""
    vocabulary_columns = set(source.spec.get("vocabulary") or {})
    for column in source.columns:
        if column in vocabulary_columns or column not in ledger.table:
            continue
        text = delivered_text(source, frame, column).reindex(ledger.table.index)
        unreadable = (text != "") & ledger.table[column].isna()
        if not unreadable.any():
            continue
        examples = ", ".join(f"'{value}' (row {row})" for value, row in zip(
            text[unreadable].head(shown), ledger.table.loc[unreadable, "_row"].head(shown),
            strict=True))
        ledger.changed(N_("unreadable {column}").format(column=column), int(unreadable.sum()),
                       N_("{column} (from {origin}) cannot be read as a {kind}, set to missing: "
                          "{examples}").format(column=column, origin=source.columns[column],
                                               kind=kind(source, column), examples=examples))


# a delivered value this many times the column's median is a keying or export error (1e15)
IMPLAUSIBLE_FACTOR = 1e5
PLAUSIBLE_COLUMNS = {"order_lines": ("unit_price", "list_price", "amount"),
                     "price_changes": ("old_price", "new_price"), "market_index": ("index",)}


def plausible_values(ledger: Ledger, source: TableSource,
                     today: pd.Timestamp | None = None) -> None:
    """Quarantine money and index values more than ``IMPLAUSIBLE_FACTOR`` times their
    column's median (a 1e15 amount would wreck every revenue figure) and dates after
    ``today`` (default: the day the run starts). A ``system: legacy`` source is left as
    delivered: the history repair (02) corrects its wrong values and logs them."""
    if source.spec.get("system") == "legacy":
        return
    for column in PLAUSIBLE_COLUMNS.get(source.table, ()):
        if column not in ledger.table:
            continue
        values = ledger.table[column].abs()
        median = values[values > 0].median()
        implausible = values > IMPLAUSIBLE_FACTOR * median  # all False without a median
        if implausible.any():
            ledger.quarantine(implausible,
                              N_("implausible {column}").format(column=column),
                              N_("more than {factor:,.0f} times the median {column} "
                                 "({median:,.2f})").format(factor=IMPLAUSIBLE_FACTOR,
                                                           column=column, median=median))
    limit = (today or pd.Timestamp.now()).normalize() + pd.Timedelta(days=1)
    for column in ledger.table.columns:
        if not column_type(source.table, column).startswith("datetime"):
            continue
        future = ledger.table[column] >= limit
        if future.any():
            ledger.quarantine(future,
                              N_("future {column}").format(column=column),
                              N_("{column} after the day of the run").format(column=column))


def exclusions(ledger: Ledger, source: TableSource, is_return: pd.Series | None = None,
               currency: str = "") -> None:
    columns = source.columns
    for rule in source.spec.get("exclude") or []:
        frame = ledger.table
        hit = rule_matches(frame, rule)
        applies = rule.get("applies_to", "all")
        if applies != "all" and is_return is not None:
            hit &= is_return.loc[frame.index] if applies == "returns" else \
                ~is_return.loc[frame.index]
        detail = f"mapping rule on {rule['column']}"
        if source.table == "order_lines" and (
                "amount" in columns or {"quantity", "unit_price"} <= set(columns)):
            value = (parse_numbers(frame.loc[hit, columns["amount"]]) if "amount" in columns
                     else parse_numbers(frame.loc[hit, columns["quantity"]])
                     * parse_numbers(frame.loc[hit, columns["unit_price"]]))
            net = value.sum() * float(source.spec.get("money_scale", 1))
            detail += f"; net line value of the rows left out: {net:,.0f} {currency}".rstrip()
        ledger.exclude(hit, str(rule.get("reason", f"{rule['column']} rule")), detail)


def required_values(ledger: Ledger, source: TableSource, frame: pd.DataFrame,
                    skip: set[str] = frozenset()) -> None:
    """Quarantine rows without a value, or with an unreadable one, in a required column."""
    schema = contract.SCHEMAS[source.table].columns
    vocabulary_columns = set(source.spec.get("vocabulary") or {})
    mapped = [*source.columns, *source.defaults]
    empty_ok = MAY_BE_EMPTY.get(source.table, set())
    for column in [*schema, *EXTRA_COLUMNS.get(source.table, {})]:
        if column not in mapped or column in skip or column in empty_ok or (
                column in schema and schema[column].nullable):
            continue
        text = delivered_text(source, frame, column).reindex(ledger.table.index)
        origin = source.columns.get(column, "default")
        missing = text == ""
        if missing.any():
            ledger.quarantine(missing, N_("missing {column}").format(column=column),
                              N_("{column} (from {origin}) is empty").format(
                                  column=column, origin=origin))
        if column in vocabulary_columns:  # an unknown spelling: ``in_vocabulary``
            continue
        invalid = ledger.table[column].isna()
        if invalid.any():
            ledger.quarantine(invalid, N_("invalid {column}").format(column=column),
                              N_("{column} (from {origin}) cannot be read as a {kind}").format(
                                  column=column, origin=origin, kind=kind(source, column)))
    for column, pattern in (source.spec.get("patterns") or {}).items():
        text = delivered_text(source, frame, column).reindex(ledger.table.index)
        bad = ~text.str.fullmatch(str(pattern)).fillna(False).astype(bool)
        if bad.any():
            ledger.quarantine(bad, N_("invalid {column}").format(column=column),
                              N_("{column} does not match {pattern}").format(
                                  column=column, pattern=pattern))


def kind(source: TableSource, column: str) -> str:
    dtype = column_type(source.table, column)
    if dtype.startswith("datetime"):
        formats = " / ".join(date_formats(source.spec, column)[:3])
        return N_("date ({formats})").format(formats=formats)
    return N_("number") if dtype.startswith(("float", "int", "Int")) else N_("value")


def one_row_per_key(ledger: Ledger, table: str) -> None:
    columns, reason, keep = KEYS[table]
    frame = ledger.table
    if not set(columns) <= set(frame):
        return
    repeated = frame.duplicated(columns, keep="first" if keep == "first" else False)
    detail = (N_("{key} seen before with other data; the first row is kept") if keep == "first"
              else N_("{key} given more than once with different data; every copy set aside"))
    ledger.quarantine(repeated, reason, detail.format(key=" + ".join(columns)))


def in_vocabulary(ledger: Ledger, source: TableSource) -> None:
    named = source.spec.get("vocabulary") or {}
    if not named:
        return
    frame = ledger.table
    unknown = frame[list(named)].isna().any(axis=1)
    ledger.quarantine(unknown, N_("unknown {columns}").format(columns=" or ".join(named)),
                      N_("{columns} spelling not in the vocabulary").format(
                          columns="/".join(named)))


def count_changes(ledger: Ledger, source: TableSource, frame: pd.DataFrame) -> None:
    for column in source.spec.get("vocabulary") or {}:
        delivered = delivered_text(source, frame, column).reindex(ledger.table.index)
        ledger.changed(N_("{column} spelling").format(column=column),
                       int((delivered != ledger.table[column]).sum()),
                       N_("spelling variants mapped to the names of the vocabulary"))
    for column, template in (source.spec.get("id_format") or {}).items():
        ledger.changed(N_("id format"), len(ledger.table),
                       N_("{column} written as {format}").format(column=column, format=template))
    dates = [c for c in source.columns if column_type(source.table, c).startswith("datetime")]
    for column in dates:
        delivered = delivered_text(source, frame, column).reindex(ledger.table.index)
        ledger.changed(N_("{column} format").format(column=column),
                       int((~delivered.str.fullmatch(r"\d{4}-\d{2}-\d{2}")).sum()),
                       N_("dates not written yyyy-mm-dd read as {formats}").format(
                           formats=" / ".join(date_formats(source.spec, column))))
    scale = float(source.spec.get("money_scale", 1))
    money = [source.columns[c] for c in source.columns if c in MONEY_COLUMNS]
    if scale != 1 and money:
        ledger.changed(N_("money units"), len(ledger.table),
                       N_("{columns} multiplied by {scale:g} (the source's money unit)").format(
                           columns=", ".join(money), scale=scale))


def lower_case(ledger: Ledger, frame: pd.DataFrame, source: TableSource,
               column: str) -> pd.Series:
    values = ledger.table[column].str.lower()
    ledger.changed(N_("{column} case").format(column=column),
                   int((values != delivered_text(source, frame, column).reindex(
                       values.index)).sum()), N_("lower-cased"))
    return values
