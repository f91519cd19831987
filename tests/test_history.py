"""History repair (notebook 02): hand-computed cases, and recovery of the generator's truth."""

import numpy as np
import pandas as pd
import pytest

from helpers import contract, history, story


# --- small hand-made cases -----------------------------------------------------------------------
def _lines(rows: list[dict]) -> pd.DataFrame:
    """order_lines_unrepaired rows with defaults for the columns a case does not care about."""
    base = {"customer_id": "C000001", "order_date": "2023-03-10", "product_id": "P1",
            "category": "Clocks", "region": "Metro", "quantity": 1, "unit_price": 100.0,
            "list_price": 100.0, "amount": 100.0, "is_return": False, "source": "legacy",
            "is_estimated": False}
    frame = pd.DataFrame([{**base, **row} for row in rows])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["line_no"] = frame.get("line_no", pd.Series(1, index=frame.index)).fillna(1).astype(int)
    return frame


def _normal_history(n: int = 40, **extra) -> list[dict]:
    """n ordinary legacy bills of product P1 at 100.00, one a day from 2023-01-02."""
    days = pd.date_range("2023-01-02", periods=n, freq="D")
    return [{"order_id": f"L{500000 + i}", "order_date": str(d.date()), **extra}
            for i, d in enumerate(days)]


def _repair(rows: list[dict], lag: int = 0) -> history.RepairResult:
    current = {"order_id": "SO0000001", "order_date": "2023-07-01", "source": "current",
               "customer_id": "C000002"}
    settings = history.RepairSettings(legacy_invoice_lag_days=lag)
    return history.repair_history(_lines([*rows, current]), None, settings)


def _log_for(result: history.RepairResult, row_key: str) -> pd.DataFrame:
    return result.repair_log[result.repair_log["row_key"] == row_key]


def test_unit_slip_is_divided_by_100_in_every_money_column():
    rows = _normal_history()
    rows[5].update(unit_price=10000.0, list_price=10000.0, amount=10000.0)
    result = _repair(rows)
    line = result.order_lines.set_index("order_id").loc["L500005"]
    assert (line["unit_price"], line["list_price"], line["amount"]) == (100.0, 100.0, 100.0)
    log = _log_for(result, "L500005#1")
    assert sorted(log["column"]) == ["amount", "list_price", "unit_price"]
    assert set(log["original_value"]) == {"10000"} and set(log["new_value"]) == {"100"}
    assert len(result.repair_log) == 3  # nothing else was touched


def test_quantity_slip_and_outlier_amount_are_told_apart():
    rows = _normal_history()
    rows[3].update(quantity=11, amount=100.0)  # 1 keyed as 11: amount = 1 x price
    rows[4].update(quantity=2, amount=2000.07)  # extra digit: 200.00 -> 2000.07
    result = _repair(rows)
    lines = result.order_lines.set_index("order_id")
    assert lines.loc["L500003", "quantity"] == 1 and lines.loc["L500003", "amount"] == 100.0
    assert lines.loc["L500004", "quantity"] == 2 and lines.loc["L500004", "amount"] == 200.0
    assert _log_for(result, "L500003#1")["column"].tolist() == ["quantity"]
    assert _log_for(result, "L500004#1")[["original_value", "new_value"]].values.tolist() == [
        ["2000.07", "200"]]


def test_missing_amount_is_estimated_from_list_price_and_observed_discounts():
    rows = _normal_history(20) + [
        {"order_id": f"L{600000 + i}", "order_date": "2023-02-15", "unit_price": 90.0,
         "amount": 90.0, "customer_id": f"C{i:06d}"} for i in range(20)]  # half at 10% off
    rows.append({"order_id": "L700000", "order_date": "2023-02-20", "quantity": 2,
                 "unit_price": np.nan, "amount": np.nan})
    result = _repair(rows)
    line = result.order_lines.set_index("order_id").loc["L700000"]
    assert line["unit_price"] == pytest.approx(95.0) and line["amount"] == pytest.approx(190.0)
    assert line["is_estimated"]
    assert (line["amount_lower"], line["amount_upper"]) == pytest.approx((180.0, 200.0))
    log = _log_for(result, "L700000#1").set_index("column")
    assert log.loc["amount", "confidence"] == 0.9 and log.loc["amount", "lower"] == "180"


def test_impossible_date_takes_the_bills_other_line_and_the_log_keeps_the_delivered_value():
    rows = _normal_history()
    rows.append({"order_id": "L500010", "line_no": 2, "order_date": "2033-01-13"})  # +10 years
    result = _repair(rows, lag=1)
    lines = result.order_lines.set_index(["order_id", "line_no"])
    assert lines.loc[("L500010", 2), "order_date"] == pd.Timestamp("2023-01-11")
    assert not lines.loc[("L500010", 2), "is_estimated"]
    (entry,) = _log_for(result, "L500010#2").to_dict("records")
    assert entry["original_value"] == "2033-01-13" and entry["new_value"] == "2023-01-11"
    assert entry["method"] == ("definition: invoice date -> order date + date of the bill's "
                               "other lines")


def test_single_line_bill_with_impossible_date_uses_neighbouring_bills():
    rows = _normal_history()
    rows[7]["order_date"] = "1900-01-01"
    rows[8]["order_date"] = "1900-01-01"  # neighbours 500006 (01-08) and 500009 (01-11) differ
    result = _repair(rows)
    lines = result.order_lines.set_index("order_id")
    assert lines.loc["L500007", "order_date"] == pd.Timestamp("2023-01-08")
    assert lines.loc["L500007", "is_estimated"]
    log = _log_for(result, "L500007#1").iloc[0]
    assert (log["lower"], log["upper"]) == ("2023-01-08", "2023-01-11")


def test_duplicated_month_copies_are_removed_but_chance_repeats_are_kept():
    rows = _normal_history(40)
    rows.append({**rows[0], "order_id": "L900001"})  # one chance repeat in January
    march = [{"order_id": f"L{510000 + i}", "order_date": f"2023-03-{i + 1:02d}",
              "customer_id": f"C{i:06d}"} for i in range(20)]
    again = [{**row, "order_id": f"L{9510000 + i}"} for i, row in enumerate(march)]
    result = _repair(rows + march + again)
    kept = set(result.order_lines["order_id"])
    assert "L900001" in kept and not kept & {r["order_id"] for r in again}
    removed = result.repair_log[result.repair_log["method"] == "removed: duplicated export"]
    assert len(removed) == 20 and removed["new_value"].isna().all()


def test_customer_ids_are_mapped_through_the_crosswalk():
    rows = _normal_history(5, customer_id="C7000001")
    id_map = pd.DataFrame({"legacy_customer_id": ["C7000001"], "customer_id": ["C000042"]})
    result = history.repair_history(_lines(rows), id_map,
                                    history.RepairSettings(legacy_invoice_lag_days=0))
    assert set(result.order_lines["customer_id"]) == {"C000042"}
    assert len(result.repair_log) == 5


def test_estimated_share_and_sentences_are_computed_per_group():
    table = pd.DataFrame({
        "region": ["A", "A", "B"], "month": pd.to_datetime(["2022-01-01", "2022-02-01",
                                                            "2022-01-01"]),
        "revenue": [100.0, 300.0, 50.0], "estimated_revenue": [0.0, 48.0, 0.0]})
    shares = history.estimated_share(table, ["year", "region"])
    assert shares.loc[(2022, "A"), "share_estimated"] == pytest.approx(0.12)
    assert shares.loc[(2022, "B"), "share_estimated"] == 0
    assert story.history.estimated_share_sentences(table, ["year", "region"]) == [
        "12% of 2022 revenue in A is estimated"]


def test_a_clean_history_is_left_alone():
    result = _repair(_normal_history(), lag=0)
    assert result.repair_log.empty
    assert not result.order_lines["is_estimated"].any()
    assert not result.monthly_sales["is_estimated"].any()


# --- the small sample (session fixtures) ------------------------------------------------------
@pytest.fixture(scope="module")
def small_repair(cleaned) -> history.RepairResult:
    return history.repair_history(cleaned.tables["order_lines_unrepaired"],
                                  cleaned.tables["customer_id_map"])


def test_repair_is_reproducible_and_leaves_its_input_alone(cleaned, small_repair):
    before = cleaned.tables["order_lines_unrepaired"].copy()
    again = history.repair_history(cleaned.tables["order_lines_unrepaired"],
                                   cleaned.tables["customer_id_map"])
    pd.testing.assert_frame_equal(cleaned.tables["order_lines_unrepaired"], before)
    for name in ["order_lines", "repair_log", "monthly_sales", "rules"]:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(small_repair, name))


def test_outputs_pass_the_contract(small_repair):
    contract.validate("order_lines", small_repair.order_lines)
    contract.validate("repair_log", small_repair.repair_log)
    contract.validate("monthly_sales", small_repair.monthly_sales)


def test_every_changed_value_is_logged_exactly_once(cleaned, small_repair):
    log = small_repair.repair_log
    assert not log.duplicated(["table", "row_key", "column"]).any()
    before = cleaned.tables["order_lines_unrepaired"]
    after = small_repair.order_lines
    key = lambda f: f["order_id"] + "#" + f["line_no"].astype(str)  # noqa: E731
    before, after = before.set_index(key(before)), after.set_index(key(after))
    removed = set(before.index) - set(after.index)
    assert removed == set(log.loc[log["column"] == "(line)", "row_key"])
    assert set(after.index) <= set(before.index)  # nothing invented at line level
    changed = set()
    for column in ["customer_id", "order_date", "quantity", "unit_price", "list_price",
                   "amount"]:
        old = before.loc[after.index, column]
        new = after[column]
        differs = ~((old == new) | (old.isna() & new.isna()))
        changed |= {(k, column) for k in after.index[differs.to_numpy()]}
    logged = set(zip(log["row_key"], log["column"], strict=True)) - {
        (k, "(line)") for k in removed}
    flagged_only = log["method"].str.contains("flagged")
    assert changed == logged - set(zip(log.loc[flagged_only, "row_key"],
                                       log.loc[flagged_only, "column"], strict=True))


# --- truth recovery on the default sample -------------------------------------------------------
def _legacy_truth(truth) -> pd.DataFrame:
    """True legacy lines keyed as the repaired table keys them ('L<BILL_NO>#<line_no>')."""
    true = truth["order_lines"].query("system == 'legacy'").copy()
    bill = true["order_id"].str.slice(2).astype(int) + 500_000
    true["row_key"] = "L" + bill.astype(str) + "#" + true["line_no"].astype(str)
    return true.set_index("row_key")


DETECTED_BY = {  # injected kind -> log rows that are that rule's findings
    "unit_slip": lambda log: log["method"] == "corrected: divided by 100",
    "quantity_slip": lambda log: log["method"] == "corrected: quantity = amount / unit price",
    "outlier_amount": lambda log: log["method"] == "corrected: amount = quantity x unit price",
    "missing_amount": lambda log: (log["column"] == "amount")
    & log["method"].str.startswith(("estimated", "completed")),
    "impossible_date": lambda log: (log["column"] == "order_date")
    & (log["method"] != "definition: invoice date -> order date"),
    "duplicated_month": lambda log: log["method"] == "removed: duplicated export",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(DETECTED_BY))
def test_detection_precision_and_recall_on_the_default_sample(default_run, kind):
    defects = default_run["truth"]["injected_defects"]
    injected = set("L" + defects.loc[defects["kind"] == kind, "key"])
    log = default_run["result"].repair_log
    found = set(log.loc[DETECTED_BY[kind](log), "row_key"])
    assert len(injected) > 100
    true_positives = len(found & injected)
    precision, recall = true_positives / len(found), true_positives / len(injected)
    assert precision >= 0.9 and recall >= 0.9, (kind, precision, recall)


@pytest.mark.slow
def test_repaired_values_equal_the_true_ones(default_run):
    lines = default_run["result"].order_lines
    legacy = lines[lines["source"] == "legacy"]
    legacy = legacy.set_index(legacy["order_id"] + "#" + legacy["line_no"].astype(str))
    true = _legacy_truth(default_run["truth"])
    assert set(legacy.index) <= set(true.index)  # every duplicated-month copy is gone
    exact = legacy[~legacy["is_estimated"]]
    truth = true.loc[exact.index]
    assert (exact["customer_id"] == truth["customer_id"]).all()  # old member numbers mapped
    assert (exact["order_date"] == truth["order_date"]).all()  # invoice dates and typos
    assert (exact["quantity"] == truth["quantity"]).all()
    for column in ["unit_price", "list_price", "amount"]:
        assert np.allclose(exact[column], truth[column], atol=0.005), column
    estimated = legacy[legacy["is_estimated"]]
    within = true.loc[estimated.index, "amount"].between(estimated["amount_lower"] - 0.005,
                                                         estimated["amount_upper"] + 0.005)
    assert len(estimated) > 100 and within.mean() >= 0.8


@pytest.mark.slow
def test_lost_months_are_found_and_their_estimates_cover_the_truth(default_run):
    truth, result = default_run["truth"], default_run["result"]
    defects = truth["injected_defects"]
    lost = set(defects.loc[defects["kind"] == "missing_month", "key"])
    gaps = result.model["gaps"]
    assert set(gaps["region"] + "|" + gaps["month"].dt.strftime("%Y-%m")) == lost
    true = truth["order_lines"].assign(month=lambda t: t["order_date"].dt.to_period("M")
                                       .dt.to_timestamp())
    true_cells = true[(true["region"] + "|" + true["month"].dt.strftime("%Y-%m")).isin(lost)]
    true_revenue = true_cells.groupby(["region", "category", "month"])["amount"].sum()
    estimated = result.monthly_sales[result.monthly_sales["is_estimated"]].set_index(
        ["region", "category", "month"])
    assert set(estimated.index) == set(true_revenue.index)
    truth_aligned = true_revenue.loc[estimated.index]
    covered = truth_aligned.between(estimated["revenue_lower"], estimated["revenue_upper"])
    print(f"\ninterval coverage of truly missing cells: {covered.mean():.1%} of {len(covered)}")
    assert covered.mean() >= 0.8
    # the point estimates are informative: typical error well under the interval's half-width
    error = np.abs(np.log(estimated["revenue"] / truth_aligned))
    assert error.median() < 0.2


@pytest.mark.slow
def test_current_system_lines_are_not_touched(default_run):
    log = default_run["result"].repair_log
    assert not log["row_key"].str.startswith("SO").any()


def test_estimated_share_of_order_line_amounts():
    lines = pd.DataFrame({"region": ["A", "A", "A"], "amount": [100.0, 50.0, -25.0],
                          "is_estimated": [False, True, False],
                          "order_date": pd.to_datetime(["2022-03-01"] * 3)})
    shares = history.estimated_share(lines, ["year", "region"], value="amount", estimated=None)
    assert shares.loc[(2022, "A")].tolist() == pytest.approx([125.0, 50.0, 0.4])


def test_year_typo_is_caught_without_a_current_system():
    rows = _normal_history(200)
    rows[50]["order_date"] = "2033-02-21"
    result = history.repair_history(_lines(rows), None,
                                    history.RepairSettings(legacy_invoice_lag_days=0))
    line = result.order_lines.set_index("order_id").loc["L500050"]
    # neighbouring bills are dated 02-20 and 02-22: the earlier, estimated, with that range
    assert line["order_date"] == pd.Timestamp("2023-02-20") and line["is_estimated"]
    log = _log_for(result, "L500050#1").iloc[0]
    assert (log["original_value"], log["lower"], log["upper"]) == (
        "2033-02-21", "2023-02-20", "2023-02-22")


def test_gaps_need_a_count_chance_cannot_explain():
    months = pd.date_range("2022-01-01", periods=12, freq="MS")
    table = pd.DataFrame({
        "region": ["Big"] * 12 + ["Small"] * 12, "month": list(months) * 2,
        "lines": [500.0] * 5 + [0.0] + [500.0] * 6 + [3.0] * 5 + [0.0] + [3.0] * 6})
    gaps = history.find_gaps(table, share=0.2)
    assert gaps[["region", "month"]].values.tolist() == [["Big", pd.Timestamp("2022-06-01")]]
    assert gaps["usual_lines"].tolist() == [500.0]
