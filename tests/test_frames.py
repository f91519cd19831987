"""The fast paths give what the plain pandas calls give: Arrow isin and per-value maps, trailing
bill numbers, numbers parsed by Arrow, DuckDB group-bys with exact money sums, and the customer
arrays the scorecard, the snapshots and the attitude page ask many windows of."""

import numpy as np
import pandas as pd
import pytest

from helpers import activity, frames
from helpers.cleaning.values import parse_numbers


def _text(values) -> pd.Series:
    return pd.Series(values, dtype="str")


def test_isin_matches_pandas_with_missing_values_and_any_collection():
    values = _text(["a", "b", None, "c", "a"])
    for allowed in (["a", "c"], {"c", None}, _text(["a", None]), pd.Index(["b"]), []):
        expected = values.isin(list(allowed)).fillna(False).astype(bool) & values.notna()
        assert frames.isin(values, allowed).tolist() == expected.tolist()
    assert frames.isin(pd.Series([1, 2, 3]), [3]).tolist() == [False, False, True]


def test_map_unique_calls_once_per_distinct_value_and_keeps_missing():
    calls = []

    def shout(value):
        calls.append(value)
        return value.upper() if value != "b" else None

    mapped = frames.map_unique(_text(["a", "b", None, "a", "b", "a"]), shout)
    assert mapped.isna().tolist() == [False, True, True, False, True, False]
    assert mapped.dropna().tolist() == ["A", "A", "A"] and str(mapped.dtype) == "str"
    assert sorted(calls) == ["a", "b"]  # once each, missing never passed
    numbers = frames.map_unique(_text(["1", "2", "1"]), int, dtype="Int64")
    assert numbers.tolist() == [1, 2, 1] and str(numbers.dtype) == "Int64"


def test_trailing_number_as_the_regular_expression_gives_it():
    ids = _text(["L512345", "SO0001234", None, "abc", "x12y7", "99"])
    expected = pd.to_numeric(ids.str.extract(r"(\d+)$")[0], errors="coerce")
    pd.testing.assert_series_equal(frames.trailing_number(ids), expected, check_names=False)
    assert frames.trailing_number(_text(["A1", "B22"])).dtype == "int64"


def test_numbers_are_read_as_pandas_reads_them():
    spellings = ["1", "1.5", " 2 ", "", "abc", "1e3", "inf", "-inf", "nan", "+3", "1.", ".5",
                 "0x10", "1,000", "1_000", "1e", "--1", "Infinity", "12abc", "-0", "1E5",
                 "+.5e-3", None, "-", ".", "e5"]
    values = _text(spellings)
    expected = pd.to_numeric(values.str.strip(), errors="coerce").astype(float)
    pd.testing.assert_series_equal(parse_numbers(values), expected, check_names=False)


def test_money_is_summed_exactly_whatever_the_order():
    amounts = pd.DataFrame({"k": ["x"] * 3 + ["y"] * 2,
                            "amount": [0.1, 0.2, -0.3, 19.99, np.nan]})
    table = frames.sql(f"SELECT k, {frames.money_sum('amount')} AS total, "
                       f"{frames.money_sum('amount', 'amount > 0')} AS positive "
                       "FROM t GROUP BY k ORDER BY k", t=amounts)
    assert table["total"].tolist() == [0.0, 19.99]  # 0.1 + 0.2 - 0.3 is not 0 in floats
    assert table["positive"].tolist() == [pytest.approx(0.3, abs=0), 19.99]
    assert str(table["k"].dtype) == "str"


def _lines() -> pd.DataFrame:
    """Order lines with the awkward cases: an order on two days, a return, a customer with
    only returns, a line without an order id, amounts missing."""
    return pd.DataFrame({
        "customer_id": _text(["b", "a", "a", "a", "c", "a", "b", "d"]),
        "order_id": _text(["o1", "o2", "o2", None, "o3", "o4", "o1", "o5"]),
        "order_date": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-03", "2024-01-05",
                                      "2024-02-01", "2024-03-01", "2024-01-02", "2024-01-09"]),
        "is_return": [False, False, False, False, True, False, True, False],
        "category": _text(["X", "X", "Y", "X", "X", "Y", "X", None]),
        "amount": [10.0, 5.0, 2.5, 1.0, -3.0, np.nan, -10.0, 7.0]})


@pytest.mark.parametrize(("start", "end"), [("2024-01-01", "2024-04-01"),
                                            ("2024-01-02", "2024-01-04"),
                                            ("2025-01-01", "2025-02-01")])
def test_customer_activity_windows_match_the_group_by(start, end):
    lines = _lines()
    window = lines[(lines["order_date"] >= start) & (lines["order_date"] < end)]
    sales = window[~window["is_return"]]
    expected = pd.DataFrame({"purchases": sales.groupby("customer_id")["order_id"].nunique(),
                             "spend": window.groupby("customer_id")["amount"].sum()}).fillna(0)
    got = activity.CustomerActivity.of(lines).window(pd.Timestamp(start), pd.Timestamp(end))
    assert got.index.tolist() == expected.index.tolist()
    assert got["purchases"].tolist() == expected["purchases"].astype(int).tolist()
    assert got["spend"].tolist() == pytest.approx(expected["spend"].tolist())


def test_sale_orders_give_the_orders_categories_and_next_purchases_of_the_lines():
    lines = _lines()
    sales = activity.SaleOrders.of(lines)
    orders = sales.orders_before(pd.Timestamp("2024-01-04"))
    # o2 on two days before the snapshot is one order dated on its first day, worth 7.5
    by_customer = orders.assign(customer=sales.customer_ids[orders["customer"]])
    assert sorted(zip(by_customer["customer"], by_customer["order_date"].dt.day,
                      by_customer["amount"], strict=True)) == [("a", 1, 7.5), ("b", 2, 10.0)]
    categories = sales.categories_between(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31"))
    assert dict(zip(sales.customer_ids, categories, strict=True)) == {"b": 1, "a": 2, "d": 0}
    # a's sale days (with an order id): 1, 3 January and 1 March; b's: 2 January
    following = pd.Series(sales.next_purchase(
        _text(["a", "a", "a", "b", "zz", None]),
        pd.Series(pd.to_datetime(["2024-01-01", "2024-01-03", "2024-03-01", "2023-12-31",
                                  "2024-01-01", "2024-01-01"]))))
    assert following.isna().tolist() == [False, False, True, False, True, True]
    assert following.dropna().dt.strftime("%m-%d").tolist() == ["01-03", "03-01", "01-02"]
    totals = sales.sale_totals()
    assert totals["purchases"].to_dict() == {"a": 2, "b": 1, "d": 1}
    assert totals.index.tolist() == ["a", "b", "d"]


def test_sorted_groups_agree_when_the_codes_do_not_fit_one_key():
    rng = np.random.default_rng(3)
    codes = [rng.integers(0, 5, 200), rng.integers(0, 2 ** 40, 200) % 7,
             rng.integers(0, 3, 200)]
    packed_order, packed_starts = activity._sorted_groups(*codes)
    wide = [c * (2 ** 30) if k == 1 else c for k, c in enumerate(codes)]  # 30 more bits
    wide_order, wide_starts = activity._sorted_groups(*[c.astype(np.int64) for c in wide])
    assert len(packed_starts) == len(wide_starts) == len(
        {tuple(row) for row in np.column_stack(codes)})
    first = np.column_stack(codes)[packed_order][packed_starts]
    assert (first == np.column_stack(codes)[wide_order][wide_starts]).all()


def test_duplicated_by_sql_matches_pandas_with_missing_values_and_mixed_types():
    rng = np.random.default_rng(7)
    n = 3_000
    text = pd.Series(rng.choice(["a", "b", "c", None], n), dtype="str")
    frame = pd.DataFrame({
        "id": text, 'a "quoted" name': rng.integers(0, 3, n),
        "price": rng.choice([1.5, 2.0, np.nan], n),
        "note": pd.Series(rng.choice(["x", "", None], n), dtype="object"),
    }, index=pd.RangeIndex(10, 10 + n))
    expected = frame.duplicated(keep="first")
    by_sql = frames.duplicated(frame, sql_from_rows=0)
    pd.testing.assert_series_equal(by_sql, expected)
    assert 0 < by_sql.sum() < n  # repeats found, and first copies kept
    # a first copy: the earliest row of its group
    assert not by_sql.iloc[0]
    small = frame.head(50)
    pd.testing.assert_series_equal(frames.duplicated(small), small.duplicated(keep="first"))
