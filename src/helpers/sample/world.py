"""The sample's fixed world (regions, cities, categories, prices, the calendar and the legacy
cut-over), the knobs of its generating process (``SampleParams``) and small random helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import vocabulary

# ----------------------------------------------------------------------------------------------
# Fixed world: regions, cities, categories and their legacy (Chinese) labels.
REGIONS = list(vocabulary.REGIONS)
REGION_WEIGHTS = [0.14, 0.11, 0.20, 0.15, 0.17, 0.23]
REGION_CN = vocabulary.REGION_CN
CITIES = {
    "Northeast": ["Harbin", "Shenyang", "Dalian"],
    "Northwest": ["Xi'an", "Lanzhou", "Urumqi"],
    "Southeast": ["Fuzhou", "Xiamen", "Hangzhou"],
    "Southwest": ["Chengdu", "Chongqing", "Kunming"],
    "Central": ["Wuhan", "Changsha", "Zhengzhou"],
    "Metro": ["Beijing", "Shanghai", "Tianjin"],
}
CATEGORIES = list(vocabulary.CATEGORIES)
CATEGORY_CN = vocabulary.CATEGORY_CN
CATEGORY_MEDIAN_PRICE = {
    "Furniture": 820.0, "Ceramics": 160.0, "Jewellery": 420.0,
    "Paintings": 610.0, "Coins & Stamps": 65.0, "Clocks": 310.0,
}
# True own-price elasticity of a product's share of purchases in each region.
TRUE_ELASTICITY = {
    "Northeast": -0.6, "Northwest": -1.0, "Southeast": -1.5,
    "Southwest": -1.9, "Central": -1.2, "Metro": -0.4,
}
COMPLAINT_CATEGORIES = ["delivery", "damaged", "not_as_described", "service", "price", "refund"]
COMPLAINT_LABELS = {
    "delivery": ["late delivery", "Delivery late!!", "parcel not arrived", "DELIVERY DELAY",
                 "courier never came", "still waiting for my order"],
    "damaged": ["damaged item", "arrived broken", "Broken on arrival", "chipped vase",
                "scratches on the table", "DAMAGED IN TRANSIT"],
    "not_as_described": ["not as described", "Not as pictured", "wrong description",
                         "fake / not authentic", "item differs from photo", "NOT AS DESCRIBED"],
    "service": ["rude staff", "Unhelpful shop assistant", "no reply to email",
                "bad customer service", "SERVICE POOR", "staff was impolite"],
    "price": ["overcharged", "price too high", "Charged wrong price", "cheaper elsewhere",
              "PRICE INCREASE unfair", "hidden fees"],
    "refund": ["refund slow", "Refund not received", "waiting for refund",
               "REFUND DELAYED", "money back never came", "return not processed"],
}
SEVERITY_WRITTEN = {1: ["low", "1", "Low", "minor"], 2: ["medium", "2", "Med", "MEDIUM"],
                     3: ["high", "3", "High", "urgent"]}
REGION_SPELLINGS = {
    "Northeast": ["Northeast", "North East", "north-east", "NE", "NORTHEAST", " Northeast "],
    "Northwest": ["Northwest", "North West", "north-west", "NW", "NORTHWEST", "northwest "],
    "Southeast": ["Southeast", "South East", "south-east", "SE", "SOUTHEAST", "Southeast  "],
    "Southwest": ["Southwest", "South West", "south-west", "SW", "SOUTHWEST", " southwest"],
    "Central": ["Central", "central", "Centre", "CENTRAL", "Central Region", " Central"],
    "Metro": ["Metro", "METRO", "metro area", "Metropolitan", "Metro ", "metro"],
}

START = pd.Timestamp("2022-01-01")
N_MONTHS = 42  # 2022-01 .. 2025-06
CUTOVER = pd.Timestamp("2023-07-01")  # legacy system before, current system from this date

SIZES: dict[str, dict[str, int]] = {  # about 15.5 order lines per customer
    "10m": {"n_customers": 645_000, "n_products": 1_000},  # the benchmark's (make bench)
    "1m": {"n_customers": 65_000, "n_products": 600},
    "default": {"n_customers": 20_000, "n_products": 400},
    "small": {"n_customers": 900, "n_products": 120},
    "tiny": {"n_customers": 150, "n_products": 40},
}


@dataclass(frozen=True)
class SampleParams:
    """The knobs of the generating process; all of it is written to the truth folder."""

    seed: int = 20240601
    size: str = "default"
    n_customers: int = 20_000
    n_products: int = 400
    base_order_rate: float = 0.26  # orders per customer-month at loyalty_z = 0, before season
    loyalty_order_effect: float = 0.55  # log order rate per SD of loyalty
    # monthly hazard of starting to cool off at z=0, no complaints
    churn_base_monthly: float = 0.012
    churn_loyalty_coef: float = -0.6  # log-odds per SD of loyalty
    churn_complaint_coef: float = 1.0  # log-odds per complaint in the last 3 months
    cooling_months: int = 3  # months of reduced buying before a churner stops
    cooling_rate_multiplier: float = 0.35  # order rate during cooling off
    complaint_rate_per_order: float = 0.04
    return_share: float = 0.04
    survey_invite_share: float = 0.12  # share of active customers invited each quarterly wave
    survey_response_intercept: float = -2.3  # log-odds of answering at loyalty_z = 0
    survey_response_loyalty_coef: float = 0.9
    reversed_scale_share: float = 0.06  # respondents who read the 0-10 scale backwards
    duplicate_share_current: float = 0.012
    duplicate_share_legacy: float = 0.015
    duplicate_share_customers: float = 0.01
    junk_share_current: float = 0.001
    # legacy history defects (shares of legacy sale lines unless stated otherwise)
    dual_id_share: float = 0.08  # customers under an old member number in the legacy export
    unit_slip_share: float = 0.004  # price, list price and amount keyed x100
    impossible_date_share: float = 0.003  # year keyed +10 or a 01/01/1900 placeholder
    outlier_amount_share: float = 0.003  # amount with an extra digit
    quantity_slip_share: float = 0.003  # quantity keyed +10 (price and amount right)
    missing_amount_share: float = 0.003  # price and amount left empty
    n_missing_months: int = 5  # region-months absent from the legacy export
    n_duplicated_months: int = 1  # region-months exported twice under new bill numbers
    market_pass_through: float = 0.9  # share of the market's movement a price change passes on
    # an optional demand drop for monitoring tests: (region, first month 'YYYY-MM', factor on
    # every customer's order rate there from that month on); None = no drop
    injected_drop: tuple[str, str, float] | None = None
    elasticity: dict[str, float] = field(default_factory=lambda: dict(TRUE_ELASTICITY))

    @classmethod
    def for_size(cls, size: str, seed: int = 20240601) -> SampleParams:
        """Parameters for a named size ('default', 'small', 'tiny')."""
        if size not in SIZES:
            raise ValueError(f"unknown sample size {size!r}; choose one of {sorted(SIZES)}")
        return cls(seed=seed, size=size, **SIZES[size])


@dataclass
class Sample:
    """Raw files (name -> DataFrame as delivered) and the truth (name -> DataFrame, params)."""

    raw: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    params: SampleParams


MONTH_STARTS = pd.date_range(START, periods=N_MONTHS + 1, freq="MS")


def dates_in_month(rng: np.random.Generator, month: np.ndarray) -> pd.DatetimeIndex:
    """A uniformly random day inside each month index (0 = 2022-01); month may be negative."""
    month = np.asarray(month, dtype=int)
    first = (START.to_period("M") + 0).ordinal + month  # period ordinals
    starts = pd.PeriodIndex.from_ordinals(first, freq="M").to_timestamp()
    days = pd.PeriodIndex.from_ordinals(first, freq="M").days_in_month.to_numpy()
    offset = np.floor(rng.random(month.size) * days).astype(int)
    return starts + pd.to_timedelta(offset, unit="D")


def pick(rng: np.random.Generator, options: list[str], n: int, p: list[float] | None = None):
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
