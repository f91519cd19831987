"""Published pages hide customer ids."""

import pandas as pd

from helpers import display


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
