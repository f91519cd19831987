"""The words of the pages: each notebook's findings as sentences in the report language.

The statistics modules (``helpers.behaviour``, ``helpers.retention``, ...) return numbers and
tables; the functions here turn them into the sentences a manager reads, through the one
translation mechanism (``helpers.i18n``). One module per statistics module, same name.
"""

import importlib

__all__ = [
    "attitude",
    "behaviour",
    "cleaning",
    "drivers",
    "history",
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
