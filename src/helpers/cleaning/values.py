"""Value normalisers of the cleaning: region and category spellings, city names, dates, numbers,
ids, complaint labels, severity words and survey scales. Strings in, typed values out; a value
that cannot be read becomes missing, for the caller to quarantine."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers import vocabulary
from helpers.vocabulary import COMPLAINT_RULES, SEVERITY_WORDS

ISO_DATE = "%Y-%m-%d"
RECOMMEND_SCALE = (0, 10)
SATISFACTION_SCALE = (1, 5)


def key(values: pd.Series) -> pd.Series:
    """Comparison keys of spellings: lower case, letters and CJK characters only."""
    return values.astype("str").str.lower().str.replace(r"[^a-z\u4e00-\u9fff]", "", regex=True)


def normalise_region(values: pd.Series, aliases: dict[str, str] | None = None) -> pd.Series:
    """Map free-form region spellings ('north-east', 'NE', '东北') to canonical names.

    Args:
        values: region strings as delivered.
        aliases: key -> canonical name, keys compared lower-case with only letters/CJK kept;
            defaults to the reference company's regions (``vocabulary.REGION_ALIASES``).

    Returns:
        Canonical region names; unrecognised spellings become <NA> (the caller quarantines).
    """
    aliases = vocabulary.REGION_ALIASES if aliases is None else aliases
    return key(values).map(aliases).astype("str")


def normalise_category(values: pd.Series, aliases: dict[str, str] | None = None) -> pd.Series:
    """Map category labels (English or the legacy Chinese ones) to canonical names; else <NA>."""
    aliases = vocabulary.CATEGORY_ALIASES if aliases is None else aliases
    return key(values).map(aliases).astype("str")


def normalise_city(values: pd.Series) -> pd.Series:
    """Unify city spellings: trim and collapse spaces, then pick one spelling per city.

    Spellings sharing the same letters (ignoring case, spaces and punctuation: 'XI'AN', "xi'an ",
    'Xian') are one city; its name is the most frequent mixed-case spelling among them (the
    CRM's usual form; all-caps and all-lower-case entries are typing styles, not names), or the
    most frequent spelling when none is mixed case. Empty values stay empty.
    """
    trimmed = values.astype("str").str.strip().str.replace(r"\s+", " ", regex=True)
    keys = key(trimmed)
    counts = (pd.DataFrame({"key": keys, "spelling": trimmed})
              .value_counts().rename("n").reset_index())
    counts["mixed_case"] = (counts["spelling"] != counts["spelling"].str.upper()) & (
        counts["spelling"] != counts["spelling"].str.lower())
    best = (counts.sort_values(["key", "mixed_case", "n", "spelling"],
                               ascending=[True, False, False, True])
            .drop_duplicates("key").set_index("key")["spelling"])
    return keys.map(best).astype("str")


def parse_dates(values: pd.Series, formats: list[str]) -> pd.Series:
    """Parse date strings trying each format in turn; unparseable or impossible dates -> NaT."""
    text = values.astype("str").str.strip()
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in formats:
        todo = parsed.isna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return parsed


# what ``pd.to_numeric`` reads as a number (decimal, exponent, inf, infinity, nan; no
# thousands separators or hex); Arrow then parses the matching values in one pass
NUMBER = r"(?i)^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|inf|infinity|nan)$"


def parse_numbers(values: pd.Series) -> pd.Series:
    """Strings to float; empty or non-numeric -> NaN (as ``pd.to_numeric(errors='coerce')``,
    by Arrow: ten million values in a second instead of ten)."""
    text = values.astype("str").str.strip()
    array = pa.array(text.array)
    missing = pa.scalar(None, array.type)
    try:  # every value readable (or empty): one cast
        numbers = pc.cast(pc.if_else(pc.equal(array, ""), missing, array), pa.float64())
    except pa.ArrowInvalid:
        readable = pc.fill_null(pc.match_substring_regex(array, NUMBER), False)
        try:
            numbers = pc.cast(pc.if_else(readable, array, missing), pa.float64())
        except pa.ArrowInvalid:  # a form the pattern lets through and Arrow does not read
            return pd.to_numeric(text, errors="coerce").astype(float)
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=values.index,
                     dtype=float, name=values.name)


def normalise_ids(values: pd.Series) -> pd.Series:
    """Ids trimmed; ids exported as numbers ('17850.0') written as integers ('17850')."""
    text = values.astype("str").str.strip()
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def classify_complaints(labels: pd.Series, rules: list[tuple[str, str]] | None = None) -> pd.Series:
    """Complaint category from a free-form label by ordered keyword rules; 'other' if none match."""
    rules = COMPLAINT_RULES if rules is None else rules
    lower = labels.astype("str").str.lower()
    out = pd.Series("other", index=labels.index, dtype="str")
    assigned = pd.Series(False, index=labels.index)
    for category, pattern in rules:
        hit = lower.str.contains(pattern, regex=True) & ~assigned
        out[hit] = category
        assigned |= hit
    return out


def parse_severity(values: pd.Series) -> pd.Series:
    """'low'/'Med'/'3'/'urgent'... -> 1, 2, 3 (Int64); unknown -> <NA>."""
    return values.astype("str").str.strip().str.lower().map(SEVERITY_WORDS).astype("Int64")


def on_scales(recommend: pd.Series, satisfaction: pd.Series, *,
              missing_is_out_of_range: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Survey scores kept on their scales (recommend 0-10, satisfaction 1-5).

    Returns (recommend, satisfaction) as rounded Int64 with values off their scale set to <NA>,
    and a mask of the rows with a score off its scale. A missing score counts as off the
    scale when ``missing_is_out_of_range`` (an answer row must carry both scores), else not
    (invitations without an answer).
    """
    off = {}
    for name, values, (low, high) in [("recommend", recommend, RECOMMEND_SCALE),
                                      ("satisfaction", satisfaction, SATISFACTION_SCALE)]:
        outside = ~values.between(low, high)
        off[name] = outside if missing_is_out_of_range else outside & values.notna()
    return (recommend.where(recommend.between(*RECOMMEND_SCALE)).round().astype("Int64"),
            satisfaction.where(satisfaction.between(*SATISFACTION_SCALE)).round().astype("Int64"),
            off["recommend"] | off["satisfaction"])
