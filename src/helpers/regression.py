"""Stage 07: the regional price-sensitivity regression.

Specification (stated in the notebook too): on a product x region x period panel,

    log units_prt = a_pr + d_rt + sum_g e_g 1[r = g] log(price_prt / index_c(p)rt) + u_prt

* units: units sold (sale lines) of product p in region r and period t; cells without a sale
  have no log and are left out (a cell filter on the outcome, so keep the grain coarse enough
  that zeros are rare: quarters by default);
* price: the product's regional regular price in the period (each sale line at its month's
  regular price, the price most lines sold at, averaged over the lines), divided by
  the market price index of its category and region (the market adjustment; optional);
* a_{pr}: product x region fixed effects (each product's level in each region);
* d_{rt}: region x period fixed effects (each region's demand in each period: seasonality,
  the customer base, market-wide swings);
* e_g: the price elasticity of region g, identified by price changes of a product within a
  region over time, relative to the same region's other products in the same period;
* standard errors clustered by product (a product's shocks are correlated across regions and
  periods); the product x region effects are nested in the clusters.

The fixed effects are absorbed by alternating projections (demeaning), then statsmodels OLS
gives the slopes and the cluster-robust covariance, with the small-sample factor counting the
absorbed effects that are not nested in the clusters (as a regression with dummies would).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import pricing
from helpers.words import N_


def price_panel(order_lines: pd.DataFrame, market_index: pd.DataFrame, grain: str = "Q",
                categories: list[str] | None = None, regions: list[str] | None = None,
                min_lines: int = 1) -> pd.DataFrame:
    """Product x region x period cells: units, lines, regular price (``pricing.regular_prices``
    of each line's month, averaged over the cell's lines), market index.

    Reads order_lines (sale lines; ``is_estimated`` lines are left out: their price is a
    guess) and market_index (category, region, month, index). ``grain`` is a pandas period
    alias ('M', 'Q'). Cells with fewer than ``min_lines`` sale lines are dropped.
    """
    lines = order_lines.loc[~order_lines["is_return"] & ~order_lines["is_estimated"],
                            ["product_id", "category", "region", "order_date", "quantity",
                             "list_price", "is_return", "is_estimated"]]
    if categories:
        lines = lines[lines["category"].isin(categories)]
    if regions:
        lines = lines[lines["region"].isin(regions)]
    # each line at its month's regular price: a quantity discount or a promotional line is
    # not a price decision (with list prices delivered this is the list price)
    regular = pricing.regular_prices(lines).set_index(["product_id", "region", "period"])[
        "price"]
    month = lines["order_date"].dt.to_period("M").dt.start_time
    lines = lines.assign(period=lines["order_date"].dt.to_period(grain),
                         regular_price=regular.reindex(pd.MultiIndex.from_arrays(
                             [lines["product_id"], lines["region"], month])).to_numpy())
    panel = lines.groupby(["product_id", "category", "region", "period"], observed=True).agg(
        units=("quantity", "sum"), lines=("quantity", "size"),
        price=("regular_price", "mean")).reset_index()
    index = (market_index.assign(period=market_index["month"].dt.to_period(grain))
             .groupby(["category", "region", "period"])["index"].mean().rename("index")
             .reset_index())
    panel = panel.merge(index, on=["category", "region", "period"], how="left")
    return panel[panel["lines"] >= min_lines].reset_index(drop=True)


OTHER_REGIONS = N_("other regions")


def pool_small_regions(panel: pd.DataFrame, min_products: int = 30,
                       customers: pd.Series | None = None, min_customers: int = 30) -> tuple[
        pd.DataFrame, list[str]]:
    """Regions with fewer than ``min_products`` products whose price changed there, or (given
    ``customers``, the buyers per region) fewer than ``min_customers`` customers, get one
    slope and one set of period effects together, as 'other regions' (each product keeps its
    level in its own region: ``home_region``), so the regression answers for the regions that
    carry the data: a region of a handful of (wholesale) buyers is their behaviour, not a
    region's.

    Returns (the panel with ``home_region`` and the pooled ``region``, the pooled regions)."""
    changing = identification(panel)["series_with_price_changes"]
    few = changing < min_products
    if customers is not None:
        few |= customers.reindex(changing.index).fillna(0) < min_customers
    small = sorted(changing.index[few])
    if len(small) == len(changing) or len(small) < 2:  # nothing to pool, or only one
        return panel.assign(home_region=panel["region"]), []
    pooled = panel["region"].where(~panel["region"].isin(small), OTHER_REGIONS)
    return panel.assign(home_region=panel["region"], region=pooled), small


def absorb(frame: pd.DataFrame, columns: list[str], groups: list[str], tol: float = 1e-10,
           max_iterations: int = 1000) -> pd.DataFrame:
    """``columns`` with the means of every ``groups`` level removed (alternating projections
    until the largest change is below ``tol``): what is left after the fixed effects."""
    values = frame[columns].to_numpy(float).copy()
    codes = [pd.factorize(frame[g])[0] for g in groups]
    counts = [np.bincount(c) for c in codes]
    for _iteration in range(max_iterations):
        before = values.copy()
        for code, count in zip(codes, counts, strict=True):
            sums = np.zeros((count.size, values.shape[1]))
            np.add.at(sums, code, values)
            values -= (sums / count[:, None])[code]
        if np.abs(values - before).max() < tol:
            break
    else:
        raise RuntimeError(f"fixed effects did not converge in {max_iterations} iterations")
    return pd.DataFrame(values, columns=columns, index=frame.index)


@dataclass
class ElasticityFit:
    """The regression result: statsmodels fit, the elasticity table and what it used."""

    result: object
    table: pd.DataFrame
    equality_test: dict
    data: pd.DataFrame
    regressors: list[str]
    adjusted: bool


def fit_elasticities(panel: pd.DataFrame, *, market_adjusted: bool = True,
                     period_effects: bool = True, confidence: float = 0.95) -> ElasticityFit:
    """Region-specific price elasticities with product-clustered intervals (see module doc).

    ``market_adjusted=False`` uses the raw price; ``period_effects=False`` replaces the
    region x period effects by region x season-of-year effects: together they give the naive
    answer the notebook compares against.
    """
    import statsmodels.api as sm

    data = panel.copy()
    data["log_units"] = np.log(data["units"])
    data["log_price"] = np.log(data["price"])
    if market_adjusted:
        data["log_price"] -= np.log(data["index"] / 100)
    # product effects in each cell's own region; period effects and slopes per (pooled) region
    home = data["home_region"] if "home_region" in data else data["region"]
    data["product_region"] = data["product_id"] + "|" + home
    when = data["period"].astype("str") if period_effects else data["period"].map(
        lambda p: str(getattr(p, "quarter", getattr(p, "month", 0))))
    data["region_period"] = data["region"] + "|" + when
    regions = sorted(data["region"].unique())
    regressors = []
    for region in regions:
        name = f"price x {region}"
        data[name] = data["log_price"] * (data["region"] == region)
        regressors.append(name)
    groups = ["product_region", "region_period"]
    within = absorb(data, ["log_units", *regressors], groups)
    clusters = pd.factorize(data["product_id"])[0]
    fit = sm.OLS(within["log_units"], within[regressors]).fit(
        cov_type="cluster", cov_kwds={"groups": clusters, "use_correction": True})
    # small-sample factor as with dummies: count the absorbed region x period effects (the
    # product x region effects are nested in the product clusters and do not count)
    n = len(data)
    absorbed = data["region_period"].nunique() - 1
    factor = (n - len(regressors)) / (n - len(regressors) - absorbed)
    cov = fit.cov_params() * factor
    se = np.sqrt(np.diag(cov))
    from scipy.stats import t as t_dist

    dof = clusters.max()  # G - 1
    z = t_dist.ppf(0.5 + confidence / 2, dof)
    table = pd.DataFrame({"elasticity": fit.params.to_numpy(), "std_error": se,
                          "ci_low": fit.params.to_numpy() - z * se,
                          "ci_high": fit.params.to_numpy() + z * se}, index=regions)
    counts = data.groupby("region").agg(cells=("units", "size"), units=("units", "sum"),
                                        products=("product_id", "nunique"))
    table = table.join(counts)
    table.index.name = "region"
    return ElasticityFit(result=fit, table=table,
                         equality_test=equal_slopes_test(fit.params.to_numpy(), cov, dof),
                         data=data.assign(residual=fit.resid, fitted=fit.fittedvalues),
                         regressors=regressors, adjusted=market_adjusted)


def equal_slopes_test(params: np.ndarray, cov: np.ndarray, dof: int) -> dict:
    """Wald test that all regional elasticities are equal (k - 1 restrictions), F form with
    the cluster-robust covariance; with a single region there is nothing to test (NaN)."""
    from scipy.stats import f as f_dist

    k = len(params)
    if k < 2:
        return {"F": float("nan"), "df_num": 0, "df_den": int(dof), "p_value": float("nan")}
    restrictions = np.zeros((k - 1, k))
    restrictions[:, 0] = 1.0
    restrictions[np.arange(k - 1), np.arange(1, k)] = -1.0
    diff = restrictions @ params
    middle = restrictions @ np.asarray(cov) @ restrictions.T
    statistic = float(diff @ np.linalg.solve(middle, diff)) / (k - 1)
    return {"F": statistic, "df_num": k - 1, "df_den": int(dof),
            "p_value": float(f_dist.sf(statistic, k - 1, dof))}


def identification(panel: pd.DataFrame) -> pd.DataFrame:
    """Where the price variation comes from: per region, product-region series, the share whose
    price changed during the data (only those identify the slope once each series' level is
    absorbed) and the cells they hold."""
    series = panel.groupby(["region", "product_id"])["price"].agg(
        lambda p: p.round(2).nunique() > 1).rename("price_changed").reset_index()
    cells = panel.groupby(["region", "product_id"]).size().rename("cells").reset_index()
    series = series.merge(cells, on=["region", "product_id"])
    grouped = series.groupby("region")
    return pd.DataFrame({
        "series": grouped.size(), "series_with_price_changes": grouped["price_changed"].sum(),
        "share_with_changes": grouped["price_changed"].mean(),
        "cells_in_changing_series": series[series["price_changed"]].groupby("region")[
            "cells"].sum()})


def diagnostics(fit: ElasticityFit) -> dict:
    """Breusch-Pagan test of the residuals against the regressors, the largest Cook's
    distances (on the within data) and the residual spread."""
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import het_breuschpagan

    data = fit.data
    exog = sm.add_constant(data[fit.regressors].to_numpy())
    lm, lm_p, _, _ = het_breuschpagan(data["residual"].to_numpy(), exog)
    plain = sm.OLS(data["residual"] + data["fitted"], data[fit.regressors]).fit()
    cooks = plain.get_influence().cooks_distance[0]
    top = data.assign(cooks_distance=cooks).nlargest(5, "cooks_distance")[
        ["product_id", "region", "period", "units", "price", "cooks_distance"]]
    return {"breusch_pagan_lm": float(lm), "breusch_pagan_p": float(lm_p),
            "residual_sd": float(data["residual"].std()), "most_influential": top,
            "max_cooks_distance": float(cooks.max()),
            "cooks_over_4_over_n": int((cooks > 4 / len(data)).sum())}




