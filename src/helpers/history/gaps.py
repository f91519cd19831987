"""The monthly history of stage 02: revenue per region x category x month, the months the
legacy export lost, their estimates by a seasonal model, and how much of a figure rests on
estimates."""

from __future__ import annotations

import numpy as np
import pandas as pd


# ----------------------------------------------------------------------------------------------
# monthly history and its gaps
def monthly_sales(lines: pd.DataFrame) -> pd.DataFrame:
    """Observed net revenue per region x category x month, every combination present.

    Reads region, category, order_date, amount, is_estimated, amount_lower/amount_upper (when
    present). Returns region, category, month, lines, revenue, revenue_lower, revenue_upper,
    estimated_revenue (the part resting on estimated values), is_estimated (False here). The
    bounds add up the estimated lines' bounds: a conservative range for the month (wider than
    the lines' level, as their errors partly cancel).
    """
    lower = lines["amount_lower"] if "amount_lower" in lines else lines["amount"]
    upper = lines["amount_upper"] if "amount_upper" in lines else lines["amount"]
    lines = pd.DataFrame({  # only what is summed (no copy of the other columns)
        "region": lines["region"], "category": lines["category"],
        "month": lines["order_date"].dt.to_period("M").dt.to_timestamp(),
        "amount": lines["amount"], "_lower": lower, "_upper": upper,
        "_estimated": lines["amount"].where(lines["is_estimated"], 0.0)})
    grouped = lines.groupby(["region", "category", "month"])
    observed = grouped.agg(lines=("amount", "size"), revenue=("amount", "sum"),
                           revenue_lower=("_lower", "sum"), revenue_upper=("_upper", "sum"),
                           estimated_revenue=("_estimated", "sum"))
    months = pd.date_range(lines["month"].min(), lines["month"].max(), freq="MS", name="month")
    full = pd.MultiIndex.from_product([sorted(lines["region"].unique()),
                                       sorted(lines["category"].unique()), months],
                                      names=["region", "category", "month"])
    table = observed.reindex(full, fill_value=0).reset_index()
    table["lines"] = table["lines"].astype("float64")
    table["is_estimated"] = False
    return table


def find_gaps(table: pd.DataFrame, share: float, chance: float = 1e-6,
              period: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> pd.DataFrame:
    """Region-months that lost their records: far fewer lines than the region's usual month.

    A region-month is a gap when it has fewer lines than ``share`` of the region's median month
    *and* so few that chance cannot explain it: under a Poisson count with the median as its
    mean, a count this low has probability below ``chance`` (strict, because lines come in
    orders and vary more than Poisson). Small regions' quiet months are therefore not gaps.
    ``period`` (first and last month, inclusive) limits the search to the months an export
    could have lost (the legacy system's); None searches every month.

    Returns region, month, lines, usual_lines (the region's median) for each gap.
    """
    from scipy.stats import poisson

    per_month = table.groupby(["region", "month"])["lines"].sum().rename("lines").reset_index()
    per_month["usual_lines"] = per_month.groupby("region")["lines"].transform("median")
    low = per_month["lines"] < share * per_month["usual_lines"]
    improbable = poisson.cdf(per_month["lines"], per_month["usual_lines"]) < chance
    inside = (per_month["month"].between(*period) if period is not None
              else pd.Series(True, index=per_month.index))
    return per_month.loc[low & improbable & inside].reset_index(drop=True)


def legacy_period(order_lines: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last month with legacy lines (None without a legacy system): the months whose
    records an export could have lost."""
    legacy = order_lines.loc[order_lines["source"] == "legacy", "order_date"]
    if legacy.empty:
        return None
    months = legacy.dt.to_period("M").dt.to_timestamp()
    # the legacy export's months run to the system change, even where one was lost at the end
    current = order_lines.loc[order_lines["source"] == "current", "order_date"]
    last = (current.min().to_period("M").to_timestamp() - pd.DateOffset(months=1)
            if len(current) else months.max())
    return months.min(), max(months.max(), last)


MODELS = [  # (formula, factors that must be seen in the fit), the first one that can be fitted
    ("np.log(revenue) ~ C(_series) + C(_series):_t + C(_moy)", ["_series", "_moy"]),
    ("np.log(revenue) ~ C(_series) + C(_series):_t", ["_series"]),
]


def estimate_gaps(table: pd.DataFrame, gaps: pd.DataFrame, level: float) -> tuple[
        pd.DataFrame, dict]:
    """Estimate the revenue of every category in the gap region-months with a seasonal model.

    Model (statsmodels OLS, fitted on every complete cell): log revenue = level of the
    region x category series + its own linear trend + a calendar-month seasonal effect shared by
    all series. Each gap cell gets the model's prediction (median on the revenue scale) and its
    ``level`` prediction interval (parameter and residual uncertainty), and is_estimated=True.

    When a gap's calendar month was never seen complete (or the history is short), the model
    drops the seasonal effect; with less than two complete cells per parameter nothing is
    estimated and the summary says so (model 'none').

    Returns the table with gap cells filled and a model summary (formula, cells fitted, R²,
    residual SD, level).
    """
    import statsmodels.formula.api as smf

    table = table.copy()
    start = table["month"].min()
    table["_t"] = ((table["month"].dt.year - start.year) * 12
                   + table["month"].dt.month - start.month) / 12.0
    table["_moy"] = table["month"].dt.month.astype("str")
    table["_series"] = table["region"] + "|" + table["category"]
    gap_cell = table.set_index(["region", "month"]).index.isin(
        gaps.set_index(["region", "month"]).index)
    fit_rows = ~gap_cell & (table["revenue"] > 0)
    summary = {"cells_fitted": int(fit_rows.sum()), "gap_cells": int(gap_cell.sum()),
               "interval_level": level}
    if not gap_cell.any():
        return table.drop(columns=["_t", "_moy", "_series"]), summary
    fit = table.loc[fit_rows]
    target = table.loc[gap_cell]
    formula = None
    for candidate, factors in MODELS:
        seen = all(set(target[f]) <= set(fit[f]) for f in factors)
        n_parameters = fit["_series"].nunique() * 2 + (11 if "_moy" in factors else 0)
        if seen and len(fit) >= 2 * n_parameters:
            formula = candidate
            break
    if formula is None:  # too little complete history to say anything about the gaps
        summary.update(model="none: too little complete history; gaps left unestimated")
        return table.drop(columns=["_t", "_moy", "_series"]), summary
    model = smf.ols(formula, data=fit).fit()
    frame = model.get_prediction(target).summary_frame(alpha=1 - level)
    estimate = np.exp(frame["mean"].to_numpy())
    table.loc[gap_cell, "revenue"] = estimate
    table.loc[gap_cell, "revenue_lower"] = np.exp(frame["obs_ci_lower"].to_numpy())
    table.loc[gap_cell, "revenue_upper"] = np.exp(frame["obs_ci_upper"].to_numpy())
    table.loc[gap_cell, "estimated_revenue"] = estimate
    table.loc[gap_cell, "is_estimated"] = True
    summary.update(model=formula)
    summary.update(r_squared=float(model.rsquared), residual_sd=float(np.sqrt(model.scale)),
                   parameters=int(model.df_model) + 1)
    return table.drop(columns=["_t", "_moy", "_series"]), summary


# ----------------------------------------------------------------------------------------------
# propagation: how much of a figure rests on estimates
def estimated_share(table: pd.DataFrame, by: list[str], value: str = "revenue",
                    estimated: str = "estimated_revenue") -> pd.DataFrame:
    """Per group: the figure, the part of it resting on estimated values, and that share.

    Works on ``monthly_sales`` (value='revenue', estimated='estimated_revenue') and on
    ``order_lines`` (value='amount', estimated=None: the amount of lines with is_estimated).
    Group columns may include 'year', derived from 'month' or 'order_date' when absent.
    """
    table = table.copy()
    if "year" in by and "year" not in table:
        date = table["month"] if "month" in table else table["order_date"]
        table["year"] = date.dt.year
    part = table[estimated] if estimated else table[value].where(table["is_estimated"], 0.0)
    out = table.assign(_estimated=part).groupby(by).agg(
        total=(value, "sum"), estimated=("_estimated", "sum"))
    out["share_estimated"] = (out["estimated"] / out["total"]).where(out["total"] != 0)
    return out




def estimated_share_by_year(monthly_sales: pd.DataFrame, by: str = "region") -> pd.DataFrame:
    """Share of revenue resting on estimates (0-1), one row per ``by`` group, one column per
    year (``estimated_share`` laid out for the page)."""
    return estimated_share(monthly_sales, [by, "year"])["share_estimated"].unstack("year")


ESTIMATED_CELL_COLUMNS = ["region", "category", "month", "revenue", "revenue_lower",
                          "revenue_upper"]


def estimated_cells(monthly_sales: pd.DataFrame) -> pd.DataFrame:
    """The region x category x months estimated as a whole, with their revenue interval."""
    return monthly_sales.loc[monthly_sales["is_estimated"], ESTIMATED_CELL_COLUMNS]
