"""Customer-loyalty analytics workbook: the logic behind the notebooks.

One module per notebook stage (``cleaning``, ...), plus a small core: ``io`` (paths and files),
``contract`` (the clean tables' schemas), ``stats``, ``plots`` and ``run`` (the report runner).
Importing the package prints nothing and touches no files.
"""

__version__ = "0.1.0"
