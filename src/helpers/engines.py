"""The heavy per-customer aggregations as Ibis expressions, run where the data are.

The BG/NBD and Gamma-Gamma inputs (``behaviour.rfm_summary``: frequency, recency, T, monetary
value, spend days) are a two-level group-by over every order line, and the customers' totals
behind RFM and the behavioural features (``behaviour.customer_totals``) another: the parts of
notebook 03 that grow with the order lines, while the model fits grow only with the customers.
Each is one expression (``summary_expression``, ``totals_expression``) over the clean
``order_lines`` parquet, executed by

* ``duckdb`` (the default): embedded, in the notebook's process, reading only the four columns
  it needs from the parquet instead of the whole table into pandas;
* ``spark``: Apache Spark through PySpark, ``spark_master`` ``local[N]`` on this machine, a
  cluster's master URL (``spark://host:7077``, ``yarn``) or a Spark Connect URL
  (``sc://host:15002``). The parquet path must then be readable by the cluster (shared storage).

Both engines compute the same integers (day numbers, line counts, sums in millionths of the
currency unit) and the weeks and means are formed from them here in pandas, so the two agree
exactly; ``tests/test_engines.py`` checks that on local Spark, and that both give
``behaviour.rfm_summary``'s numbers and a hand-computed case's totals.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from helpers import io

ENGINES = ("duckdb", "spark")
MICROS = 1_000_000  # money is summed in millionths, as integers: exact in any engine and order
SECONDS_PER_DAY = 86_400
COLUMNS = ["customer_id", "order_date", "amount", "is_return"]


@contextlib.contextmanager
def _libraries_deprecations_silenced() -> Iterator[None]:
    """Ibis 12 and PySpark 4.0 call APIs that DuckDB 2 and pandas 3 deprecate (warnings raised
    inside those libraries, about their own code, that would otherwise print into the page);
    every other warning still shows."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                module=r"(ibis|pyspark)(\.|$)")
        yield


def engine_problem(engine: str, spark_master: str = "") -> str | None:
    """What is wrong with ``engine`` and ``spark_master`` (None: nothing): an engine the
    workbook does not know, or Spark without a master to run on."""
    if engine not in ENGINES:
        return f"engine {engine!r} is not one of {', '.join(ENGINES)}"
    if engine == "spark" and not str(spark_master or "").strip():
        return ("engine 'spark' needs spark_master: local[2] on this machine, "
                "spark://host:7077 (or yarn) for a cluster, sc://host:15002 for Spark Connect")
    return None


def check_engine(engine: str, spark_master: str = "") -> None:
    """``engine_problem`` as a ValueError."""
    problem = engine_problem(engine, spark_master)
    if problem:
        raise ValueError(problem)


@contextlib.contextmanager
def _process_output_to(path: Path) -> Iterator[None]:
    """File descriptors 1 and 2 of this process pointed at ``path`` for the duration: a JVM
    started inside inherits them, so its log lines go to that file instead of into the page
    (Jupyter shows whatever the kernel's descriptors receive)."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for descriptor in saved:
            os.close(descriptor)


def spark_log_path() -> Path:
    """Where the Spark JVM of this process writes its log (the system's temporary folder)."""
    return Path(tempfile.gettempdir()) / f"loyalty-spark-{os.getpid()}.log"


def spark_session(spark_master: str = "local[2]"):
    """A Spark session for ``spark_master`` (``sc://`` URLs through Spark Connect), in UTC so
    timestamps become the same day numbers as in DuckDB; the web UI is off in local mode and
    the JVM's log goes to ``spark_log_path()``, not into the page."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("loyalty-workbook")
    if spark_master.startswith("sc://"):
        builder = builder.remote(spark_master)
    else:
        builder = builder.master(spark_master).config("spark.ui.enabled", "false").config(
            "spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "8")
    with _process_output_to(spark_log_path()):
        session = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    if not spark_master.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    return session


def connect(engine: str = "duckdb", spark_master: str = "", spark=None):
    """An Ibis connection to ``engine`` (a given Spark ``spark`` session is reused)."""
    import ibis

    check_engine(engine, spark_master or ("local" if spark is not None else ""))
    if engine == "duckdb":
        return ibis.duckdb.connect()
    return ibis.pyspark.connect(spark if spark is not None else spark_session(spark_master))


def summary_expression(lines, end: pd.Timestamp | None = None):
    """Per customer, in whole numbers: ``first_day`` and ``last_day`` (days since 1970 with a
    sale line), ``purchase_days``, and over the repeat days whose net value is positive
    ``repeat_micros`` (their net sales in millionths) and ``spend_days`` (how many). Lines at
    or after ``end`` are left out (``None``: none). ``lines`` is an Ibis table with
    ``customer_id``, ``order_date``, ``amount`` and ``is_return``; as in ``rfm_summary`` a day
    is a purchase when it has a sale line, whatever its value."""
    import ibis

    if end is not None:
        lines = lines.filter(lines.order_date < ibis.literal(pd.Timestamp(end).to_pydatetime()))
    day = (lines.order_date.epoch_seconds() // SECONDS_PER_DAY).cast("int64")
    lines = lines.mutate(day=day, micros=(lines.amount * MICROS).round().cast("int64"),
                         sale=~lines.is_return)
    daily = lines.group_by(["customer_id", "day"]).aggregate(
        micros=lines.micros.sum(), sale=lines.sale.any())
    daily = daily.filter(daily.sale)
    per = daily.group_by("customer_id").aggregate(
        first_day=daily.day.min(), last_day=daily.day.max(), purchase_days=daily.count())
    with_first = daily.join(per.select("customer_id", "first_day"), "customer_id")
    repeat = with_first.filter((with_first.day > with_first.first_day)
                               & (with_first.micros > 0))
    repeat = repeat.group_by("customer_id").aggregate(
        repeat_micros=repeat.micros.sum(), spend_days=repeat.count())
    joined = per.left_join(repeat, "customer_id")
    return joined.select(
        "customer_id", "first_day", "last_day", "purchase_days",
        repeat_micros=ibis.coalesce(joined.repeat_micros, 0),
        spend_days=ibis.coalesce(joined.spend_days, 0))


def _calibration_end(connection, lines, calibration_end: pd.Timestamp | None) -> pd.Timestamp:
    """``calibration_end``, or by default a day after the last order line (``rfm_summary``'s)."""
    if calibration_end is not None:
        return pd.Timestamp(calibration_end)
    last = connection.to_pyarrow(lines.order_date.max()).as_py()
    return pd.Timestamp(last) + pd.Timedelta(days=1)


def _clean_order_lines(clean_dir: str | Path, columns: list[str], engine: str,
                       spark_master: str, connection=None):
    """The open ``connection`` (or a new one to ``engine``) and an Ibis table of ``columns``
    of the clean ``order_lines.parquet`` in ``clean_dir``; the engine and the file are checked
    before any engine starts."""
    check_engine(engine, spark_master or ("local" if connection is not None else ""))
    path = io.resolve(clean_dir) / "order_lines.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run notebook {io.PRODUCED_BY['order_lines']}"
                                " first")
    connection = connection if connection is not None else connect(engine, spark_master)
    return connection, connection.read_parquet(str(path)).select(*columns)


def customer_summary(clean_dir: str | Path, engine: str = "duckdb",
                     spark_master: str = "", calibration_end: pd.Timestamp | None = None,
                     unit_days: float = 7.0, connection=None) -> pd.DataFrame:
    """``behaviour.rfm_summary`` of the clean order lines in ``clean_dir``
    (``order_lines.parquet``), computed by ``engine`` (``connection``: an open Ibis connection
    to reuse). Same columns and index (customer_id, sorted); monetary values are means of sums
    taken in millionths, so they may differ from pandas' float sums in the twelfth digit."""
    with _libraries_deprecations_silenced():
        connection, lines = _clean_order_lines(clean_dir, COLUMNS, engine, spark_master,
                                               connection)
        end = _calibration_end(connection, lines, calibration_end)
        aggregates = connection.to_pyarrow(summary_expression(lines, end)).to_pandas()
    return finish_summary(aggregates, end, unit_days)


def finish_summary(aggregates: pd.DataFrame, end: pd.Timestamp,
                   unit_days: float = 7.0) -> pd.DataFrame:
    """The whole-number aggregates of ``summary_expression`` as ``rfm_summary``'s table, T
    counted in whole days to ``end``."""
    end_day = (pd.Timestamp(end) - pd.Timestamp(0)).days  # whole days, as rfm_summary's
    table = aggregates.astype({"customer_id": "str"}).set_index("customer_id").sort_index()
    first = table["first_day"].astype("int64")
    spend_days = table["spend_days"].astype("int64")
    repeat = table["repeat_micros"].astype("int64") / MICROS
    summary = pd.DataFrame({
        "frequency": table["purchase_days"].astype("int64") - 1,
        "recency": (table["last_day"].astype("int64") - first) / unit_days,
        "T": (end_day - first) / unit_days,
        "monetary_value": (repeat / spend_days.where(spend_days > 0)).fillna(0.0),
        "spend_days": spend_days.astype(int),
    })
    summary.index.name = "customer_id"
    return summary


# ----------------------------------------------------------------------------------------------
# per-customer totals (RFM and the behavioural features of notebook 03)
TOTAL_COLUMNS = ["customer_id", "order_id", "order_date", "category", "amount", "is_return"]


def totals_expression(lines):
    """Per customer with a sale line, in whole numbers: ``first_day`` and ``last_day`` of a
    sale line (days since 1970), ``purchases`` (distinct orders with a sale line),
    ``sale_lines``, ``categories`` (bought), ``sale_micros`` (their value) and ``micros`` (net
    of returns) in millionths, ``returned_lines``. ``lines``: an Ibis table with
    ``TOTAL_COLUMNS``."""
    lines = lines.mutate(day=(lines.order_date.epoch_seconds() // SECONDS_PER_DAY).cast("int64"),
                         micros=(lines.amount * MICROS).round().cast("int64"),
                         sale=~lines.is_return)
    lines = lines.filter(lines.customer_id.notnull())
    per = lines.group_by("customer_id").aggregate(
        first_day=lines.day.min(where=lines.sale), last_day=lines.day.max(where=lines.sale),
        purchases=lines.order_id.nunique(where=lines.sale),
        sale_lines=lines.count(where=lines.sale),
        categories=lines.category.nunique(where=lines.sale),
        sale_micros=lines.micros.sum(where=lines.sale), micros=lines.micros.sum(),
        returned_lines=lines.count(where=lines.is_return))
    return per.filter(per.sale_lines > 0)


def finish_totals(aggregates: pd.DataFrame) -> pd.DataFrame:
    """The whole numbers of ``totals_expression`` as ``behaviour.customer_totals``' table:
    dates, counts and money, indexed by customer_id (sorted)."""
    table = aggregates.astype({"customer_id": "str"}).set_index("customer_id").sort_index()
    day = lambda column: (pd.Timestamp(0) + pd.to_timedelta(  # noqa: E731
        table[column].astype("int64"), unit="D")).astype("datetime64[us]")
    count = lambda column: table[column].astype("int64")  # noqa: E731
    return pd.DataFrame({
        "first_sale": day("first_day"), "last_sale": day("last_day"),
        "purchases": count("purchases"), "sale_lines": count("sale_lines"),
        "categories": count("categories"),
        "sale_spend": table["sale_micros"].astype("int64") / MICROS,
        "spend": table["micros"].astype("int64") / MICROS,
        "returned_lines": count("returned_lines")}, index=table.index)


def customer_totals(clean_dir: str | Path | None = None, engine: str = "duckdb",
                    spark_master: str = "", connection=None,
                    order_lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """``totals_expression`` of the clean order lines in ``clean_dir`` computed by ``engine``
    (as ``customer_summary``), or of ``order_lines`` already in memory (embedded DuckDB): one
    expression either way. Money is summed in millionths, so DuckDB and Spark agree exactly."""
    import ibis

    with _libraries_deprecations_silenced():
        if order_lines is not None:
            connection = connection if connection is not None else connect("duckdb")
            lines = ibis.memtable(order_lines[TOTAL_COLUMNS])
        else:
            connection, lines = _clean_order_lines(clean_dir, TOTAL_COLUMNS, engine,
                                                   spark_master, connection)
        aggregates = connection.to_pyarrow(totals_expression(lines)).to_pandas()
    return finish_totals(aggregates)
