"""The benchmark (``make bench``): the chain's speed and memory at several sample sizes.

``python -m helpers.bench --sizes default 1m 10m`` generates each sample into its own project
folder under ``reports/bench/work/``, runs the whole chain there (``python -m helpers.run``)
and measures, from outside, the wall time and peak memory (resident set of the process and its
children) of the generator, of the whole run and of each notebook (its kernel), and beside
them the core per-customer aggregation (frequency, recency, T, monetary value) three ways in one
process: the workbook's ``engines.customer_summary`` (its Ibis expression on DuckDB), a plain
pandas groupby, and hand-written DuckDB SQL over the clean parquet (the yardsticks). It prints
a table and writes ``reports/bench/bench.csv``, ``bench.json`` and ``bench.png``. A benchmark,
not a test: timings on a shared 2-core machine are noisy, so compare them as ratios within one
run; CI runs only the tiny size to keep it working.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers import io
from helpers.sample.world import SIZES

GIB = 1024 ** 3


@dataclass
class Measured:
    """Wall time and peak memory of one process tree."""

    seconds: float
    peak_bytes: int
    returncode: int
    kernels: list[int] = field(default_factory=list)  # peak bytes of each kernel, in order


def _tree_rss(root) -> tuple[int, dict[int, int]]:
    """Resident bytes of ``root`` and its descendants, and of each kernel among them."""
    import psutil

    total, kernels = 0, {}
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, {}
    for process in processes:
        try:
            rss = process.memory_info().rss
            total += rss
            if "ipykernel_launcher" in " ".join(process.cmdline()):
                kernels[process.pid] = rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total, kernels


def measure(command: list[str], env: dict[str, str], log_path: Path,
            interval_s: float = 0.2) -> Measured:
    """Run ``command`` (output to ``log_path``), sampling the memory of its process tree every
    ``interval_s`` seconds."""
    import psutil

    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        root = psutil.Process(process.pid)
        peak, kernel_peaks, order = 0, {}, []
        while process.poll() is None:
            total, kernels = _tree_rss(root)
            peak = max(peak, total)
            for pid, rss in kernels.items():
                if pid not in kernel_peaks:
                    order.append(pid)
                kernel_peaks[pid] = max(kernel_peaks.get(pid, 0), rss)
            time.sleep(interval_s)
    return Measured(round(time.monotonic() - started, 2), peak, process.returncode,
                    [kernel_peaks[pid] for pid in order])


def pandas_summary(order_lines_path: Path) -> pd.DataFrame:
    """Per customer: frequency (purchase days after the first), recency and T (weeks) and net
    sales, by a plain pandas groupby over the parquet (the benchmark's yardstick)."""
    lines = pd.read_parquet(order_lines_path, columns=["customer_id", "order_date", "amount",
                                                       "is_return"])
    end = lines["order_date"].max() + pd.Timedelta(days=1)
    sales = lines[~lines["is_return"]]
    daily = sales.groupby(["customer_id", "order_date"], as_index=False)["amount"].sum()
    per = daily.groupby("customer_id").agg(first=("order_date", "min"),
                                           last=("order_date", "max"),
                                           days=("order_date", "size"),
                                           spend=("amount", "sum"))
    return pd.DataFrame({"frequency": per["days"] - 1,
                         "recency": (per["last"] - per["first"]).dt.days / 7,
                         "T": (end - per["first"]).dt.days / 7, "spend": per["spend"]})


def duckdb_summary(order_lines_path: Path) -> pd.DataFrame:
    """``pandas_summary`` by DuckDB SQL over the parquet."""
    import duckdb

    with duckdb.connect() as connection:
        frame = connection.execute(f"""
            WITH lines AS (SELECT * FROM read_parquet('{order_lines_path}')),
                 ends AS (SELECT max(order_date) + INTERVAL 1 DAY AS end_day FROM lines),
                 daily AS (SELECT customer_id, order_date, sum(amount) AS amount FROM lines
                           WHERE NOT is_return GROUP BY customer_id, order_date)
            SELECT customer_id, count(*) - 1 AS frequency,
                   date_diff('day', min(order_date), max(order_date)) / 7.0 AS recency,
                   date_diff('day', min(order_date), any_value(end_day)) / 7.0 AS "T",
                   sum(amount) AS spend
            FROM daily, ends GROUP BY customer_id""").fetchdf()
    return frame.set_index("customer_id").sort_index()


def yardsticks(order_lines_path: Path) -> dict[str, float]:
    """Seconds for the per-customer aggregation: the workbook's (``engines.customer_summary``
    on its default engine, as notebook 03 does), ``pandas_summary``, ``duckdb_summary``; their
    libraries imported before the clock starts."""
    import duckdb  # noqa: F401  (imports before the clock: the notebooks' are counted apart)
    import ibis.backends.duckdb  # noqa: F401

    from helpers import engines

    timings = {}
    for key, compute in [("workbook_s", lambda path: engines.customer_summary(path.parent)),
                         ("pandas_s", pandas_summary), ("duckdb_s", duckdb_summary)]:
        t0 = time.monotonic()
        compute(order_lines_path)
        timings[key] = round(time.monotonic() - t0, 3)
    return timings


def _cells_seconds(executed: Path) -> float:
    """Seconds the notebook's cells ran (papermill's timings): its duration less this is the
    kernel's start and shutdown."""
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    return round(sum(float(c.metadata.get("papermill", {}).get("duration") or 0)
                     for c in notebook.cells), 2)


def import_seconds(notebook: Path, env: dict[str, str], repeats: int = 3) -> float:
    """Seconds a fresh interpreter spends on ``notebook``'s imports (its own start taken
    off): the part of a kernel's start the workbook's code decides. Best of ``repeats``."""
    def best(script: str) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.monotonic()
            subprocess.run([sys.executable, "-c", script], env=env, check=True)
            times.append(time.monotonic() - t0)
        return min(times)

    from helpers.kernels import import_lines

    return round(max(best(import_lines(notebook)) - best("pass"), 0.0), 2)


def compute_span(executed: Path, imports_s: float = 0.0) -> tuple[float, float]:
    """When an executed notebook computed, in seconds since the epoch: from its first cell's
    start, plus ``imports_s`` (its imports, done inside that cell unless its kernel was warmed
    ahead), to its last cell's end (papermill's cell timestamps)."""
    import nbformat

    times = [(c.metadata["papermill"]["start_time"], c.metadata["papermill"]["end_time"])
             for c in nbformat.read(executed, as_version=4).cells
             if c.metadata.get("papermill", {}).get("start_time")
             and c.metadata["papermill"].get("end_time")]
    if not times:
        return 0.0, 0.0
    start = pd.Timestamp(min(t for t, _ in times)).timestamp() + imports_s
    end = pd.Timestamp(max(t for _, t in times)).timestamp()
    return start, max(start, end)


def union_seconds(spans: list[tuple[float, float]]) -> float:
    """The length of the union of [start, end] spans (overlaps count once)."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return round(total, 2)


def busy_seconds(notebooks: list[dict]) -> float:
    """Seconds during which at least one notebook was executing (the union of the manifest's
    [started_s, started_s + duration_s] spans: notebooks run side by side count once)."""
    return union_seconds([((nb.get("started_s") or 0.0),
                           (nb.get("started_s") or 0.0) + (nb["duration_s"] or 0.0))
                          for nb in notebooks])


def bench_size(size: str, work: Path, log=print) -> dict:
    """Generate the ``size`` sample into ``work/<size>`` and run and measure the chain there."""
    project = work / size
    shutil.rmtree(project, ignore_errors=True)
    (project / "logs").mkdir(parents=True)
    env = {**os.environ, "LOYALTY_PROJECT_DIR": str(project)}
    log(f"[{size}] generating the sample ...")
    generator = measure([sys.executable, "-m", "helpers.sample", "--size", size, "--raw-dir",
                         str(project / "data" / "raw"), "--truth-dir",
                         str(project / "data" / "truth")], env, project / "logs" / "sample.log")
    if generator.returncode != 0:
        raise RuntimeError(f"the {size} sample failed: see {project / 'logs' / 'sample.log'}")
    log(f"[{size}] running the chain ...")
    chain = measure([sys.executable, "-m", "helpers.run", "--run-id", "bench"], env,
                    project / "logs" / "run.log")
    manifest = json.loads((project / "reports" / "bench" / "manifest.json").read_text())
    if chain.returncode != 0:
        raise RuntimeError(f"the {size} run failed: see {project / 'logs' / 'run.log'}")
    clean = project / "data" / "clean"
    lines = pd.read_parquet(clean / "order_lines.parquet", columns=["customer_id"])
    notebooks = [nb for nb in manifest["notebooks"] if nb["status"] == "ok"]
    # the kernels appeared in the order the notebooks started (side by side: not chain order)
    started = sorted(notebooks, key=lambda nb: nb.get("started_s") or 0.0)
    peak_of = dict(zip([nb["name"] for nb in started], chain.kernels, strict=False))
    kernel_peaks = [peak_of.get(nb["name"], 0) for nb in notebooks]
    result = {
        "size": size, "order_lines": len(lines), "customers": int(lines["customer_id"].nunique()),
        "generator_s": generator.seconds, "generator_peak_gib": generator.peak_bytes / GIB,
        "chain_s": chain.seconds, "chain_peak_gib": chain.peak_bytes / GIB,
        "notebooks_s": round(sum(nb["duration_s"] or 0 for nb in manifest["notebooks"]), 2),
        "notebooks_wall_s": busy_seconds(notebooks),
        "notebooks": [{"name": nb["name"], "seconds": nb["duration_s"],
                       "cells_s": _cells_seconds(project / "reports" / "bench" / nb["ipynb"]),
                       "imports_s": import_seconds(io.PACKAGE_ROOT / "notebooks"
                                                   / f"{nb['name']}.ipynb", env),
                       "warm_kernel": bool(nb.get("warm_kernel")),
                       "kernel_peak_gib": peak / GIB}
                      for nb, peak in zip(notebooks, kernel_peaks, strict=False)],
        **yardsticks(clean / "order_lines.parquet")}
    result["computing_s"] = union_seconds([  # the wall time some notebook was computing
        compute_span(project / "reports" / "bench" / raw["ipynb"],
                     0.0 if shown["warm_kernel"] else shown["imports_s"])
        for raw, shown in zip(notebooks, result["notebooks"], strict=True)])
    log(f"[{size}] {result['order_lines']:,} lines: chain {result['chain_s']:.0f} s, peak "
        f"{result['chain_peak_gib']:.2f} GiB")
    return result


def overhead_share(result: dict) -> float:
    """The share of the run's wall time in which no notebook was computing: kernels starting
    and stopping, imports, rendering and the checks between notebooks, as far as they were not
    done while another notebook computed (kernels warmed ahead of their turn are not)."""
    if not result.get("chain_s"):
        return float("nan")
    return round(1 - result.get("computing_s", 0.0) / result["chain_s"], 3)


def table(results: list[dict]) -> pd.DataFrame:
    """One row per size and notebook (and 'whole run', 'generator', the yardsticks)."""
    rows = []
    for result in results:
        base = {"size": result["size"], "order_lines": result["order_lines"]}
        rows.append({**base, "step": "generator", "seconds": result["generator_s"],
                     "peak_gib": result["generator_peak_gib"]})
        rows += [{**base, "step": nb["name"], "seconds": nb["seconds"],
                  "peak_gib": nb["kernel_peak_gib"]} for nb in result["notebooks"]]
        rows.append({**base, "step": "whole run", "seconds": result["chain_s"],
                     "peak_gib": result["chain_peak_gib"]})
        notebooks = result["notebooks"]
        rows.append({**base, "step": "kernel start and stop",
                     "seconds": round(sum((nb["seconds"] or 0) - nb["cells_s"]
                                          for nb in notebooks), 2), "peak_gib": float("nan")})
        rows.append({**base, "step": "imports (inside the first cells)",
                     "seconds": round(sum(nb.get("imports_s", 0.0) for nb in notebooks), 2),
                     "peak_gib": float("nan")})
        rows.append({**base, "step": "rendering and checks between notebooks",
                     "seconds": round(result["chain_s"] - result["notebooks_wall_s"], 2),
                     "peak_gib": float("nan")})
        rows.append({**base, "step": "wall time without computing (share)",
                     "seconds": overhead_share(result), "peak_gib": float("nan")})
        for key, name in [("workbook_s", "per-customer summary: workbook"),
                          ("pandas_s", "per-customer summary: plain pandas"),
                          ("duckdb_s", "per-customer summary: DuckDB")]:
            rows.append({**base, "step": name, "seconds": result[key],
                         "peak_gib": float("nan")})
    return pd.DataFrame(rows)


def chart(results: list[dict], path: Path) -> None:
    """Seconds per notebook (stacked) for each size, and the yardsticks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (steps, yard) = plt.subplots(1, 2, figsize=(11, 4.2))
    names = [nb["name"] for nb in results[0]["notebooks"]]
    labels = [f"{r['size']}\n{r['order_lines'] / 1e6:.2f}M lines" for r in results]
    bottom = [0.0] * len(results)
    for name in names:
        heights = [next((nb["seconds"] or 0 for nb in r["notebooks"] if nb["name"] == name), 0)
                   for r in results]
        steps.bar(labels, heights, bottom=bottom, label=name)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    steps.bar(labels, [r["chain_s"] - b for r, b in zip(results, bottom, strict=True)],
              bottom=bottom, label="overhead", color="#cccccc")
    steps.set_ylabel("seconds")
    steps.set_title("whole run, by notebook")
    steps.legend(fontsize=7)
    width = 0.25
    for k, (key, name) in enumerate([("workbook_s", "workbook"), ("pandas_s", "pandas"),
                                     ("duckdb_s", "DuckDB")]):
        yard.bar([x + k * width for x in range(len(results))], [r[key] for r in results],
                 width, label=name)
    yard.set_xticks([x + width for x in range(len(results))], labels)
    yard.set_title("per-customer summary")
    yard.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m helpers.bench --sizes default 1m``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.bench", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["default", "1m", "10m"],
                        choices=sorted(SIZES), help="sample sizes to run (in order)")
    parser.add_argument("--out", default=str(io.resolve("reports/bench")),
                        help="where the table, the chart and the work folders go")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        try:
            results.append(bench_size(size, out / "work"))
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    frame = table(results)
    frame.to_csv(out / "bench.csv", index=False)
    (out / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results, out / "bench.png")
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(frame.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    print(f"wrote {out / 'bench.csv'}, {out / 'bench.json'} and {out / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

