"""Column operations that stay fast at tens of millions of rows.

pandas 3 keeps text in Arrow-backed ``str`` columns. Two everyday calls are slow on them at
scale: ``Series.isin`` turns every value it is given into a Python object before it looks
anything up (seconds for a set of 600,000 customer ids), and ``Series.map`` with a Python
function calls it once per row, although a column of ten million rows holds only a few hundred
distinct spellings. These do the same work once per distinct value, or in Arrow.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _is_arrow_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def _arrow(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The Arrow array behind an Arrow-backed column (no copy)."""
    return pa.array(values.array)


def text_set(values: Collection[Any] | pd.Series | pd.Index) -> pa.Array:
    """The distinct present values of ``values`` as an Arrow text array (for ``isin``; build
    it once when many columns are checked against one set)."""
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, (pd.Series, pd.Index)) and _is_arrow_text(pd.Series(values[:0])):
        array = pa.array(values.array)
    else:
        array = pa.array(pd.Series(list(values), dtype="object").dropna().astype("str").array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return pc.unique(pc.drop_null(array)).cast(pa.large_string())


def isin(values: pd.Series, allowed: Collection[Any] | pd.Series | pd.Index | pa.Array
         ) -> pd.Series:
    """``values.isin(allowed)`` (missing values are never in it), computed by Arrow for a text
    column: the allowed values become one Arrow array (``text_set``) instead of one Python
    object each."""
    if not _is_arrow_text(values):
        return values.isin(allowed.to_pylist() if isinstance(allowed, pa.Array) else allowed)
    array = _arrow(values)
    found = pc.fill_null(pc.is_in(array, value_set=text_set(allowed).cast(array.type)), False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index,
                     name=values.name)


def map_unique(values: pd.Series, function: Callable[[Any], Any],
               dtype: str | None = "str") -> pd.Series:
    """``values.map(function)`` with ``function`` called once per distinct value (missing
    values stay missing and are not passed to it), as ``dtype`` (None: as the results come)."""
    if not _is_arrow_text(values):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        lookup = np.array([*(function(value) for value in uniques), None], dtype="object")
        mapped = pd.Series(lookup[np.where(codes < 0, len(uniques), codes)],
                           index=values.index, name=values.name)
        return mapped.astype(dtype) if dtype is not None else mapped.infer_objects()
    array = _arrow(values)
    distinct = pc.drop_null(pc.unique(array))
    results = pa.array([function(value) for value in distinct.to_pylist()], from_pandas=True)
    mapped = results.take(pc.index_in(array, value_set=distinct))
    if dtype == "str":
        return pd.Series(pd.array(mapped.cast(pa.large_string()), dtype="str"),
                         index=values.index, name=values.name)
    series = pd.Series(mapped.to_pandas(), index=values.index, name=values.name)
    return series.astype(dtype) if dtype is not None else series


def trailing_number(values: pd.Series) -> pd.Series:
    """The whole number a text ends in ('L512345' -> 512345, 'SO0001234' -> 1234), NaN where
    it ends in none (float then, else int64), computed by Arrow."""
    if not _is_arrow_text(values):
        return pd.to_numeric(values.astype("str").str.extract(r"(\d+)$")[0], errors="coerce")
    digits = pc.struct_field(pc.extract_regex(_arrow(values), r"(?P<number>\d+)$"), [0])
    numbers = pd.Series(pc.cast(digits, pa.float64()).to_numpy(zero_copy_only=False),
                        index=values.index, name=values.name)
    return numbers if numbers.isna().any() else numbers.astype("int64")


def threads() -> int:
    """Threads an engine in this process may use: the kernel's share of the cores the runner
    set (``OMP_NUM_THREADS``, ``schedule.kernel_threads``), else every core."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas, text as the ``str`` dtype pandas reads parquet with."""
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    return table.to_pandas(types_mapper=lambda kind: text if kind in (
        pa.string(), pa.large_string(), pa.string_view()) else None)


def sql(query: str, **tables: pd.DataFrame) -> pd.DataFrame:
    """``query`` (DuckDB SQL) over the named DataFrames, as pandas.

    A group-by over ten million order lines with text keys is several times faster in DuckDB
    than in pandas, which factorises the text keys for every aggregation and turns large
    results into Python-backed columns slowly; the result comes back through Arrow. DuckDB
    uses ``threads()`` threads. Sum money as whole millionths (``money_sum``) to get exact
    sums in any order."""
    import duckdb

    with duckdb.connect() as connection:
        connection.execute(f"SET threads TO {threads()}")
        for name, frame in tables.items():
            connection.register(name, frame)
        table = connection.sql(query).to_arrow_table()
    return arrow_to_pandas(table)


DUPLICATES_BY_SQL_ROWS = 100_000  # from this many rows ``duplicated`` asks DuckDB


def duplicated(frame: pd.DataFrame, sql_from_rows: int = DUPLICATES_BY_SQL_ROWS) -> pd.Series:
    """``frame.duplicated(keep="first")``: True for a row identical in every column to an
    earlier row (missing values equal each other). pandas factorises every column and then
    their combinations (11 s for 6.6 million raw lines of 12 text columns); from
    ``sql_from_rows`` rows DuckDB groups them instead (4 s), keeping each group's first row."""
    if len(frame) < sql_from_rows or not len(frame.columns):
        return frame.duplicated(keep="first")
    import duckdb

    keys = ", ".join('"' + str(column).replace('"', '""') + '"' for column in frame.columns)
    numbered = frame.set_axis([str(c) for c in frame.columns], axis=1).assign(
        __position=np.arange(len(frame)))
    with duckdb.connect() as connection:
        connection.execute(f"SET threads TO {threads()}")
        connection.register("numbered", numbered)
        firsts = connection.sql(f"SELECT min(__position) FROM numbered GROUP BY {keys}"
                                ).fetchnumpy()
    repeated = np.ones(len(frame), dtype=bool)
    repeated[next(iter(firsts.values()))] = False
    return pd.Series(repeated, index=frame.index)


def money_sum(column: str, where: str | None = None) -> str:
    """SQL for the exact sum of a money column (summed in millionths, 0 without values);
    ``where`` filters the rows summed."""
    condition = f" FILTER (WHERE {where})" if where else ""
    return (f"coalesce(sum(round({column} * 1e6)::HUGEINT){condition}, 0)::DOUBLE / 1e6")
