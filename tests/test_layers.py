"""The package's layers (README "Layout"): a module imports only from its own layer or the
layers above it, so the statistics never depend on wording, pages or the runner."""

import ast
import json
from pathlib import Path

import pytest

from helpers import io

LAYERS = {
    "base": ["words", "vocabulary", "io", "engines", "contract", "stats", "configs", "frames",
             "progress"],
    "cleaning": ["sources", "cleaning", "history", "sample"],
    "statistics": ["activity", "behaviour", "attitude", "retention", "churn", "price", "pricing",
                   "discounts", "regression", "scorecard", "monitoring", "dashboard",
                   "value_models", "value_intervals", "snapshots", "interventions",
                   "intervention_outcomes", "survey_incentives", "regional_change", "pls",
                   "drivers", "stages"],
    "presentation": ["i18n", "catalog", "labels", "story", "display", "plots", "capabilities",
                     "tiles", "pages"],
    "running": ["publishing", "operations", "schedule", "kernels", "run", "bench"],
}
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}
PACKAGE = io.PACKAGE_ROOT / "src" / "helpers"


def _top_module(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported(path: Path) -> set[str]:
    """The helpers modules ``path`` imports (``helpers.x``, ``from helpers import x``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "helpers" and len(parts) > 1:
                found.add(parts[1])
            elif node.module == "helpers":
                found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names
                      if a.name.startswith("helpers.")}
    return found


def test_every_module_has_a_layer():
    modules = {_top_module(p) for p in PACKAGE.rglob("*.py")} - {"__init__", "__main__"}
    assert sorted(modules - set(RANK)) == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(
    p.relative_to(PACKAGE)))
def test_modules_import_only_from_their_layer_or_above(path):
    importer = _top_module(path)
    if importer not in RANK:
        return
    below = sorted(m for m in _imported(path) - {importer}
                   if m in RANK and RANK[m] > RANK[importer])
    assert below == [], f"{importer} ({_layer(importer)}) imports {below} from a lower layer"


def _layer(module: str) -> str:
    return next(name for name, modules in LAYERS.items() if module in modules)


# what a notebook cell may not hold: logic belongs in helpers (README "How we write code")
LOGIC = (ast.If, ast.For, ast.While, ast.IfExp, ast.comprehension, ast.Lambda, ast.BoolOp,
         ast.Compare, ast.BinOp, ast.FunctionDef, ast.ClassDef, ast.Try, ast.With)


@pytest.mark.parametrize("path", sorted((io.PACKAGE_ROOT / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.stem)
def test_notebook_cells_only_call_helpers_and_show_results(path):
    """No loop, conditional or inline computation in a notebook: cells read tables, call a
    stage or helper, and display its result (the parameters cell only sets values)."""
    found = []
    for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if cell["cell_type"] != "code" or "parameters" in cell["metadata"].get("tags", []):
            continue
        code = "\n".join(line for line in "".join(cell["source"]).splitlines()
                         if not line.lstrip().startswith(("%", "!")))
        found += [f"cell {number}, line {node.lineno}: {type(node).__name__}"
                  for node in ast.walk(ast.parse(code)) if isinstance(node, LOGIC)]
    assert found == []


def test_no_module_is_longer_than_about_400_lines():
    """A module holds one idea; a longer one is split at its seams (issue 14)."""
    long = {str(path.relative_to(PACKAGE)): lines for path in PACKAGE.rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}
