"""The repair log every rule writes to, and the references the rules share (stage 02)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import frames

LINE_KEY = ["order_id", "line_no"]
_TOLERANCE = 0.005  # currency units: amounts are rounded to the fen


# ----------------------------------------------------------------------------------------------
# the repair log
LOG_COLUMNS = ["table", "row_key", "column", "original_value", "new_value", "method", "reason",
               "confidence", "lower", "upper"]


def _as_text(values: pd.Series) -> pd.Series:
    """Values as log text: dates as ISO days, numbers without float noise, missing as <NA>."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(values):
        out = values.round(6).map(lambda v: f"{v:.10g}", na_action="ignore")
    else:
        out = values.astype("str")
    return out.where(values.notna()).astype("str")


class _Log:
    """Collects log entries; ``frame()`` merges repeated (row_key, column) into one row.

    A rule's method and reason are the same for all its rows (millions, for the invoice-date
    shift of a large legacy history): each entry keeps the number of its rule (``labels``) and
    the texts are written out once, in the final table."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []
        self.labels: list[tuple[str, str]] = []  # (method, reason) of each recorded rule

    def record(self, row_key: pd.Series, column: str, original: pd.Series, new: pd.Series | None,
               method: str, reason: str, confidence: float | pd.Series,
               lower: pd.Series | None = None, upper: pd.Series | None = None) -> None:
        if len(row_key) == 0:
            return
        index = row_key.index
        empty = pd.Series(pd.NA, index=index, dtype="str")
        self.labels.append((method, reason))
        self.parts.append(pd.DataFrame({
            "row_key": row_key.astype("str"), "column": column,
            "original_value": _as_text(original),
            "new_value": _as_text(new) if new is not None else empty,
            "_label": np.int32(len(self.labels) - 1),
            "confidence": pd.Series(confidence, index=index, dtype="float64"),
            "lower": _as_text(lower) if lower is not None else empty,
            "upper": _as_text(upper) if upper is not None else empty,
        }))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="float64" if c == "confidence" else "str")
                                 for c in LOG_COLUMNS})
        log = pd.concat(self.parts, ignore_index=True)
        log["_step"] = np.arange(len(log))
        labels = list(self.labels)
        key = ["row_key", "column"]
        repeated = log.duplicated(key, keep=False)
        if repeated.any():  # one row per value, its rules' methods and reasons joined in order
            methods = np.array([m for m, _ in labels], dtype=object)
            reasons = np.array([r for _, r in labels], dtype=object)
            twice = log.loc[repeated]
            merged = twice.assign(method=methods[twice["_label"]],
                                  reason=reasons[twice["_label"]]).groupby(key, sort=False).agg(
                original_value=("original_value", "first"), new_value=("new_value", "last"),
                method=("method", lambda s: " + ".join(s)),
                reason=("reason", lambda s: "; ".join(s)), confidence=("confidence", "min"),
                lower=("lower", "last"), upper=("upper", "last"),
                _step=("_step", "first")).reset_index()
            joined = {label: k for k, label in enumerate(labels)}
            for pair in zip(merged["method"], merged["reason"], strict=True):
                if pair not in joined:
                    joined[pair] = len(labels)
                    labels.append(pair)
            merged["_label"] = [joined[pair] for pair in zip(merged["method"],
                                                             merged["reason"], strict=True)]
            log = pd.concat([log.loc[~repeated], merged.drop(columns=["method", "reason"])],
                            ignore_index=True)
        # a later rule may have set a value back to where it started: nothing changed then
        flagged = np.array(["flagged" in m for m, _ in labels])
        same = log["original_value"].fillna("<NA>") == log["new_value"].fillna("<NA>")
        log = log.loc[~same.to_numpy() | flagged[log["_label"].to_numpy()]].sort_values("_step")
        code = log["_label"].to_numpy()
        log = log.assign(
            table="order_lines",
            method=pd.array(np.array([m for m, _ in labels], dtype=object)[code], dtype="str"),
            reason=pd.array(np.array([r for _, r in labels], dtype=object)[code], dtype="str"))
        return log[LOG_COLUMNS].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# reference values
def reference_prices(lines: pd.DataFrame) -> pd.Series:
    """Median unit price per line's product and region (product-wide median as a fallback).

    Reads product_id, region, unit_price. Returns a Series aligned with ``lines``: the typical
    price the line's product sold at in its region over the whole history, robust to the few
    wrong values (a median).
    """
    by_region = lines.groupby(["product_id", "region"])["unit_price"].transform("median")
    by_product = lines.groupby("product_id")["unit_price"].transform("median")
    return by_region.fillna(by_product)


def bill_number(order_id: pd.Series) -> pd.Series:
    """The numeric part of an order id ('L512345' -> 512345, 'SO0001234' -> 1234)."""
    return frames.trailing_number(order_id)



def _keys(lines: pd.DataFrame) -> pd.Series:
    return lines["order_id"] + "#" + lines["line_no"].astype(str)


