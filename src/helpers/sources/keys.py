"""The vocabulary of source mappings: which tables can be mapped, the columns cleaning derives
or passes on, the keys a source, a survey's answers and a lookup table may use, and the check of
a source's lookups."""

from __future__ import annotations

from typing import Any

BUILTIN_MAPPING = "configs/sources/builtin.yaml"
MAPPABLE_TABLES = ("order_lines", "customers", "price_changes", "market_index",
                   "survey_responses", "survey_answers", "referrals", "engagement", "complaints",
                   "customer_id_map", "interventions", "intervention_exposure")
# contract columns the mapping may leave out, because cleaning derives them
DERIVED_COLUMNS: dict[str, dict[str, str]] = {
    "order_lines": {
        "line_no": "numbered within the order in file order",
        "list_price": "the unit price (no list prices delivered: discounts are not measurable)",
        "amount": "quantity x unit price",
        "is_return": "the `returns` rule, else a negative quantity",
        "source": "the part's `system` ('current' unless 'legacy')", "is_estimated": "False"},
    "customers": {"city": "'' (unknown)", "channel": "'unknown'",
                  "join_date": "the customer's first order date"},
    "survey_responses": {"responded": "an answer (score or response date) is present",
                         "response_date": "missing", "satisfaction": "missing",
                         "recommend_score": "missing", "quality_flag": "from the scores"},
    "complaints": {"complaint_id": "the row number", "category": "keyword rules on raw_label",
                   "severity": "missing"},
    "interventions": {"end_date": "missing (still running)", "cost": "missing",
                      "regions": "'' (every region)", "description": "''"},
    "intervention_exposure": {"group": "'treated'",
                              "exposure_date": "the intervention's start date"},
}
# optional columns beyond the contract that later notebooks use when present
EXTRA_COLUMNS: dict[str, dict[str, str]] = {
    "order_lines": {"line_no": "int"},
    "survey_responses": {"invitation_id": "id", "wave": "text"},
}
# the columns a survey's separate answers source may map (``answers:``)
ANSWER_COLUMNS = ("invitation_id", "response_date", "recommend_score", "satisfaction")
SOURCE_KEYS = {"file", "url", "query", "table", "derive"}
TABLE_KEYS = SOURCE_KEYS | {"part", "description", "optional", "columns", "defaults",
                            "date_format", "encoding", "sep", "sheet", "exclude", "returns",
                            "aliases", "vocabulary", "id_format", "patterns", "money_scale",
                            "system", "answers", "lookups"}
# keys of a lookup table joined to a source (``lookups:``): where it comes from, the source's
# column it is joined on, its own key column and the columns it brings
LOOKUP_KEYS = {"part", "description", "file", "url", "query", "table", "sep", "encoding",
               "sheet", "on", "key", "columns"}
RULE_KEYS = {"reason", "column", "pattern", "empty", "below", "at_most", "applies_to"}


def lookup_problems(where: str, lookups: Any) -> list[str]:
    """Problems of a source's ``lookups`` list (its keys, the join column, the columns)."""
    if not isinstance(lookups, list) or not all(isinstance(x, dict) for x in lookups):
        return [f"{where}: 'lookups' is a list of lookup tables ({{file: ..., on: ..., "
                "columns: [...]}})"]
    problems = []
    for k, spec in enumerate(lookups):
        here = f"{where}.lookups[{k}]"
        problems += [f"{here}: unknown key '{name}' (allowed: {', '.join(sorted(LOOKUP_KEYS))})"
                     for name in spec if name not in LOOKUP_KEYS]
        if sum(name in spec for name in ("file", "query", "table")) != 1:
            problems.append(f"{here}: give exactly one of file, query or table (SQL)")
        if ("query" in spec or "table" in spec) and "url" not in spec:
            problems.append(f"{here}: a SQL lookup needs 'url'")
        if not isinstance(spec.get("on"), str):
            problems.append(f"{here}: 'on' names this source's column the lookup is joined on")
        columns = spec.get("columns")
        if not isinstance(columns, list) or not columns or not all(
                isinstance(c, str) for c in columns):
            problems.append(f"{here}: 'columns' lists the lookup's columns it brings")
    return problems
