"""The generating process: customers with a latent loyalty score, products and regional prices
following a market index, a monthly simulation of buying, complaints and churn, order lines with
returns, then the raw files as each system writes them (``sample.files``) and the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.sample.files import (
    complaints_file,
    current_orders_file,
    current_rows,
    customers_file,
    engagement_file,
    legacy_orders_file,
    market_index_file,
    referrals_file,
    survey_files,
)
from helpers.sample.interventions import (
    InterventionState,
    effects_truth,
    exposure_file,
    interventions_file,
    survey_incentive,
)
from helpers.sample.questionnaire import questionnaire_file
from helpers.sample.world import (
    CATEGORIES,
    CATEGORY_MEDIAN_PRICE,
    CITIES,
    CUTOVER,
    MONTH_STARTS,
    N_MONTHS,
    REGION_WEIGHTS,
    REGIONS,
    START,
    Sample,
    SampleParams,
    dates_in_month,
    logistic,
    pick,
)


def generate(params: SampleParams) -> Sample:
    """Simulate the company's customers, orders and signals; return raw files and truth."""
    rng = np.random.default_rng(params.seed)
    people = _customers(rng, params.n_customers)
    world = _products_and_prices(rng, params)
    buying = _buying(rng, params, people)
    lines, elasticity = _order_lines(rng, params, people, world, buying["orders"])
    # the orders the loyalty strategies added, from their own random stream: the rest of the
    # sample is drawn exactly as without them
    extra = (_order_lines(buying["interventions"].rng, params, people, world,
                          buying["extra_orders"])[0] if buying["extra_orders"].any()
             else lines.iloc[:0].copy())  # a tiny sample may gain none
    extra["order_date"] = extra["order_date"].astype(lines["order_date"].dtype)  # none returned
    extra["order_no"] += int(lines["order_no"].max()) + 1
    extra["order_id"] = "SO" + (extra["order_no"] + 1).astype("str").str.zfill(7)
    return _files_and_truth(rng, params, people, world, buying, lines, elasticity, extra)


def _customers(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Each customer's latent loyalty, region, city, join month and date, channel and id."""
    loyalty = rng.standard_normal(n)
    region_idx = rng.choice(len(REGIONS), size=n, p=REGION_WEIGHTS)
    region = np.asarray(REGIONS, dtype=object)[region_idx]
    city = np.array([CITIES[r][k] for r, k in zip(region, rng.integers(0, 3, n), strict=True)],
                    dtype=object)
    join_month = rng.integers(-36, N_MONTHS - 1, n)
    join_date = dates_in_month(rng, join_month)
    channel = pick(rng, ["online", "store", "fair"], n, [0.55, 0.35, 0.10])
    customer_id = np.array([f"C{i:06d}" for i in range(1, n + 1)], dtype=object)
    return {"loyalty": loyalty, "region_idx": region_idx, "region": region, "city": city,
            "join_month": join_month, "join_date": join_date, "channel": channel,
            "customer_id": customer_id}


def _products_and_prices(rng: np.random.Generator, params: SampleParams) -> dict:
    """Products with a category, base price and popularity; their price per region and month
    (a regional level, step changes that catch up with the market) and the market index."""
    n_prod = params.n_products
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
    return {"prod_cat_idx": prod_cat_idx, "prod_cat": prod_cat, "base_price": base_price,
            "popularity": popularity, "product_id": product_id, "level": level, "price": price,
            "market_index": market_index, "price_changes": price_changes}


def _buying(rng: np.random.Generator, params: SampleParams, people: dict) -> dict:
    """The monthly simulation: orders and complaints per customer and month, cooling off and
    churn driven by loyalty and recent complaints, the loyalty strategies' effects
    (``sample.interventions``) and an optional injected demand drop."""
    n = params.n_customers
    loyalty, join_month, region = people["loyalty"], people["join_month"], people["region"]
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
    plan = InterventionState(params.seed, n)
    extra = np.zeros((n, N_MONTHS), dtype=np.int64)  # orders the interventions added
    drop = np.ones((n, N_MONTHS))
    if params.injected_drop is not None:
        drop_region, drop_month, drop_factor = params.injected_drop
        first = (pd.Period(drop_month, "M") - pd.Period(START, "M")).n
        drop[np.asarray(region) == drop_region, first:] = drop_factor
    for m in range(N_MONTHS):
        active = (join_month <= m) & ~churned
        multiplier = np.where(cooling_left > 0, params.cooling_rate_multiplier, 1.0)
        plan.choose(m, orders, extra, region)
        lam = rate_i * season[m] * multiplier * active * drop[:, m]
        orders[:, m] = rng.poisson(lam)
        boost = plan.multiplier(m, lam) - 1  # the strategies only add orders (effects >= 0)
        if boost.any():
            extra[:, m] = plan.rng.poisson(lam * boost)
        complaints[:, m] = rng.binomial(orders[:, m], p_complaint)
        recent = complaints[:, max(0, m - 2): m + 1].sum(axis=1)
        # customers already cooling count down; those at zero stop buying from next month
        cooling = cooling_left > 0
        cooling_left[cooling] -= 1
        stops = cooling & (cooling_left == 0)
        churned |= stops
        churn_month[stops] = m + 1
        eligible = active & ~cooling & (join_month < m)
        hazard = logistic(alpha + params.churn_loyalty_coef * loyalty
                           + params.churn_complaint_coef * recent)
        starts = eligible & (rng.random(n) < hazard)
        cooling_left[starts] = params.cooling_months
        cooling_start[starts] = m + 1
    return {"orders": orders, "complaints": complaints, "churn_month": churn_month,
            "cooling_start": cooling_start, "interventions": plan, "extra_orders": extra}


def _order_lines(rng: np.random.Generator, params: SampleParams, people: dict, world: dict,
                 orders: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Order lines of every order (products chosen by popularity and real price to the power of
    the region's elasticity, list price, discounts), returns booked as extra lines; with the
    true elasticity per region."""
    n_prod, n_reg = params.n_products, len(REGIONS)
    region_idx, region = people["region_idx"], people["region"]
    price, market_index = world["price"], world["market_index"]
    prod_cat_idx, popularity = world["prod_cat_idx"], world["popularity"]
    base_price, level = world["base_price"], world["level"]
    customer_id, product_id = people["customer_id"], world["product_id"]
    cust_of_order, month_of_order = np.nonzero(orders)
    reps = orders[cust_of_order, month_of_order]
    cust_of_order = np.repeat(cust_of_order, reps)
    month_of_order = np.repeat(month_of_order, reps)
    order_date = dates_in_month(rng, month_of_order)
    sort = np.lexsort((cust_of_order, order_date.to_numpy()))
    cust_of_order, month_of_order = cust_of_order[sort], month_of_order[sort]
    order_date = order_date[sort]
    n_orders = cust_of_order.size
    n_lines_per = 1 + rng.poisson(0.9, n_orders)
    line_order = np.repeat(np.arange(n_orders), n_lines_per)
    line_no = (np.arange(line_order.size) - np.repeat(np.cumsum(n_lines_per) - n_lines_per,
                                                      n_lines_per) + 1)
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
    lines["order_id"] = "SO" + (lines["order_no"] + 1).astype("str").str.zfill(7)
    lines["customer_id"] = customer_id[lines["cust"]]
    lines["product_id"] = product_id[lines["product"]]
    lines["category"] = world["prod_cat"][lines["product"]]
    return lines, elasticity


def _files_and_truth(rng: np.random.Generator, params: SampleParams, people: dict, world: dict,
                     buying: dict, lines: pd.DataFrame, elasticity: np.ndarray,
                     extra: pd.DataFrame) -> Sample:
    """The raw files as each system writes them, and the truth behind them; ``extra`` are the
    order lines the interventions added (all in the current system, without injected defects:
    they join the current export in date order)."""
    customer_id, loyalty = people["customer_id"], people["loyalty"]
    join_month, join_date = people["join_month"], people["join_date"]
    region, city, channel = people["region"], people["city"], people["channel"]
    orders, complaints, churn_month = buying["orders"], buying["complaints"], buying["churn_month"]
    cooling_start, price_changes = buying["cooling_start"], world["price_changes"]
    market_index = world["market_index"]
    raw_current, current_truth = current_orders_file(rng, lines[lines["system"] == "current"],
                                                      params)
    raw_current = pd.concat([raw_current, current_rows(extra)]).sort_values(
        ["order_date", "order_id", "line_no"], kind="stable", ignore_index=True)
    raw_legacy, legacy_truth, id_map = legacy_orders_file(
        rng, lines[lines["system"] == "legacy"], params)

    # --- customers file ----------------------------------------------------------------------
    customers_true = pd.DataFrame({
        "customer_id": customer_id, "region": region, "city": city,
        "join_date": join_date.normalize(), "channel": channel,
    })
    raw_customers, dup_customers = customers_file(rng, customers_true, params)

    # --- surveys, referrals, engagement, complaints -----------------------------------------
    churn_or_end = np.where(churn_month >= 0, churn_month, N_MONTHS)
    raw_inv, raw_resp, survey_truth = survey_files(rng, params, customer_id, loyalty, join_month,
                                               churn_or_end, survey_incentive())
    answered = survey_truth[survey_truth["responded"]]
    raw_items, questionnaire_truth = questionnaire_file(
        params.seed, answered["invitation_id"].to_numpy(), answered["loyalty_z"].to_numpy())
    raw_referrals = referrals_file(rng, customer_id, loyalty, join_month, join_date, churn_or_end)
    raw_engagement = engagement_file(rng, customer_id, loyalty, join_month, churn_or_end)
    raw_complaints, complaint_truth = complaints_file(rng, customer_id, complaints)

    raw = {
        "customers": raw_customers,
        "orders_current": raw_current,
        "orders_legacy": raw_legacy,
        "price_changes": price_changes.assign(
            effective_date=price_changes["effective_date"].dt.strftime("%Y-%m-%d")),
        "market_index": market_index_file(market_index),
        "survey_invitations": raw_inv,
        "survey_responses": raw_resp,
        "survey_items": raw_items,
        "referrals": raw_referrals,
        "engagement": raw_engagement,
        "complaints": raw_complaints,
        "customer_id_map": id_map,
        "interventions": interventions_file(),
        "intervention_exposure": exposure_file(buying["interventions"], customer_id),
    }
    truth_customers = customers_true.assign(
        loyalty_z=loyalty, join_month=join_month,
        churn_month=churn_month, cooling_start_month=cooling_start,
        n_orders=orders.sum(axis=1), n_complaints=complaints.sum(axis=1),
    )
    true_lines = pd.concat([lines, extra], ignore_index=True).sort_values(
        ["order_date", "order_no", "line_no"], kind="stable", ignore_index=True).drop(
        columns=["order_no", "cust", "product"])
    truth = {
        "customers": truth_customers,
        "order_lines": true_lines,
        "injected_defects": pd.concat([current_truth, legacy_truth, dup_customers],
                                      ignore_index=True),
        "survey": survey_truth,
        "complaints": complaint_truth,
        "elasticity": pd.DataFrame({"region": REGIONS, "elasticity": elasticity}),
        "intervention_effects": effects_truth(buying["interventions"], survey_truth),
        **questionnaire_truth,
    }
    return Sample(raw=raw, truth=truth, params=params)
