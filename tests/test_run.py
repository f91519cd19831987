"""The report runner: parameters, end-to-end run, manifest, HTML, failures."""

import json
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from helpers import configs, io, run
from tests.conftest import make_project, run_cli

DECLARED = {
    "01_cleaning": {"raw_dir": {"inferred_type_name": "str", "default": '"data/raw"'},
                    "clean_dir": {"inferred_type_name": "str", "default": '"data/clean"'}},
    "03_behaviour": {"min_customers": {"inferred_type_name": "int", "default": "30"},
                     "confidence": {"inferred_type_name": "float", "default": "0.95"},
                     "clean_dir": {"inferred_type_name": "str", "default": '"data/clean"'},
                     "start": {"inferred_type_name": "str", "default": '"2022-01-01"'}},
}


# --- parameters ---------------------------------------------------------------------------------
def test_config_blocks_and_overrides_reach_only_declaring_notebooks():
    config = {"01_cleaning": {"raw_dir": "x/raw"}, "03_behaviour": {"confidence": 0.9}}
    out = run.resolve_parameters(config, ["clean_dir=/tmp/c", "03_behaviour.min_customers=50",
                                          "start=2023-01-31"], DECLARED)
    assert out == {
        "01_cleaning": {"raw_dir": "x/raw", "clean_dir": "/tmp/c"},
        "03_behaviour": {"confidence": 0.9, "clean_dir": "/tmp/c", "min_customers": 50,
                         "start": "2023-01-31"},  # YAML date arrives as the ISO string
    }


def test_int_is_accepted_for_float_but_not_the_reverse():
    assert run.resolve_parameters({"03_behaviour": {"confidence": 1}}, [], DECLARED)
    with pytest.raises(run.ParameterError, match="'min_customers' expects int"):
        run.resolve_parameters({}, ["min_customers=2.5"], DECLARED)


def test_all_problems_are_reported_together():
    config = {"01_cleaning": {"raw_dri": "x"}, "09_nothing": {"a": 1}}
    with pytest.raises(run.ParameterError) as error:
        run.resolve_parameters(config, ["confidence=high", "nope=1", "bad"], DECLARED)
    message = str(error.value)
    assert "nothing was run" in message
    assert "01_cleaning: unknown parameter 'raw_dri' (declared: clean_dir, raw_dir)" in message
    assert "config block '09_nothing': no notebook of that name" in message
    assert "'confidence' expects float" in message
    assert "-p nope: no notebook declares a parameter 'nope'" in message
    assert "expected KEY=VALUE" in message


@pytest.mark.parametrize("config_name", ["default.yaml", "online_retail.yaml"])
def test_shipped_configs_match_the_notebooks(config_name):
    notebooks = run.discover_notebooks(io.PACKAGE_ROOT / "notebooks")
    declared = {p.stem: run.declared_parameters(p) for p in notebooks}
    config = configs.load_config(io.PACKAGE_ROOT / "configs" / config_name)
    resolved = run.resolve_parameters(config, [], declared)
    for name, params in declared.items():
        assert set(resolved[name]) == set(params), f"{name}: config block must set every parameter"


def test_online_retail_config_holds_only_what_differs_from_the_default():
    default = configs.load_config(io.PACKAGE_ROOT / "configs" / "default.yaml")
    retail = configs.load_config(io.PACKAGE_ROOT / "configs" / "online_retail.yaml")
    import yaml

    own = yaml.safe_load((io.PACKAGE_ROOT / "configs" / "online_retail.yaml").read_text())
    assert own.pop("extends") == "default.yaml"
    for block, values in own.items():  # every value it sets differs from the default's
        assert all(default[block].get(k) != v for k, v in values.items()), block
    assert retail["common"]["clean_dir"] == "data/clean/online_retail"
    assert retail["common"]["confidence"] == default["common"]["confidence"] == 0.95
    assert retail["05_retention"]["horizon_months"] == 3
    assert retail["05_retention"]["cycle_quantile"] == default["05_retention"]["cycle_quantile"]
    assert retail["common"]["tiers"]["gold"] == {"spend": 2000, "purchases": 5}


def test_common_values_reach_every_declaring_notebook_and_own_blocks_win(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "common: {clean_dir: base/clean, confidence: 0.9}\n"
        "03_behaviour: {min_customers: 10, start: '2020-01-01'}\n")
    (tmp_path / "run.yaml").write_text(
        "extends: base.yaml\ncommon: {clean_dir: mine/clean}\n"
        "03_behaviour: {min_customers: 20}\n01_cleaning: {clean_dir: only/here}\n")
    config = configs.load_config(tmp_path / "run.yaml")
    out = run.resolve_parameters(config, [], DECLARED)
    assert out == {"01_cleaning": {"clean_dir": "only/here"},
                   "03_behaviour": {"clean_dir": "mine/clean", "confidence": 0.9,
                                    "min_customers": 20, "start": "2020-01-01"}}
    with pytest.raises(run.ParameterError, match=r"'common': no notebook declares .*'colour'"):
        run.resolve_parameters({"common": {"colour": "red"}}, [], DECLARED)
    assert run.resolve_parameters({"common": {"colour": "red"}}, [], DECLARED,
                                  strict_common=False) == {"01_cleaning": {}, "03_behaviour": {}}
    (tmp_path / "loop.yaml").write_text("extends: loop.yaml\n")
    with pytest.raises(run.ParameterError, match="goes round in a circle"):
        configs.load_config(tmp_path / "loop.yaml")
    with pytest.raises(run.ParameterError, match="not found"):
        configs.load_config(tmp_path / "missing.yaml")


def test_unknown_parameter_stops_before_anything_runs(raw_dir, tmp_path):
    project = make_project(raw_dir, tmp_path)
    done = run_cli(["-p", "01_cleaning.raw_dri=elsewhere", "-p", "clean_dir=5"], project)
    assert done.returncode == 2
    assert "unknown parameter 'raw_dri'" in done.stderr
    assert "'clean_dir' expects str" in done.stderr
    assert not (project / "reports").exists() and not (project / "data" / "clean").exists()


# --- a real run ---------------------------------------------------------------------------------
def test_run_succeeds_and_shows_progress(report_run):
    done = report_run["result"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\[1/\d\] 01_cleaning \.\.\. ok \(\d+\.\d s\)", done.stdout)
    assert "WARNING" not in done.stderr


def test_run_folder_manifest(report_run):
    run_dir = report_run["run_dir"]
    assert run_dir is not None and run_dir.parent == report_run["project"] / "reports"
    for name in ["index.html", "manifest.json", "01_cleaning.html", "01_cleaning.ipynb"]:
        assert (run_dir / name).is_file(), name
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "success" and manifest["run_id"] == run_dir.name
    assert manifest["parameters"]["01_cleaning"] == {
        "raw_dir": "data/raw", "clean_dir": "data/clean",
        "source_mapping": "configs/sources/builtin.yaml", "report_language": "en"}
    assert manifest["inputs"]["data/raw"] == report_run["raw_before"]
    assert manifest["raw_unchanged"] is True
    assert manifest["packages"]["pandas"].startswith("3.")
    assert manifest["git"]["commit"] is None or re.fullmatch(r"[0-9a-f]{40}",
                                                             manifest["git"]["commit"])
    (nb,) = [n for n in manifest["notebooks"] if n["name"] == "01_cleaning"]
    assert nb["status"] == "ok" and nb["duration_s"] > 0 and nb["html"] == "01_cleaning.html"
    assert "raw rows" in nb["headlines"][0]
    (repair,) = [n for n in manifest["notebooks"] if n["name"] == "02_history_repair"]
    assert repair["status"] == "ok" and "rests on estimates" in repair["headlines"][0]
    assert manifest["parameters"]["02_history_repair"]["interval_level"] == 0.9


def test_raw_data_is_untouched_and_clean_tables_written(report_run):
    project = report_run["project"]
    assert io.file_hashes(project / "data" / "raw") == report_run["raw_before"]
    for table in ["customers", "order_lines_unrepaired", "quality_report", "quarantine",
                  "order_lines", "repair_log", "monthly_sales"]:
        assert (project / "data" / "clean" / f"{table}.parquet").is_file()


@pytest.mark.parametrize("name, parameter", [("01_cleaning", "raw_dir"),
                                             ("02_history_repair", "gap_share"),
                                             ("03_behaviour", "max_segments"),
                                             ("04_attitude", "followup_months"),
                                             ("05_retention", "horizon_months"),
                                             ("06_price_sensitivity", "window_months"),
                                             ("07_regional_regression", "period_grain"),
                                             ("08_scorecard", "alert_z")])
def test_html_has_no_code_no_parameters_and_embeds_its_images(report_run, name, parameter):
    page = (report_run["run_dir"] / f"{name}.html").read_text()
    assert "clean_all(" not in page and "from helpers import" not in page
    assert "repair_history(" not in page
    assert parameter not in page  # neither the parameters cell nor the injected one
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', page)) >= 1
    assert not re.search(r'<(img|script)[^>]+src="https?://', page)
    assert "Traceback" not in page


def test_manager_pages_show_no_customer_ids(report_run):
    for page in report_run["run_dir"].glob("*.html"):
        assert not re.search(r"\bC\d{6}\b", page.read_text()), page.name
    assert (report_run["project"] / "data" / "clean" / "churn_risk.parquet").is_file()


@pytest.mark.parametrize("name", ["01_cleaning", "02_history_repair", "03_behaviour",
                                  "04_attitude", "05_retention", "06_price_sensitivity",
                                  "07_regional_regression", "08_scorecard",
                                  "09_interventions"])
def test_executed_notebook_printed_no_warnings(report_run, name):
    notebook = nbformat.read(report_run["run_dir"] / f"{name}.ipynb", as_version=4)
    streams = [o for c in notebook.cells for o in c.get("outputs", [])
               if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert streams == []


# --- failure ------------------------------------------------------------------------------------
def _notebook(path, source: str) -> None:
    cell = new_code_cell("message: str = 'x'")
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[cell, new_code_cell(source)], metadata={
        "kernelspec": {"name": "loyalty", "display_name": "Python (loyalty workbook)",
                       "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.write(nb, path)


def test_failing_notebook_is_rendered_and_the_run_fails(raw_dir, tmp_path, monkeypatch):
    project = make_project(raw_dir, tmp_path / "project")
    monkeypatch.setenv("LOYALTY_PROJECT_DIR", str(project))
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "01_fine.ipynb", "print(message)")
    _notebook(notebooks / "02_broken.ipynb", "raise ValueError('deliberate failure: ' + message)")
    _notebook(notebooks / "03_after.ipynb", "print('never')")
    reports = project / "reports"
    code, good = run.run_chain(config_path=None, overrides=[], notebooks_dir=notebooks,
                               reports_dir=reports, only=["01_fine"], log=lambda *a, **k: None)
    assert code == 0 and (reports / "latest").resolve() == good

    code, bad = run.run_chain(config_path=None, overrides=["02_broken.message=boom"],
                              notebooks_dir=notebooks, reports_dir=reports,
                              log=lambda *a, **k: None)
    assert code == 1
    manifest = json.loads((bad / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert [n["status"] for n in manifest["notebooks"]] == ["ok", "failed", "not run"]
    assert "ValueError: deliberate failure: boom" in manifest["notebooks"][1]["error"]
    page = (bad / "02_broken.html").read_text()
    assert "deliberate failure: boom" in page
    assert not (bad / "03_after.html").exists()
    index = (bad / "index.html").read_text()
    assert "FAILED" in index and "02_broken failed" in index
    assert (reports / "latest").resolve() == good  # latest still points at the good run


def _raw_notebook(path, source: str) -> None:
    cell = new_code_cell('raw_dir: str = "data/raw"')
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[cell, new_code_cell(source)], metadata={
        "kernelspec": {"name": "loyalty", "display_name": "Python (loyalty workbook)",
                       "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.write(nb, path)


@pytest.mark.parametrize(("action", "fails"), [
    ("path.write_bytes(path.read_bytes() + b'1')", True),  # content changed: caught
    ("os.utime(path, (1, 1))", False),  # only its time changed: hashed again, same bytes
])
def test_a_notebook_writing_into_raw_fails_the_run(raw_dir, tmp_path, monkeypatch, action,
                                                   fails):
    project = make_project(raw_dir, tmp_path / "project")
    monkeypatch.setenv("LOYALTY_PROJECT_DIR", str(project))
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _raw_notebook(notebooks / "01_writer.ipynb", "import os, pathlib\n"
                  "path = sorted(pathlib.Path(raw_dir).glob('*.csv'))[0]\n" + action)
    code, run_dir = run.run_chain(config_path=None, overrides=["raw_dir=data/raw"],
                                  notebooks_dir=notebooks, reports_dir=project / "reports",
                                  log=lambda *a, **k: None)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert (code == 1) is fails and manifest["raw_unchanged"] is not fails
    if fails:
        assert "raw input files were modified" in manifest["notebooks"][0]["error"]


def test_a_later_notebook_runs_on_a_kernel_warmed_while_the_first_ran(raw_dir, tmp_path,
                                                                      monkeypatch):
    import psutil

    project = make_project(raw_dir, tmp_path / "project")
    monkeypatch.setenv("LOYALTY_PROJECT_DIR", str(project))
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "01_first.ipynb", "import time\ntime.sleep(3)\nprint('first', message)")
    _notebook(notebooks / "02_second.ipynb", "import os\nprint('second', message, "
                                             "os.environ['LOYALTY_PROGRESS'].endswith("
                                             "'02_second.jsonl'))")
    code, run_dir = run.run_chain(config_path=None, overrides=["02_second.message=warm"],
                                  notebooks_dir=notebooks, reports_dir=project / "reports",
                                  log=lambda *a, **k: None)
    assert code == 0
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [n["warm_kernel"] for n in manifest["notebooks"]] == [False, True]
    executed = nbformat.read(run_dir / "02_second.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert printed == "second warm True\n"  # its parameters and its own progress file
    kernels = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(child.cmdline()):
                kernels.append(child)
        except psutil.NoSuchProcess:  # ended meanwhile, or a zombie of an earlier test's
            continue  # process (a Spark JVM, a browser): not a running kernel
    assert kernels == []  # every kernel, warm or not, was shut down
