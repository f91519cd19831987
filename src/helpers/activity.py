"""Customers' purchases and spend over date windows, from order lines prepared once.

The scorecard asks the same question of the order lines about thirty times: per customer, how
many purchases (orders with a sale line) and how much net spend fall in a window of dates (the
tiers now and a year before, this and the previous period, the 24 points of the dashboard's
trends, the tier mix). Filtering and grouping ten million lines by their text ids each time
took minutes. ``CustomerActivity.of`` turns the lines into whole-number arrays once (customer
and order numbers, sorted by customer; money in millionths, so sums are exact); each window is
then a few passes of numpy over them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

COLUMNS = ["customer_id", "order_id", "order_date", "is_return", "amount"]
MICROS = 1_000_000


@dataclass(frozen=True)
class CustomerActivity:
    """Order lines as arrays sorted by customer and order (``of`` builds it)."""

    customer_ids: pd.Index  # id of customer number k, in order of first appearance
    by_id: np.ndarray  # customer numbers in the order of their ids
    customer: np.ndarray  # per line: customer number
    new_order: np.ndarray  # per line: True where a (customer, order) pair starts
    pair: np.ndarray  # per line: number of its (customer, order) pair, rising
    date: np.ndarray  # per line: order date (datetime64)
    sale: np.ndarray  # per line: a sale line (not a return)
    has_order: np.ndarray  # per line: it has an order id (a purchase can be counted)
    micros: np.ndarray  # per line: amount in millionths (whole numbers held as float64)
    starts: np.ndarray  # positions where a customer's lines start

    @classmethod
    def of(cls, order_lines: pd.DataFrame) -> CustomerActivity:
        """Prepare ``order_lines`` (customer_id, order_id, order_date, is_return, amount;
        without amount every window's spend is 0: for callers that count purchases only)."""
        if "amount" not in order_lines:
            order_lines = order_lines.assign(amount=0.0)
        missing = [c for c in COLUMNS if c not in order_lines]
        if missing:
            raise KeyError(f"order_lines lacks {missing}: activity needs {COLUMNS}")
        customer, customer_ids = pd.factorize(order_lines["customer_id"], use_na_sentinel=True)
        order, _ = pd.factorize(order_lines["order_id"], use_na_sentinel=True)
        keep = customer >= 0  # a line without a customer belongs to nobody's activity
        has_order = order >= 0
        order = np.where(has_order, order, -1)
        sequence = np.lexsort((order[keep], customer[keep]))
        rows = np.flatnonzero(keep)[sequence]
        customer, order = customer[rows], order[rows]
        new_order = np.ones(len(rows), dtype=bool)
        new_order[1:] = (customer[1:] != customer[:-1]) | (order[1:] != order[:-1])
        starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]]) if len(rows) \
            else np.array([], dtype=int)
        amount = order_lines["amount"].to_numpy(dtype=float, na_value=np.nan)[rows]
        return cls(customer_ids=pd.Index(customer_ids, name="customer_id"),
                   by_id=np.argsort(np.asarray(customer_ids, dtype=object), kind="stable"),
                   customer=customer, new_order=new_order, pair=np.cumsum(new_order),
                   date=order_lines["order_date"].to_numpy()[rows],
                   sale=~order_lines["is_return"].to_numpy(dtype=bool)[rows],
                   has_order=has_order[rows],
                   micros=np.round(np.nan_to_num(amount) * MICROS), starts=starts)

    @property
    def first_date(self) -> pd.Timestamp:
        """The earliest order date (NaT without lines)."""
        return pd.Timestamp(self.date.min()) if len(self.date) else pd.NaT

    def first_dates(self) -> pd.Series:
        """Each customer's first order date, by customer id (``groupby(...).min()``)."""
        if not len(self.date):
            return pd.Series([], index=self.customer_ids[:0], dtype=self.date.dtype,
                             name="order_date")
        first = np.fmin.reduceat(self.date, self.starts)
        owners = self.customer[self.starts]
        order = np.argsort(np.asarray(self.customer_ids[owners], dtype=object), kind="stable")
        return pd.Series(first[order], index=self.customer_ids[owners][order],
                         name="order_date")

    def sale_totals(self) -> pd.DataFrame:
        """Per customer with a sale line, by customer id: first_sale (date of the first) and
        purchases (distinct orders with a sale line)."""
        sold = np.flatnonzero(self.sale)
        owners = self.customer[sold]
        if not len(sold):
            return pd.DataFrame({"first_sale": pd.Series([], dtype=self.date.dtype),
                                 "purchases": pd.Series([], dtype="int64")},
                                index=self.customer_ids[:0])
        blocks = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        counted = np.flatnonzero(self.sale & self.has_order)
        pairs = self.pair[counted]
        first_of_pair = np.r_[True, pairs[1:] != pairs[:-1]] if len(counted) else pairs > 0
        purchases = np.bincount(self.customer[counted][first_of_pair],
                                minlength=len(self.customer_ids))
        first = pd.Series(np.fmin.reduceat(self.date[sold], blocks), index=owners[blocks])
        codes = owners[blocks][np.argsort(np.asarray(self.customer_ids[owners[blocks]],
                                                     dtype=object), kind="stable")]
        return pd.DataFrame({"first_sale": first.reindex(codes).to_numpy(),
                             "purchases": purchases[codes].astype("int64")},
                            index=self.customer_ids[codes])

    @property
    def last_sale_date(self) -> pd.Timestamp:
        """The date of the latest sale line (NaT without one)."""
        return pd.Timestamp(self.date[self.sale].max()) if self.sale.any() else pd.NaT

    def window(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """Per customer with a line in [start, end): purchases (distinct orders with a sale
        line) and net spend, by customer id; as ``scorecard.activity``."""
        unit = np.datetime_data(self.date.dtype)[0] if len(self.date) else "us"
        inside = ((self.date >= np.datetime64(pd.Timestamp(start), unit))
                  & (self.date < np.datetime64(pd.Timestamp(end), unit)))
        n = len(self.customer_ids)
        lines = np.bincount(self.customer[inside], minlength=n)
        spend = np.bincount(self.customer[inside], weights=self.micros[inside], minlength=n)
        sold = np.flatnonzero(inside & self.sale & self.has_order)
        pairs = self.pair[sold]
        first_of_pair = np.r_[True, pairs[1:] != pairs[:-1]] if len(sold) else sold.astype(bool)
        purchases = np.bincount(self.customer[sold][first_of_pair], minlength=n)
        present = self.by_id[lines[self.by_id] > 0]
        return pd.DataFrame({"purchases": purchases[present].astype("int64"),
                             "spend": spend[present] / MICROS},
                            index=self.customer_ids[present])


def prepared(order_lines: pd.DataFrame | CustomerActivity) -> CustomerActivity:
    """``order_lines`` prepared (a ``CustomerActivity`` is returned as it is)."""
    if isinstance(order_lines, CustomerActivity):
        return order_lines
    return CustomerActivity.of(order_lines)


def _sorted_groups(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order that sorts rows by ``codes`` (non-negative whole numbers, most significant
    first) and the positions in that order where a new combination starts. The codes are
    packed into one 64-bit key when they fit (one sort instead of a multi-key one)."""
    widths = [max(int(c.max(initial=0)).bit_length(), 1) for c in codes]
    if sum(widths) <= 63:
        key = np.zeros(len(codes[0]), dtype=np.int64)
        for column, width in zip(codes, widths, strict=True):
            key = (key << width) | column.astype(np.int64)
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        new = np.r_[True, ordered[1:] != ordered[:-1]] if len(order) else np.array([], bool)
    else:
        order = np.lexsort(codes[::-1])
        new = np.zeros(len(order), dtype=bool)
        if len(order):
            new[0] = True
            for column in codes:
                ordered = column[order]
                new[1:] |= ordered[1:] != ordered[:-1]
    return order, np.flatnonzero(new)


@dataclass(frozen=True)
class SaleOrders:
    """Sale lines as arrays for features at many snapshot dates (``of`` builds it): one row per
    customer, order and date (sorted so), and one per customer, category and date (sorted so)."""

    customer_ids: pd.Index  # id of customer number k
    id_rank: np.ndarray  # per customer number: its place in the order of the ids
    customer: np.ndarray  # per row: customer number
    pair: np.ndarray  # per row: number of its (customer, order) pair, rising
    date: np.ndarray  # per row: order date, rising within a pair
    amount: np.ndarray  # per row: net value of the order's sale lines that day
    category_customer: np.ndarray  # per (customer, category, date), sorted: customer number
    category_pair: np.ndarray  # ... number of its (customer, category) pair, rising
    category_date: np.ndarray  # ... its date
    days: np.ndarray  # the distinct sale dates, rising
    customer_day: np.ndarray  # per distinct (customer, date), sorted: the two packed

    @classmethod
    def of(cls, order_lines: pd.DataFrame) -> SaleOrders:
        """Prepare the sale lines of ``order_lines`` (customer_id, order_date, is_return;
        order_id, category and amount where the caller needs orders, categories or spend:
        without them each line is its own order, bought in no category, worth 0); lines
        without a customer, order id or date are left out, as a group-by leaves them."""
        stand_ins = {  # made only for a column the lines lack
            "order_id": lambda: pd.Series(np.arange(len(order_lines)).astype(str),
                                          index=order_lines.index, dtype="str"),
            "category": lambda: pd.Series(None, index=order_lines.index, dtype="str"),
            "amount": lambda: 0.0}
        order_lines = order_lines.assign(**{column: make() for column, make in stand_ins.items()
                                            if column not in order_lines})
        # every column as numbers first, then the sale lines picked: no copy of the lines
        sale = ~order_lines["is_return"].to_numpy(dtype=bool)
        customer, customer_ids = pd.factorize(order_lines["customer_id"].where(sale),
                                              use_na_sentinel=True)
        order, _ = pd.factorize(order_lines["order_id"], use_na_sentinel=True)
        category, _ = pd.factorize(order_lines["category"], use_na_sentinel=True)
        day, days = pd.factorize(order_lines["order_date"].where(sale), sort=True,
                                 use_na_sentinel=True)
        days = np.asarray(days)
        keep = sale & (customer >= 0) & (order >= 0) & (day >= 0)
        customer, order, day, category = customer[keep], order[keep], day[keep], category[keep]
        amount = np.nan_to_num(order_lines["amount"].to_numpy(dtype=float,
                                                              na_value=np.nan))[keep]
        sequence, starts = _sorted_groups(customer, order, day)
        customer_of = customer[sequence][starts]
        order_of = order[sequence][starts]
        new_pair = np.r_[True, (customer_of[1:] != customer_of[:-1])
                         | (order_of[1:] != order_of[:-1])] if len(starts) else order_of > 0
        bought = category >= 0
        by_category, category_starts = _sorted_groups(customer[bought], category[bought],
                                                      day[bought])
        triple_customer = customer[bought][by_category][category_starts]
        triple_category = category[bought][by_category][category_starts]
        new_category = np.r_[True, (triple_customer[1:] != triple_customer[:-1])
                             | (triple_category[1:] != triple_category[:-1])] \
            if len(category_starts) else triple_category > 0
        width = max(len(days).bit_length(), 1)
        customer_day = np.sort((customer.astype(np.int64) << width) | day)
        customer_day = customer_day[np.r_[True, customer_day[1:] != customer_day[:-1]]] \
            if len(customer_day) else customer_day
        id_rank = np.empty(len(customer_ids), dtype=int)
        id_rank[np.argsort(np.asarray(customer_ids, dtype=object), kind="stable")] = np.arange(
            len(customer_ids))
        return cls(customer_ids=pd.Index(customer_ids, name="customer_id"), id_rank=id_rank,
                   customer=customer_of, pair=np.cumsum(new_pair),
                   date=days[day[sequence][starts]],
                   amount=np.add.reduceat(amount[sequence], starts) if len(starts)
                   else amount[:0],
                   category_customer=triple_customer, category_pair=np.cumsum(new_category),
                   category_date=days[day[bought][by_category][category_starts]],
                   days=days, customer_day=customer_day)

    def _moment(self, when: pd.Timestamp) -> np.datetime64:
        unit = np.datetime_data(self.days.dtype)[0] if len(self.days) else "us"
        return np.datetime64(pd.Timestamp(when), unit)

    def orders_before(self, snapshot: pd.Timestamp) -> pd.DataFrame:
        """Each order with a sale line before ``snapshot``: customer (number), order_date
        (its first such line's) and amount (those lines' net value), ordered by customer."""
        rows = np.flatnonzero(self.date < self._moment(snapshot))
        pairs = self.pair[rows]
        starts = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]]) if len(rows) \
            else np.array([], dtype=int)
        amount = np.add.reduceat(self.amount[rows], starts) if len(rows) \
            else np.array([], dtype=float)
        return pd.DataFrame({"customer": self.customer[rows][starts],
                             "order_date": self.date[rows][starts], "amount": amount})

    def buyers_between(self, start: pd.Timestamp, stop: pd.Timestamp) -> pd.Index:
        """The ids of the customers with a sale line in [start, stop)."""
        inside = (self.date >= self._moment(start)) & (self.date < self._moment(stop))
        return self.customer_ids[np.unique(self.customer[inside])]

    def categories_between(self, start: pd.Timestamp, stop: pd.Timestamp) -> np.ndarray:
        """Per customer number: how many categories they bought in [start, stop)."""
        inside = np.flatnonzero((self.category_date >= self._moment(start))
                                & (self.category_date < self._moment(stop)))
        pairs = self.category_pair[inside]  # rising: a new pair is a new category
        first = np.r_[True, pairs[1:] != pairs[:-1]] if len(inside) else pairs > 0
        return np.bincount(self.category_customer[inside][first],
                           minlength=len(self.customer_ids))

    def next_purchase(self, customer_ids: pd.Series, after: pd.Series) -> np.ndarray:
        """For each (customer, date): the date of the customer's first sale strictly after
        it (NaT when there is none, or the customer or date is missing)."""
        width = max(len(self.days).bit_length(), 1)
        code = self.customer_ids.get_indexer(customer_ids.to_numpy())
        moments = after.to_numpy().astype(self.days.dtype)
        later = np.searchsorted(self.days, moments, side="right")  # first day after it
        wanted = (code.astype(np.int64) << width) | later
        found = np.searchsorted(self.customer_day, wanted, side="left")
        found = np.minimum(found, len(self.customer_day) - 1)
        hit = ((code >= 0) & ~np.isnat(moments) & (len(self.customer_day) > 0)
               & ((self.customer_day[found] >> width) == code))
        result = np.full(len(code), np.datetime64("NaT"), dtype=self.days.dtype)
        mask = (1 << width) - 1
        result[hit] = self.days[self.customer_day[found[hit]] & mask]
        return result

    def order_starts(self) -> pd.DataFrame:
        """Each order with a sale line: customer_id and order_date (its first sale line's)."""
        first = np.r_[True, self.pair[1:] != self.pair[:-1]] if len(self.pair) \
            else self.pair > 0
        return pd.DataFrame({"customer_id": self.customer_ids[self.customer[first]],
                             "order_date": self.date[first]})

    def sale_totals(self) -> pd.DataFrame:
        """Per customer with a sale line, by customer id: first_sale (date of the first) and
        purchases (distinct orders with a sale line); as ``CustomerActivity.sale_totals``."""
        first = np.r_[True, self.pair[1:] != self.pair[:-1]] if len(self.pair) \
            else self.pair > 0
        n = len(self.customer_ids)
        purchases = np.bincount(self.customer[first], minlength=n)
        earliest = np.full(n, np.datetime64("NaT"), dtype=self.days.dtype)
        blocks = np.flatnonzero(np.r_[True, self.customer[1:] != self.customer[:-1]]) \
            if len(self.customer) else self.customer
        if len(blocks):
            earliest[self.customer[blocks]] = np.minimum.reduceat(self.date, blocks)
        codes = np.flatnonzero(purchases > 0)
        codes = codes[np.argsort(self.id_rank[codes], kind="stable")]
        return pd.DataFrame({"first_sale": earliest[codes], "purchases": purchases[codes]},
                            index=self.customer_ids[codes])

    @property
    def last_date(self) -> pd.Timestamp:
        """The latest sale date (NaT without one)."""
        return pd.Timestamp(self.days[-1]) if len(self.days) else pd.NaT


def sale_orders(order_lines: pd.DataFrame | SaleOrders) -> SaleOrders:
    """``order_lines`` prepared (a ``SaleOrders`` is returned as it is)."""
    if isinstance(order_lines, SaleOrders):
        return order_lines
    return SaleOrders.of(order_lines)
