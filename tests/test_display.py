"""Published pages: tables formatted by what their columns hold, in the report language, and
no customer ids."""

import re

import pandas as pd

from helpers import display, i18n


def test_ids_are_masked_in_columns_records_and_log_values():
    frame = pd.DataFrame({
        "customer_id": ["C000001", None], "region": ["Metro", "Central"],
        "record": ["order_id=SO1; customer_id=C000001; amount=3", "referrer_id=C9; x=1"],
        "column": ["customer_id", "amount"], "original_value": ["C7000001", "12"],
        "new_value": ["C000001", "1.2"]})
    masked = display.mask_customer_ids(frame)
    assert masked["customer_id"].tolist()[0] == display.MASK and pd.isna(masked.loc[1,
                                                                               "customer_id"])
    assert masked["record"].tolist() == [f"order_id=SO1; customer_id={display.MASK}; amount=3",
                                         f"referrer_id={display.MASK}; x=1"]
    assert masked["original_value"].tolist() == [display.MASK, "12"]
    assert masked["new_value"].tolist() == [display.MASK, "1.2"]
    assert frame.loc[0, "customer_id"] == "C000001"  # the input is not changed


def _cells(styler) -> list[str]:
    return [c.strip() for c in re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", styler.to_html())]


def test_table_formats_columns_by_their_meaning_then_by_their_type():
    frame = pd.DataFrame({
        "customers": [1234, 56], "repeat_rate": [0.29531, 0.5], "elasticity": [-1.234, -0.5],
        "month": pd.to_datetime(["2024-03-01", "2024-04-01"]), "small_group": [False, True],
        "ratio": [12345.678, 0.000123], "share_of_value": [0.25, float("nan")],
    }, index=pd.Index(["Metro", "Central"], name="region"))
    cells = _cells(display.table(frame))
    assert {"1,234", "29.5%", "-1.23", "2024-03", "no", "yes", "12,346", "0.00012",
            "25.0%"} <= set(cells)
    assert not [c for c in cells if re.fullmatch(r"-?\d+\.\d{6,}", c)]  # no raw floats
    # a cell's own formats win; one format for a whole grid; whole percentages on request
    assert "+29.53%" in _cells(display.table(frame, {"repeat_rate": "{:+.2%}"}))
    grid = pd.DataFrame({"a": [0.5], "b": [0.25]})
    assert {"50%", "25%"} <= set(_cells(display.table(grid, "{:.0%}")))
    assert {"50%", "25%"} <= set(_cells(display.table(grid, percent=["a", "b"])))
    assert "few customers" in _cells(display.table(frame, {"small_group": display.few_customers}))


def test_table_speaks_the_report_language():
    frame = pd.DataFrame({"region": ["Metro"], "customers": [3], "small_group": [True]})
    with i18n.speaking("zh"):
        cells = _cells(display.table(frame, translate=["region"], hide_index=True,
                                     caption="标题"))
    assert {"区域", "客户数", "都会", "是"} <= set(cells)
    assert "Metro" not in cells and "region" not in cells


def test_an_empty_table_shows_its_note_instead():
    shown = display.table(pd.DataFrame({"month": []}), empty="No abnormal month.")
    assert shown.data == "No abnormal month."
    assert display.table(None) is None


def test_a_flag_with_its_own_format_keeps_it_in_every_language():
    frame = pd.DataFrame({"customers": [3, 300], "small_group": [True, False]})
    with i18n.speaking("zh"):
        cells = _cells(display.table(frame, {"small_group": display.few_customers}))
    assert "客户较少" in cells and "否" not in cells and "是" not in cells
