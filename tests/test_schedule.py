"""The chain as a graph: which notebook waits for which (read from the notebooks themselves), and
the scheduler that runs the ready ones side by side."""

import threading
import time

import pytest

from helpers import configs, io, schedule
from helpers.configs import ParameterError

NOTEBOOKS = schedule.discover_notebooks(io.PACKAGE_ROOT / "notebooks")


def test_each_notebook_waits_for_the_notebooks_whose_tables_it_reads():
    needs = schedule.notebook_needs(NOTEBOOKS)
    assert needs["01_cleaning"] == set()
    assert needs["02_history_repair"] == {"01_cleaning"}
    # the interventions and the regional regression need only the repaired history
    assert needs["09_interventions"] == needs["07_regional_regression"] == {
        "01_cleaning", "02_history_repair"}
    assert needs["06_price_sensitivity"] >= {"04_attitude", "05_retention"}  # scores, risk
    assert needs["08_scorecard"] == {p.stem for p in NOTEBOOKS} - {"08_scorecard",
                                                                  "09_interventions"}
    # a run of some notebooks waits only for those in it
    some = [p for p in NOTEBOOKS if p.stem in ("03_behaviour", "08_scorecard")]
    assert schedule.notebook_needs(some) == {"03_behaviour": set(),
                                             "08_scorecard": {"03_behaviour"}}


def test_only_notebooks_no_other_can_run_beside_get_the_whole_machine(monkeypatch):
    needs = schedule.notebook_needs(NOTEBOOKS)
    # everything after 02 needs it (through others too); 08 and 09 may run side by side
    assert schedule.runs_alone(needs) == {"01_cleaning", "02_history_repair"}
    assert schedule.runs_alone({"a": set(), "b": {"a"}, "c": {"b"}, "d": {"a"}}) == {"a"}
    assert schedule.runs_alone({"a": set(), "b": {"a"}, "c": {"b"}}) == {"a", "b", "c"}
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert schedule.whole_machine(["OMP_NUM_THREADS"]) == {"OMP_NUM_THREADS": "4"}
    assert schedule.whole_machine([]) == {}  # the user's own settings are left alone


def test_a_notebook_that_reads_no_clean_table_waits_for_every_one_before_it(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    for name, source in (("01_raw", "x = 1"), ("02_own", "import pandas as pd"),
                         ("03_reads", "io.read_clean_tables(clean_dir, 'customers')")):
        nbformat.write(new_notebook(cells=[new_code_cell(source)]), tmp_path / f"{name}.ipynb")
    found = schedule.notebook_needs(schedule.discover_notebooks(tmp_path))
    assert found == {"01_raw": set(), "02_own": {"01_raw"}, "03_reads": set()}  # 01_cleaning


def test_a_notebook_starts_only_after_what_it_needs_and_two_run_side_by_side():
    needs = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
    both = threading.Barrier(2, timeout=10)  # b and c must be running at the same time
    events: list[tuple[str, str]] = []

    def run_one(name: str) -> bool:
        events.append(("start", name))
        if name in ("b", "c"):
            both.wait()
        time.sleep(0.05)
        events.append(("end", name))
        return True

    schedule.run_graph(list(needs), needs, run_one, parallel=2)
    order = list(events)
    for name, required in needs.items():
        for other in required:
            assert order.index(("end", other)) < order.index(("start", name)), (name, other)
    assert {n for kind, n in events if kind == "end"} == set(needs)


def test_one_at_a_time_keeps_the_chain_order_and_a_failure_starts_nothing_new():
    started: list[str] = []

    def run_one(name: str) -> bool:
        started.append(name)
        return name != "b"

    names = ["a", "b", "c", "d"]
    schedule.run_graph(names, {n: set() for n in names}, run_one, parallel=1)
    assert started == ["a", "b"]  # c and d never start after b failed
    started.clear()
    schedule.run_graph(names, {"a": set(), "b": {"a"}, "c": set(), "d": set()},
                       lambda n: started.append(n) or True, parallel=1)
    assert started == names


def test_a_released_notebook_lets_the_next_start_while_it_finishes_and_frees_its_slot():
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run_one(name: str, release) -> bool:
        with lock:
            events.append(("start", name))
        time.sleep(0.1)
        if name != "c":
            release()  # tables written; the page still renders
            with lock:
                events.append(("released", name))
        time.sleep(0.4)
        with lock:
            events.append(("end", name))
        return True

    needs = {"a": set(), "b": {"a"}, "c": set(), "d": {"c"}}
    schedule.run_graph(list(needs), needs, run_one, parallel=1, release_early=True)
    # b starts after a released, before a ended; with one slot, c waits for b's release
    assert events.index(("released", "a")) < events.index(("start", "b")) \
        < events.index(("end", "a"))
    assert events.index(("released", "b")) < events.index(("start", "c"))
    # c never releases: d starts only once c has ended
    assert events.index(("end", "c")) < events.index(("start", "d"))
    assert {n for kind, n in events if kind == "end"} == set(needs)


def _record(events: list, lock, seconds: dict):
    def prepare(name: str) -> bool:
        with lock:
            events.append(("prepare", name))
        return True

    def run_one(name: str) -> bool:
        with lock:
            events.append(("start", name))
        time.sleep(seconds.get(name, 0.2))
        with lock:
            events.append(("end", name))
        return True

    return prepare, run_one


def test_a_notebook_is_prepared_while_a_core_is_idle_once_its_inputs_run():
    events: list[tuple[str, str]] = []
    # a runs alone and b waits for it: b's kernel is prepared while a runs
    needs = {"a": set(), "b": {"a"}, "c": {"b"}}
    prepare, run_one = _record(events, threading.Lock(), {"a": 0.6})
    schedule.run_graph(list(needs), needs, run_one, parallel=2, prepare=prepare)
    prepared = [name for kind, name in events if kind == "prepare"]
    assert "a" not in prepared and "b" in prepared and len(prepared) == len(set(prepared))
    for name in prepared:
        assert events.index(("prepare", name)) < events.index(("start", name))
    assert {n for kind, n in events if kind == "end"} == set(needs)
    # x and y take both cores; z waits for x: no kernel is prepared beside two running ones
    events.clear()
    needs = {"x": set(), "y": set(), "z": {"x"}}
    prepare, run_one = _record(events, threading.Lock(), {"x": 0.4, "y": 1.0})
    schedule.run_graph(list(needs), needs, run_one, parallel=2, prepare=prepare)
    assert [name for kind, name in events if kind == "prepare"] == []
    assert {n for kind, n in events if kind == "end"} == set(needs)


def test_the_parallel_setting_is_checked():
    assert configs.runner_settings({})["parallel"] == 2
    assert configs.runner_settings({"runner": {"parallel": 1}})["parallel"] == 1
    for wrong in (0, 1.5, True, "two"):
        with pytest.raises(ParameterError, match="parallel expects a whole number"):
            configs.runner_settings({"runner": {"parallel": wrong}})


def test_kernels_side_by_side_share_the_cores_and_a_users_setting_wins(monkeypatch):
    import os

    for name in schedule.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    with schedule.kernel_threads(2) as shared:
        assert os.environ["OMP_NUM_THREADS"] == os.environ["OPENBLAS_NUM_THREADS"] == "2"
        assert os.environ["MKL_NUM_THREADS"] == "3"
        assert "MKL_NUM_THREADS" not in shared and "OMP_NUM_THREADS" in shared
    assert "OMP_NUM_THREADS" not in os.environ and os.environ["MKL_NUM_THREADS"] == "3"
    with schedule.kernel_threads(1):  # one at a time: the libraries' own default
        assert "OMP_NUM_THREADS" not in os.environ
