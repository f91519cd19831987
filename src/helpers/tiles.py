"""The dashboard at the top of a run's index page, in the report language: one tile per
headline indicator (``dashboard.TILES``) with its value, interval, change against the previous
period (an arrow coloured by whether it is good news) and a small trend chart, the tier mix
now and a year before, and the latest month's alerts linked to the monitoring chart.

Charts are inline SVG (self-contained, sharp in print, no image to decode); the figures come
from the tables notebook 08 writes (``dashboard``, ``dashboard_trends``, ``dashboard_tiers``,
``alerts``).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import i18n, io, scorecard
from helpers.i18n import _
from helpers.words import N_

ALERTS_LINK = "08_scorecard.html#cell-id=alerts-h"
TITLES = {"loyalty_index": N_("Loyalty index"), "active_customers": N_("Active customers"),
          "revenue": N_("Revenue"), "repeat_purchase": N_("Repeat purchase"),
          "recommendation": N_("Net recommendation score"), "churn_risk": N_("Churn risk"),
          "price_sensitivity": N_("Price sensitivity"), "alerts": N_("Alerts")}


@dataclass
class Dashboard:
    """The tables behind the dashboard (as notebook 08 wrote them)."""

    tiles: pd.DataFrame
    trends: pd.DataFrame
    tiers: pd.DataFrame
    alerts: pd.DataFrame
    currency: str = ""
    confidence: float = 0.95
    horizon_months: int | None = None

    @property
    def latest_month(self) -> pd.Timestamp | None:
        """The last month the monitoring covers (that of the alerts tile)."""
        months = pd.to_datetime(self.tiles["month"]).dropna()
        return months.max() if len(months) else None


def read_dashboard(clean_dir: str | Path, confidence: float = 0.95) -> Dashboard | None:
    """The dashboard tables of a clean (or staging) folder; None when 08 wrote none."""
    tiles = io.read_clean("dashboard", clean_dir, optional=True)
    if tiles is None:
        return None
    churn = io.read_clean("churn_risk", clean_dir, optional=True)
    horizon = (int(churn["horizon_months"].iloc[0]) if churn is not None and len(churn)
               and "horizon_months" in churn else None)
    return Dashboard(tiles=tiles, trends=io.read_clean("dashboard_trends", clean_dir),
                     tiers=io.read_clean("dashboard_tiers", clean_dir),
                     alerts=io.read_clean("alerts", clean_dir),
                     currency=scorecard.currency(str(clean_dir)),
                     confidence=confidence, horizon_months=horizon)


# --------------------------------------------------------------------------------------------
def _number(tile: str, value: float, currency: str) -> str:
    if tile in ("repeat_purchase",):
        return f"{value:.1%}"
    if tile == "churn_risk":
        return f"{value:.0%}"
    if tile == "recommendation":
        return f"{value:+.0f}"
    if tile == "price_sensitivity":
        return f"{value:.2f}"
    if tile == "revenue":
        return f"{value:,.0f}" + (f" {currency}" if currency else "")
    return f"{value:,.0f}"


def _interval(tile: str, low: float, high: float, confidence: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return ""
    level = f"{confidence:.0%}"
    shown = {"repeat_purchase": f"{low:.1%}–{high:.1%}", "churn_risk": f"{low:.0%}–{high:.0%}",
             "recommendation": _("{low} to {high}", low=f"{low:+.0f}", high=f"{high:+.0f}"),
             "price_sensitivity": _("{low} to {high}", low=f"{low:.2f}", high=f"{high:.2f}"),
             }.get(tile, f"{low:,.0f}–{high:,.0f}")
    if tile == "price_sensitivity":
        return _("conservative {level} interval {interval}", level=level, interval=shown)
    return _("{level} interval {interval}", level=level, interval=shown)


def _note(row: pd.Series, board: Dashboard, latest_month: pd.Timestamp | None) -> str:
    tile, n = row["tile"], row["n"]
    if tile == "loyalty_index":
        return _("median of 0-100 over {n:,} customers", n=int(n))
    if tile == "active_customers":
        return _("bought in the last 12 months")
    if tile == "revenue":
        return _("net, last 12 months")
    if tile == "repeat_purchase":
        return _("of last year's {n:,} buyers bought twice or more", n=int(n))
    if tile == "recommendation":
        return _("latest survey wave ({n:,} answers), weighted to all invited customers; "
                 "respondents only: {raw:+.0f} ({low:+.0f} to {high:+.0f})", n=int(n),
                 raw=row["raw_value"], low=row["raw_low"], high=row["raw_high"])
    if tile == "churn_risk":
        months = board.horizon_months
        return (_("of {n:,} active customers expected to buy nothing in the next {months} "
                  "months", n=int(n), months=months) if months else
                _("of {n:,} active customers expected to lapse", n=int(n)))
    if tile == "price_sensitivity":
        return _("price elasticity of units, weighted by units over {n} region(s)", n=int(n))
    if tile == "alerts":
        when = i18n.month(latest_month) if latest_month is not None else ""
        return _("indicators that moved abnormally in {month}", month=when)
    return ""


def _few(row: pd.Series) -> str:
    """The small-group warning of a tile resting on few answers or customers."""
    if not bool(row["small"]):
        return ""
    if row["tile"] == "recommendation":
        return _(" (few answers: read with care)")
    return _(" (few customers: read with care)")


def _change(row: pd.Series) -> tuple[str, str]:
    """The change text and its css class ('good', 'bad', 'flat' or 'none')."""
    change, kind = row["change"], row["change_kind"]
    if not kind:
        return "", "none"
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return _("no comparison: the history is too short"), "none"
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    good = (change > 0) == (row["better"] == "higher")
    css = "flat" if change == 0 else "good" if good else "bad"
    if kind == "relative":
        text = _("{arrow} {change:+.1%} against the 12 months before", arrow=arrow, change=change)
    elif kind == "points" and row["tile"] == "repeat_purchase":
        text = _("{arrow} {points:+.1f} points against the 12 months before", arrow=arrow,
                 points=100 * change)
    elif kind == "points":
        text = _("{arrow} {points:+.0f} against the wave before", arrow=arrow, points=change)
    else:
        text = _("{arrow} {count:+.0f} against the month before", arrow=arrow, count=change)
    return text, css


def sparkline(points: pd.DataFrame, width: int = 160, height: int = 36) -> str:
    """An inline SVG line of ``points`` (month, value, estimated), estimated stretches dashed;
    '' for fewer than two points."""
    points = points.dropna(subset=["value"]).sort_values("month")
    if len(points) < 2:
        return ""
    values = points["value"].astype(float).to_numpy()
    low, high = float(values.min()), float(values.max())
    span = high - low or 1.0
    xs = [2 + (width - 4) * k / (len(values) - 1) for k in range(len(values))]
    ys = [height - 3 - (height - 6) * (v - low) / span for v in values]
    estimated = points["estimated"].astype(bool).to_numpy()
    segments = []
    for k in range(1, len(values)):
        dashed = ' stroke-dasharray="3 2"' if estimated[k] or estimated[k - 1] else ""
        segments.append(f'<line x1="{xs[k - 1]:.1f}" y1="{ys[k - 1]:.1f}" x2="{xs[k]:.1f}" '
                        f'y2="{ys[k]:.1f}"{dashed}/>')
    first, last = points["month"].iloc[0], points["month"].iloc[-1]
    label = html.escape(_("trend from {first} to {last}", first=i18n.month(first),
                          last=i18n.month(last)))
    return (f'<svg class="spark" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
            f'role="img" aria-label="{label}"><title>{label}</title>'
            f'<g stroke="#2b6cb0" stroke-width="1.6" fill="none">{"".join(segments)}</g>'
            f'<circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="2.2" fill="#2b6cb0"/></svg>')


def tiles(board: Dashboard, latest_month: pd.Timestamp | None) -> list[dict[str, Any]]:
    """The tiles as the template shows them (every text in the current language)."""
    shown = []
    for _k, row in board.tiles.iterrows():
        tile = row["tile"]
        entry = {"key": tile, "title": _(TITLES[tile]), "page": f"{row['page']}.html",
                 "evaluated": bool(row["evaluated"])}
        if not row["evaluated"]:
            entry.update(value=i18n.pgettext("status", "not evaluated"),
                         note=_("the data cannot support it: see why"), change="",
                         change_css="none", interval="", spark="", mark="")
            shown.append(entry)
            continue
        change, css = _change(row)
        entry.update(value=_number(tile, float(row["value"]), board.currency),
                     mark=scorecard.ESTIMATED_MARK if bool(row["estimated"]) else "",
                     interval=_interval(tile, float(row["ci_low"]), float(row["ci_high"]),
                                        board.confidence),
                     note=_note(row, board, latest_month) + _few(row),
                     change=change, change_css=css,
                     spark=sparkline(board.trends[board.trends["tile"] == tile]))
        shown.append(entry)
    return shown


def tier_rows(board: Dashboard) -> list[dict[str, Any]]:
    """The tier mix as rows of bars: per tier, the share of customers and of value a year
    before and now."""
    mix = board.tiers.set_index(["period", "tier"])
    rows = []
    for tier in dict.fromkeys(board.tiers["tier"]):
        entry = {"tier": i18n.label(tier)}
        for measure in ("share_customers", "share_value"):
            for period in ("a year before", "now"):
                share = float(mix.loc[(period, tier), measure]) if (period, tier) in mix.index \
                    else 0.0
                entry[f"{measure}_{period.replace(' ', '_')}"] = {
                    "width": f"{100 * share:.1f}%", "text": f"{share:.0%}"}
        rows.append(entry)
    return rows


def latest_alerts(board: Dashboard, latest_month: pd.Timestamp | None,
                  shown: int = 8) -> list[str]:
    """The latest month's alerts, largest first, one sentence each (html-escaped)."""
    if latest_month is None or board.alerts.empty:
        return []
    alerts = board.alerts[pd.to_datetime(board.alerts["month"]) == latest_month]
    alerts = alerts.reindex(alerts["change"].abs().sort_values(ascending=False).index)
    return [html.escape(_("{indicator} in {region}: {change:+.0%} against expected, since "
                          "{since}", indicator=i18n.label(a["indicator"]),
                          region=i18n.label(a["region"]), change=a["change"],
                          since=i18n.month(a["since"])))
            for _k, a in alerts.head(shown).iterrows()]


def content(board: Dashboard | None, latest_month: pd.Timestamp | None) -> dict[str, Any]:
    """What the index template's dashboard shows (empty when the run has no dashboard)."""
    if board is None:
        return {}
    month = i18n.month(latest_month) if latest_month is not None else ""
    return {"tiles": tiles(board, latest_month), "tiers": tier_rows(board),
            "alerts": latest_alerts(board, latest_month), "alerts_link": ALERTS_LINK,
            "text": {"heading": _("Where loyalty stands"),
                     "tiers": _("Tier mix: share of customers and of value"),
                     "tier": _("Tier"), "customers": _("Customers"), "value": _("Value"),
                     "before": _("a year before"), "now": _("now"),
                     "alerts": _("Alerts in {month}", month=month),
                     "no_alerts": _("No indicator moved abnormally in {month}.", month=month),
                     "alerts_chart": _("See the monitoring chart"),
                     "legend": _("▲▼ change against the previous period, green when it is "
                                 "good news; † rests partly on estimated (repaired) history; "
                                 "dashed trend: estimated months.")}}
