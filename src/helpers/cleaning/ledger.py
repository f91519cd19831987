"""The cleaning's bookkeeping: every rule is a row of the quality report (rows in, rows affected,
rows out) and every row set aside goes to the quarantine with its source, row number, reason and
raw record. Nothing is dropped without a count."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import contract, frames
from helpers.words import N_

QUALITY_COLUMNS = ["source", "rule", "action", "rows_in", "rows_affected", "rows_out", "detail"]
QUARANTINE_COLUMNS = ["source", "row", "reason", "record"]


@dataclass
class Cleaned:
    """One cleaned table with its quality-report rows and its quarantined raw rows."""

    table: pd.DataFrame
    steps: list[dict] = field(default_factory=list)
    quarantine: list[pd.DataFrame] = field(default_factory=list)


def records(frame: pd.DataFrame) -> pd.Series:
    """Each row as one 'column=value; column=value' string (for the quarantine table)."""
    if frame.shape[1] == 0:
        return pd.Series("", index=frame.index, dtype="str")
    parts = [f"{name}=" + frame[name].astype("str").fillna("<NA>") for name in frame.columns]
    return parts[0].str.cat(parts[1:], sep="; ") if len(parts) > 1 else parts[0]


class Ledger:
    """The rows of one source on their way through the rules, with the report of each rule.

    ``table`` holds the rows still in; ``raw`` the source as read (with ``_row``), from which
    quarantined rows are recorded as delivered.
    """

    def __init__(self, source: str, raw: pd.DataFrame):
        self.source = source
        self.raw = raw
        self.result = Cleaned(table=raw)
        self.step("read", len(raw), 0, "rows", N_("rows read from the raw file"))

    @property
    def table(self) -> pd.DataFrame:
        return self.result.table

    @table.setter
    def table(self, frame: pd.DataFrame) -> None:
        self.result.table = frame

    def step(self, rule: str, rows_in: int, affected: int, action: str, detail: str) -> None:
        self.result.steps.append({
            "source": self.source, "rule": rule, "action": action, "rows_in": rows_in,
            "rows_affected": int(affected), "rows_out": len(self.table), "detail": detail})

    def drop_exact_duplicates(self) -> None:
        frame = self.table
        dup = frames.duplicated(frame.drop(columns="_row"))
        self.table = frame.loc[~dup]
        self.step(N_("exact duplicate rows"), len(frame), dup.sum(), "removed",
                  N_("identical to an earlier row in every column; the first copy is kept"))

    def quarantine(self, bad: pd.Series, rule: str, detail: str, *,
                   action: str = "quarantined") -> None:
        """Set the rows where ``bad`` holds aside (missing counts as bad), counted."""
        frame = self.table
        bad = bad.reindex(frame.index).fillna(True).astype(bool)
        if bad.any():
            rows = self.raw.loc[self.raw["_row"].isin(frame.loc[bad, "_row"])]
            self.result.quarantine.append(pd.DataFrame({
                "source": self.source, "row": rows["_row"].to_numpy(),
                "reason": rule if action == "quarantined" else f"{action}: {rule}",
                "record": records(rows.drop(columns="_row")).to_numpy(),
            }))
        self.table = frame.loc[~bad]
        self.step(rule, len(frame), bad.sum(), action, detail)

    def exclude(self, rows: pd.Series, rule: str, detail: str) -> None:
        """Leave out rows a mapping rule says are not in scope (counted, kept for review)."""
        self.quarantine(rows, rule, detail, action="excluded")

    def changed(self, rule: str, affected: int, detail: str) -> None:
        """Count a rule that changed values (rows stay)."""
        if affected:
            self.step(rule, len(self.table), affected, "changed", detail)

    def finish(self, table: pd.DataFrame, name: str) -> Cleaned:
        """Check the clean table against its contract schema and hand back the result."""
        self.table = contract.validate(name, table.reset_index(drop=True))
        self.step(N_("contract check"), len(table), 0, "checked",
                  N_("validated against the '{table}' contract schema").format(table=name))
        return self.result


CUSTOMER_COLUMNS = {"order_lines_unrepaired": ["customer_id"], "survey_responses": ["customer_id"],
                    "engagement": ["customer_id"], "complaints": ["customer_id"],
                    "referrals": ["referrer_id", "referred_customer_id"],
                    "intervention_exposure": ["customer_id"]}


def quarantine_orphans(tables: dict[str, pd.DataFrame], known: set[str],
                       known_on_order_lines: set[str] | None = None) -> tuple[
        dict[str, pd.DataFrame], list[dict], list[pd.DataFrame]]:
    """Set aside rows whose customer is not in the customer table.

    Args:
        tables: clean tables by name (those present of ``CUSTOMER_COLUMNS`` are checked).
        known: customer ids of the customer table.
        known_on_order_lines: ids order lines may use (default ``known``; with a CRM migration
            table, the legacy member numbers of known customers too).

    Returns:
        (tables without the orphan rows, quality-report rows, quarantine frames).
    """
    tables = dict(tables)
    steps, quarantined = [], []
    allowed_sets: dict[int, object] = {}  # each set of ids made an Arrow array once
    for name, columns in CUSTOMER_COLUMNS.items():
        if name not in tables:
            continue
        table = tables[name]
        ids = known_on_order_lines if (name == "order_lines_unrepaired"
                                       and known_on_order_lines is not None) else known
        allowed = allowed_sets.setdefault(id(ids), frames.text_set(ids))
        orphan = ~np.logical_and.reduce([frames.isin(table[column], allowed).to_numpy()
                                         for column in columns])
        orphan = pd.Series(orphan, index=table.index)
        if orphan.any():
            quarantined.append(pd.DataFrame({
                "source": name, "row": pd.array([pd.NA] * int(orphan.sum()), dtype="Int64"),
                "reason": N_("unknown customer_id"),
                "record": records(table.loc[orphan]).to_numpy()}))
        tables[name] = table.loc[~orphan].reset_index(drop=True)
        steps.append({"source": name, "rule": N_("customer exists"), "action": "quarantined",
                      "rows_in": len(table), "rows_affected": int(orphan.sum()),
                      "rows_out": len(tables[name]),
                      "detail": N_("rows whose customer is not in the customer table")})
    return tables, steps, quarantined


def _quarantine_unlisted(tables: dict[str, pd.DataFrame], name: str, key: str, listed: set,
                         reason: str, rule: str, detail: str) -> tuple[
        dict[str, pd.DataFrame], list[dict], list[pd.DataFrame]]:
    """Set aside the rows of table ``name`` whose ``key`` is not in ``listed``."""
    tables = dict(tables)
    table = tables[name]
    unknown = ~frames.isin(table[key], pd.Series(list(listed), dtype="object"))
    quarantined = []
    if unknown.any():
        quarantined.append(pd.DataFrame({
            "source": name, "row": pd.array([pd.NA] * int(unknown.sum()), dtype="Int64"),
            "reason": reason, "record": records(table.loc[unknown]).to_numpy()}))
    tables[name] = table.loc[~unknown].reset_index(drop=True)
    step = {"source": name, "rule": rule, "action": "quarantined", "rows_in": len(table),
            "rows_affected": int(unknown.sum()), "rows_out": len(tables[name]),
            "detail": detail}
    return tables, [step], quarantined


def quarantine_unanswered(tables: dict[str, pd.DataFrame]) -> tuple[
        dict[str, pd.DataFrame], list[dict], list[pd.DataFrame]]:
    """Set aside questionnaire answers (``survey_answers``) whose invitation is not an answered
    invitation of ``survey_responses``; without survey invitations every answer is set aside.

    Returns:
        (tables without those rows, quality-report rows, quarantine frames).
    """
    if "survey_answers" not in tables:
        return tables, [], []
    survey = tables.get("survey_responses")
    answered = set() if survey is None else set(
        survey.loc[survey["responded"], "invitation_id"]) if "invitation_id" in survey else set()
    return _quarantine_unlisted(
        tables, "survey_answers", "invitation_id", answered, N_("unknown invitation"),
        N_("invitation answered"), N_("answers to a question of an invitation the survey table "
                                      "does not list as answered"))


def quarantine_unknown_interventions(tables: dict[str, pd.DataFrame]) -> tuple[
        dict[str, pd.DataFrame], list[dict], list[pd.DataFrame]]:
    """Set aside exposures (``intervention_exposure``) of an intervention the interventions
    table does not list; without an interventions table every exposure is set aside.

    Returns:
        (tables without those rows, quality-report rows, quarantine frames).
    """
    if "intervention_exposure" not in tables:
        return tables, [], []
    listed = set(tables["interventions"]["intervention_id"]) if "interventions" in tables \
        else set()
    return _quarantine_unlisted(
        tables, "intervention_exposure", "intervention_id", listed, N_("unknown intervention"),
        N_("intervention listed"),
        N_("exposures of an intervention the interventions table does not list"))


def stack_quarantine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One quarantine table (source, row, reason, record) from per-rule frames."""
    quarantine = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=QUARANTINE_COLUMNS))
    quarantine["row"] = quarantine["row"].astype("Int64")
    return quarantine


def join_lookups(source, frame: pd.DataFrame, lookups: dict[str, pd.DataFrame]) -> tuple[
        pd.DataFrame, list[dict]]:
    """``frame`` (a source as read) with the columns of each of ``source.lookups`` joined on
    (``lookups``: the lookup tables as read, by part name). A value with no row in the lookup
    leaves the brought columns empty (the source's rules then set the row aside as missing
    that value); a key listed twice in a lookup keeps its first row. Returns the joined frame
    and one quality-report row per lookup.

    Raises:
        ValueError: a brought column is also a column of the source (the file names both).
    """
    steps = []
    for lookup in source.lookups:
        table = lookups[lookup.source.name]
        clash = [c for c in lookup.columns if c in frame.columns]
        if clash:
            raise ValueError(f"lookup '{lookup.source.name}' brings {clash}, which source "
                             f"'{source.name}' already has: rename one of them")
        keys = table[lookup.key].astype("str").str.strip()
        repeated = int(keys.duplicated().sum())
        table = table.assign(**{lookup.key: keys})[~keys.duplicated()]
        brought = table.set_index(lookup.key)[lookup.columns]
        values = frame[lookup.on].astype("str").str.strip()
        matched = frames.isin(values, brought.index)
        joined = brought.reindex(values.to_numpy())
        attrs = dict(frame.attrs)
        frame = pd.concat([frame.reset_index(drop=True),
                           joined.reset_index(drop=True).fillna("")], axis=1)
        frame.attrs.update(attrs)
        values_of = {"matched": f"{int(matched.sum()):,}", "rows": f"{len(frame):,}",
                     "column": lookup.on, "lookup": lookup.source.name,
                     "columns": ", ".join(lookup.columns), "count": f"{repeated:,}"}
        detail = (N_("{matched} of {rows} rows found their {column} in {lookup}; the others "
                     "lack {columns} ({count} keys listed twice in the lookup: the first row "
                     "kept)") if repeated else
                  N_("{matched} of {rows} rows found their {column} in {lookup}; the others "
                     "lack {columns}")).format(**values_of)
        steps.append({"source": source.name, "rule": N_("lookup joined"), "action": "checked",
                      "rows_in": len(frame), "rows_affected": int((~matched).sum()),
                      "rows_out": len(frame), "detail": detail})
    return frame, steps
