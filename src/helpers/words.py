"""``N_``: marks a text that a table stores (a rule, reason, detail or label) for translation.

The modules that write such tables (cleaning, history repair) mark their words with it and stay
free of the presentation layer; ``helpers.i18n`` translates the marked words (and the filled-in
templates) where a page shows the table, from the catalog ``helpers.catalog`` extracts.
"""


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """``message`` unchanged: the mark tells the catalog to translate it where it is shown."""
    return message
