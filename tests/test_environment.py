"""Set-up files agree with each other, and notebooks are committed the way the house style wants."""

import re
from importlib import metadata

import nbformat
import pytest
import yaml

from helpers import io

ROOT = io.PACKAGE_ROOT
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)$")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"requirements.txt: '{line}' is not an exact pin (name==version)"
        pins[_canonical(match[1])] = match[2]
    return pins


def test_environment_yml_lists_the_same_pins_as_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    (pip_block,) = [d for d in deps if isinstance(d, dict)]
    conda_pins = {}
    for line in pip_block["pip"]:
        match = PIN.match(line)
        assert match, f"environment.yml: '{line}' is not an exact pin"
        conda_pins[_canonical(match[1])] = match[2]
    assert conda_pins == _requirements()


def test_requirements_pin_the_stack_and_every_direct_dependency():
    pins = _requirements()
    assert pins["pandas"].startswith("3.")
    for name in ["statsmodels", "seaborn", "papermill", "nbconvert", "nbval", "pandera", "pyarrow",
                 "jupyterlab", "ipykernel", "pytest", "ruff"]:
        assert name in pins, f"{name} is not pinned in requirements.txt"
    pyproject = (ROOT / "pyproject.toml").read_text()
    import tomllib

    project = tomllib.loads(pyproject)["project"]
    direct = project["dependencies"] + project["optional-dependencies"]["dev"]
    for requirement in direct:
        name = _canonical(re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0])
        assert name in pins, f"pyproject.toml needs {name}, requirements.txt does not pin it"


def test_the_venv_holds_exactly_the_pinned_versions():
    mismatched = {}
    for name, version in _requirements().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            mismatched[name] = (version, installed)
    assert mismatched == {}, "pinned vs installed; run 'make setup' or 'make lock'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean_with_parameters_first(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "loyalty"
    assert notebook.metadata["language_info"]["name"] == "python"
    first = notebook.cells[0]
    assert first.cell_type == "code" and "parameters" in first.metadata.get("tags", [])
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs"
    assert any("headline" in c.metadata.get("tags", []) for c in notebook.cells), \
        f"{path.name}: no cell tagged 'headline' for the report index"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_sees_every_parameter_the_cell_assigns(path):
    """papermill silently skips a parameter line it cannot parse (e.g. '=' in a comment)."""
    import ast

    from helpers import run

    source = nbformat.read(path, as_version=4).cells[0].source
    assigned = {node.target.id for node in ast.parse(source).body
                if isinstance(node, ast.AnnAssign)}
    assert assigned and set(run.declared_parameters(path)) == assigned


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"
