"""Report language: English (default) or Chinese for the pages managers read.

``use("zh")`` switches the sentences written through ``text`` and the chart text to Chinese and
sets matplotlib to a CJK font: Noto Sans CJK SC (SIL Open Font License), installed with the
pinned ``mplfonts`` package (only its Noto file is used). Notebook markdown comes in one cell
per language, tagged ``lang:en`` / ``lang:zh``; the report runner keeps the cells of the run's
``report_language`` (analysts in JupyterLab see both).

Coverage so far: the run's index page, the executive summary and the scorecard (08); other
pages keep English sentences and charts (see the issue notes).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

LANGUAGES = ("en", "zh")
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT_NAME = "Noto Sans CJK SC"
_state = {"language": "en"}


class LanguageError(ValueError):
    """An unknown report language, or the CJK font is not installed."""


def cjk_font_path() -> Path:
    """The Noto Sans CJK SC font file shipped by the ``mplfonts`` package (not imported)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise LanguageError("report_language 'zh' needs the CJK font of the 'mplfonts' package; "
                            "run 'make setup' (it is in requirements.txt)")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / CJK_FONT_FILE
    if not path.exists():
        raise LanguageError(f"{path} missing: reinstall mplfonts")
    return path


def use(language: str) -> str:
    """Set the report language for this process ('en' or 'zh'); returns it.

    For 'zh' the CJK font is registered with matplotlib and put first in its sans-serif list
    (``apply_fonts`` re-applies it after a seaborn theme resets the fonts)."""
    if language not in LANGUAGES:
        raise LanguageError(f"report_language must be one of {LANGUAGES}, got {language!r}")
    _state["language"] = language
    if language == "zh":
        from matplotlib import font_manager

        path = cjk_font_path()
        if CJK_FONT_NAME not in {f.name for f in font_manager.fontManager.ttflist}:
            font_manager.fontManager.addfont(str(path))
    apply_fonts()
    return language


def language() -> str:
    """The current report language."""
    return _state["language"]


def apply_fonts() -> None:
    """Put the CJK font first for matplotlib when the language is Chinese (call after
    ``seaborn.set_theme``, which resets the font list)."""
    import matplotlib as mpl

    if _state["language"] == "zh":
        families = [f for f in mpl.rcParams["font.sans-serif"] if f != CJK_FONT_NAME]
        mpl.rcParams["font.sans-serif"] = [CJK_FONT_NAME, *families]
        mpl.rcParams["font.family"] = ["sans-serif"]
        mpl.rcParams["axes.unicode_minus"] = False  # the CJK font has no U+2212 minus


def text(en: str, zh: str) -> str:
    """``en`` or ``zh``, by the current language (both are complete sentences or labels)."""
    return zh if _state["language"] == "zh" else en


# Labels shared by charts and tables (English key -> Chinese).
LABELS_ZH: dict[str, str] = {
    "behaviour": "购买行为", "attitude": "态度", "retention": "留存", "price": "价格敏感度",
    "price sensitivity": "价格敏感度",
    "orders": "订单数", "buyers": "购买客户数", "revenue": "销售额", "repeat rate": "复购率",
    "complaints per order": "每单投诉数", "all regions": "全部区域",
    "regular": "普通", "silver": "白银", "gold": "黄金", "diamond": "钻石", "inactive": "不活跃",
    # the reference company's regions (the legacy system's own Chinese names)
    "Northeast": "东北", "Northwest": "西北", "Southeast": "东南", "Southwest": "西南",
    "Central": "华中", "Metro": "都会", "all": "全部区域",
    # table columns
    "count": "客户数", "25%": "下四分位数", "50%": "中位数", "75%": "上四分位数",
    "small_group": "样本较少", "customers": "客户数", "share_of_customers": "客户占比",
    "share_of_value": "价值占比", "median_index": "指数中位数", "spearman": "秩相关系数",
    "top_decile_kept": "前 10% 仍在前 10% 的比例", "indicator": "指标", "region": "区域",
    "month": "月份", "value": "数值", "expected": "预期值", "change": "变化", "z": "z 值",
    "p_value": "p 值", "since": "起始月份", "kind": "类型", "denominator": "分母",
    "tier": "等级", "tier before": "一年前等级", "tier after": "当前等级",
    # alert kinds
    "abnormal": "异常波动", "threshold (max)": "超出上限", "threshold (min)": "低于下限",
}


def values(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with the values of ``columns`` (names such as indicators, regions, tiers)
    in the report language."""
    if _state["language"] != "zh":
        return frame
    return frame.assign(**{c: frame[c].astype("str").map(label) for c in columns})


def label(name: str) -> str:
    """A chart or table label in the current language (unchanged when not translated)."""
    return LABELS_ZH.get(name, name) if _state["language"] == "zh" else name


def relabel(styler):
    """A pandas Styler with its column and row labels in the report language (formatting keyed
    on the original names keeps working; the index name is left as it is: rename the axis
    before styling). Returns the Styler."""
    frame = styler.data
    if _state["language"] != "zh":
        return styler
    if not isinstance(frame.columns, pd.MultiIndex):
        styler = styler.relabel_index([label(str(c)) for c in frame.columns], axis="columns")
    if not isinstance(frame.index, pd.MultiIndex):
        styler = styler.relabel_index([label(str(i)) for i in frame.index], axis="index")
    return styler


EMBEDDED_FAMILY = "Loyalty CJK"


def embedded_font_css(page: str) -> str:
    """A ``<style>`` block that embeds the CJK font, cut down to the characters ``page`` uses
    (a WOFF subset of Noto Sans CJK SC, typically under 100 KB), and makes it the page's font:
    the report then reads the same on any machine, with or without Chinese fonts."""
    import base64
    import io as bytes_io

    from fontTools import subset

    characters = {ord(c) for c in page if ord(c) > 127} | {ord(c) for c in "0123456789%,.-+"}
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(cjk_font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(characters))
    subsetter.subset(font)
    buffer = bytes_io.BytesIO()
    subset.save_font(font, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    family = (f'"{EMBEDDED_FAMILY}", -apple-system, "Segoe UI", Helvetica, Arial, '
              '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif')
    return (f'<style>@font-face {{ font-family: "{EMBEDDED_FAMILY}"; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}\n'
            f":root {{ --jp-content-font-family: {family}; --jp-ui-font-family: {family}; }}\n"
            f"body, table, th, td {{ font-family: {family}; }}</style>")


def with_embedded_font(page: str) -> str:
    """``page`` (an HTML document) with ``embedded_font_css`` inserted before ``</head>``."""
    return page.replace("</head>", embedded_font_css(page) + "\n</head>", 1)
