"""Every way a delivered file can be wrong: a stop whose message names the file (and the
column or line), or a run that goes on and counts the rows in the quarantine or the quality
report with their reason. Each case damages one file of a copy of the small sample; the copy
itself is never changed by the cleaning."""

import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from helpers import cleaning, io, sources
from helpers.sources import reading


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _set_field(file_text: str, line: int, column: str, value: str, sep: str = ",") -> str:
    """The file with one field of data line ``line`` (1-based) replaced."""
    lines = _lines(file_text)
    header = lines[0].rstrip("\r\n").split(sep)
    fields = lines[line].rstrip("\r\n").split(sep)
    fields[header.index(column)] = value
    lines[line] = sep.join(fields) + "\n"
    return "".join(lines)


def _drop_column(file_text: str, column: str) -> str:
    rows = [line.rstrip("\n").split(",") for line in _lines(file_text)]
    k = rows[0].index(column)
    return "".join(",".join(r[:k] + r[k + 1:]) + "\n" for r in rows)


Edit = Callable[[str], str | bytes]  # the file's text -> the damaged text (or bytes)
STOPS: dict[str, tuple[str, Edit, str]] = {  # case -> (file, edit, the message it stops with)
    "empty file": ("orders_current.csv", lambda t: "",
                   r"orders_current\.csv: the file is empty \(not even a header line\)"),
    "empty customer file": ("customers.csv", lambda t: "",
                            r"customers\.csv: the file is empty.*'customers'"),
    "order lines with a header only": ("orders_current.csv", lambda t: _lines(t)[0],
                                       r"orders_current\.csv: no rows below the header"),
    "customers with a header only": ("customers.csv", lambda t: _lines(t)[0],
                                     r"customers\.csv: no rows below the header: the customer "
                                     r"file 'customers' was delivered empty"),
    "an empty file that may be empty": ("complaints.csv", lambda t: "",
                                        r"complaints\.csv: the file is empty \(not even a "
                                        r"header line\)"),
    "dropped column": ("orders_current.csv", lambda t: _drop_column(t, "amount"),
                       r"orders_current\.csv: missing column\(s\) \['amount'\]"),
    "renamed column": ("customers.csv", lambda t: t.replace("join_date", "joined", 1),
                       r"customers\.csv: missing column\(s\) \['join_date'\].*'joined'"),
    "wrong delimiter": ("customers.csv", lambda t: t.replace(",", ";"),
                        r"customers\.csv: missing column.*is the separator ';'"),
    "another encoding": ("complaints.csv", lambda t: t.encode("utf-16"),
                         r"complaints\.csv: not readable as utf-8"),
    "a row with too many fields": ("orders_current.csv",
                                   lambda t: _set_field(t, 113, "region", "Metro,x,y"),
                                   r"orders_current\.csv: line 114 has 14 fields where the "
                                   r"header has 12"),
    "a legacy row with too many fields": (
        "orders_legacy.csv", lambda t: _set_field(t, 20, "QTY", "1;2", sep=";"),
        r"orders_legacy\.csv: line 21 has 12 fields where the header has 11"),
}

# case -> (file, edit, source, reason or rule, rows it adds to the baseline's count)
COUNTED: dict[str, tuple[str, Edit, str, str, int]] = {
    "repeated header line": ("orders_current.csv",
                             lambda t: "".join(_lines(t)[:60] + _lines(t)[:1] + _lines(t)[60:]),
                             "orders_current", "excluded: repeated header line", 1),
    "repeated header in the answers": (
        "survey_responses.csv",
        lambda t: "".join(_lines(t)[:30] + _lines(t)[:1] + _lines(t)[30:]),
        "survey_responses", "excluded: repeated header line", 1),
    "truncated last line": ("orders_current.csv", lambda t: t.rstrip("\n")[:-30],
                            "orders_current", "truncated last line", 1),
    "truncated customer file": ("customers.csv", lambda t: t.rstrip("\n")[:-12],
                                "customers", "truncated last line", 1),
    "text in a number column": ("orders_current.csv",
                                lambda t: _set_field(t, 2, "quantity", "one"),
                                "orders_current", "zero or missing quantity", 1),
    "thousands separator": ("orders_current.csv",
                            lambda t: _set_field(t, 2, "unit_price", '"1,281.12"'),
                            "orders_current", "invalid price", 1),
    "negative price": ("orders_current.csv", lambda t: _set_field(t, 2, "unit_price", "-281.12"),
                       "orders_current", "invalid price", 1),
    "absurd amount": ("orders_current.csv", lambda t: _set_field(t, 2, "amount", "1e15"),
                      "orders_current", "implausible amount", 1),
    "absurd market index": ("market_index.csv", lambda t: _set_field(t, 5, "index", "1e15"),
                            "market_index", "implausible index", 1),
    "absurd new price": ("price_changes.csv", lambda t: _set_field(t, 5, "new_price", "1e15"),
                         "price_changes", "implausible new_price", 1),
    "impossible date": ("orders_current.csv", lambda t: _set_field(t, 2, "order_date",
                                                                   "2023-02-30"),
                        "orders_current", "invalid order_date", 1),
    "far-future date": ("orders_current.csv", lambda t: _set_field(t, 2, "order_date",
                                                                   "2099-07-01"),
                        "orders_current", "future order_date", 1),
    "duplicated customer id": ("customers.csv",
                               lambda t: t + _lines(t)[1].replace(",20", ",19", 1),
                               "customers", "conflicting duplicate id", 1),
    "junk wave label": ("survey_invitations.csv", lambda t: _set_field(t, 3, "wave", "wave?"),
                        "survey_invitations", "invalid wave", 1),
}
# case -> (file, edit, source, rule, rows whose values it changed)
CHANGED: dict[str, tuple[str, Edit, str, str, int]] = {
    "impossible response date": ("survey_responses.csv",
                                 lambda t: _set_field(t, 4, "response_date", "2023-02-30"),
                                 "survey_responses", "unreadable response_date", 1),
    "unparseable response date": ("survey_responses.csv",
                                  lambda t: _set_field(t, 5, "response_date", "soon"),
                                  "survey_responses", "unreadable response_date", 1),
    "answered before the invitation": ("survey_responses.csv",
                                       lambda t: _set_field(t, 6, "response_date", "2001-01-01"),
                                       "survey_invitations", "answered before sent", 1),
    "far-future response date": ("survey_responses.csv",
                                 lambda t: _set_field(t, 7, "response_date", "2099-01-01"),
                                 "survey_responses", "future response_date", 1),
    "text in a score": ("survey_responses.csv",
                        lambda t: _set_field(t, 8, "q_recommend", "nine"),
                        "survey_responses", "unreadable recommend_score", 1),
}


@pytest.fixture
def damaged(raw_dir, tmp_path):
    """A function damaging one file of a copy of the sample; it returns the copy's folder and
    its hashes."""
    def damage(file: str, edit: Edit) -> tuple[Path, dict[str, str]]:
        copy = tmp_path / "raw"
        shutil.copytree(raw_dir, copy)
        path = copy / file
        encoding = "gbk" if file == "orders_legacy.csv" else "utf-8"
        damaged_text = edit(path.read_bytes().decode(encoding))
        path.write_bytes(damaged_text if isinstance(damaged_text, bytes)
                         else damaged_text.encode(encoding))
        return copy, io.file_hashes(copy)
    return damage


def _clean(builtin, folder: Path) -> cleaning.CleaningResult:
    return cleaning.clean(builtin, reading.read_all(builtin, folder))


def _quarantined(result: cleaning.CleaningResult, source: str, reason: str) -> int:
    q = result.quarantine
    return int(((q["source"] == source) & (q["reason"] == reason)).sum())


def _affected(result: cleaning.CleaningResult, source: str, rule: str) -> int:
    report = result.quality_report
    return int(report.loc[(report["source"] == source) & (report["rule"] == rule),
                          "rows_affected"].sum())


@pytest.mark.parametrize("case", STOPS)
def test_a_damaged_file_stops_with_a_message_naming_it(builtin, damaged, case):
    file, edit, message = STOPS[case]
    folder, before = damaged(file, edit)
    with pytest.raises(io.RawFileError) as error:
        _clean(builtin, folder)
    assert re.search(message, str(error.value)), str(error.value)
    assert str(folder / file) in str(error.value)
    assert io.file_hashes(folder) == before


@pytest.mark.parametrize("case", COUNTED)
def test_damaged_rows_are_set_aside_with_their_reason(builtin, cleaned, damaged, case):
    file, edit, source, reason, added = COUNTED[case]
    folder, before = damaged(file, edit)
    result = _clean(builtin, folder)
    assert _quarantined(result, source, reason) == _quarantined(cleaned, source, reason) + added
    rule = reason.removeprefix("excluded: ")
    assert _affected(result, source, rule) == _affected(cleaned, source, rule) + added
    assert io.file_hashes(folder) == before


@pytest.mark.parametrize("case", CHANGED)
def test_damaged_values_are_counted_in_the_quality_report(builtin, cleaned, damaged, case):
    file, edit, source, rule, changed = CHANGED[case]
    folder, before = damaged(file, edit)
    result = _clean(builtin, folder)
    if rule.startswith("future"):  # an answer dated after the run is set aside
        assert _quarantined(result, source, rule) == _quarantined(cleaned, source, rule) + 1
    assert _affected(result, source, rule) == _affected(cleaned, source, rule) + changed
    detail = result.quality_report.query("source == @source and rule == @rule")["detail"]
    if rule.startswith("unreadable"):  # the value and its row are named
        assert detail.str.contains(r"\(row \d+\)").all()
    # the invitation stays (an answer set aside leaves it unanswered)
    assert len(result.tables["survey_responses"]) == len(cleaned.tables["survey_responses"])
    assert io.file_hashes(folder) == before


def test_a_complaint_log_with_a_header_only_is_no_complaints(builtin, damaged):
    folder, _before = damaged("complaints.csv", lambda t: _lines(t)[0])
    result = _clean(builtin, folder)
    report = result.quality_report.query("source == 'complaints'").set_index("rule")
    assert report.loc["read", "rows_out"] == 0
    assert result.tables["complaints"].empty and len(result.tables["order_lines_unrepaired"])


def test_an_extra_column_is_ignored(builtin, cleaned, damaged):
    def extra(text: str) -> str:
        return "".join(line.rstrip("\n") + (",note\n" if k == 0 else ",x\n")
                       for k, line in enumerate(_lines(text)))
    folder, _before = damaged("orders_current.csv", extra)
    result = _clean(builtin, folder)
    pd.testing.assert_frame_equal(result.tables["order_lines_unrepaired"],
                                  cleaned.tables["order_lines_unrepaired"])


# --- mapped sources: Excel, parquet, SQL ------------------------------------------------------
MAPPED = {"order_id": "Invoice", "line_no": "Line", "customer_id": "Customer",
          "order_date": "Date", "product_id": "Product", "category": "Category",
          "region": "Region", "quantity": "Qty", "unit_price": "Price"}
ROWS = pd.DataFrame({"Invoice": ["1", "2"], "Line": ["1", "1"], "Customer": ["A", "B"],
                     "Date": ["2024-01-02", "2024-01-03"], "Product": ["P1", "P1"],
                     "Category": ["Toys", "Toys"], "Region": ["UK", "UK"],
                     "Qty": ["1", "2"]})  # the mapped Price column is not there


def _mapping(source: dict) -> sources.SourceMapping:
    return sources.validate_mapping({"name": "shop", "currency": "GBP", "tables": {
        "order_lines": {**source, "columns": MAPPED, "date_format": "%Y-%m-%d"}}})


@pytest.mark.parametrize("kind", ["xlsx", "parquet", "sqlite"])
def test_a_mapped_source_without_a_mapped_column_is_named(tmp_path, kind):
    if kind == "xlsx":
        ROWS.to_excel(tmp_path / "lines.xlsx", index=False)
        source, where = {"file": "lines.xlsx"}, str(tmp_path / "lines.xlsx")
    elif kind == "parquet":
        ROWS.to_parquet(tmp_path / "lines.parquet")
        source, where = {"file": "lines.parquet"}, str(tmp_path / "lines.parquet")
    else:
        with sqlite3.connect(tmp_path / "shop.db") as connection:
            ROWS.to_sql("lines", connection, index=False)
        source = {"url": f"sqlite:///{tmp_path / 'shop.db'}", "table": "lines"}
        where = "shop.db"
    with pytest.raises(io.RawFileError) as error:
        cleaning.clean(_mapping(source), reading.read_all(_mapping(source), tmp_path))
    assert where in str(error.value)
    assert "missing column(s) ['Price']" in str(error.value)
