"""What a run's data can support: which contract tables were delivered, which notebooks and
analyses can run on them, and the plain-language reason when one cannot.

The built-in sample delivers every table. A company's own data (``helpers.sources``) may deliver
only orders: then the attitude notebook, the price notebooks and the scorecard's attitude and
price dimensions are "not evaluated", and the reports say why instead of inventing numbers.
The runner skips a notebook whose ``check`` is not runnable and publishes a page with the reason;
a notebook opened by hand stops at its first cell with the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from helpers import i18n, io
from helpers.i18n import _

OPTIONAL_TABLES = ("price_changes", "market_index", "survey_responses", "referrals",
                   "engagement", "complaints")
ATTITUDE_TABLES = ("survey_responses", "referrals", "engagement", "complaints")


class NotEvaluated(RuntimeError):  # noqa: N818 (a state the report shows, not a failure)
    """The data cannot support this notebook; the message says which data is missing."""


def table_rows(clean_dir: str | Path) -> dict[str, int]:
    """Rows per clean table present in ``clean_dir`` (absent tables are left out)."""
    folder = io.resolve(clean_dir)
    return {path.stem: pq.ParquetFile(path).metadata.num_rows
            for path in sorted(folder.glob("*.parquet"))}


def has(rows: dict[str, int], table: str) -> bool:
    """True when ``table`` was delivered with at least one row."""
    return rows.get(table, 0) > 0


HIDE_MIME = "application/vnd.loyalty.hidden-sections+json"


@dataclass
class Check:
    """Whether a notebook can run, and which of its analyses are left out and why.

    Displayed in a notebook (the cell after the loading cell), it shows ``sentence()`` and tells
    the report runner which sections to leave out of the HTML: cells tagged
    ``section:<name>`` for each name in ``hidden_sections`` (they run, on empty inputs, but a
    manager should not read empty tables).
    """

    notebook: str
    runnable: bool = True
    reason: str = ""
    not_evaluated: list[str] = field(default_factory=list)
    hidden_sections: list[str] = field(default_factory=list)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/markdown": self.sentence(), "text/plain": self.sentence(),
                HIDE_MIME: {"hidden_sections": list(self.hidden_sections)}}

    def sentence(self) -> str:
        """Markdown for the report: the reason, or the list of analyses left out (or '')."""
        if not self.runnable:
            return _("**Not evaluated:** {reason}.", reason=self.reason)
        if not self.not_evaluated:
            return ""
        return _("**Left out for lack of data:**") + "\n\n" + \
            "\n".join(f"- {item}" for item in self.not_evaluated)


def _regions(clean_dir: str | Path) -> int:
    path = io.resolve(clean_dir) / "customers.parquet"
    if not path.exists():
        return 0
    return int(pd.read_parquet(path, columns=["region"])["region"].nunique())


def check(notebook: str, clean_dir: str | Path) -> Check:
    """What ``notebook`` (e.g. '04_attitude') can do with the tables in ``clean_dir``.

    Tables written by earlier notebooks are not checked here (``io.read_clean`` says which
    notebook to run first); only the delivered data.
    """
    rows = table_rows(clean_dir)
    result = Check(notebook)
    stem = notebook.split("_", 1)[-1]
    missing = [t for t in OPTIONAL_TABLES if not has(rows, t)]
    if stem == "attitude":
        if not any(has(rows, t) for t in ATTITUDE_TABLES):
            result.runnable = False
            result.reason = _("no survey, referral, engagement or complaint data was delivered: "
                               "the attitude dimension is not evaluated")
        elif not any(has(rows, t) for t in ("survey_responses", "engagement", "complaints")):
            result.runnable = False
            result.reason = _("only referrals were delivered: without survey answers to compare "
                              "them with, "
                "complaints or engagement, the attitude dimension is not evaluated (the "
                "scorecard does not use referrals)")
        else:
            names = {"survey_responses": _("the likelihood to recommend, satisfaction, survey "
                                            "quality and how scores match actual referrals "
                                            "(no survey data)"),
                     "referrals": _("actual referrals (no referral data)"),
                     "engagement": _("emotional connection (no engagement data)"),
                     "complaints": _("complaint taxonomy and rates (no complaint data)")}
            result.not_evaluated = [names[t] for t in ATTITUDE_TABLES if t in missing]
            result.hidden_sections = [t for t in ATTITUDE_TABLES if t in missing]
    elif stem == "price_sensitivity":
        if not has(rows, "price_changes"):
            result.runnable = False
            result.reason = _("no price changes were delivered: behaviour around price "
                               "adjustments cannot be measured, so price sensitivity is not "
                               "evaluated")
        elif not has(rows, "market_index"):
            result.not_evaluated = [_("the market adjustment (no market price index): changes "
                                       "are compared with other regions only")]
    elif stem == "regional_regression":
        if not has(rows, "price_changes"):
            result.runnable = False
            result.reason = _("no price changes were delivered: without the company's own "
                               "price decisions, price differences within a product come from "
                               "quantity discounts and customer mix, so the regional price "
                               "regression is not estimable")
        elif _regions(clean_dir) < 2:
            result.runnable = False
            result.reason = _("a single region: the regional regression is not estimable")
        elif not has(rows, "market_index"):
            result.not_evaluated = [_("the market adjustment (no market price index): prices "
                                       "are used as charged")]
    elif stem == "retention":
        if not has(rows, "complaints"):
            result.not_evaluated.append(_("complaints as a churn warning sign (no complaint data)"))
        if not has(rows, "survey_responses"):
            result.not_evaluated.append(_("survey answers as churn warning signs (no survey data)"))
    elif stem == "history_repair" and has(rows, "order_lines_unrepaired"):
        path = io.resolve(clean_dir) / "order_lines_unrepaired.parquet"
        source = pd.read_parquet(path, columns=["source"])["source"]
        if not (source == "legacy").any():
            result.not_evaluated = [_("legacy-system repairs (all order lines come from one "
                                       "current system: nothing to unify or repair)")]
            result.hidden_sections = ["legacy"]
    elif stem == "scorecard":
        dims = {"attitude": not any(has(rows, t) for t in ATTITUDE_TABLES),
                "price sensitivity": not has(rows, "price_changes")}
        result.not_evaluated = [_("the {dimension} dimension (no data for it): the index uses "
                                  "the other dimensions", dimension=i18n.label(dim))
                                for dim, absent in dims.items() if absent]
    return result


def require(notebook: str, clean_dir: str | Path) -> Check:
    """``check`` for a notebook's first cell: raises ``NotEvaluated`` if it cannot run."""
    result = check(notebook, clean_dir)
    if not result.runnable:
        raise NotEvaluated(f"{notebook}: {result.reason}")
    return result
