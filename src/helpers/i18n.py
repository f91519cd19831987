"""Report language: English (default) or Chinese, through one gettext catalog.

Every text a reader sees is written in English in the code and marked for translation:

* ``_("{count:,} customers answered", count=n)``: a sentence or label, translated into the
  current report language, then filled in (named placeholders, ``str.format`` syntax);
* ``ngettext("{n} report", "{n} reports", n)``: the same with a singular and a plural;
* ``N_("unknown region")``: marks a text that is stored as data (a rule, reason or column
  label in a table) and translated only when a page shows it (``label``, ``values``,
  ``relabel``);
* notebook markdown is written once, in English; ``markdown`` translates it paragraph by
  paragraph when the report runner renders a Chinese page.

The translations live in ``helpers/locale/<language>/LC_MESSAGES/messages.po`` (gettext PO
files, read with Babel). ``python -m helpers.catalog update`` adds new texts to them (and marks
changed ones fuzzy); ``python -m helpers.catalog check`` (a test) fails on a missing, fuzzy or
unused translation, or one whose placeholders differ from the English.

Charts: ``use("zh")`` also sets matplotlib to a CJK font, Noto Sans CJK SC (SIL Open Font
License), installed with the pinned ``mplfonts`` package; ``with_embedded_font`` embeds the
subset a page needs so it reads the same on a machine without Chinese fonts.
"""

from __future__ import annotations

import functools
import gettext as stdlib_gettext
import importlib.util
import re
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from helpers.words import N_  # noqa: F401 (the marker belongs to the one mechanism)

LANGUAGES = ("en", "zh")
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DATA_COMMENT = "data: stored in tables, translated where a page shows them"
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT_NAME = "Noto Sans CJK SC"
_state = {"language": SOURCE_LANGUAGE}


class LanguageError(ValueError):
    """An unknown report language, or the CJK font is not installed."""


# --------------------------------------------------------------------------------------------
# the current language
def _checked(language: str) -> str:
    if language not in LANGUAGES:
        raise LanguageError(f"report_language must be one of {LANGUAGES}, got {language!r}")
    return language


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Within the block, texts are in ``language``; the previous language comes back after
    it. No fonts are touched: for code that writes text only (the report runner)."""
    previous = _state["language"]
    _state["language"] = _checked(language)
    try:
        yield
    finally:
        _state["language"] = previous


def use(language: str) -> str:
    """Set the report language for this process ('en' or 'zh'); returns it.

    For 'zh' the CJK font is registered with matplotlib and put first in its sans-serif list
    (``apply_fonts`` re-applies it after a seaborn theme resets the fonts)."""
    _state["language"] = _checked(language)
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


# --------------------------------------------------------------------------------------------
# the catalog
def catalog_path(language: str) -> Path:
    """The PO file holding the translations into ``language``."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


class _Translations:
    """One language's catalog: exact texts, plural forms, and the data templates."""

    def __init__(self, language: str) -> None:
        from babel.messages.pofile import read_po

        with catalog_path(language).open("rb") as file:
            catalog = read_po(file, locale=language)
        self.plural = stdlib_gettext.c2py(catalog.plural_expr)
        self.texts: dict[str, str] = {}
        self.plurals: dict[str, list[str]] = {}
        self.in_context: dict[tuple[str, str], str] = {}
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple | list):
                if all(message.string):
                    self.plurals[message.id[0]] = list(message.string)
            elif message.string and message.context:
                self.in_context[(message.context, message.id)] = message.string
            elif message.string:
                self.texts[message.id] = message.string
        # texts with placeholders, to translate the filled-in texts that tables store
        self.templates: list[tuple[re.Pattern[str], str]] = []
        data_texts = {message.id for message in catalog
                      if DATA_COMMENT in message.auto_comments}
        for english, translated in self.texts.items():
            pattern = _template_pattern(english) if english in data_texts else None
            if pattern is not None:
                self.templates.append((pattern, _without_format_specs(translated)))
        self.templates.sort(key=lambda item: -len(item[0].pattern))  # most specific first


def placeholders(text: str) -> set[str] | None:
    """The named fields of ``text`` as a ``str.format`` template (None when it is not one)."""
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:
        return None


def _template_pattern(text: str) -> re.Pattern[str] | None:
    """A regular expression matching ``text`` with its fields filled in (None without any)."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return None
    if not any(field for _, field, _, _ in parts):
        return None
    pattern, seen = "", set()
    for literal, field, _, _ in parts:
        pattern += re.escape(literal)
        if field:
            pattern += f"(?P={field})" if field in seen else f"(?P<{field}>.+?)"
            seen.add(field)
    return re.compile(pattern, re.S)


def _without_format_specs(text: str) -> str:
    """``text`` with ``{name:spec}`` fields reduced to ``{name}`` (for already-formatted
    values)."""
    return re.sub(r"\{(\w+)(?:![rsa])?:[^{}]*\}", r"{\1}", text)


@functools.cache
def _translations(language: str) -> _Translations | None:
    return None if language == SOURCE_LANGUAGE else _Translations(language)


def reload_catalogs() -> None:
    """Read the PO files again (after ``helpers.catalog update`` in a running kernel)."""
    _translations.cache_clear()


def gettext(message: str) -> str:
    """``message`` in the current language (as given when it has no translation)."""
    translations = _translations(_state["language"])
    return message if translations is None else translations.texts.get(message, message)


def _(message: str, /, **fields: object) -> str:
    """``message`` translated into the current language, then filled in with ``fields``
    (``str.format``; only when fields are given, so a text without fields may hold braces)."""
    translated = gettext(message)
    return translated.format(**fields) if fields else translated


def ngettext(singular: str, plural: str, n: int, /, **fields: object) -> str:
    """The singular or plural text for ``n`` in the current language, filled in with ``n``
    and ``fields``."""
    translations = _translations(_state["language"])
    forms = None if translations is None else translations.plurals.get(singular)
    if forms:
        translated = forms[min(int(translations.plural(abs(int(n)))), len(forms) - 1)]
    else:
        translated = singular if n == 1 else plural
    return translated.format(n=n, **fields)


def pgettext(context: str, message: str, /, **fields: object) -> str:
    """``_`` for a text whose translation depends on where it is used (``context``), e.g. the
    separator of a list of names ("list") against that of clauses."""
    translations = _translations(_state["language"])
    translated = message if translations is None else translations.in_context.get(
        (context, message), message)
    return translated.format(**fields) if fields else translated


def join(items: list[str], context: str = "list") -> str:
    """``items`` joined the way the report language lists them: names ("list": "a, b" /
    "a、b") or clauses ("clauses": "a, b" / "a，b")."""
    separator = pgettext("clauses", ", ") if context == "clauses" else pgettext("list", ", ")
    return separator.join(items)


def sentences(parts: list[str]) -> str:
    """Sentences run together as the report language does it (a space between English
    sentences, none between Chinese ones)."""
    if not parts:
        return ""
    return functools.reduce(lambda first, second: pgettext(
        "sentences", "{first} {second}", first=first, second=second), parts)


def month(day: object, style: str = "long") -> str:
    """The month of ``day`` as the report language writes it (Babel's CLDR formats):
    "January 2025" / "Jan 2025" (style "short") / "2025年1月"."""
    from babel.dates import format_skeleton

    return format_skeleton("yMMMM" if style == "long" else "yMMM", pd.Timestamp(day),
                           locale=_state["language"])


# --------------------------------------------------------------------------------------------
# data shown on pages
def data_text(value: str) -> str:
    """A text stored in a table (a label, rule, detail, method or reason marked with ``N_``)
    in the current language: the catalog's translation, or that of the ``N_`` template it was
    filled in from (the filled-in values kept as they are), part by part for texts joined with
    "; " or " + "; unchanged when unknown (e.g. the words of a company's own source mapping)."""
    translations = _translations(_state["language"])
    if translations is None:
        return value
    if value in translations.texts:
        return translations.texts[value]
    for pattern, translated in translations.templates:
        found = pattern.fullmatch(value)
        if found:
            return translated.format(**found.groupdict())
    for separator, joined in (("; ", "；"), (" + ", " + ")):
        if separator in value:
            return joined.join(data_text(part) for part in value.split(separator))
    return value


def label(name: object) -> str:
    """A chart or table label (a column, region, category or tier name) in the current
    language (unchanged when not translated)."""
    return data_text(str(name))


def values(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with the values of ``columns`` (names such as indicators, regions, tiers, and
    the cleaning and repair steps' rule texts) in the report language; a name that is an
    index level rather than a column has that level's values translated."""
    if _state["language"] == SOURCE_LANGUAGE:
        return frame
    levels = [c for c in columns if c not in frame.columns and c in frame.index.names]
    missing = [c for c in columns if c not in frame.columns and c not in levels]
    if missing:
        raise KeyError(f"no column or index level {missing} to translate "
                       f"(columns: {list(frame.columns)}, index: {list(frame.index.names)})")
    shown = frame.assign(**{c: frame[c].astype("str").map(data_text)
                            for c in columns if c in frame.columns})
    if levels:
        index = shown.index.to_frame(index=False)
        for level in levels:
            index[level] = index[level].astype("str").map(data_text)
        shown.index = pd.MultiIndex.from_frame(index) if shown.index.nlevels > 1 \
            else pd.Index(index[levels[0]], name=levels[0])
    return shown


def yes_no(flag: object) -> str:
    """A yes/no flag in the report language."""
    return _("yes") if flag else _("no")


def relabel(styler, formatted: tuple | list = ()):
    """A pandas Styler with its column and row labels, index names and yes/no flags in the
    report language (formatting keyed on the original names keeps working; the caller's frame
    is not changed; flag columns in ``formatted`` keep the caller's format). Returns the
    Styler."""
    frame = styler.data
    if _state["language"] == SOURCE_LANGUAGE:
        return styler
    names = [label(n) if n is not None else None for n in frame.index.names]
    renamed = frame  # a renamed copy: the caller's frame keeps its names
    if any(n is not None for n in names):
        renamed = renamed.rename_axis(index=names if len(names) > 1 else names[0])
    if frame.columns.name is not None and not isinstance(frame.columns, pd.MultiIndex):
        renamed = renamed.rename_axis(columns=label(frame.columns.name))
    if renamed is not frame:
        styler.data, styler.index, styler.columns = renamed, renamed.index, renamed.columns
    flags = [c for c in frame.columns
             if pd.api.types.is_bool_dtype(frame[c]) and c not in formatted]
    if flags:
        # subset: a formatter dict without it resets every other column to the default format
        styler = styler.format(dict.fromkeys(flags, yes_no), subset=flags)
    if not isinstance(frame.columns, pd.MultiIndex):
        styler = styler.relabel_index([label(c) for c in frame.columns], axis="columns")
    if not isinstance(frame.index, pd.MultiIndex):
        styler = styler.relabel_index([label(i) for i in frame.index], axis="index")
    return styler


# --------------------------------------------------------------------------------------------
# notebook markdown
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def paragraphs(source: str) -> list[str]:
    """The paragraphs of a markdown text (blocks between blank lines), stripped: the units
    the catalog translates."""
    return [p.strip() for p in _PARAGRAPH_BREAK.split(source) if p.strip()]


def markdown(source: str, translate: Callable[[str], str] | None = None) -> str:
    """A notebook markdown cell in the current language, paragraph by paragraph (as
    sphinx-intl does); a paragraph without a translation stays English."""
    if _state["language"] == SOURCE_LANGUAGE:
        return source
    translate = translate or gettext
    return "\n\n".join(translate(p) for p in paragraphs(source))


# --------------------------------------------------------------------------------------------
# fonts
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


def apply_fonts() -> None:
    """Put the CJK font first for matplotlib when the language is Chinese (call after
    ``seaborn.set_theme``, which resets the font list)."""
    import matplotlib as mpl

    if _state["language"] == "zh":
        families = [f for f in mpl.rcParams["font.sans-serif"] if f != CJK_FONT_NAME]
        mpl.rcParams["font.sans-serif"] = [CJK_FONT_NAME, *families]
        mpl.rcParams["font.family"] = ["sans-serif"]
        mpl.rcParams["axes.unicode_minus"] = False  # the CJK font has no U+2212 minus


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
