"""Stage 06: price sensitivity. What happens around each price change, net of the market and
of the same product elsewhere; and a customer-level price-sensitivity measure.

Pure functions over ``order_lines`` (sale lines, estimated ones left out), ``price_changes`` and
``market_index``. Prices are compared with the market price index of the product's category and
region: a price rise that only follows the market is not a rise for the customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.stats import mean_table


def monthly_product_sales(order_lines: pd.DataFrame) -> pd.DataFrame:
    """Units, buyers and mean line value per product, region and month (sale lines only;
    lines with estimated values left out)."""
    sales = order_lines.loc[~order_lines["is_return"] & ~order_lines["is_estimated"],
                            ["product_id", "region", "order_date", "quantity", "customer_id",
                             "amount"]]  # the rows and the columns read (no wider copy)
    sales = sales.assign(month=sales["order_date"].dt.to_period("M").dt.to_timestamp())
    return sales.groupby(["product_id", "region", "month"]).agg(
        units=("quantity", "sum"), buyers=("customer_id", "nunique"),
        line_value=("amount", "mean")).reset_index()


def buyers_per_region(order_lines: pd.DataFrame) -> pd.Series:
    """How many customers bought (a sale line) in each region."""
    sales = order_lines.loc[~order_lines["is_return"], ["region", "customer_id"]]
    return sales.groupby("region")["customer_id"].nunique()


def _window_total(cells: dict, product: str, region: str, months: list) -> float:
    return float(sum(cells.get((product, region, m), 0) for m in months))


def _mean_present(values: list) -> float:
    """The mean of the values that are there (None and NaN left out); NaN when none is."""
    array = np.array(values, dtype=float)
    present = array[~np.isnan(array)]
    return float(present.mean()) if len(present) else np.nan


def _with_windows(price_changes: pd.DataFrame, window_months: int) -> pd.DataFrame:
    """Each change with its month, its before and after windows and the months its price is
    unknown in (the change month; for a derived change every month from the last one sold at
    the old price to the first one at the new price). A delivered change is dated: before =
    the ``window_months`` months before it, after = its month and the following ones. A derived
    change (``last_old_period`` given) leaves out the two months it was found in."""
    month = price_changes["effective_date"].dt.to_period("M").dt.to_timestamp()
    last_old = (price_changes["last_old_period"].dt.to_period("M").dt.to_timestamp()
                if "last_old_period" in price_changes else pd.Series(pd.NaT, index=month.index))
    # months as whole numbers (year x 12 + month - 1), turned into month starts at the end
    start_number = (month.dt.year * 12 + month.dt.month - 1).to_numpy()
    old_number = (last_old.dt.year * 12 + last_old.dt.month - 1).to_numpy()
    month_start = {}

    def starts(first: int, stop: int) -> list[pd.Timestamp]:
        out = []
        for number in range(first, stop):
            if number not in month_start:
                month_start[number] = pd.Timestamp(year=number // 12, month=number % 12 + 1,
                                                   day=1)
            out.append(month_start[number])
        return out

    befores, afters, unknowns = [], [], []
    for start, old in zip(start_number, old_number, strict=True):
        if np.isnan(old):
            befores.append(starts(start - window_months, start))
            afters.append(starts(start, start + window_months))
            unknowns.append(starts(start, start + 1))
        else:
            old = int(old)
            befores.append(starts(old - window_months, old))
            afters.append(starts(start + 1, start + 1 + window_months))
            unknowns.append(starts(old, start + 1))
    return price_changes.assign(month=month, before=befores, after=afters, unknown=unknowns)


def price_change_events(price_changes: pd.DataFrame, sales: pd.DataFrame,
                        market_index: pd.DataFrame, categories: pd.Series,
                        window_months: int = 3) -> pd.DataFrame:
    """One row per price change with what happened around it (difference in differences).

    Before = the ``window_months`` months before the change, after = the month of the change
    and the following ones (for a change derived from the order lines, the two months it was
    found in are left out: see ``helpers.pricing``). Treated: the product in the region of
    the change. Control: the same
    product in the regions with no price change in the whole window. Outcomes per window are
    units (0 when nothing sold) and buyers. Returns product_id, region, effective_date,
    direction, dlog_price, dlog_market (the market index's change), dlog_relative_price,
    treated_before/after, control_before/after (mean per control region), dlog_units_treated,
    dlog_units_control, did (their difference), controls (number of control regions), and
    buyers_before/after. Changes without a full window inside the data, or without a control
    region, are left out. Log changes use +0.5 to keep empty windows. dlog_buyers and
    dlog_line_value (mean value of a sale line, NaN when a window sold nothing) describe the
    treated series.
    """
    months = pd.DatetimeIndex(sorted(sales["month"].unique()))
    first, last = months.min(), months.max()
    # plain dictionaries: a dictionary look-up is a hundred times faster than a MultiIndex
    # one, and each change looks up a few dozen cells
    cells = sales.set_index(["product_id", "region", "month"])
    units, buyers = cells["units"].to_dict(), cells["buyers"].to_dict()
    value = cells["line_value"].to_dict()
    index = market_index.set_index(["category", "region", "month"])["index"].to_dict()
    changes = _with_windows(price_changes, window_months)
    changed = {(product, region, month) for product, region, months in zip(
        changes["product_id"], changes["region"], changes["unknown"], strict=True)
        for month in months}
    regions = sorted(sales["region"].unique())
    rows = []
    for event in changes.itertuples(index=False):
        before, after = event.before, event.after
        if before[0] < first or after[-1] > last:
            continue
        window = pd.date_range(before[0], after[-1], freq="MS")
        controls = [r for r in regions if r != event.region and not any(
            (event.product_id, r, m) in changed for m in window)]
        if not controls:
            continue

        category = categories.get(event.product_id)
        market = [np.mean([index.get((category, event.region, m), np.nan) for m in part])
                  for part in (before, after)]
        product = event.product_id
        treated = [_window_total(units, product, event.region, part) for part in (before, after)]
        control = [np.mean([_window_total(units, product, r, part) for r in controls])
                   for part in (before, after)]
        rows.append({
            "product_id": event.product_id, "region": event.region,
            "effective_date": event.effective_date,
            "direction": "increase" if event.new_price > event.old_price else "decrease",
            "dlog_price": np.log(event.new_price / event.old_price),
            "dlog_market": np.log(market[1] / market[0]),
            "treated_before": treated[0], "treated_after": treated[1],
            "control_before": control[0], "control_after": control[1],
            "buyers_before": _window_total(buyers, product, event.region, before),
            "buyers_after": _window_total(buyers, product, event.region, after),
            "line_value_before": _mean_present([value.get((product, event.region, m))
                                                for m in before]),
            "line_value_after": _mean_present([value.get((product, event.region, m))
                                               for m in after]),
            "controls": len(controls),
            "last_old_period": getattr(event, "last_old_period", pd.NaT)})
    events = pd.DataFrame(rows)
    if events.empty:
        return events
    events["dlog_relative_price"] = events["dlog_price"] - events["dlog_market"]
    events["dlog_units_treated"] = np.log((events["treated_after"] + 0.5)
                                          / (events["treated_before"] + 0.5))
    events["dlog_units_control"] = np.log((events["control_after"] + 0.5)
                                          / (events["control_before"] + 0.5))
    events["did"] = events["dlog_units_treated"] - events["dlog_units_control"]
    events["dlog_buyers"] = np.log((events["buyers_after"] + 0.5)
                                   / (events["buyers_before"] + 0.5))
    events["dlog_line_value"] = np.log(events["line_value_after"]
                                       / events["line_value_before"])
    return events


def event_summary(events: pd.DataFrame, by: list[str], confidence: float = 0.95,
                  min_size: int = 30) -> pd.DataFrame:
    """Per group: events, mean price change (raw and relative to the market), the naive
    before/after change in units and the difference in differences (with its t interval), and
    the before/after change in buyers and in the value of a sale line (log points)."""
    naive = mean_table(events, "dlog_units_treated", by, confidence, min_size)
    did = mean_table(events, "did", by, confidence, min_size)
    buyers = mean_table(events, "dlog_buyers", by, confidence, min_size)
    value = mean_table(events.dropna(subset=["dlog_line_value"]), "dlog_line_value", by,
                       confidence, min_size)
    return pd.DataFrame({
        "events": naive["n"],
        "price_change": events.groupby(by)["dlog_price"].mean(),
        "relative_price_change": events.groupby(by)["dlog_relative_price"].mean(),
        "units_change_naive": naive["mean"],
        "units_change_did": did["mean"], "did_low": did["ci_low"], "did_high": did["ci_high"],
        "buyers_change": buyers["mean"], "line_value_change": value["mean"],
        "small_group": did["small_group"]})


def event_elasticities(events: pd.DataFrame, confidence: float = 0.95,
                       min_size: int = 30,
                       customers: pd.Series | None = None) -> pd.DataFrame:
    """Per region, the slope of the unit change on the price change through the origin, with
    product-clustered intervals, two ways: naive (before/after in the region, raw price change)
    and adjusted (difference in differences on the market-relative price change). Events
    missing a value (no sales or no index around them) are left out; ``events`` counts the
    rest. A region whose events concern fewer than two products has no clustered interval and
    is left out; one with fewer than ``min_size`` events, or (``customers``: buyers per region)
    fewer than ``min_size`` customers behind them, is flagged ``small_group``."""
    import statsmodels.api as sm

    rows = {}
    columns = ["dlog_units_treated", "dlog_price", "did", "dlog_relative_price"]
    measurable = np.isfinite(events[columns].astype(float)).all(axis=1)
    events = events[measurable]  # events without sales (or index) around them: no slope
    for region, part in events.groupby("region"):
        clusters = pd.factorize(part["product_id"])[0]
        if clusters.max(initial=-1) < 1:
            continue
        out = {}
        for name, y, x in [("naive", "dlog_units_treated", "dlog_price"),
                           ("adjusted", "did", "dlog_relative_price")]:
            fit = sm.OLS(part[y], part[[x]]).fit(cov_type="cluster",
                                                  cov_kwds={"groups": clusters})
            low, high = fit.conf_int(alpha=1 - confidence).iloc[0]
            out.update({name: fit.params.iloc[0], f"{name}_low": low, f"{name}_high": high})
        out["events"] = len(part)
        rows[region] = out
    table = pd.DataFrame(rows).T.astype(float)
    table.index.name = "region"
    if len(table):
        table["events"] = table["events"].astype(int)
        table["small_group"] = table["events"] < min_size
        if customers is not None:
            table["customers"] = customers.reindex(table.index).fillna(0).astype(int)
            table["small_group"] |= table["customers"] < min_size
    return table


def event_time_profile(events: pd.DataFrame, sales: pd.DataFrame,
                       window_months: int = 3) -> pd.DataFrame:
    """Mean log(units + 0.5) by event time, for treated and control series, by direction, each
    relative to event time -1 (the event-study picture). Event times -window .. -1 are the
    months of the before window and 0 .. window-1 those of the after window, exactly as the
    event study counts them (``_with_windows``): a delivered change's month is event time 0; a
    change derived from the order lines leaves out the months it was found in (the last sold at
    the old price, the first at the new one: both had sales by construction), so the picture
    shows no spike made by how the change was found."""
    units = sales.set_index(["product_id", "region", "month"])["units"].to_dict()
    regions = sorted(sales["region"].unique())
    rows = []
    for event in _with_windows(events, window_months).itertuples(index=False):
        for k, m in enumerate([*event.before, *event.after], start=-window_months):
            treated = units.get((event.product_id, event.region, m), 0)
            control = np.mean([units.get((event.product_id, r, m), 0) for r in regions
                               if r != event.region])
            rows.append((event.direction, k, np.log(treated + 0.5), np.log(control + 0.5)))
    frame = pd.DataFrame(rows, columns=["direction", "month", "treated", "control"])
    profile = frame.groupby(["direction", "month"]).mean()
    base = profile.xs(-1, level="month")
    return profile - base.reindex(profile.index.get_level_values("direction")).to_numpy()


# ----------------------------------------------------------------------------------------------
# customer level
def market_index_or_flat(market_index: pd.DataFrame | None,
                         order_lines: pd.DataFrame) -> pd.DataFrame:
    """The delivered market index, or ``flat_market_index`` when none was delivered."""
    if market_index is None or market_index.empty:
        return flat_market_index(order_lines)
    return market_index


def flat_market_index(order_lines: pd.DataFrame) -> pd.DataFrame:
    """A market index of 100 for every category, region and month of the order lines: the
    stand-in when no market index was delivered (prices are then compared as charged, and
    the comparison with other regions is the only correction for market-wide swings)."""
    months = pd.date_range(order_lines["order_date"].min().to_period("M").to_timestamp(),
                           order_lines["order_date"].max(), freq="MS")
    cells = pd.MultiIndex.from_product(
        [sorted(order_lines["category"].unique()), sorted(order_lines["region"].unique()),
         months], names=["category", "region", "month"]).to_frame(index=False)
    return cells.assign(index=100.0)


def customer_price_sensitivity(order_lines: pd.DataFrame, market_index: pd.DataFrame,
                               prior_strength: float = 20.0,
                               with_discounts: bool = True) -> pd.DataFrame:
    """Per customer, two price-sensitivity measures and a combined score (0-100 percentile).

    * deal_share: share of sale lines bought below list price (a discount), shrunk toward
      the overall share with ``prior_strength`` pseudo-lines so that customers with few lines
      are not extreme by chance (beta-binomial empirical Bayes);
    * cheap_timing: how much cheaper than usual, relative to the market, the products were when
      the customer bought them (mean of the product-region's median log relative price minus
      the paid one; positive = buys when cheap), shrunk the same way toward 0.

    Returns lines, deal_share, cheap_timing and price_sensitivity (mean percentile of the two;
    the cheap_timing percentile alone when ``with_discounts`` is False: without list prices
    every line is 'at list price' and the deal share says nothing).
    """
    sales = order_lines.loc[~order_lines["is_return"] & ~order_lines["is_estimated"],
                            ["customer_id", "product_id", "category", "region", "order_date",
                             "unit_price", "list_price"]]
    sales = sales.assign(month=sales["order_date"].dt.to_period("M").dt.to_timestamp())
    sales = sales.merge(market_index, on=["category", "region", "month"], how="left")
    relative = np.log(sales["list_price"]) - np.log(sales["index"] / 100)
    usual = relative.groupby([sales["product_id"], sales["region"]]).transform("median")
    sales = sales.assign(deal=(sales["unit_price"] < sales["list_price"] - 0.005).astype(float),
                         cheap=(usual - relative))
    per = sales.groupby("customer_id").agg(lines=("deal", "size"), deals=("deal", "sum"),
                                           cheap_sum=("cheap", "sum"))
    overall = per["deals"].sum() / per["lines"].sum()
    table = pd.DataFrame({
        "lines": per["lines"],
        "deal_share": (per["deals"] + prior_strength * overall) / (per["lines"]
                                                                   + prior_strength),
        "cheap_timing": per["cheap_sum"] / (per["lines"] + prior_strength)})
    if not with_discounts:
        table["price_sensitivity"] = 100 * table["cheap_timing"].rank(pct=True)
        return table
    table["price_sensitivity"] = 100 * (table["deal_share"].rank(pct=True)
                                        + table["cheap_timing"].rank(pct=True)) / 2
    return table


def relation_to_loyalty(sensitivity: pd.Series, dimensions: pd.DataFrame,
                        confidence: float = 0.95) -> pd.DataFrame:
    """Spearman correlation of the price-sensitivity score with each loyalty measure, with a
    Fisher-z interval and the number of customers behind it (measures with fewer than 10
    customers or no variation left out)."""
    from scipy.stats import norm, spearmanr

    rows = {}
    for column in dimensions.columns:
        pair = pd.concat([sensitivity, dimensions[column]], axis=1, join="inner").dropna()
        n = len(pair)
        if n < 10 or (pair.nunique() < 2).any():  # too few customers, or a constant measure
            continue
        rho = spearmanr(pair.iloc[:, 0], pair.iloc[:, 1]).statistic
        half = norm.ppf(0.5 + confidence / 2) / np.sqrt(n - 3)
        rows[column] = {"customers": n, "spearman": rho,
                        "ci_low": np.tanh(np.arctanh(rho) - half),
                        "ci_high": np.tanh(np.arctanh(rho) + half)}
    return pd.DataFrame(rows).T


def loyalty_dimensions(customer_value: pd.DataFrame, customer_segments: pd.DataFrame,
                       survey_scored: pd.DataFrame | None,
                       churn_risk: pd.DataFrame | None) -> pd.DataFrame:
    """One row per customer with a measure of each loyalty dimension (from notebooks 03-05):
    purchases_per_year and categories (behaviour), expected_value (value), recommend (the
    latest usable answer, attitude) and churn_risk (retention). A dimension whose notebook was
    not evaluated (None) is left out."""
    segments = customer_segments.set_index("customer_id")
    columns = {
        "purchases_per_year": segments["purchases_per_year"],
        "categories": segments["categories"],
        "expected_value": customer_value.set_index("customer_id")["expected_value"]}
    if survey_scored is not None:
        answered = survey_scored[survey_scored["responded"]].sort_values("response_date")
        columns["recommend"] = answered.groupby("customer_id")["recommend_used"].last().astype(
            float)
    if churn_risk is not None:
        columns["churn_risk"] = churn_risk.set_index("customer_id")["risk"]
    return pd.DataFrame(columns)


def elasticity_views(event_table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The naive and the market-adjusted event elasticities as value/ci_low/ci_high tables, for
    the regions that are not small groups (their intervals, often ten times wider, would squeeze
    the others flat; the table beside the chart lists them flagged), or for every region when
    fewer than two are large."""
    if "small_group" in event_table:
        large = event_table[~event_table["small_group"].astype(bool)]
        event_table = large if len(large) >= 2 else event_table
    return {label: pd.DataFrame({"value": event_table[name],
                                 "ci_low": event_table[f"{name}_low"],
                                 "ci_high": event_table[f"{name}_high"]})
            for label, name in [("naive", "naive"), ("market-adjusted", "adjusted")]}
