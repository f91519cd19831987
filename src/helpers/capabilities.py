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
        from helpers.i18n import text

        if not self.runnable:
            return text("**Not evaluated:** ", "**未评估：**") + f"{self.reason}."
        if not self.not_evaluated:
            return ""
        return text("**Left out for lack of data:**", "**因缺少数据而未包括：**") + "\n\n" + \
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
    tr = i18n.text
    stem = notebook.split("_", 1)[-1]
    missing = [t for t in OPTIONAL_TABLES if not has(rows, t)]
    if stem == "attitude":
        if not any(has(rows, t) for t in ATTITUDE_TABLES):
            result.runnable = False
            result.reason = tr("no survey, referral, engagement or complaint data was delivered: "
                               "the attitude dimension is not evaluated",
                               "没有提供问卷、推荐、互动或投诉数据：态度维度未评估")
        elif not any(has(rows, t) for t in ("survey_responses", "engagement", "complaints")):
            result.runnable = False
            result.reason = tr(
                "only referrals were delivered: without survey answers to compare them with, "
                "complaints or engagement, the attitude dimension is not evaluated (the "
                "scorecard does not use referrals)",
                "只提供了推荐数据：没有可与之对照的问卷答复、投诉或互动数据，态度维度未评估"
                "（计分卡不使用推荐数据）")
        else:
            names = {"survey_responses": tr("the likelihood to recommend, satisfaction, survey "
                                            "quality and how scores match actual referrals "
                                            "(no survey data)",
                                            "推荐意愿、满意度、问卷质量以及评分与实际推荐的"
                                            "对照（无问卷数据）"),
                     "referrals": tr("actual referrals (no referral data)",
                                     "实际推荐（无推荐数据）"),
                     "engagement": tr("emotional connection (no engagement data)",
                                      "情感联系（无互动数据）"),
                     "complaints": tr("complaint taxonomy and rates (no complaint data)",
                                      "投诉分类和投诉率（无投诉数据）")}
            result.not_evaluated = [names[t] for t in ATTITUDE_TABLES if t in missing]
            result.hidden_sections = [t for t in ATTITUDE_TABLES if t in missing]
    elif stem == "price_sensitivity":
        if not has(rows, "price_changes"):
            result.runnable = False
            result.reason = tr("no price changes were delivered: behaviour around price "
                               "adjustments cannot be measured, so price sensitivity is not "
                               "evaluated",
                               "没有提供调价数据：无法衡量调价前后的行为，价格敏感度未评估")
        elif not has(rows, "market_index"):
            result.not_evaluated = [tr("the market adjustment (no market price index): changes "
                                       "are compared with other regions only",
                                       "市场调整（无市场价格指数）：只与其他区域比较")]
    elif stem == "regional_regression":
        if not has(rows, "price_changes"):
            result.runnable = False
            result.reason = tr("no price changes were delivered: without the company's own "
                               "price decisions, price differences within a product come from "
                               "quantity discounts and customer mix, so the regional price "
                               "regression is not estimable",
                               "没有提供调价数据：没有公司自己的定价决策，同一商品的价格差异来自"
                               "数量折扣和客户构成，因此无法估计区域价格回归")
        elif _regions(clean_dir) < 2:
            result.runnable = False
            result.reason = tr("a single region: the regional regression is not estimable",
                               "只有一个区域：无法估计区域回归")
        elif not has(rows, "market_index"):
            result.not_evaluated = [tr("the market adjustment (no market price index): prices "
                                       "are used as charged",
                                       "市场调整（无市场价格指数）：使用实际收取的价格")]
    elif stem == "retention":
        if not has(rows, "complaints"):
            result.not_evaluated.append(tr(
                "complaints as a churn warning sign (no complaint data)",
                "投诉作为流失预警信号（无投诉数据）"))
        if not has(rows, "survey_responses"):
            result.not_evaluated.append(tr(
                "survey answers as churn warning signs (no survey data)",
                "问卷答复作为流失预警信号（无问卷数据）"))
    elif stem == "history_repair" and has(rows, "order_lines_unrepaired"):
        path = io.resolve(clean_dir) / "order_lines_unrepaired.parquet"
        source = pd.read_parquet(path, columns=["source"])["source"]
        if not (source == "legacy").any():
            result.not_evaluated = [tr("legacy-system repairs (all order lines come from one "
                                       "current system: nothing to unify or repair)",
                                       "旧系统修复（全部订单明细来自一个现行系统：无需统一或修复）")]
            result.hidden_sections = ["legacy"]
    elif stem == "scorecard":
        dims = {"attitude": not any(has(rows, t) for t in ATTITUDE_TABLES),
                "price sensitivity": not has(rows, "price_changes")}
        result.not_evaluated = [tr(f"the {dim} dimension (no data for it): the index uses the "
                                   "other dimensions",
                                   f"{i18n.label(dim)}维度（无数据）：指数使用其他维度")
                                for dim, absent in dims.items() if absent]
    return result


def require(notebook: str, clean_dir: str | Path) -> Check:
    """``check`` for a notebook's first cell: raises ``NotEvaluated`` if it cannot run."""
    result = check(notebook, clean_dir)
    if not result.runnable:
        raise NotEvaluated(f"{notebook}: {result.reason}")
    return result
