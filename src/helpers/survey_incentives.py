"""Survey incentives (notebook 09): did a gift or points for answering raise the response rate
of its survey wave? The wave's rate against the other waves', pooled and wave to wave."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.interventions import effect_row


def survey_waves(survey_responses: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp | None,
                 confidence: float = 0.95, min_size: int = 30) -> pd.DataFrame:
    """Invitations, answers and the response rate (Wilson interval) of each survey wave (the
    month the invitations were sent), and whether the wave falls in the incentive's window
    [``start``, ``end``] (to the end of the start's month without an end date)."""
    from helpers.stats import rate_table

    start = pd.Timestamp(start)
    end = pd.Timestamp(end) if end is not None and pd.notna(end) else start + \
        pd.offsets.MonthEnd(0)
    sent = survey_responses["sent_date"]
    grouped = survey_responses.assign(
        month=sent.dt.to_period("M").dt.to_timestamp(),
        incentive=(sent >= start) & (sent <= end)).groupby("month")
    waves = rate_table(grouped["responded"].sum().astype(float),
                       grouped.size().astype(float), confidence=confidence, min_size=min_size)
    return waves.assign(incentive=grouped["incentive"].any()).rename_axis("wave")


def survey_incentive_effects(waves: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """The incentive's effect on the response rate (in proportion points) from
    ``survey_waves``: the incentive waves' rate against the other waves.

    * ``naive``: pooled invitations of the incentive waves minus those of the others, with the
      binomial standard error: it assumes every wave would answer alike without it;
    * ``adjusted``: the incentive rate minus the mean of the other waves' rates, with an
      interval from how much those rates wander from wave to wave (their standard deviation s,
      s x sqrt(1 + 1/k) for k waves, Student's t on k - 1 degrees of freedom): seasons, the
      invitees' mix and the questionnaire move a wave's rate by more than its sampling noise.
    """
    from scipy.stats import t as student

    inside, others = waves[waves["incentive"]], waves[~waves["incentive"]]
    n1, n0 = int(inside["trials"].sum()), int(others["trials"].sum())
    p1, p0 = inside["successes"].sum() / n1, others["successes"].sum() / n0
    se = float(np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0))
    rows = [effect_row("responded", "naive", float(p1 - p0), se, confidence, n1, n0, float(p0))]
    k = len(others)
    base = float(others["rate"].mean())
    effect = float(p1 - base)
    half = float(student.ppf(0.5 + confidence / 2, k - 1) * others["rate"].std(ddof=1)
                 * np.sqrt(1 + 1 / k))
    adjusted = effect_row("responded", "adjusted", effect, 0.0, confidence, n1, n0, base)
    adjusted.update(ci_low=effect - half, ci_high=effect + half,
                    relative_low=(effect - half) / base, relative_high=(effect + half) / base)
    return pd.DataFrame([*rows, adjusted])
