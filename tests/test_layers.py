"""The package's layers (README "Layout"): a module imports only from its own layer or the
layers above it, so the statistics never depend on wording, pages or the runner."""

import ast
from pathlib import Path

import pytest

from helpers import io

LAYERS = {
    "base": ["words", "vocabulary", "io", "contract", "stats", "configs"],
    "cleaning": ["sources", "cleaning", "history", "sample"],
    "statistics": ["behaviour", "attitude", "retention", "churn", "price", "regression",
                   "scorecard", "monitoring", "stages"],
    "presentation": ["i18n", "catalog", "labels", "story", "display", "plots", "capabilities",
                     "pages"],
    "running": ["run"],
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
