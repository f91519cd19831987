"""The built-in sample: a deterministic, messy raw dataset with known ground truth.

The reference company is a multi-region retailer of antiques and collectibles. A latent loyalty
score per customer (standard normal, ``loyalty_z``) drives how often they buy, whether they answer
surveys and how they score, whether they refer friends, follow the shop and attend events, how
often they complain and when they churn. Regions differ in their true price elasticity: a
product's share of a region's purchases moves with its real price (regional list price deflated by
the market price index of its category) to the power of that region's elasticity.

Raw files are written the way a company would deliver them (``configs/sources/builtin.yaml``, the
mapping the cleaning reads them with, names each file, its encoding and separator):
current-system orders (CSV, UTF-8), a legacy export of older orders (other column names, amounts in
fen, day-first dates, ``;`` separated, GBK-encoded Chinese labels), duplicated rows, junk rows,
messy region/city/channel spellings, price changes, a market index, survey invitations and answers
(low, loyalty-biased response; some reversed-scale answers), referrals, engagement events and
complaints with free-form labels.

The legacy history is also partly wrong and incomplete, as in the business's own history: its
dates are invoice dates (the day after the order), about 8% of customers appear under an old
member number (with a CRM migration table to map them), some values were keyed in wrong (amounts
x100 in the wrong unit, impossible years, an amount with an extra digit, a wrong quantity), some
lines lost their price and amount, one region-month was exported twice under new bill numbers, and
a few region-months are missing altogether. ``injected_defects`` in the truth lists every one
with its true and delivered value.

The truth (parameters, per-customer latent values, which rows were injected as defects, the true
labels behind messy ones) goes to a separate folder that notebooks never read; only tests do.

Usage: ``python -m helpers.sample --size small --raw-dir data/raw --truth-dir data/truth``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import pandas as pd

from helpers import configs, io, sources
from helpers.sample.simulate import generate
from helpers.sample.world import (
    CATEGORIES,
    CATEGORY_CN,
    CUTOVER,
    N_MONTHS,
    REGION_CN,
    REGIONS,
    SIZES,
    START,
    TRUE_ELASTICITY,
    Sample,
    SampleParams,
)

__all__ = ["CATEGORIES", "CATEGORY_CN", "CUTOVER", "N_MONTHS", "REGIONS", "REGION_CN", "SIZES",
           "START", "TRUE_ELASTICITY", "Sample", "SampleParams", "generate", "main",
           "reads_own_data", "write_sample"]


def write_sample(raw_dir: str | Path, truth_dir: str | Path, *, size: str = "default",
                 seed: int = 20240601, progress=None,
                 injected_drop: tuple[str, str, float] | None = None) -> dict[str, Path]:
    """Generate the sample and write raw files into an empty raw_dir and truth into truth_dir.

    Args:
        raw_dir: folder for the raw files; must be empty or absent (data/raw is never overwritten).
        truth_dir: folder for the ground truth (parquet + truth.json); replaced if present.
        size: 'default' (~20,000 customers), 'small' (~900) or 'tiny' (~150, unit tests).
        seed: random seed; the same seed and size give byte-identical raw files.
        progress: optional callable taking a message, for terminal progress.
        injected_drop: (region, 'YYYY-MM', factor): every customer of the region orders at
            ``factor`` times their rate from that month on (to test the monitoring alerts).

    Returns:
        Mapping of raw source name to the path written.

    Raises:
        FileExistsError: raw_dir already holds files.
    """
    say = progress or (lambda message: None)
    raw_dir, truth_dir = Path(raw_dir), Path(truth_dir)
    existing = [p for p in raw_dir.glob("*") if not p.name.startswith(".")] if raw_dir.exists() \
        else []
    if existing:
        raise FileExistsError(
            f"{raw_dir} already holds {len(existing)} file(s) (e.g. {existing[0].name}); "
            "the sample is only written into an empty folder, raw data is never overwritten")
    params = dataclasses.replace(SampleParams.for_size(size, seed), injected_drop=injected_drop)
    say(f"simulating {params.n_customers:,} customers ({size}, seed {seed}) ...")
    sample = generate(params)
    raw_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    mapping = sources.load_mapping(sources.BUILTIN_MAPPING)
    for name in list(sample.raw):
        frame = sample.raw.pop(name)  # written, then let go
        spec = mapping.part(name).spec
        path = raw_dir / spec["file"]
        # straight to the file: the whole text of a 10M-line export is never held in memory
        frame.to_csv(path, index=False, sep=spec.get("sep", ","), lineterminator="\n",
                     encoding=spec.get("encoding", "utf-8"))
        written[name] = path
        say(f"  wrote {path} ({len(frame):,} rows)")
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in sample.truth.items():
        frame.to_parquet(truth_dir / f"{name}.parquet", index=False)
    meta = {k: v for k, v in params.__dict__.items()}
    meta.update(start=str(START.date()), n_months=N_MONTHS, cutover=str(CUTOVER.date()),
                regions=REGIONS, categories=CATEGORIES)
    (truth_dir / "truth.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    say(f"  wrote ground truth to {truth_dir}")
    return written


def reads_own_data(config_path: str | Path) -> str:
    """Why a run configuration does not need the built-in sample ('' when it does): its
    cleaning step reads another raw folder or goes through a source mapping."""
    cleaning = configs.notebook_block(configs.load_config(io.resolve(config_path)),
                                      "01_cleaning")
    raw_dir = cleaning.get("raw_dir", "data/raw")
    if not sources.is_builtin(cleaning.get("source_mapping", "")):
        return f"maps its own sources ({cleaning['source_mapping']})"
    if io.resolve(raw_dir).resolve() != io.resolve("data/raw").resolve():
        return f"reads {raw_dir}, not data/raw"
    return ""


def main(argv: list[str] | None = None) -> int:
    """CLI: write the built-in sample into an empty raw folder."""
    parser = argparse.ArgumentParser(prog="python -m helpers.sample", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--size", default="default", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--raw-dir", default=str(io.resolve("data/raw")))
    parser.add_argument("--truth-dir", default=str(io.resolve("data/truth")))
    parser.add_argument("--if-empty", action="store_true",
                        help="do nothing (exit 0) when the raw folder already holds files")
    parser.add_argument("--config", help="a run configuration: do nothing (exit 0) when its "
                        "cleaning step reads other data than data/raw")
    parser.add_argument("--inject-drop", metavar="REGION:YYYY-MM:FACTOR",
                        help="a demand drop to test the monitoring, e.g. Southeast:2025-02:0.6")
    args = parser.parse_args(argv)
    drop = None
    if args.inject_drop:
        try:
            region, month, factor = args.inject_drop.split(":")
            drop = (region, str(pd.Period(month, "M")), float(factor))
        except ValueError:
            parser.error(f"--inject-drop {args.inject_drop!r}: expected REGION:YYYY-MM:FACTOR")
        if region not in REGIONS:
            parser.error(f"--inject-drop: unknown region {region!r}; choose one of {REGIONS}")
    raw_dir = Path(args.raw_dir)
    if args.config and (reason := reads_own_data(args.config)):
        print(f"sample not generated: {args.config} {reason}")
        return 0
    if args.if_empty and raw_dir.exists() and any(not p.name.startswith(".")
                                                  for p in raw_dir.iterdir()):
        print(f"{raw_dir} already holds data; sample not generated")
        return 0
    try:
        write_sample(raw_dir, args.truth_dir, size=args.size, seed=args.seed,
                     progress=lambda m: print(m, flush=True), injected_drop=drop)
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0

