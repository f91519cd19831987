"""Cleaning: small hand-made cases per rule, then recovery of the sample's truth."""

import numpy as np
import pandas as pd
import pytest

from helpers import cleaning, contract, sources, story
from helpers.sources import reading

BUILTIN = sources.load_mapping(sources.BUILTIN_MAPPING)


def _raw(rows: list[dict]) -> pd.DataFrame:
    """A raw table as io.read_raw returns it: strings, with 1-based _row numbers."""
    frame = pd.DataFrame(rows).astype(str)
    frame.insert(0, "_row", range(1, len(frame) + 1))
    return frame


# --- value normalisers ------------------------------------------------------------------------
def test_region_spellings_map_to_canonical_names():
    values = pd.Series([" North-East", "NE", "东北", "metro area", "Centre", "Atlantis", ""])
    out = cleaning.normalise_region(values)
    assert out.iloc[:5].tolist() == ["Northeast", "Northeast", "Northeast", "Metro", "Central"]
    assert out.iloc[5:].isna().all()  # unknown stays missing, for the caller to quarantine


def test_city_spelling_goes_to_the_most_common_mixed_case_form():
    values = pd.Series(["Xi'an", "XI'AN", "xi'an  ", "Xian", "Xi'an", "Wuhan", "WUHAN"])
    out = cleaning.normalise_city(values)
    assert out.tolist() == ["Xi'an"] * 5 + ["Wuhan"] * 2


def test_dates_try_formats_in_turn_and_reject_impossible_ones():
    out = cleaning.parse_dates(pd.Series(["2024-02-29", "2024/03/01", "2023-02-29", "x"]),
                               ["%Y-%m-%d", "%Y/%m/%d"])
    assert out.iloc[0] == pd.Timestamp("2024-02-29")
    assert out.iloc[1] == pd.Timestamp("2024-03-01")
    assert out.iloc[2:].isna().all()


def test_complaint_rules_first_match_wins_and_unknown_is_other():
    labels = pd.Series(["Waiting for refund", "parcel not arrived", "Charged wrong price",
                        "CHIPPED vase", "lovely shop"])
    assert cleaning.classify_complaints(labels).tolist() == [
        "refund", "delivery", "price", "damaged", "other"]


def test_severity_words_and_digits():
    out = cleaning.parse_severity(pd.Series(["Low", "med", "3", "urgent", "??"]))
    assert out.iloc[:4].tolist() == [1, 2, 3, 3] and pd.isna(out.iloc[4])


# --- one source at a time -----------------------------------------------------------------------
CURRENT_ROW = {"order_id": "SO1", "line_no": "1", "customer_id": "C000001",
               "order_date": "2024-01-05", "product_id": "P1", "category": "Clocks",
               "region": "Metro", "quantity": "2", "unit_price": "10.50", "list_price": "11.00",
               "amount": "21.00", "line_type": "sale"}


def test_current_orders_dedupe_quarantine_and_sign_returns():
    rows = [CURRENT_ROW, CURRENT_ROW,  # exact duplicate
            {**CURRENT_ROW, "line_no": "51", "line_type": "return", "order_date": "2024-01-20"},
            {**CURRENT_ROW, "line_no": "2", "customer_id": ""},
            {**CURRENT_ROW, "line_no": "3", "quantity": "0"},
            {**CURRENT_ROW, "line_no": "4", "order_date": "2024-02-30"},
            {**CURRENT_ROW, "line_no": "5", "line_type": "gift"},
            {**CURRENT_ROW, "line_no": "6", "region": "Atlantis"},
            {**CURRENT_ROW, "line_no": "1.5"}]  # no line number: set aside, not truncated
    out = cleaning.clean_order_lines(BUILTIN.part("orders_current"), _raw(rows))
    table = out.table
    assert table["line_no"].tolist() == [1, 51]
    assert table["quantity"].tolist() == [2, -2]
    assert table["amount"].tolist() == [21.0, -21.0]
    assert table["is_return"].tolist() == [False, True]
    assert (table["source"] == "current").all() and not table["is_estimated"].any()
    quarantined = pd.concat(out.quarantine)
    assert dict(zip(quarantined["row"], quarantined["reason"], strict=True)) == {
        4: "missing customer_id", 5: "zero or missing quantity", 6: "invalid order_date",
        7: "unknown line_type", 8: "unknown category or region", 9: "invalid line_no"}
    steps = pd.DataFrame(out.steps).set_index("rule")
    assert steps.loc["exact duplicate rows", "rows_affected"] == 1
    assert steps.loc["contract check", "rows_out"] == 2


def test_legacy_orders_fen_labels_ids_and_negative_returns():
    row = {"BILL_NO": "500007", "ITEM_SEQ": "1", "CUST_NO": "42", "BILL_DATE": "31/01/2023",
           "ITEM_CODE": "P9", "CATEGORY_CN": "钟表", "AREA_CN": "西南", "QTY": "3",
           "PRICE_FEN": "12345", "LIST_FEN": "12345", "AMOUNT_FEN": "37035"}
    ret = {**row, "BILL_NO": "500008", "QTY": "-1", "AMOUNT_FEN": "-12345"}
    table = cleaning.clean_order_lines(BUILTIN.part("orders_legacy"), _raw([row, ret])).table
    first = table.iloc[0]
    assert (first["order_id"], first["customer_id"], first["category"], first["region"]) == (
        "L500007", "C000042", "Clocks", "Southwest")
    assert first["order_date"] == pd.Timestamp("2023-01-31")
    assert (first["unit_price"], first["amount"]) == (123.45, 370.35)
    assert table["is_return"].tolist() == [False, True]
    assert table.iloc[1]["amount"] == -123.45 and table.iloc[1]["quantity"] == -1


def test_customers_conflicting_ids_and_unknown_regions_are_quarantined():
    base = {"customer_id": "C1", "region": "NE", "city": "harbin", "join_date": "2021/05/06",
            "channel": "Online"}
    rows = [base, base, {**base, "city": "Dalian"}, {**base, "customer_id": "C2",
                                                      "region": "Mars"}]
    out = cleaning.clean_customers(BUILTIN.part("customers"), _raw(rows))
    assert out.table.to_dict("records") == [{
        "customer_id": "C1", "region": "Northeast", "city": "harbin",
        "join_date": pd.Timestamp("2021-05-06"), "channel": "online"}]
    reasons = pd.concat(out.quarantine).set_index("row")["reason"].to_dict()
    assert reasons == {3: "conflicting duplicate id", 4: "unknown region"}


def test_surveys_join_answers_flag_ranges_and_quarantine_strays():
    invitations = _raw([{"invitation_id": f"S{i}", "customer_id": f"C{i}",
                         "sent_date": "2024-03-03", "wave": "1"} for i in range(1, 4)])
    responses = _raw([
        {"invitation_id": "S1", "response_date": "2024-03-05", "q_recommend": "9",
         "q_satisfaction": "4"},
        {"invitation_id": "S2", "response_date": "2024-03-06", "q_recommend": "11",
         "q_satisfaction": "3"},
        {"invitation_id": "S9", "response_date": "2024-03-06", "q_recommend": "5",
         "q_satisfaction": "3"}])
    table_part, responses_part = cleaning.clean_survey(BUILTIN.part("survey_invitations"),
                                                     invitations, responses)
    table = table_part.table.set_index("invitation_id")
    assert table["responded"].tolist() == [True, True, False]
    assert table["quality_flag"].tolist() == ["ok", "out_of_range", "no_response"]
    assert table.loc["S1", "recommend_score"] == 9 and pd.isna(table.loc["S2", "recommend_score"])
    assert table.loc["S2", "satisfaction"] == 3
    assert pd.concat(responses_part.quarantine)["reason"].tolist() == ["unknown invitation"]


def test_orphans_are_quarantined_not_dropped(raw):
    trimmed = dict(raw)
    trimmed["customers"] = raw["customers"].iloc[1:]  # drop the first customer
    gone = raw["customers"]["customer_id"].iloc[0]
    result = cleaning.clean(BUILTIN, trimmed)
    orphans = result.quarantine[result.quarantine["reason"] == "unknown customer_id"]
    n_lines = (result.tables["order_lines_unrepaired"]["customer_id"] == gone).sum()
    assert n_lines == 0
    assert orphans["record"].str.contains(f"customer_id={gone}").sum() > 0


def test_contract_error_names_table_column_and_rows():
    bad = pd.DataFrame({"category": ["Clocks", "Clocks"], "region": ["Metro", "Metro"],
                        "month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                        "index": [100.0, -3.0]})
    with pytest.raises(contract.ContractError, match=r"(?s)market_index.*column index.*row 1: -3\.0"
                       ):
        contract.validate("market_index", bad)


# --- truth recovery on the small sample ------------------------------------------------------
def _defects(truth, source, kind):
    d = truth["injected_defects"]
    return d[(d["source"] == source) & (d["kind"] == kind)]


def test_injected_duplicates_are_removed_and_counted(cleaned, truth):
    report = cleaned.quality_report.set_index(["source", "rule"])["rows_affected"]
    for source in ["customers", "orders_current", "orders_legacy"]:
        injected = len(_defects(truth, source, "duplicate"))
        assert injected > 0
        assert report[(source, "exact duplicate rows")] == injected


def test_exactly_the_injected_junk_rows_are_quarantined(cleaned, truth):
    q = cleaned.quarantine
    assert set(q["source"]) == {"orders_current"}
    injected = truth["injected_defects"].query(
        "source == 'orders_current' and kind != 'duplicate'")
    records = q["record"].str.extract(r"order_id=(\w+); line_no=(\d+)")
    found = sorted(zip(records[0] + "#" + records[1], q["reason"].str.replace(
        "zero or missing quantity", "zero quantity"), strict=True))
    assert found == sorted(zip(injected["key"], injected["kind"], strict=True))


def _legacy_lines_expected(truth_lines: pd.DataFrame, defects: pd.DataFrame) -> int:
    """Legacy lines the export should hold: true ones minus lost months plus the re-export."""
    legacy = truth_lines[truth_lines["system"] == "legacy"]
    cell = legacy["region"] + "|" + legacy["order_date"].dt.to_period("M").astype(str)
    lost = set(defects.loc[defects["kind"] == "missing_month", "key"])
    return int((~cell.isin(lost)).sum() + (defects["kind"] == "duplicated_month").sum())


def test_legacy_lines_are_all_kept_as_delivered(cleaned, truth):
    lines = cleaned.tables["order_lines_unrepaired"]
    n_legacy = (lines["source"] == "legacy").sum()
    assert n_legacy == _legacy_lines_expected(truth["order_lines"], truth["injected_defects"])
    # keying errors pass through cleaning untouched (notebook 02 repairs them)
    missing = truth["injected_defects"].query("kind == 'missing_amount'")
    assert lines["amount"].isna().sum() == len(missing) / 2 > 0  # two columns per line


def test_clean_current_order_lines_equal_the_true_lines(cleaned, truth):
    lines = cleaned.tables["order_lines_unrepaired"]
    clean = lines[lines["source"] == "current"]
    true = truth["order_lines"].query("system == 'current'")
    assert len(clean) == len(true)  # nothing lost, nothing extra
    key = ["customer_id", "order_date", "product_id", "line_no", "is_return"]
    merged = clean.merge(true, on=key, suffixes=("", "_true"), validate="one_to_one")
    assert len(merged) == len(true)
    for column in ["quantity", "unit_price", "list_price", "amount"]:
        assert np.allclose(merged[column], merged[f"{column}_true"], atol=0.005), column
    assert (merged["category"] == merged["category_true"]).all()
    assert (merged["region"] == merged["region_true"]).all()
    assert (merged["source"] == merged["system"]).all()


def test_customers_match_truth_after_normalisation(cleaned, truth):
    merged = cleaned.tables["customers"].merge(truth["customers"], on="customer_id",
                                               suffixes=("", "_true"), validate="one_to_one")
    assert len(merged) == len(truth["customers"])
    for column in ["region", "city", "join_date", "channel"]:
        assert (merged[column] == merged[f"{column}_true"]).all(), column


def test_complaint_taxonomy_and_severity_match_truth(cleaned, truth):
    merged = cleaned.tables["complaints"].merge(truth["complaints"], on="complaint_id",
                                                suffixes=("", "_true"))
    assert len(merged) == len(truth["complaints"]) > 50
    assert (merged["category"] == merged["category_true"]).mean() == 1.0
    assert (merged["severity"] == merged["severity_true"]).all()


def test_survey_table_has_every_invitation_and_true_answers(cleaned, truth):
    merged = cleaned.tables["survey_responses"].merge(truth["survey"], on="invitation_id",
                                                      suffixes=("", "_true"))
    assert len(merged) == len(truth["survey"])
    assert (merged["responded"] == merged["responded_true"]).all()
    answered = merged[merged["responded"] & ~merged["reversed"]]
    assert (answered["recommend_score"] == answered["true_recommend"]).all()


def test_every_clean_table_passes_the_contract(cleaned):
    for name, table in cleaned.tables.items():
        contract.validate(name, table)
    # the built-in mapping names no currency: the page shows no empty currency column
    assert "currency" in cleaned.sources and "currency" not in cleaning.sources_shown(
        cleaned.sources)


def test_source_summary_adds_up(cleaned, raw):
    summary = cleaning.source_summary(cleaned)
    for source, frame in raw.items():
        assert summary.loc[source, "rows_read"] == len(frame)
    assert (summary["excluded"] == 0).all()  # exclusions come only from source mappings
    assert (summary["rows_clean"] + summary["duplicates_removed"] + summary["quarantined"]
            == summary["rows_read"]).all()
    sentence = story.cleaning.summary_sentence(cleaned)
    assert f"{summary['rows_read'].sum():,} raw rows" in sentence


def test_cleaning_leaves_its_input_untouched(raw):
    copies = {name: frame.copy() for name, frame in raw.items()}
    cleaning.clean(BUILTIN, raw)
    for name, frame in raw.items():
        pd.testing.assert_frame_equal(frame, copies[name])


@pytest.mark.slow
def test_default_sample_cleans_to_its_truth(tmp_path):
    from helpers.sample import write_sample

    write_sample(tmp_path / "raw", tmp_path / "truth", size="default")
    result = cleaning.clean(BUILTIN, reading.read_all(BUILTIN, tmp_path / "raw"))
    true_lines = pd.read_parquet(tmp_path / "truth" / "order_lines.parquet")
    defects = pd.read_parquet(tmp_path / "truth" / "injected_defects.parquet")
    lines = result.tables["order_lines_unrepaired"]
    assert (lines["source"] == "current").sum() == (true_lines["system"] == "current").sum()
    assert (lines["source"] == "legacy").sum() == _legacy_lines_expected(true_lines, defects)
    assert result.quality_report.query("action == 'removed'")["rows_affected"].sum() == (
        defects["kind"] == "duplicate").sum()
    junk = defects[(defects["source"] == "orders_current") & (defects["kind"] != "duplicate")]
    assert len(result.quarantine) == len(junk)


def test_scores_off_their_scale_are_set_missing_and_flagged():
    recommend = pd.Series([9.0, 11.0, np.nan, 3.4])
    satisfaction = pd.Series([4.0, 3.0, 2.0, 0.0])
    rec, sat, off = cleaning.on_scales(recommend, satisfaction, missing_is_out_of_range=False)
    assert rec.tolist()[:2] == [9, pd.NA] and rec.iloc[3] == 3
    assert sat.tolist()[:3] == [4, 3, 2] and pd.isna(sat.iloc[3])
    assert off.tolist() == [False, True, False, True]
    assert cleaning.on_scales(recommend, satisfaction,
                              missing_is_out_of_range=True)[2].tolist() == [False, True, True,
                                                                             True]


def test_absurd_amounts_and_future_dates_are_set_aside_except_in_the_legacy_export():
    """A 1e15 amount, a 1e15 market index and an order dated 2099 would wreck revenue and the
    market adjustment: set aside with their reason. The legacy export keeps its wrong values
    for the history repair (02 corrects and logs them)."""
    rows = [{**CURRENT_ROW, "line_no": str(k)} for k in range(1, 6)]
    rows += [{**CURRENT_ROW, "line_no": "6", "amount": "1e15"},
             {**CURRENT_ROW, "line_no": "7", "order_date": "2099-01-05"}]
    out = cleaning.clean_order_lines(BUILTIN.part("orders_current"), _raw(rows))
    reasons = pd.concat(out.quarantine).set_index("row")["reason"].to_dict()
    assert reasons == {6: "implausible amount", 7: "future order_date"}
    assert out.table["line_no"].tolist() == [1, 2, 3, 4, 5]
    legacy = {"BILL_NO": "500007", "ITEM_SEQ": "1", "CUST_NO": "42", "BILL_DATE": "31/01/2032",
              "ITEM_CODE": "P9", "CATEGORY_CN": "钟表", "AREA_CN": "西南", "QTY": "3",
              "PRICE_FEN": "12345", "LIST_FEN": "12345", "AMOUNT_FEN": "3703500000000"}
    kept = cleaning.clean_order_lines(BUILTIN.part("orders_legacy"), _raw([legacy])).table
    assert len(kept) == 1 and kept["order_date"].iloc[0].year == 2032
    index = _raw([{"category": "Clocks", "region": "Metro", "month": f"2024-{m:02d}",
                   "index": "1e15" if m == 3 else "101.5"} for m in range(1, 5)])
    market = cleaning.clean_other(BUILTIN.part("market_index"), index)
    assert pd.concat(market.quarantine)["reason"].tolist() == ["implausible index"]
    assert len(market.table) == 3
