"""``python -m helpers.sample``: write the built-in sample into an empty raw folder."""

import sys

from helpers.sample import main

sys.exit(main())
