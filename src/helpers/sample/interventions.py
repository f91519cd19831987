"""The reference company's loyalty strategies with known true effects (the interventions
notebook's truth): who was exposed when, and how each one moved the monthly order rate.

* ``IV-COUPON``: an autumn coupon to half of the active customers, drawn at random; the other
  half is the holdout. Orders x1.25 for three months.
* ``IV-WINBACK``: a win-back offer sent, without a holdout, to customers a score picks from
  their observed behaviour (long silence, few recent orders); orders x1.20 for three months.
  The chosen customers buy less than the rest before and after: a naive comparison is biased.
* ``IV-DELIVERY``: free delivery for members in the Northeast from April 2025 (no exposure
  rows: it applies to every customer of the region); orders x1.10 from then on.
* ``IV-PUSH``: app push reminders to half of the active customers, at random; no effect.
* ``IV-SURVEY``: points for answering the March 2024 survey wave: each invitee's chance of
  answering x1.6 (``sample.files.survey_files`` draws the answers).
* ``IV-TIER``: a tier upgrade at the end of the data: its window is not over yet.

Selections and the orders a strategy adds use their own random stream: the exposed customers
buy their usual orders plus Poisson(rate x (multiplier - 1)) more in the months it works
(``sample.simulate._buying``, which records the expected extra orders), so every other draw
of the sample is what it would be without the strategies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.sample.world import MONTH_STARTS, N_MONTHS, START


def _month(text: str) -> int:
    return (pd.Period(text, "M") - pd.Period(START, "M")).n


@dataclass(frozen=True)
class Intervention:
    """One strategy: its contract fields, how customers are chosen and its true effect."""

    intervention_id: str
    name: str
    kind: str
    month: int  # exposure month (index into the simulation's months)
    months: int  # how many months the effect lasts (to the end of the data when 0)
    multiplier: float  # the true factor on the order rate of the exposed
    selection: str  # 'random' (treated and holdout), 'score' (treated only), 'region', 'few',
    # 'survey' (the factor is on the chance of answering the survey wave of its month)
    cost: float
    description: str
    region: str = ""

    @property
    def last_month(self) -> int:
        return N_MONTHS - 1 if self.months == 0 else min(self.month + self.months,
                                                         N_MONTHS) - 1


PLAN = (
    Intervention("IV-PUSH", "App push reminders", "campaign", _month("2024-05"), 3, 1.0,
                 "random", 5000.0, "monthly push reminders in the app; half held out at random"),
    Intervention("IV-COUPON", "Autumn coupon", "coupon", _month("2024-09"), 3, 1.25, "random",
                 20000.0, "a 10% coupon for three months; half held out at random"),
    Intervention("IV-WINBACK", "Win-back offer", "campaign", _month("2025-01"), 3, 1.20, "score",
                 30000.0, "an offer to lapsing customers chosen by a score; no holdout"),
    Intervention("IV-DELIVERY", "Free delivery for Northeast members", "member benefit",
                 _month("2025-04"), 0, 1.10, "region", 50000.0,
                 "free delivery for every member in the Northeast", region="Northeast"),
    Intervention("IV-SURVEY", "Points for answering the survey", "survey incentive",
                 _month("2024-03"), 1, 1.6, "survey", 8000.0,
                 "200 loyalty points for every answer to the March 2024 survey wave"),
    Intervention("IV-TIER", "Summer tier upgrade", "member benefit", N_MONTHS - 1, 3, 1.0,
                 "few", 0.0, "an upgrade for a few hundred members at the end of the data"),
)


@dataclass
class InterventionState:
    """The plan as the simulation runs: who is exposed, and the expected extra orders."""

    seed: int
    n_customers: int
    exposed: dict[str, np.ndarray] = field(default_factory=dict)  # customer indices
    holdout: dict[str, np.ndarray] = field(default_factory=dict)
    extra_orders: dict[str, float] = field(default_factory=dict)  # expected, over the window
    base_orders: dict[str, float] = field(default_factory=dict)  # expected without the effect

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed + 16)

    def choose(self, m: int, orders: np.ndarray, extra: np.ndarray, region: np.ndarray) -> None:
        """At month ``m``, pick the customers of the interventions starting then from what the
        company could see: the orders before this month (``orders`` plus those earlier
        interventions added, ``extra``; active = an order in the 12 months before)."""
        starting = [iv for iv in PLAN if iv.month == m]
        if not starting:
            return
        orders = orders[:, :m] + extra[:, :m]
        for iv in starting:
            candidates = np.nonzero(orders[:, max(0, m - 12):m].sum(axis=1) > 0)[0]
            if iv.selection == "random":
                treated = self.rng.random(candidates.size) < 0.5
                self.exposed[iv.intervention_id] = candidates[treated]
                self.holdout[iv.intervention_id] = candidates[~treated]
            elif iv.selection == "score":
                recent = orders[candidates, max(0, m - 3):m].sum(axis=1)
                year = orders[candidates, max(0, m - 12):m].sum(axis=1)
                last = np.where(orders[candidates, :m] > 0, np.arange(m), -1).max(axis=1)
                silence = np.where(last >= 0, m - last, 24)
                score = -2.0 + 0.35 * silence - 0.6 * recent + 0.08 * year
                chosen = self.rng.random(candidates.size) < 1 / (1 + np.exp(-score))
                self.exposed[iv.intervention_id] = candidates[chosen]
            elif iv.selection == "survey":
                continue
            elif iv.selection == "region":
                self.exposed[iv.intervention_id] = np.nonzero(region == iv.region)[0]
            else:
                count = min(300, candidates.size)
                self.exposed[iv.intervention_id] = self.rng.choice(candidates, count,
                                                                   replace=False)

    def multiplier(self, m: int, lam: np.ndarray) -> np.ndarray:
        """The factor on each customer's order rate in month ``m``; records the expected extra
        orders (and the expected orders without the effect) of the exposed in the window."""
        factor = np.ones(self.n_customers)
        for iv in PLAN:
            if not iv.month <= m <= iv.last_month or iv.intervention_id not in self.exposed:
                continue
            who = self.exposed[iv.intervention_id]
            if iv.selection != "region":  # the company-wide change is measured as a rate
                self.base_orders[iv.intervention_id] = self.base_orders.get(
                    iv.intervention_id, 0.0) + float(lam[who].sum())
                self.extra_orders[iv.intervention_id] = self.extra_orders.get(
                    iv.intervention_id, 0.0) + float(lam[who].sum()) * (iv.multiplier - 1)
            factor[who] *= iv.multiplier
        return factor


def interventions_file() -> pd.DataFrame:
    """``interventions.csv`` as the marketing team keeps it."""
    return pd.DataFrame({
        "intervention_id": [iv.intervention_id for iv in PLAN],
        "name": [iv.name for iv in PLAN],
        "kind": [iv.kind.title() if k % 2 else iv.kind for k, iv in enumerate(PLAN)],
        "start_date": [MONTH_STARTS[iv.month].strftime("%Y-%m-%d") for iv in PLAN],
        "end_date": ["" if iv.months == 0 else
                     (MONTH_STARTS[iv.month] + pd.DateOffset(months=iv.months)
                      - pd.Timedelta(days=1)).strftime("%Y-%m-%d") for iv in PLAN],
        "cost": [f"{iv.cost:.2f}" if iv.cost else "" for iv in PLAN],
        "regions": [iv.region for iv in PLAN],
        "description": [iv.description for iv in PLAN],
    })


def exposure_file(state: InterventionState, customer_id: np.ndarray) -> pd.DataFrame:
    """``intervention_exposure.csv``: one row per exposed or held-out customer (the regional
    change has none); the group written as the campaign tool writes it."""
    frames = []
    for iv in PLAN:
        date = MONTH_STARTS[iv.month].strftime("%Y-%m-%d")
        for group, chosen in (("Treated", state.exposed), ("HOLDOUT", state.holdout)):
            if iv.selection == "region" or iv.intervention_id not in chosen:
                continue
            who = np.sort(chosen[iv.intervention_id])
            frames.append(pd.DataFrame({"intervention_id": iv.intervention_id,
                                        "customer_id": customer_id[who], "group": group,
                                        "exposure_date": date}))
    return pd.concat(frames, ignore_index=True)


def survey_incentive() -> tuple[int, float]:
    """The survey wave's month with an incentive and its factor on the chance of answering."""
    (iv,) = [iv for iv in PLAN if iv.selection == "survey"]
    return iv.month, iv.multiplier


def effects_truth(state: InterventionState, survey: pd.DataFrame) -> pd.DataFrame:
    """The true effect of each intervention: expected extra orders per exposed customer over
    its window, and the relative uplift of the order rate (the multiplier - 1); for the survey
    incentive the expected change of its wave's response rate (``survey``: the invitations'
    truth with ``p_respond`` and ``p_without_incentive``)."""
    rows = []
    incentive = survey[survey["incentive"]]
    for iv in PLAN:
        if iv.selection == "survey":
            rows.append({"intervention_id": iv.intervention_id, "selection": iv.selection,
                         "exposed": len(incentive), "window_months": 1,
                         "relative_uplift": iv.multiplier - 1, "region": "",
                         "response_rate_change": float(
                             (incentive["p_respond"] - incentive["p_without_incentive"]).mean())})
            continue
        exposed = len(state.exposed.get(iv.intervention_id, []))
        extra = state.extra_orders.get(iv.intervention_id, np.nan)
        rows.append({"intervention_id": iv.intervention_id, "selection": iv.selection,
                     "exposed": exposed, "window_months": iv.last_month - iv.month + 1,
                     "extra_orders_per_customer": extra / exposed if exposed else np.nan,
                     "base_orders_per_customer": state.base_orders.get(
                         iv.intervention_id, np.nan) / exposed if exposed else np.nan,
                     "relative_uplift": iv.multiplier - 1, "region": iv.region})
    return pd.DataFrame(rows)
