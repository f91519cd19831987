"""Each notebook's work as one call: ``stages.<area>.evaluate_<area>(tables..., parameters...)``
takes the contract tables it uses by name and returns a small result object whose fields are
what the page shows (None where the data did not support a part). The notebooks call a stage,
then display its fields."""

import importlib

__all__ = [
    "attitude",
    "behaviour",
    "interventions",
    "price",
    "regression",
    "retention",
    "scorecard",
]


def __getattr__(name: str):
    """A submodule, imported when first used (a notebook pays only for the pages it shows)."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
