"""Each notebook's work as one call: ``stages.<area>.evaluate_<area>(tables..., parameters...)``
takes the contract tables it uses by name and returns a small result object whose fields are
what the page shows (None where the data did not support a part). The notebooks call a stage,
then display its fields."""

from helpers.stages import (
    attitude,
    behaviour,
    interventions,
    price,
    regression,
    retention,
    scorecard,
)

__all__ = ["attitude", "behaviour", "interventions", "price", "regression", "retention",
           "scorecard"]
