"""Stage 09 as one call: every delivered intervention measured with the design its exposure
rows allow (``helpers.interventions``), a verdict per intervention, the revenue it brought and
its return on cost.

``evaluate_interventions`` returns an ``InterventionResult``; ``outputs()`` is the effects table
09 writes (``intervention_effects``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers import frames, regional_change, scorecard, survey_incentives
from helpers import intervention_outcomes as outcomes_of
from helpers import interventions as iv
from helpers.activity import CustomerActivity
from helpers.words import N_

RANDOMISED, TARGETED, REGIONAL = "randomised holdout", "targeted, no holdout", "regional change"
SURVEY = "survey waves"
# a survey incentive is compared with at least this many other waves
MIN_COMPARISON_WAVES = 3
# the event-time chart of a targeted intervention starts this many months before its exposure
EVENT_MONTHS_BEFORE = 6


# the order_lines columns this stage reads (its notebook reads only these)
ORDER_LINE_COLUMNS = [
    "customer_id", "order_id", "order_date", "category", "amount", "is_return"]


@dataclass
class InterventionResult:
    """Everything the interventions page shows."""

    window_months: int
    confidence: float
    overview: pd.DataFrame  # one row per intervention: design, sizes, headline effect, verdict
    effects: pd.DataFrame  # per intervention, outcome and estimate (naive / adjusted)
    balance: dict[str, pd.DataFrame] = field(default_factory=dict)  # targeted ones
    regional: dict[str, pd.DataFrame] = field(default_factory=dict)  # monthly series
    waves: dict[str, pd.DataFrame] = field(default_factory=dict)  # survey incentives' waves
    event_times: dict[str, pd.DataFrame] = field(default_factory=dict)  # targeted, by month
    subgroups: pd.DataFrame | None = None  # randomised: effect by region and value before

    def outputs(self) -> dict[str, pd.DataFrame]:
        return {"intervention_effects": self.effects,
                "intervention_subgroups": self.subgroups if self.subgroups is not None
                else pd.DataFrame()}

    def effect_views(self) -> dict[str, pd.DataFrame]:
        """The relative effect on purchases of each measured intervention (index = its
        name), naive and adjusted, as value/ci_low/ci_high tables for the chart."""
        purchases = self.effects[self.effects["outcome"] == "purchases"]
        names = self.overview["name"] if len(self.overview) else pd.Series(dtype=str)
        views = {}
        for estimate, label in (("naive", "naive"), ("adjusted", "adjusted")):
            part = purchases[purchases["estimate"] == estimate].set_index("intervention_id")
            views[label] = pd.DataFrame({"value": part["relative"],
                                         "ci_low": part["relative_low"],
                                         "ci_high": part["relative_high"]}).rename(
                index=names)
        order = views["adjusted"].index
        return {k: v.reindex(order) for k, v in views.items()}

    def verdicts(self) -> pd.DataFrame:
        """The overview for the page: name, kind, design, start, customers, effect on
        purchases with its interval, verdict and reason."""
        if self.overview.empty:
            return self.overview
        columns = ["name", "kind", "design", "start", "treated", "comparison", "relative",
                   "relative_low", "relative_high", "verdict", "reason"]
        return self.overview.reindex(columns=columns).set_index("name")

    def regional_gaps(self) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Timestamp]]:
        """The monthly gap series and start of each measured regional change, by name."""
        names = self.overview["name"] if len(self.overview) else {}
        return ({names[k]: v for k, v in self.regional.items()},
                {names[k]: self.overview.loc[k, "start"] for k in self.regional})

    def survey_waves(self) -> pd.DataFrame | None:
        """The response rate of every wave for each measured survey incentive (index: the
        wave's month, marked when it had the incentive; by incentive name when several)."""
        if not self.waves:
            return None
        names = self.overview["name"]
        tables = {}
        for key, waves in self.waves.items():
            label = [f"{month:%Y-%m}" + (" *" if incentive else "")
                     for month, incentive in zip(waves.index, waves["incentive"], strict=True)]
            tables[names[key]] = waves.set_axis(pd.Index(label, name="wave"))
        if len(tables) == 1:
            return next(iter(tables.values()))
        return pd.concat(tables, names=["intervention", "wave"]).swaplevel().sort_index()

    def event_time_views(self) -> dict[str, pd.DataFrame]:
        """The month-by-month difference in differences of each targeted intervention, by
        name (for the event-time chart)."""
        names = self.overview["name"] if len(self.overview) else {}
        return {names[k]: v for k, v in self.event_times.items()}

    def subgroup_views(self) -> dict[str, pd.DataFrame]:
        """The relative effects on purchases by region and by value before it that are not
        small groups, one table per intervention name indexed by group (for the chart)."""
        if self.subgroups is None or self.subgroups.empty:
            return {}
        shown = self.subgroups[~self.subgroups["small_group"].astype(bool)]
        order = list(dict.fromkeys(shown["group"]))
        return {self.overview.loc[key, "name"]: part.set_index("group").reindex(order)[
                    ["relative", "relative_low", "relative_high"]]
                for key, part in shown.groupby("intervention_id", sort=False)}

    def subgroup_table(self) -> pd.DataFrame | None:
        """Every subgroup row for the page (small groups flagged), by intervention name."""
        if self.subgroups is None or self.subgroups.empty:
            return None
        table = self.subgroups.assign(intervention=self.subgroups["intervention_id"].map(
            self.overview["name"]))
        return table.drop(columns=["intervention_id", "effect", "ci_low", "ci_high"]).rename(
            columns={"group": "subgroup"}).set_index(["intervention", "by", "subgroup"])

    def survey_group(self) -> str | None:
        """The grouping of ``survey_waves`` for the chart: by intervention when several."""
        return "intervention" if len(self.waves) > 1 else None

    def balance_table(self) -> pd.DataFrame | None:
        """The balance tables of the targeted interventions, one block per intervention."""
        if not self.balance:
            return None
        names = self.overview["name"]
        return pd.concat({names[k]: v for k, v in self.balance.items()},
                         names=["intervention", "feature"])

    def regional_rows(self) -> pd.DataFrame:
        """The regional changes that were measured (for the pre-trend sentences)."""
        if self.overview.empty or "pre_trend" not in self.overview:
            return self.overview.iloc[:0]
        return self.overview[self.overview["pre_trend"].notna()]


def _design(exposure: pd.DataFrame, kind: str) -> str:
    if kind == "survey incentive":
        return SURVEY
    if exposure.empty:
        return REGIONAL
    return RANDOMISED if (exposure["group"] == "holdout").any() else TARGETED


def _measurable(design: str, start: pd.Timestamp, latest: pd.Timestamp, window_months: int,
                data_end: pd.Timestamp, treated: int, comparison: int,
                min_group_size: int) -> str:
    """Why the intervention cannot be measured yet ('' when it can): ``latest`` is the last
    exposure (every exposed customer's window must lie inside the data)."""
    window_end = latest + pd.DateOffset(months=window_months)
    end = f"{data_end:%Y-%m-%d}"
    if design != REGIONAL and treated == 0:
        return N_("no exposed customers")
    if design != REGIONAL and window_end > data_end + pd.Timedelta(days=1):
        return N_("its {months}-month window ends after the data ({end})").format(
            months=window_months, end=end)
    if design == REGIONAL and start + pd.DateOffset(months=1) > data_end + pd.Timedelta(days=1):
        return N_("it started less than a month before the end of the data ({end})").format(
            end=end)
    if design != REGIONAL and min(treated, comparison) < min_group_size:
        return N_("fewer than {count} customers in a group").format(count=min_group_size)
    return ""


def verdict(low: float, high: float) -> str:
    """'worked', 'backfired' or 'no clear effect' from an effect's interval."""
    if low > 0:
        return "worked"
    if high < 0:
        return "backfired"
    return "no clear effect"


def _money(effects: pd.DataFrame, treated: int) -> dict:
    """Revenue attributable: the adjusted spend effect (with its interval) times the treated."""
    spend = effects[(effects["outcome"] == "spend") & (effects["estimate"] == "adjusted")]
    if spend.empty:
        return {}
    row = spend.iloc[0]
    return {"revenue": row["effect"] * treated, "revenue_low": row["ci_low"] * treated,
            "revenue_high": row["ci_high"] * treated}


def _survey_incentive(item, row: dict, survey_responses: pd.DataFrame | None,
                      confidence: float, min_group_size: int
                      ) -> tuple[dict, pd.DataFrame | None, pd.DataFrame | None]:
    """A survey incentive's overview row, effects and waves (None when it is not measurable:
    the row then says why)."""
    if survey_responses is None or survey_responses.empty:
        return row | {"verdict": "not measurable yet",
                      "reason": N_("no survey invitations were delivered")}, None, None
    waves = survey_incentives.survey_waves(survey_responses, item.start_date, item.end_date,
                                           confidence, min_group_size)
    inside, others = waves[waves["incentive"]], waves[~waves["incentive"] & ~waves["small_group"]]
    waves = waves[waves["incentive"] | ~waves["small_group"]]
    row.update(treated=int(inside["trials"].sum()), comparison=int(others["trials"].sum()))
    last_answer = survey_responses["response_date"].max()
    problem = ""
    if inside.empty:
        problem = N_("no survey invitations were sent in its window")
    elif pd.isna(last_answer) or survey_responses["sent_date"][
            survey_responses["sent_date"].dt.to_period("M").dt.to_timestamp().isin(
                inside.index)].max() + pd.Timedelta(days=28) > last_answer:
        problem = N_("its invitations were sent less than four weeks before the last answer "
                     "in the data: answers may still come in")
    elif row["treated"] < min_group_size:
        problem = N_("fewer than {count} customers in a group").format(count=min_group_size)
    elif len(others) < MIN_COMPARISON_WAVES:
        problem = N_("fewer than {count} other survey waves to compare with").format(
            count=MIN_COMPARISON_WAVES)
    if problem:
        return row | {"verdict": "not measurable yet", "reason": problem}, None, None
    table = survey_incentives.survey_incentive_effects(waves, confidence)
    first = table[table["estimate"] == "adjusted"].iloc[0]
    row.update(relative=first["relative"], relative_low=first["relative_low"],
               relative_high=first["relative_high"], response_rate=first["effect"]
               + first["comparison_mean"], comparison_rate=first["comparison_mean"],
               points=first["effect"], points_low=first["ci_low"],
               points_high=first["ci_high"],
               verdict=verdict(first["ci_low"], first["ci_high"]), reason="")
    return row, table, waves


def _regional_estimates(monthly: pd.DataFrame, item, pre_months: int, confidence: float,
                        found: dict) -> list[tuple[str, dict]]:
    """The regional difference in differences ("adjusted") and, where a year more of history
    allows, the same against the same month a year before ("seasonal baseline")."""
    seasonal = regional_change.regional_effect(monthly, item.start_date, item.end_date,
                                               pre_months, confidence, seasonal=True)
    return [("adjusted", found)] + ([("seasonal baseline", seasonal)]
                                    if "relative" in seasonal else [])


def _tier_before(order_lines: pd.DataFrame | CustomerActivity, start: pd.Timestamp,
                 tiers: dict[str, dict[str, float]], customer_ids: pd.Index) -> pd.Series:
    """Each customer's membership tier over the 12 months before ``start``
    (``scorecard.activity_tiers``; 'inactive' without a purchase then), lowest tier first."""
    order = scorecard.tier_order(tiers)
    held = scorecard.activity_tiers(order_lines, start, tiers).reindex(customer_ids)
    return pd.Series(pd.Categorical(held.fillna("inactive"), categories=order, ordered=True),
                     index=customer_ids)


def evaluate_interventions(*, order_lines: pd.DataFrame, customers: pd.DataFrame,
                           interventions: pd.DataFrame, intervention_exposure: pd.DataFrame,
                           monthly_sales: pd.DataFrame | None = None,
                           survey_responses: pd.DataFrame | None = None,
                           complaints: pd.DataFrame | None = None, window_months: int = 3,
                           pre_months: int = 12, confidence: float = 0.95,
                           min_group_size: int = 30,
                           tiers: dict[str, dict[str, float]] | None = None
                           ) -> InterventionResult:
    """The interventions page's figures from the contract tables (module docstring of
    ``helpers.interventions``); the headline of each is the adjusted effect on purchases (on
    the response rate for a survey incentive, from ``survey_responses``). A randomised one is
    also split by region, by spend before it and, given the membership ``tiers`` (as in the
    scorecard), by the tier each customer held over the 12 months before the exposure."""
    orders = outcomes_of.orders_with_sales(order_lines)
    lines = CustomerActivity.of(order_lines) if tiers else None  # for the tiers, once
    sale_lines = order_lines.loc[~order_lines["is_return"],
                                 ["customer_id", "order_date", "category"]]
    data_end = order_lines["order_date"].max()
    estimated = set() if monthly_sales is None else set(
        monthly_sales.loc[monthly_sales["is_estimated"], "month"])
    rows, effects, balances, series, survey_waves, event_times = [], [], {}, {}, {}, {}
    subgroups: list[pd.DataFrame] = []
    region_of = customers.set_index("customer_id")["region"]
    for item in interventions.sort_values("start_date").itertuples(index=False):
        exposure = intervention_exposure[
            intervention_exposure["intervention_id"] == item.intervention_id]
        design = _design(exposure, item.kind)
        start = exposure["exposure_date"].min() if design != REGIONAL and \
            exposure["exposure_date"].notna().any() else item.start_date
        exposure = exposure.assign(exposure_date=exposure["exposure_date"].fillna(start))
        row = {"intervention_id": item.intervention_id, "name": item.name, "kind": item.kind,
               "design": design, "start": start, "cost": item.cost}
        regions = [r.strip() for r in str(item.regions).split(";") if r.strip()]
        treated_ids = exposure.loc[exposure["group"] == "treated", "customer_id"]
        if design == SURVEY:
            row, table, waves = _survey_incentive(item, row, survey_responses, confidence,
                                                  min_group_size)
            if table is None:
                rows.append(row)
                continue
            survey_waves[item.intervention_id] = waves
            rows.append(row)
            effects.append(table.assign(intervention_id=item.intervention_id, design=design))
            continue
        if design == RANDOMISED:
            comparison_ids = exposure.loc[exposure["group"] == "holdout", "customer_id"]
        elif design == TARGETED:  # the comparison: the other customers active at the start
            features = outcomes_of.pre_period_features(orders, customers, start, also=treated_ids)
            comparison_ids = features.index[features["orders_12m"] > 0].difference(
                pd.Index(treated_ids))
        else:
            treated_ids = customers.loc[customers["region"].isin(regions), "customer_id"]
            comparison_ids = customers.loc[~customers["region"].isin(regions), "customer_id"]
        row.update(treated=len(treated_ids), comparison=len(comparison_ids))
        latest = exposure["exposure_date"].max() if len(exposure) else start
        problem = _measurable(design, start, latest, window_months, data_end, len(treated_ids),
                              len(comparison_ids), min_group_size)
        if design == REGIONAL and not regions:
            problem = N_("no exposure rows and no regions named")
        elif design == REGIONAL and not len(treated_ids):
            problem = N_("no customers in {regions}").format(regions=", ".join(regions))
        if problem:
            rows.append(row | {"verdict": "not measurable yet", "reason": problem})
            continue
        if design == REGIONAL:
            monthly = regional_change.regional_series(orders, customers, regions, estimated)
            found = regional_change.regional_effect(monthly, start, item.end_date, pre_months,
                                                    confidence)
            if "relative" not in found:
                rows.append(row | {"verdict": "not measurable yet", "reason": N_(
                    "only {count} months of data before it").format(
                    count=found["months_before"])})
                continue
            series[item.intervention_id] = monthly[  # the months the estimate compares
                monthly.index >= start - pd.DateOffset(months=pre_months)]
            table = pd.DataFrame([{"outcome": "purchases", "estimate": estimate,
                                   **{k: effect[k] for k in ("relative", "relative_low",
                                                             "relative_high")},
                                   "treated": len(treated_ids),
                                   "comparison": len(comparison_ids)}
                                  for estimate, effect in _regional_estimates(
                                      monthly, item, pre_months, confidence, found)])
            row.update({k: found[k] for k in ("pre_trend", "pre_trend_low", "pre_trend_high")})
        else:
            ids = pd.Index(treated_ids).append(pd.Index(comparison_ids)).unique()
            exposed_on = exposure.drop_duplicates("customer_id").set_index("customer_id")[
                "exposure_date"]
            starts = pd.Series(start, index=ids).where(
                ~frames.isin(ids.to_series(), exposed_on.index).to_numpy(),
                exposed_on.reindex(ids))
            outcomes = outcomes_of.customer_outcomes(orders, starts, window_months, complaints,
                                            sale_lines)
            is_treated = pd.Series(frames.isin(outcomes.index.to_series(), treated_ids)
                                   .to_numpy(), index=outcomes.index)
            if design == RANDOMISED:
                table = iv.holdout_effects(outcomes, is_treated, confidence)
                groupings = {"region": outcomes.index.to_series().map(region_of),
                             "value before": iv.value_before(outcomes)}
                if tiers:
                    groupings["tier before it"] = _tier_before(lines, start, tiers,
                                                            outcomes.index)
                subgroups.append(iv.subgroup_effects(
                    outcomes, is_treated, groupings, min_group_size, confidence).assign(
                    intervention_id=item.intervention_id))
            else:
                weights = iv.propensity_weights(features.reindex(outcomes.index), is_treated)
                table, balances[item.intervention_id] = iv.targeted_effects(
                    outcomes, features, is_treated, confidence, weights)
                event_times[item.intervention_id] = iv.event_time_effects(
                    orders, starts, is_treated, weights, EVENT_MONTHS_BEFORE, window_months,
                    confidence)
            row.update(_money(table, len(treated_ids)))
        headline = table[(table["outcome"] == "purchases") & (table["estimate"] == "adjusted")]
        first = headline.iloc[0]
        row.update(relative=first["relative"], relative_low=first["relative_low"],
                   relative_high=first["relative_high"],
                   verdict=verdict(first["relative_low"], first["relative_high"]), reason="")
        rows.append(row)
        effects.append(table.assign(intervention_id=item.intervention_id, design=design))
    effect_columns = ["intervention_id", "design", "outcome", "estimate", "effect", "ci_low",
                      "ci_high", "relative", "relative_low", "relative_high", "treated",
                      "comparison", "comparison_mean"]
    all_effects = (pd.concat(effects, ignore_index=True).reindex(columns=effect_columns)
                   if effects else pd.DataFrame(columns=effect_columns))
    overview = pd.DataFrame(rows).set_index("intervention_id") if rows else pd.DataFrame()
    subgroup_columns = ["intervention_id", "by", "group", "treated", "comparison", "effect",
                        "ci_low", "ci_high", "relative", "relative_low", "relative_high",
                        "small_group"]
    by_group = (pd.concat(subgroups, ignore_index=True).reindex(columns=subgroup_columns)
                if subgroups else pd.DataFrame(columns=subgroup_columns))
    return InterventionResult(window_months=window_months, confidence=confidence,
                              overview=overview, effects=all_effects, balance=balances,
                              regional=series, waves=survey_waves, event_times=event_times,
                              subgroups=by_group)
