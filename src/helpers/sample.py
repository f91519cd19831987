"""The built-in sample: a deterministic, messy raw dataset with known ground truth.

The reference company is a multi-region retailer of antiques and collectibles. A latent loyalty
score per customer (standard normal, ``loyalty_z``) drives how often they buy, whether they answer
surveys and how they score, whether they refer friends, follow the shop and attend events, how
often they complain and when they churn. Regions differ in their true price elasticity: a
product's share of a region's purchases moves with its real price (regional list price deflated by
the market price index of its category) to the power of that region's elasticity.

Raw files are written the way a company would deliver them (``configs/sources/builtin.yaml``, the
mapping the cleaning reads them with, names each file, its encoding and separator):
current-system orders (CSV, UTF-8), a legacy export of older orders (other column names, amounts in
fen, day-first dates, ``;`` separated, GBK-encoded Chinese labels), duplicated rows, junk rows,
messy region/city/channel spellings, price changes, a market index, survey invitations and answers
(low, loyalty-biased response; some reversed-scale answers), referrals, engagement events and
complaints with free-form labels.

The legacy history is also partly wrong and incomplete, as in the business's own history: its
dates are invoice dates (the day after the order), about 8% of customers appear under an old
member number (with a CRM migration table to map them), some values were keyed in wrong (amounts
x100 in the wrong unit, impossible years, an amount with an extra digit, a wrong quantity), some
lines lost their price and amount, one region-month was exported twice under new bill numbers, and
a few region-months are missing altogether. ``injected_defects`` in the truth lists every one
with its true and delivered value.

The truth (parameters, per-customer latent values, which rows were injected as defects, the true
labels behind messy ones) goes to a separate folder that notebooks never read; only tests do.

Usage: ``python -m helpers.sample --size small --raw-dir data/raw --truth-dir data/truth``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import configs, io, sources, vocabulary

# ----------------------------------------------------------------------------------------------
# Fixed world: regions, cities, categories and their legacy (Chinese) labels.
REGIONS = list(vocabulary.REGIONS)
REGION_WEIGHTS = [0.14, 0.11, 0.20, 0.15, 0.17, 0.23]
REGION_CN = vocabulary.REGION_CN
CITIES = {
    "Northeast": ["Harbin", "Shenyang", "Dalian"],
    "Northwest": ["Xi'an", "Lanzhou", "Urumqi"],
    "Southeast": ["Fuzhou", "Xiamen", "Hangzhou"],
    "Southwest": ["Chengdu", "Chongqing", "Kunming"],
    "Central": ["Wuhan", "Changsha", "Zhengzhou"],
    "Metro": ["Beijing", "Shanghai", "Tianjin"],
}
CATEGORIES = list(vocabulary.CATEGORIES)
CATEGORY_CN = vocabulary.CATEGORY_CN
CATEGORY_MEDIAN_PRICE = {
    "Furniture": 820.0, "Ceramics": 160.0, "Jewellery": 420.0,
    "Paintings": 610.0, "Coins & Stamps": 65.0, "Clocks": 310.0,
}
# True own-price elasticity of a product's share of purchases in each region.
TRUE_ELASTICITY = {
    "Northeast": -0.6, "Northwest": -1.0, "Southeast": -1.5,
    "Southwest": -1.9, "Central": -1.2, "Metro": -0.4,
}
COMPLAINT_CATEGORIES = ["delivery", "damaged", "not_as_described", "service", "price", "refund"]
_COMPLAINT_LABELS = {
    "delivery": ["late delivery", "Delivery late!!", "parcel not arrived", "DELIVERY DELAY",
                 "courier never came", "still waiting for my order"],
    "damaged": ["damaged item", "arrived broken", "Broken on arrival", "chipped vase",
                "scratches on the table", "DAMAGED IN TRANSIT"],
    "not_as_described": ["not as described", "Not as pictured", "wrong description",
                         "fake / not authentic", "item differs from photo", "NOT AS DESCRIBED"],
    "service": ["rude staff", "Unhelpful shop assistant", "no reply to email",
                "bad customer service", "SERVICE POOR", "staff was impolite"],
    "price": ["overcharged", "price too high", "Charged wrong price", "cheaper elsewhere",
              "PRICE INCREASE unfair", "hidden fees"],
    "refund": ["refund slow", "Refund not received", "waiting for refund",
               "REFUND DELAYED", "money back never came", "return not processed"],
}
_SEVERITY_WRITTEN = {1: ["low", "1", "Low", "minor"], 2: ["medium", "2", "Med", "MEDIUM"],
                     3: ["high", "3", "High", "urgent"]}
_REGION_SPELLINGS = {
    "Northeast": ["Northeast", "North East", "north-east", "NE", "NORTHEAST", " Northeast "],
    "Northwest": ["Northwest", "North West", "north-west", "NW", "NORTHWEST", "northwest "],
    "Southeast": ["Southeast", "South East", "south-east", "SE", "SOUTHEAST", "Southeast  "],
    "Southwest": ["Southwest", "South West", "south-west", "SW", "SOUTHWEST", " southwest"],
    "Central": ["Central", "central", "Centre", "CENTRAL", "Central Region", " Central"],
    "Metro": ["Metro", "METRO", "metro area", "Metropolitan", "Metro ", "metro"],
}

START = pd.Timestamp("2022-01-01")
N_MONTHS = 42  # 2022-01 .. 2025-06
CUTOVER = pd.Timestamp("2023-07-01")  # legacy system before, current system from this date

SIZES: dict[str, dict[str, int]] = {
    "default": {"n_customers": 20_000, "n_products": 400},
    "small": {"n_customers": 900, "n_products": 120},
    "tiny": {"n_customers": 150, "n_products": 40},
}


@dataclass(frozen=True)
class SampleParams:
    """The knobs of the generating process; all of it is written to the truth folder."""

    seed: int = 20240601
    size: str = "default"
    n_customers: int = 20_000
    n_products: int = 400
    base_order_rate: float = 0.26  # orders per customer-month at loyalty_z = 0, before season
    loyalty_order_effect: float = 0.55  # log order rate per SD of loyalty
    # monthly hazard of starting to cool off at z=0, no complaints
    churn_base_monthly: float = 0.012
    churn_loyalty_coef: float = -0.6  # log-odds per SD of loyalty
    churn_complaint_coef: float = 1.0  # log-odds per complaint in the last 3 months
    cooling_months: int = 3  # months of reduced buying before a churner stops
    cooling_rate_multiplier: float = 0.35  # order rate during cooling off
    complaint_rate_per_order: float = 0.04
    return_share: float = 0.04
    survey_invite_share: float = 0.12  # share of active customers invited each quarterly wave
    survey_response_intercept: float = -2.3  # log-odds of answering at loyalty_z = 0
    survey_response_loyalty_coef: float = 0.9
    reversed_scale_share: float = 0.06  # respondents who read the 0-10 scale backwards
    duplicate_share_current: float = 0.012
    duplicate_share_legacy: float = 0.015
    duplicate_share_customers: float = 0.01
    junk_share_current: float = 0.001
    # legacy history defects (shares of legacy sale lines unless stated otherwise)
    dual_id_share: float = 0.08  # customers under an old member number in the legacy export
    unit_slip_share: float = 0.004  # price, list price and amount keyed x100
    impossible_date_share: float = 0.003  # year keyed +10 or a 01/01/1900 placeholder
    outlier_amount_share: float = 0.003  # amount with an extra digit
    quantity_slip_share: float = 0.003  # quantity keyed +10 (price and amount right)
    missing_amount_share: float = 0.003  # price and amount left empty
    n_missing_months: int = 5  # region-months absent from the legacy export
    n_duplicated_months: int = 1  # region-months exported twice under new bill numbers
    market_pass_through: float = 0.9  # share of the market's movement a price change passes on
    # an optional demand drop for monitoring tests: (region, first month 'YYYY-MM', factor on
    # every customer's order rate there from that month on); None = no drop
    injected_drop: tuple[str, str, float] | None = None
    elasticity: dict[str, float] = field(default_factory=lambda: dict(TRUE_ELASTICITY))

    @classmethod
    def for_size(cls, size: str, seed: int = 20240601) -> SampleParams:
        """Parameters for a named size ('default', 'small', 'tiny')."""
        if size not in SIZES:
            raise ValueError(f"unknown sample size {size!r}; choose one of {sorted(SIZES)}")
        return cls(seed=seed, size=size, **SIZES[size])


@dataclass
class Sample:
    """Raw files (name -> DataFrame as delivered) and the truth (name -> DataFrame, params)."""

    raw: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    params: SampleParams


MONTH_STARTS = pd.date_range(START, periods=N_MONTHS + 1, freq="MS")


def _dates_in_month(rng: np.random.Generator, month: np.ndarray) -> pd.DatetimeIndex:
    """A uniformly random day inside each month index (0 = 2022-01); month may be negative."""
    month = np.asarray(month, dtype=int)
    first = (START.to_period("M") + 0).ordinal + month  # period ordinals
    starts = pd.PeriodIndex.from_ordinals(first, freq="M").to_timestamp()
    days = pd.PeriodIndex.from_ordinals(first, freq="M").days_in_month.to_numpy()
    offset = np.floor(rng.random(month.size) * days).astype(int)
    return starts + pd.to_timedelta(offset, unit="D")


def _pick(rng: np.random.Generator, options: list[str], n: int, p: list[float] | None = None):
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def generate(params: SampleParams) -> Sample:
    """Simulate the company's customers, orders and signals; return raw files and truth."""
    rng = np.random.default_rng(params.seed)
    n, n_prod = params.n_customers, params.n_products

    # --- customers -----------------------------------------------------------------------
    loyalty = rng.standard_normal(n)
    region_idx = rng.choice(len(REGIONS), size=n, p=REGION_WEIGHTS)
    region = np.asarray(REGIONS, dtype=object)[region_idx]
    city = np.array([CITIES[r][k] for r, k in zip(region, rng.integers(0, 3, n), strict=True)],
                    dtype=object)
    join_month = rng.integers(-36, N_MONTHS - 1, n)
    join_date = _dates_in_month(rng, join_month)
    channel = _pick(rng, ["online", "store", "fair"], n, [0.55, 0.35, 0.10])
    customer_id = np.array([f"C{i:06d}" for i in range(1, n + 1)], dtype=object)

    # --- products and prices -------------------------------------------------------------
    prod_cat_idx = rng.integers(0, len(CATEGORIES), n_prod)
    prod_cat = np.asarray(CATEGORIES, dtype=object)[prod_cat_idx]
    median = np.array([CATEGORY_MEDIAN_PRICE[c] for c in prod_cat])
    base_price = np.round(median * np.exp(0.6 * rng.standard_normal(n_prod)), 0)
    popularity = np.exp(0.5 * rng.standard_normal(n_prod))
    product_id = np.array([f"P{i:04d}" for i in range(1, n_prod + 1)], dtype=object)

    n_reg = len(REGIONS)
    # price multiplier per product x region x month: a regional level plus step changes
    level = np.exp(0.04 * rng.standard_normal((n_prod, n_reg)))
    steps = np.ones((n_prod, n_reg, N_MONTHS))
    n_changes = rng.poisson(2.2, (n_prod, n_reg))
    change_rows = []
    for j in range(n_prod):
        for r in range(n_reg):
            months = np.sort(rng.choice(np.arange(2, N_MONTHS), size=min(n_changes[j, r], 8),
                                        replace=False))
            for m in months:
                factor = float(np.clip(np.exp(rng.normal(0.03, 0.11)), 0.7, 1.4))
                steps[j, r, m:] *= factor
    # market price index per category x region x month (100 = Jan 2022 level)
    t_years = np.arange(N_MONTHS) / 12.0
    trend = rng.uniform(0.01, 0.07, len(CATEGORIES))
    phase = rng.uniform(0, 2 * np.pi, n_reg)
    ar = np.zeros((len(CATEGORIES), n_reg, N_MONTHS))
    shocks = 0.015 * rng.standard_normal(ar.shape)
    for m in range(1, N_MONTHS):
        ar[:, :, m] = 0.8 * ar[:, :, m - 1] + shocks[:, :, m]
    log_index = (trend[:, None, None] * t_years[None, None, :]
                 + 0.03 * np.sin(2 * np.pi * t_years[None, None, :] + phase[None, :, None])
                 + ar)
    market_index = np.round(100 * np.exp(log_index - log_index[:, :, :1]), 1)

    # repricing follows the market: at each price change a product's regional price catches up
    # with its category's market index since January 2022 (share ``market_pass_through``), so
    # raw prices rise with the market while the price relative to the market drives demand
    months_idx = np.arange(N_MONTHS)
    changed = np.concatenate([np.zeros((n_prod, n_reg, 1), bool),
                              np.diff(steps, axis=2) != 0], axis=2)
    last_change = np.maximum.accumulate(np.where(changed, months_idx, 0), axis=2)
    market_at_change = np.take_along_axis(market_index[prod_cat_idx], last_change, axis=2) / 100
    catch_up = market_at_change ** params.market_pass_through
    price = np.round(base_price[:, None, None] * level[:, :, None] * steps * catch_up, 2)
    for j in range(n_prod):
        for r in range(n_reg):
            changed = np.nonzero(np.diff(price[j, r]) != 0)[0] + 1
            for m in changed:
                change_rows.append((product_id[j], REGIONS[r], MONTH_STARTS[m],
                                    price[j, r, m - 1], price[j, r, m]))
    price_changes = pd.DataFrame(change_rows, columns=["product_id", "region", "effective_date",
                                                       "old_price", "new_price"])

    # --- monthly simulation of buying, complaints and churn -------------------------------
    season = 1 + 0.25 * np.cos(2 * np.pi * (np.arange(N_MONTHS) % 12 - 11) / 12)
    rate_i = params.base_order_rate * np.exp(params.loyalty_order_effect * loyalty)
    p_complaint = np.clip(params.complaint_rate_per_order * np.exp(-0.35 * loyalty), 0, 0.5)
    alpha = np.log(params.churn_base_monthly / (1 - params.churn_base_monthly))
    orders = np.zeros((n, N_MONTHS), dtype=np.int64)
    complaints = np.zeros((n, N_MONTHS), dtype=np.int64)
    cooling_left = np.zeros(n, dtype=int)
    churned = np.zeros(n, dtype=bool)
    churn_month = np.full(n, -1)
    cooling_start = np.full(n, -1)
    drop = np.ones((n, N_MONTHS))
    if params.injected_drop is not None:
        drop_region, drop_month, drop_factor = params.injected_drop
        first = (pd.Period(drop_month, "M") - pd.Period(START, "M")).n
        drop[np.asarray(region) == drop_region, first:] = drop_factor
    for m in range(N_MONTHS):
        active = (join_month <= m) & ~churned
        multiplier = np.where(cooling_left > 0, params.cooling_rate_multiplier, 1.0)
        lam = rate_i * season[m] * multiplier * active * drop[:, m]
        orders[:, m] = rng.poisson(lam)
        complaints[:, m] = rng.binomial(orders[:, m], p_complaint)
        recent = complaints[:, max(0, m - 2): m + 1].sum(axis=1)
        # customers already cooling count down; those at zero stop buying from next month
        cooling = cooling_left > 0
        cooling_left[cooling] -= 1
        stops = cooling & (cooling_left == 0)
        churned |= stops
        churn_month[stops] = m + 1
        eligible = active & ~cooling & (join_month < m)
        hazard = _logistic(alpha + params.churn_loyalty_coef * loyalty
                           + params.churn_complaint_coef * recent)
        starts = eligible & (rng.random(n) < hazard)
        cooling_left[starts] = params.cooling_months
        cooling_start[starts] = m + 1

    # --- orders and lines -------------------------------------------------------------------
    cust_of_order, month_of_order = np.nonzero(orders)
    reps = orders[cust_of_order, month_of_order]
    cust_of_order = np.repeat(cust_of_order, reps)
    month_of_order = np.repeat(month_of_order, reps)
    order_date = _dates_in_month(rng, month_of_order)
    sort = np.lexsort((cust_of_order, order_date.to_numpy()))
    cust_of_order, month_of_order = cust_of_order[sort], month_of_order[sort]
    order_date = order_date[sort]
    n_orders = cust_of_order.size
    n_lines_per = 1 + rng.poisson(0.9, n_orders)
    line_order = np.repeat(np.arange(n_orders), n_lines_per)
    line_no = np.concatenate([np.arange(1, k + 1) for k in n_lines_per]) if n_orders else []
    line_cust = cust_of_order[line_order]
    line_month = month_of_order[line_order]
    line_region = region_idx[line_cust]

    # product choice: share of purchases ~ popularity * real_price ** elasticity(region)
    elasticity = np.array([params.elasticity[r] for r in REGIONS])
    real_price = (price / (base_price[:, None, None] * level[:, :, None])
                  / (market_index[prod_cat_idx] / 100.0))
    line_product = np.empty(line_order.size, dtype=np.int64)
    group_key = line_region * N_MONTHS + line_month
    order_by_group = np.argsort(group_key, kind="stable")
    bounds = np.searchsorted(group_key[order_by_group], np.arange(n_reg * N_MONTHS + 1))
    for g in range(n_reg * N_MONTHS):
        idx = order_by_group[bounds[g]: bounds[g + 1]]
        if idx.size == 0:
            continue
        r, m = divmod(g, N_MONTHS)
        weights = popularity * real_price[:, r, m] ** elasticity[r]
        line_product[idx] = rng.choice(n_prod, size=idx.size, p=weights / weights.sum())
    quantity = 1 + rng.poisson(0.3, line_order.size)
    list_price = price[line_product, line_region, line_month]
    discount = rng.choice([0.0, 0.05, 0.10], size=line_order.size, p=[0.8, 0.12, 0.08])
    unit_price = np.round(list_price * (1 - discount), 2)
    amount = np.round(quantity * unit_price, 2)

    lines = pd.DataFrame({
        "order_no": line_order, "line_no": line_no, "cust": line_cust,
        "order_date": order_date[line_order], "product": line_product,
        "region": region[line_cust], "quantity": quantity, "unit_price": unit_price,
        "list_price": list_price, "amount": amount, "is_return": False,
    })
    lines["system"] = np.where(lines["order_date"] < CUTOVER, "legacy", "current")
    end_of_system = np.where(lines["system"] == "legacy", CUTOVER - pd.Timedelta(days=1),
                             MONTH_STARTS[-1] - pd.Timedelta(days=1))
    returned = rng.random(len(lines)) < params.return_share
    ret = lines.loc[returned].copy()
    delay = pd.to_timedelta(rng.integers(3, 31, len(ret)), unit="D")
    ret["order_date"] = np.minimum(ret["order_date"] + delay, end_of_system[returned])
    ret["is_return"] = True
    ret["quantity"] = -ret["quantity"]
    ret["amount"] = -ret["amount"]
    ret["line_no"] = ret["line_no"] + 50  # returns are booked as extra lines of the order
    lines = pd.concat([lines, ret], ignore_index=True)
    lines = lines.sort_values(["order_date", "order_no", "line_no"], kind="stable",
                              ignore_index=True)

    # identifiers as each system writes them
    current_ids = {k: f"SO{k + 1:07d}" for k in np.unique(lines["order_no"])}
    lines["order_id"] = lines["order_no"].map(current_ids)
    lines["customer_id"] = customer_id[lines["cust"]]
    lines["product_id"] = product_id[lines["product"]]
    lines["category"] = prod_cat[lines["product"]]

    raw_current, current_truth = _current_orders_file(rng, lines[lines["system"] == "current"],
                                                      params)
    raw_legacy, legacy_truth, id_map = _legacy_orders_file(
        rng, lines[lines["system"] == "legacy"], params)

    # --- customers file ----------------------------------------------------------------------
    customers_true = pd.DataFrame({
        "customer_id": customer_id, "region": region, "city": city,
        "join_date": join_date.normalize(), "channel": channel,
    })
    raw_customers, dup_customers = _customers_file(rng, customers_true, params)

    # --- surveys, referrals, engagement, complaints -----------------------------------------
    churn_or_end = np.where(churn_month >= 0, churn_month, N_MONTHS)
    raw_inv, raw_resp, survey_truth = _surveys(rng, params, customer_id, loyalty, join_month,
                                               churn_or_end)
    raw_referrals = _referrals(rng, customer_id, loyalty, join_month, join_date, churn_or_end)
    raw_engagement = _engagement(rng, customer_id, loyalty, join_month, churn_or_end)
    raw_complaints, complaint_truth = _complaints(rng, customer_id, complaints)

    raw = {
        "customers": raw_customers,
        "orders_current": raw_current,
        "orders_legacy": raw_legacy,
        "price_changes": price_changes.assign(
            effective_date=price_changes["effective_date"].dt.strftime("%Y-%m-%d")),
        "market_index": _market_index_file(market_index),
        "survey_invitations": raw_inv,
        "survey_responses": raw_resp,
        "referrals": raw_referrals,
        "engagement": raw_engagement,
        "complaints": raw_complaints,
        "customer_id_map": id_map,
    }
    truth_customers = customers_true.assign(
        loyalty_z=loyalty, join_month=join_month,
        churn_month=churn_month, cooling_start_month=cooling_start,
        n_orders=orders.sum(axis=1), n_complaints=complaints.sum(axis=1),
    )
    true_lines = lines.drop(columns=["order_no", "cust", "product"])
    truth = {
        "customers": truth_customers,
        "order_lines": true_lines,
        "injected_defects": pd.concat([current_truth, legacy_truth, dup_customers],
                                      ignore_index=True),
        "survey": survey_truth,
        "complaints": complaint_truth,
        "elasticity": pd.DataFrame({"region": REGIONS, "elasticity": elasticity}),
    }
    return Sample(raw=raw, truth=truth, params=params)


def _inject_duplicates(rng: np.random.Generator, frame: pd.DataFrame, share: float) -> tuple[
        pd.DataFrame, np.ndarray]:
    """Append exact copies of a random share of rows next to their originals."""
    k = round(share * len(frame))
    dup_pos = np.sort(rng.choice(len(frame), size=k, replace=False)) if k else np.array([], int)
    out = pd.concat([frame, frame.iloc[dup_pos]])
    order = np.argsort(np.concatenate([np.arange(len(frame)), dup_pos]), kind="stable")
    return out.iloc[order].reset_index(drop=True), dup_pos


def _current_orders_file(rng, lines: pd.DataFrame, params: SampleParams):
    out = pd.DataFrame({
        "order_id": lines["order_id"].to_numpy(),
        "line_no": lines["line_no"].to_numpy(),
        "customer_id": lines["customer_id"].to_numpy(),
        "order_date": lines["order_date"].dt.strftime("%Y-%m-%d").to_numpy(),
        "product_id": lines["product_id"].to_numpy(),
        "category": lines["category"].to_numpy(),
        "region": lines["region"].to_numpy(),
        "quantity": np.abs(lines["quantity"].to_numpy()),
        "unit_price": lines["unit_price"].map("{:.2f}".format).to_numpy(),
        "list_price": lines["list_price"].map("{:.2f}".format).to_numpy(),
        "amount": np.abs(lines["amount"]).map("{:.2f}".format).to_numpy(),
        "line_type": np.where(lines["is_return"], "return", "sale"),
    })
    # junk rows: staff test orders without a customer, zero-quantity lines, impossible dates
    n_junk = max(3, round(params.junk_share_current * len(out)))
    junk = out.iloc[rng.choice(len(out), size=n_junk, replace=False)].copy()
    kinds = np.resize(["missing customer_id", "zero quantity", "invalid order_date"], n_junk)
    junk["line_no"] = 90 + np.arange(n_junk) % 9
    junk.loc[kinds == "missing customer_id", "customer_id"] = ""
    junk.loc[kinds == "zero quantity", "quantity"] = 0
    junk.loc[kinds == "zero quantity", "amount"] = "0.00"
    n_bad_dates = int((kinds == "invalid order_date").sum())
    bad_dates = np.resize(["2024-02-30", "2023-13-01", "0000-00-00"], n_bad_dates)
    junk.loc[kinds == "invalid order_date", "order_date"] = bad_dates
    out = pd.concat([out, junk]).sort_values(["order_date", "order_id", "line_no"], kind="stable",
                                             ignore_index=True)
    out, dup_pos = _inject_duplicates(rng, out, params.duplicate_share_current)
    dups = out.iloc[dup_pos] if len(dup_pos) else out.iloc[:0]
    defects = pd.concat([
        pd.DataFrame({"source": "orders_current", "kind": "duplicate",
                      "key": dups["order_id"] + "#" + dups["line_no"].astype(str)}),
        pd.DataFrame({"source": "orders_current", "kind": kinds,
                      "key": junk["order_id"] + "#" + junk["line_no"].astype(str)}),
    ], ignore_index=True)
    return out, defects


def _legacy_orders_file(rng, lines: pd.DataFrame, params: SampleParams):
    """The legacy export of ``lines`` (true values), with the legacy system's definitions and
    the history defects of ``params``; returns (raw file, defects, CRM id-migration table)."""
    lines = lines.reset_index(drop=True)
    month = lines["order_date"].dt.to_period("M")
    # whole region-months lost (never the first or last legacy month)
    months = np.sort(month.unique())[1:-1]
    cells = [(r, m) for r in REGIONS for m in months]
    picked = rng.choice(len(cells), size=params.n_missing_months + params.n_duplicated_months,
                        replace=False)
    missing = [cells[i] for i in picked[: params.n_missing_months]]
    doubled = [cells[i] for i in picked[params.n_missing_months:]]
    in_cell = lambda cell: (lines["region"] == cell[0]) & (month == cell[1])  # noqa: E731
    lost = np.zeros(len(lines), dtype=bool)
    for cell in missing:
        lost |= in_cell(cell).to_numpy()
    defects = [pd.DataFrame({"source": "orders_legacy", "kind": "missing_month",
                             "key": [f"{r}|{m}" for r, m in missing]})]
    lines = lines.loc[~lost].reset_index(drop=True)
    month = lines["order_date"].dt.to_period("M")

    # customer identity: some customers kept their old member number in the legacy system
    customers = np.unique(lines["cust"])
    dual = np.sort(rng.choice(customers, size=round(params.dual_id_share * customers.size),
                              replace=False))
    legacy_no = dict(zip(dual, 7_000_001 + rng.permutation(dual.size), strict=True))
    cust_no = lines["cust"].map(lambda c: legacy_no.get(c, c + 1)).astype(np.int64)
    id_map = pd.DataFrame({"legacy_customer_no": [legacy_no[c] for c in dual],
                           "customer_id": [f"C{c + 1:06d}" for c in dual]})
    defects.append(pd.DataFrame({"source": "orders_legacy", "kind": "dual_id",
                                 "key": id_map["legacy_customer_no"].astype(str),
                                 "column": "customer_id", "true_value": id_map["customer_id"],
                                 "raw_value": id_map["legacy_customer_no"].astype(str)}))

    bill_no = lines["order_id"].str.slice(2).astype(int) + 500_000
    out = pd.DataFrame({
        "BILL_NO": bill_no.to_numpy(),
        "ITEM_SEQ": lines["line_no"].to_numpy(),
        "CUST_NO": cust_no.to_numpy(),
        # the legacy system dated a bill on its invoice date, the day after the order
        "BILL_DATE": (lines["order_date"] + pd.Timedelta(days=1)).dt.strftime("%d/%m/%Y")
        .to_numpy(),
        "ITEM_CODE": lines["product_id"].to_numpy(),
        "CATEGORY_CN": lines["category"].map(CATEGORY_CN).to_numpy(),
        "AREA_CN": lines["region"].map(REGION_CN).to_numpy(),
        "QTY": lines["quantity"].to_numpy(),
        "PRICE_FEN": np.round(lines["unit_price"].to_numpy() * 100).astype(np.int64),
        "LIST_FEN": np.round(lines["list_price"].to_numpy() * 100).astype(np.int64),
        "AMOUNT_FEN": np.round(lines["amount"].to_numpy() * 100).astype(np.int64),
    }).astype({c: object for c in ["QTY", "PRICE_FEN", "AMOUNT_FEN", "LIST_FEN"]})
    key = out["BILL_NO"].astype(str) + "#" + out["ITEM_SEQ"].astype(str)

    # keying errors on sale lines, each line at most one
    sales = np.nonzero(~lines["is_return"].to_numpy())[0]
    kinds = [("unit_slip", params.unit_slip_share), ("impossible_date",
             params.impossible_date_share), ("outlier_amount", params.outlier_amount_share),
             ("quantity_slip", params.quantity_slip_share),
             ("missing_amount", params.missing_amount_share)]
    sizes = [round(share * sales.size) for _, share in kinds]
    chosen = rng.choice(sales, size=sum(sizes), replace=False)
    start = 0
    for (kind, _), size in zip(kinds, sizes, strict=True):
        rows = np.sort(chosen[start: start + size])
        start += size
        changes: dict[str, object] = {}
        if kind == "unit_slip":
            changes = {c: out.loc[rows, c].astype(np.int64) * 100
                       for c in ["PRICE_FEN", "LIST_FEN", "AMOUNT_FEN"]}
        elif kind == "impossible_date":
            true_date = lines.loc[rows, "order_date"] + pd.Timedelta(days=1)
            bad = np.where(rng.random(rows.size) < 0.7, (true_date + pd.DateOffset(years=10))
                           .dt.strftime("%d/%m/%Y"), "01/01/1900")
            changes = {"BILL_DATE": bad}
        elif kind == "outlier_amount":
            changes = {"AMOUNT_FEN": out.loc[rows, "AMOUNT_FEN"].astype(np.int64) * 10
                       + rng.integers(1, 10, rows.size)}
        elif kind == "quantity_slip":
            changes = {"QTY": out.loc[rows, "QTY"].astype(np.int64) + 10}
        elif kind == "missing_amount":
            changes = {"PRICE_FEN": "", "AMOUNT_FEN": ""}
        for column, values in changes.items():
            defects.append(pd.DataFrame({
                "source": "orders_legacy", "kind": kind, "key": key.iloc[rows].to_numpy(),
                "column": column, "true_value": out.loc[rows, column].astype(str).to_numpy(),
                "raw_value": pd.Series(values, index=rows).astype(str).to_numpy()}))
            out.loc[rows, column] = values

    # one region-month exported a second time, under new bill numbers, appended at the end
    for cell in doubled:
        copy = out.loc[in_cell(cell).to_numpy()].copy()
        copy["BILL_NO"] = copy["BILL_NO"] + 9_000_000
        defects.append(pd.DataFrame({
            "source": "orders_legacy", "kind": "duplicated_month",
            "key": (copy["BILL_NO"].astype(str) + "#" + copy["ITEM_SEQ"].astype(str)).to_numpy(),
            "column": f"{cell[0]}|{cell[1]}"}))
        out = pd.concat([out, copy], ignore_index=True)

    out, dup_pos = _inject_duplicates(rng, out, params.duplicate_share_legacy)
    dups = out.iloc[dup_pos] if len(dup_pos) else out.iloc[:0]
    keys = dups["BILL_NO"].astype(str) + "#" + dups["ITEM_SEQ"].astype(str)
    defects.append(pd.DataFrame({"source": "orders_legacy", "kind": "duplicate", "key": keys}))
    return out, pd.concat(defects, ignore_index=True), id_map


def _customers_file(rng, customers: pd.DataFrame, params: SampleParams):
    n = len(customers)
    region_written = np.array([rng.choice(_REGION_SPELLINGS[r]) for r in customers["region"]],
                              dtype=object)
    city = customers["city"].to_numpy(dtype=object).copy()
    style = rng.integers(0, 5, n)
    city = np.where(style == 1, np.char.upper(city.astype(str)), city)
    city = np.where(style == 2, np.char.lower(city.astype(str)), city)
    city = np.where(style == 3, np.char.add(city.astype(str), "  "), city)
    city = np.where(style == 4, np.char.replace(city.astype(str), "'", ""), city)
    date_style = rng.random(n)
    join = customers["join_date"]
    join_written = np.where(date_style < 0.9, join.dt.strftime("%Y-%m-%d"),
                            join.dt.strftime("%Y/%m/%d"))
    channel = customers["channel"].to_numpy(dtype=object)
    channel = np.where(rng.random(n) < 0.3, np.char.capitalize(channel.astype(str)), channel)
    out = pd.DataFrame({"customer_id": customers["customer_id"].to_numpy(),
                        "region": region_written, "city": city, "join_date": join_written,
                        "channel": channel})
    out, dup_pos = _inject_duplicates(rng, out, params.duplicate_share_customers)
    dups = out.iloc[dup_pos] if len(dup_pos) else out.iloc[:0]
    defects = pd.DataFrame({"source": "customers", "kind": "duplicate",
                            "key": dups["customer_id"].to_numpy()})
    return out, defects


def _market_index_file(market_index: np.ndarray) -> pd.DataFrame:
    c, r, m = np.meshgrid(np.arange(len(CATEGORIES)), np.arange(len(REGIONS)),
                          np.arange(N_MONTHS), indexing="ij")
    return pd.DataFrame({
        "category": np.asarray(CATEGORIES, dtype=object)[c.ravel()],
        "region": np.asarray(REGIONS, dtype=object)[r.ravel()],
        "month": MONTH_STARTS[m.ravel()].strftime("%Y-%m"),
        "index": [f"{v:.1f}" for v in market_index.ravel()],
    })


def _surveys(rng, params: SampleParams, customer_id, loyalty, join_month, churn_or_end):
    rows = []
    for wave, m in enumerate(range(2, N_MONTHS, 3), start=1):
        active = np.nonzero((join_month <= m) & (churn_or_end > m))[0]
        k = round(params.survey_invite_share * active.size)
        invited = np.sort(rng.choice(active, size=k, replace=False))
        rows.append(pd.DataFrame({"cust": invited, "wave": wave, "month": m}))
    inv = pd.concat(rows, ignore_index=True)
    inv["invitation_id"] = [f"S{i:07d}" for i in range(1, len(inv) + 1)]
    inv["sent_date"] = MONTH_STARTS[inv["month"]] + pd.Timedelta(days=2)
    z = loyalty[inv["cust"]]
    p_respond = _logistic(params.survey_response_intercept
                          + params.survey_response_loyalty_coef * z)
    inv["responded"] = rng.random(len(inv)) < p_respond
    inv["true_recommend"] = np.clip(np.round(6.5 + 1.8 * z + 1.2 * rng.standard_normal(len(inv))),
                                    0, 10).astype(int)
    inv["true_satisfaction"] = np.clip(np.round(3.4 + 0.8 * z + 0.6 * rng.standard_normal(
        len(inv))), 1, 5).astype(int)
    inv["reversed"] = inv["responded"] & (rng.random(len(inv)) < params.reversed_scale_share)
    inv["recommend_written"] = np.where(inv["reversed"], 10 - inv["true_recommend"],
                                        inv["true_recommend"])
    inv["response_date"] = inv["sent_date"] + pd.to_timedelta(rng.integers(0, 21, len(inv)), "D")
    inv["customer_id"] = customer_id[inv["cust"]]
    raw_inv = pd.DataFrame({"invitation_id": inv["invitation_id"],
                            "customer_id": inv["customer_id"],
                            "sent_date": inv["sent_date"].dt.strftime("%Y-%m-%d"),
                            "wave": inv["wave"]})
    resp = inv[inv["responded"]]
    raw_resp = pd.DataFrame({"invitation_id": resp["invitation_id"],
                             "response_date": resp["response_date"].dt.strftime("%Y-%m-%d"),
                             "q_recommend": resp["recommend_written"],
                             "q_satisfaction": resp["true_satisfaction"]})
    truth = inv[["invitation_id", "customer_id", "wave", "responded", "true_recommend",
                 "true_satisfaction", "reversed"]].assign(loyalty_z=z)
    return raw_inv, raw_resp.reset_index(drop=True), truth


def _referrals(rng, customer_id, loyalty, join_month, join_date, churn_or_end):
    referred = np.nonzero((join_month >= 1) & (rng.random(join_month.size) < 0.2))[0]
    weight = np.exp(1.0 * loyalty)
    referrer = np.empty(referred.size, dtype=np.int64)
    keep = np.ones(referred.size, dtype=bool)
    for k, who in enumerate(referred):
        m = join_month[who]
        candidates = np.nonzero((join_month < m) & (churn_or_end > m))[0]
        if candidates.size == 0:
            keep[k] = False
            continue
        w = weight[candidates]
        referrer[k] = candidates[rng.choice(candidates.size, p=w / w.sum())]
    referred, referrer = referred[keep], referrer[keep]
    return pd.DataFrame({"referrer_id": customer_id[referrer],
                         "referred_customer_id": customer_id[referred],
                         "referral_date": join_date[referred].strftime("%Y-%m-%d")})


def _engagement(rng, customer_id, loyalty, join_month, churn_or_end):
    first = np.maximum(join_month, 0)
    span = np.maximum(churn_or_end - first, 0)
    frames = []
    follow_prob = _logistic(-0.8 + 1.1 * loyalty)
    follows = np.nonzero((span > 0) & (rng.random(loyalty.size) < follow_prob))[0]
    frames.append((follows, "FOLLOW"))
    for kind, rate, effect in [("EVENT_ATTENDED", 0.25, 0.9), ("NEWSLETTER_CLICK", 1.0, 0.5)]:
        counts = rng.poisson(rate * np.exp(effect * loyalty) * span / 12.0)
        frames.append((np.repeat(np.arange(loyalty.size), counts), kind))
    out = []
    for who, kind in frames:
        month = first[who] + np.floor(rng.random(who.size) * span[who]).astype(int)
        out.append(pd.DataFrame({"customer_id": customer_id[who],
                                 "event_date": _dates_in_month(rng, month).strftime("%Y-%m-%d"),
                                 "kind": kind}))
    events = pd.concat(out, ignore_index=True)
    return events.sort_values(["event_date", "customer_id", "kind"], ignore_index=True)


def _complaints(rng, customer_id, complaints: np.ndarray):
    cust, month = np.nonzero(complaints)
    reps = complaints[cust, month]
    cust, month = np.repeat(cust, reps), np.repeat(month, reps)
    date = _dates_in_month(rng, month)
    order = np.lexsort((cust, date.to_numpy()))
    cust, date = cust[order], date[order]
    category = _pick(rng, COMPLAINT_CATEGORIES, cust.size, [0.3, 0.2, 0.15, 0.15, 0.1, 0.1])
    severity = rng.choice([1, 2, 3], size=cust.size, p=[0.5, 0.35, 0.15])
    label = np.array([rng.choice(_COMPLAINT_LABELS[c]) for c in category], dtype=object)
    severity_written = np.array([rng.choice(_SEVERITY_WRITTEN[s]) for s in severity], dtype=object)
    complaint_id = np.array([f"K{i:06d}" for i in range(1, cust.size + 1)], dtype=object)
    raw = pd.DataFrame({"complaint_id": complaint_id, "customer_id": customer_id[cust],
                        "complaint_date": date.strftime("%Y-%m-%d"), "label": label,
                        "severity": severity_written})
    truth = pd.DataFrame({"complaint_id": complaint_id, "category": category,
                          "severity": severity})
    return raw, truth


# ----------------------------------------------------------------------------------------------
def write_sample(raw_dir: str | Path, truth_dir: str | Path, *, size: str = "default",
                 seed: int = 20240601, progress=None,
                 injected_drop: tuple[str, str, float] | None = None) -> dict[str, Path]:
    """Generate the sample and write raw files into an empty raw_dir and truth into truth_dir.

    Args:
        raw_dir: folder for the raw files; must be empty or absent (data/raw is never overwritten).
        truth_dir: folder for the ground truth (parquet + truth.json); replaced if present.
        size: 'default' (~20,000 customers), 'small' (~900) or 'tiny' (~150, unit tests).
        seed: random seed; the same seed and size give byte-identical raw files.
        progress: optional callable taking a message, for terminal progress.
        injected_drop: (region, 'YYYY-MM', factor): every customer of the region orders at
            ``factor`` times their rate from that month on (to test the monitoring alerts).

    Returns:
        Mapping of raw source name to the path written.

    Raises:
        FileExistsError: raw_dir already holds files.
    """
    say = progress or (lambda message: None)
    raw_dir, truth_dir = Path(raw_dir), Path(truth_dir)
    existing = [p for p in raw_dir.glob("*") if not p.name.startswith(".")] if raw_dir.exists() \
        else []
    if existing:
        raise FileExistsError(
            f"{raw_dir} already holds {len(existing)} file(s) (e.g. {existing[0].name}); "
            "the sample is only written into an empty folder, raw data is never overwritten")
    params = dataclasses.replace(SampleParams.for_size(size, seed), injected_drop=injected_drop)
    say(f"simulating {params.n_customers:,} customers ({size}, seed {seed}) ...")
    sample = generate(params)
    raw_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    mapping = sources.load_mapping(sources.BUILTIN_MAPPING)
    for name, frame in sample.raw.items():
        spec = mapping.part(name).spec
        path = raw_dir / spec["file"]
        text = frame.to_csv(index=False, sep=spec.get("sep", ","), lineterminator="\n")
        path.write_bytes(text.encode(spec.get("encoding", "utf-8")))
        written[name] = path
        say(f"  wrote {path} ({len(frame):,} rows)")
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in sample.truth.items():
        frame.to_parquet(truth_dir / f"{name}.parquet", index=False)
    meta = {k: v for k, v in params.__dict__.items()}
    meta.update(start=str(START.date()), n_months=N_MONTHS, cutover=str(CUTOVER.date()),
                regions=REGIONS, categories=CATEGORIES)
    (truth_dir / "truth.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    say(f"  wrote ground truth to {truth_dir}")
    return written


def reads_own_data(config_path: str | Path) -> str:
    """Why a run configuration does not need the built-in sample ('' when it does): its
    cleaning step reads another raw folder or goes through a source mapping."""
    cleaning = configs.notebook_block(configs.load_config(io.resolve(config_path)),
                                      "01_cleaning")
    raw_dir = cleaning.get("raw_dir", "data/raw")
    if not sources.is_builtin(cleaning.get("source_mapping", "")):
        return f"maps its own sources ({cleaning['source_mapping']})"
    if io.resolve(raw_dir).resolve() != io.resolve("data/raw").resolve():
        return f"reads {raw_dir}, not data/raw"
    return ""


def main(argv: list[str] | None = None) -> int:
    """CLI: write the built-in sample into an empty raw folder."""
    parser = argparse.ArgumentParser(prog="python -m helpers.sample", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--size", default="default", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--raw-dir", default=str(io.resolve("data/raw")))
    parser.add_argument("--truth-dir", default=str(io.resolve("data/truth")))
    parser.add_argument("--if-empty", action="store_true",
                        help="do nothing (exit 0) when the raw folder already holds files")
    parser.add_argument("--config", help="a run configuration: do nothing (exit 0) when its "
                        "cleaning step reads other data than data/raw")
    parser.add_argument("--inject-drop", metavar="REGION:YYYY-MM:FACTOR",
                        help="a demand drop to test the monitoring, e.g. Southeast:2025-02:0.6")
    args = parser.parse_args(argv)
    drop = None
    if args.inject_drop:
        try:
            region, month, factor = args.inject_drop.split(":")
            drop = (region, str(pd.Period(month, "M")), float(factor))
        except ValueError:
            parser.error(f"--inject-drop {args.inject_drop!r}: expected REGION:YYYY-MM:FACTOR")
        if region not in REGIONS:
            parser.error(f"--inject-drop: unknown region {region!r}; choose one of {REGIONS}")
    raw_dir = Path(args.raw_dir)
    if args.config and (reason := reads_own_data(args.config)):
        print(f"sample not generated: {args.config} {reason}")
        return 0
    if args.if_empty and raw_dir.exists() and any(not p.name.startswith(".")
                                                  for p in raw_dir.iterdir()):
        print(f"{raw_dir} already holds data; sample not generated")
        return 0
    try:
        write_sample(raw_dir, args.truth_dir, size=args.size, seed=args.seed,
                     progress=lambda m: print(m, flush=True), injected_drop=drop)
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
