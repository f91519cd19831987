"""The reference company's vocabularies, in one place: its regions and product categories (with
the Chinese labels of its legacy system and the spellings its CRM accepts), and the complaint
taxonomy's keyword rules and severity words.

The cleaning maps delivered spellings onto these names where a source mapping says so
(``vocabulary: {region: regions}``), the sample generator writes its data with them, and the
names are marked for translation here (``N_``), so the pages show them in the report language.
A company's own mapping names its vocabularies in the mapping (``aliases``) instead.
"""

from __future__ import annotations

from helpers.words import N_

REGIONS: tuple[str, ...] = (N_("Northeast"), N_("Northwest"), N_("Southeast"), N_("Southwest"),
                            N_("Central"), N_("Metro"))
# the legacy system's labels (GBK-encoded Chinese)
REGION_CN: dict[str, str] = {"Northeast": "东北", "Northwest": "西北", "Southeast": "东南",
                             "Southwest": "西南", "Central": "华中", "Metro": "都会"}
# further accepted spellings (compared after ``key``: lower case, letters and CJK only)
REGION_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Northeast": ("ne",), "Northwest": ("nw",), "Southeast": ("se",), "Southwest": ("sw",),
    "Central": ("centre", "centralregion"), "Metro": ("metroarea", "metropolitan"),
}

CATEGORIES: tuple[str, ...] = (N_("Furniture"), N_("Ceramics"), N_("Jewellery"), N_("Paintings"),
                               N_("Coins & Stamps"), N_("Clocks"))
CATEGORY_CN: dict[str, str] = {"Furniture": "家具", "Ceramics": "陶瓷", "Jewellery": "珠宝",
                               "Paintings": "字画", "Coins & Stamps": "钱币邮票", "Clocks": "钟表"}
CATEGORY_SPELLINGS: dict[str, tuple[str, ...]] = {"Jewellery": ("jewelry",)}


def key(spelling: str) -> str:
    """The comparison key of a spelling: lower case, only letters and CJK characters kept
    ('North-East ' -> 'northeast')."""
    lowered = spelling.lower()
    return "".join(ch for ch in lowered if "a" <= ch <= "z" or "\u4e00" <= ch <= "\u9fff")


def _aliases(names: tuple[str, ...], chinese: dict[str, str],
             spellings: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        for spelling in (name, chinese[name], *spellings.get(name, ())):
            out[key(spelling)] = name
    return out


REGION_ALIASES: dict[str, str] = _aliases(REGIONS, REGION_CN, REGION_SPELLINGS)
CATEGORY_ALIASES: dict[str, str] = _aliases(CATEGORIES, CATEGORY_CN, CATEGORY_SPELLINGS)
# the vocabularies a source mapping may name: ``vocabulary: {region: regions}``
VOCABULARIES: dict[str, dict[str, str]] = {"regions": REGION_ALIASES,
                                           "categories": CATEGORY_ALIASES}

# Complaint taxonomy: first matching rule wins (refund before delivery: "waiting for refund").
COMPLAINT_RULES: list[tuple[str, str]] = [
    ("refund", r"refund|money back|return not processed"),
    ("damaged", r"damag|broken|chipped|scratch"),
    ("not_as_described", r"described|description|pictured|authentic|fake|differs from photo"),
    ("delivery", r"deliver|parcel|courier|not arrived|waiting for my order"),
    ("price", r"price|overcharg|cheaper|fee|charged"),
    ("service", r"staff|assistant|service|no reply|rude|impolite"),
]
SEVERITY_WORDS: dict[str, int] = {"low": 1, "minor": 1, "1": 1, "medium": 2, "med": 2, "2": 2,
                                  "high": 3, "urgent": 3, "3": 3}
