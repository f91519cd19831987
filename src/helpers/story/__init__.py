"""The words of the pages: each notebook's findings as sentences in the report language.

The statistics modules (``helpers.behaviour``, ``helpers.retention``, ...) return numbers and
tables; the functions here turn them into the sentences a manager reads, through the one
translation mechanism (``helpers.i18n``). One module per statistics module, same name.
"""

from helpers.story import (
    attitude,
    behaviour,
    cleaning,
    drivers,
    history,
    interventions,
    price,
    regression,
    retention,
    scorecard,
)

__all__ = ["attitude", "behaviour", "cleaning", "drivers", "history", "interventions", "price",
           "regression",
           "retention", "scorecard"]
