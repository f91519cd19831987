"""Which notebook waits for which, and running them as soon as they can (the runner's order).

A notebook needs the notebooks whose tables it reads: the table names its code cells give
``io.read_clean`` and ``io.read_clean_tables``, each mapped to the notebook that writes it
(``io.PRODUCED_BY``; every other clean table comes from 01). So the chain is a graph, not a
line: after 02 the behaviour, regional and interventions notebooks, and after 03 the attitude
and retention ones, need nothing of each other and run side by side; the scorecard waits for
all of them. ``run_graph`` starts a
notebook when everything it needs has finished, up to ``parallel`` at a time (the runner's
``parallel`` setting), the lowest-numbered ready one first.
"""

from __future__ import annotations

import ast
import concurrent.futures as futures
import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat

from helpers import io, operations

NOTEBOOK_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
READERS = ("read_clean", "read_clean_tables")
# the thread pools of numerical libraries a kernel starts (one per core by default)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS")
FIRST = "01_cleaning"  # writes every clean table io.PRODUCED_BY does not name


def discover_notebooks(notebooks_dir: Path) -> list[Path]:
    """Notebooks named ``NN_name.ipynb`` in run order."""
    return sorted(p for p in notebooks_dir.glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))


def declared_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its ``parameters`` cell (papermill's inspection):
    name -> {inferred_type_name, default, help}."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def tables_read(notebook: Path) -> set[str]:
    """The clean tables ``notebook``'s code cells read: the string arguments of its calls of
    ``io.read_clean`` / ``io.read_clean_tables``."""
    found: set[str] = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in READERS):
                found |= {arg.value for arg in node.args
                          if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return found


def notebook_needs(notebooks: list[Path]) -> dict[str, set[str]]:
    """Per notebook (by stem), the notebooks of this list whose tables it reads. A producer
    that is not in the list (a run of some notebooks only) is not waited for: the clean
    folder's tables of an earlier run stand in for it. A notebook that reads no clean table
    through ``io`` (one of your own that reads files itself) waits for every notebook before
    it, as in a chain."""
    names = {path.stem for path in notebooks}
    needs = {}
    for k, path in enumerate(notebooks):
        tables = tables_read(path)
        if not tables:
            needs[path.stem] = {earlier.stem for earlier in notebooks[:k]}
            continue
        producers = {io.PRODUCED_BY.get(table, FIRST) for table in tables}
        needs[path.stem] = (producers & names) - {path.stem}
    return needs


@contextlib.contextmanager
def kernel_threads(parallel: int):
    """Inside the block, kernels started get ``cores // parallel`` threads each for their
    numerical libraries (at least one), unless the environment already sets them: two kernels
    that each take every core slow each other down more than running side by side gains
    (default sample on 2 cores: 159 s against 134 s one by one; with one thread each, 100 s).
    One notebook at a time keeps the libraries' own default. Yields the variables it set
    (``whole_machine`` gives them back at every core, for a notebook that ``runs_alone``)."""
    share = str(max(1, (os.cpu_count() or 1) // max(1, parallel)))
    added = [name for name in THREAD_VARIABLES if name not in os.environ] if parallel > 1 else []
    os.environ.update(dict.fromkeys(added, share))
    try:
        yield added
    finally:
        for name in added:
            os.environ.pop(name, None)


def runs_alone(needs: dict[str, set[str]]) -> set[str]:
    """The names no other name can run beside: every other one comes before it (it needs it,
    through others too) or after it. In the chain, cleaning and the history repair."""
    before: dict[str, set[str]] = {}

    def ancestors(name: str) -> set[str]:
        if name not in before:
            before[name] = set()
            for need in needs.get(name, set()):
                before[name] |= {need, *ancestors(need)}
        return before[name]

    return {name for name in needs
            if all(other == name or other in ancestors(name) or name in ancestors(other)
                   for other in needs)}


def whole_machine(variables: list[str]) -> dict[str, str]:
    """The thread ``variables`` that ``kernel_threads`` set, at every core: a notebook that
    ``runs_alone`` shares the machine with no other (DuckDB's duplicate search and group-bys
    in cleaning and the history repair use both cores of a small machine)."""
    return dict.fromkeys(variables, str(os.cpu_count() or 1))


def _stop_kernels() -> None:
    """Terminate the Jupyter kernels this process started (a run being interrupted while
    notebooks execute in worker threads, where the kernel client cannot catch the signal)."""
    import psutil

    kernels = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(child.cmdline()):
                child.terminate()
                kernels.append(child)
        except psutil.Error:
            continue
    _gone, alive = psutil.wait_procs(kernels, timeout=5)
    for child in alive:
        child.kill()


def run_graph(names: list[str], needs: dict[str, set[str]], run_one: Callable[..., bool],
              parallel: int = 2, prepare: Callable[[str], bool] | None = None,
              release_early: bool = False) -> None:
    """Call ``run_one(name)`` for every name once each name it ``needs`` has finished, at most
    ``parallel`` at a time (worker threads), the ready name earliest in ``names`` first.
    ``run_one`` returns False for a failure: then nothing new starts and the running ones
    finish. ``prepare(name)`` (when given) is called for a waiting name once everything it
    needs has started, until it returns True (the runner warms its kernel:
    ``kernels.WarmKernels``), and only while fewer than ``parallel`` names run: a warm-up uses
    a core the running notebooks leave idle, and notebooks computing side by side get no
    extra kernel's memory beside them. With ``release_early``, ``run_one(name, release)`` may
    call ``release()`` once what the others need of it exists (the runner: its tables are
    written, its page not yet rendered): the names waiting for it start then and its slot is
    free while it finishes. ``operations.Interrupted`` (SIGTERM, SIGINT) stops the kernels,
    waits for the running ones and is raised again, its ``running`` attribute naming them."""
    done: set[str] = set()
    released: set[str] = set()  # running, but what others need of it is there
    waiting = list(names)
    prepared: set[str] = set()
    failed = False
    slots = max(1, parallel)
    with futures.ThreadPoolExecutor(max_workers=2 * slots,
                                    thread_name_prefix="notebook") as pool:
        running: dict[futures.Future, str] = {}
        try:
            while waiting or running:
                available = done | released
                ready = [n for n in waiting if needs.get(n, set()) <= available]
                busy = [n for n in running.values() if n not in released]
                while not failed and ready and len(busy) < slots:
                    name = ready.pop(0)
                    waiting.remove(name)
                    arguments = (name, lambda name=name: released.add(name)) \
                        if release_early else (name,)
                    running[pool.submit(run_one, *arguments)] = name
                    busy.append(name)
                if not running:
                    break  # after a failure, or names whose needs never finish
                started = done | set(running.values())
                for name in waiting:
                    if (prepare is not None and not failed and name not in prepared
                            and len(busy) < slots
                            and needs.get(name, set()) <= started and prepare(name)):
                        prepared.add(name)
                finished, _pending = futures.wait(running, timeout=0.05 if release_early
                                                  else 0.5, return_when=futures.FIRST_COMPLETED)
                for future in finished:
                    done.add(running.pop(future))
                    if not future.result():
                        failed = True
        except operations.Interrupted as stop:
            stop.running = sorted(running.values())
            _stop_kernels()
            futures.wait(running)
            raise
