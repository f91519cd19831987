"""Presentation helpers for the published pages: managers read them, so no customer ids.

Analysts get ids from the parquet tables in data/clean; the HTML pages show masked values.
"""

from __future__ import annotations

import pandas as pd

MASK = "•••"
ID_FIELDS = ("customer_id", "referrer_id", "referred_customer_id", "legacy_customer_id")


def mask_customer_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to publish: customer-id columns masked, ``key=value`` records
    (quarantine) masked for id fields, and repair-log values of the customer_id column masked.
    """
    out = frame.copy()
    for column in out.columns:
        if str(column) in ID_FIELDS:
            out[column] = out[column].where(out[column].isna(), MASK)
    if "record" in out:
        pattern = r"\b(" + "|".join(ID_FIELDS) + r")=[^;]*"
        out["record"] = out["record"].str.replace(pattern, lambda m: f"{m.group(1)}={MASK}",
                                                  regex=True)
    if {"column", "original_value", "new_value"} <= set(out.columns):
        ids = out["column"].isin(ID_FIELDS)
        for value in ["original_value", "new_value"]:
            out.loc[ids & out[value].notna(), value] = MASK
    return out
