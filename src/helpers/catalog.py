"""The translation catalog: extract the texts to translate, update the PO files, check them.

The texts are those marked in the package's modules and in the notebooks' code cells
(``_``, ``ngettext``, ``N_``; see ``helpers.i18n``) and every paragraph of the notebooks'
markdown cells. Babel extracts them (its Python extractor; a small one of ours for notebooks).

    python -m helpers.catalog extract   # write helpers/locale/messages.pot (the template)
    python -m helpers.catalog update    # add new texts to each PO file, mark changed ones fuzzy
    python -m helpers.catalog check     # list missing, fuzzy, unused or mismatched entries

The Makefile has the same as ``make i18n-extract``, ``make i18n-update``, ``make i18n-check``.
Translating: run ``update``, fill in the empty ``msgstr`` lines (and remove the ``fuzzy`` flag of
an entry once its translation fits the new English), then ``check``.
"""

from __future__ import annotations

import argparse
import io as bytes_io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract, extract_python
from babel.messages.pofile import read_po, write_po

from helpers import i18n
from helpers.io import PACKAGE_ROOT

KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
SOURCES = [("src/helpers", "**/*.py"), ("notebooks", "*.ipynb")]
TEMPLATE = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.SOURCE_LANGUAGE]
_FORMATTED_MARK = re.compile(r"\b(?:_|N_|ngettext|pgettext)\(\s*f[\"']")


def extract_notebook(fileobj, keywords, comment_tags, options) -> Iterator[tuple]:
    """Babel extraction method for a Jupyter notebook: each paragraph of every markdown cell,
    and the marked texts of the code cells (Babel's Python extractor). Line numbers count
    cells (cell k -> line 1000 k + line in the cell)."""
    notebook = json.load(fileobj)
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        source = "".join(cell.get("source", []))
        if cell.get("cell_type") == "markdown":
            for paragraph in i18n.paragraphs(source):
                yield 1000 * number, None, paragraph, []
        elif cell.get("cell_type") == "code":
            code = "\n".join(line for line in source.splitlines()
                             if not line.lstrip().startswith(("%", "!")))
            for lineno, funcname, messages, comments in extract_python(
                    bytes_io.BytesIO(code.encode("utf-8")), keywords, comment_tags, options):
                yield 1000 * number + lineno, funcname, messages, comments


def source_files(root: Path = PACKAGE_ROOT) -> list[Path]:
    """The files whose texts are translated."""
    return sorted(path for folder, pattern in SOURCES for path in (root / folder).glob(pattern)
                  if ".ipynb_checkpoints" not in path.parts)


def extract_catalog(root: Path = PACKAGE_ROOT) -> Catalog:
    """Every text to translate, as a Babel catalog (the template). Texts marked with ``N_``
    carry the comment ``DATA_COMMENT``: tables store them filled in, and ``i18n.data_text``
    translates those by their template."""
    catalog = Catalog(project="loyalty-workbook", charset="utf-8", fuzzy=False)
    data_texts = set()
    for path in source_files(root):
        method = extract_notebook if path.suffix == ".ipynb" else "python"
        for keywords, found in ((KEYWORDS, None), ({"N_": None}, data_texts)):
            with path.open("rb") as file:
                for lineno, message, comments, context in extract(method, file,
                                                                  keywords=keywords):
                    if found is not None:
                        found.add(message)
                    else:
                        catalog.add(message, None, [(str(path.relative_to(root)), lineno)],
                                    auto_comments=comments, context=context)
    for message in catalog:
        if message.id in data_texts:
            message.auto_comments = [i18n.DATA_COMMENT]
    return catalog


def read_catalog(language: str) -> Catalog:
    """The PO file of ``language``."""
    with i18n.catalog_path(language).open("rb") as file:
        return read_po(file, locale=language)


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write a PO/POT file: no line numbers (they would change with every edit), entries in
    the order the sources give them; entries no source uses any more are kept at the end as
    obsolete (``#~``), so a translation is never lost by an update (``check`` lists them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.project, catalog.version, catalog.fuzzy = "loyalty-workbook", "", False
    catalog.copyright_holder = catalog.msgid_bugs_address = ""
    catalog.header_comment = ("# Translations of the loyalty workbook's pages. Edit the msgstr "
                              "lines; see helpers/catalog.py.")
    if catalog.locale is not None:
        catalog.last_translator = catalog.language_team = "loyalty workbook developers"
    with path.open("wb") as file:
        write_po(file, catalog, width=100, include_lineno=False, omit_header=False)


def update(root: Path = PACKAGE_ROOT) -> dict[str, int]:
    """Bring every PO file in line with the sources: new texts added untranslated, texts that
    changed carried over from their closest old text and marked fuzzy, vanished ones kept as
    obsolete entries (``check`` fails until they are deleted).
    Returns the number of entries still needing work per language."""
    template = extract_catalog(root)
    needing_work = {}
    for language in TRANSLATED:
        path = i18n.catalog_path(language)
        catalog = read_catalog(language) if path.exists() else Catalog(locale=language)
        catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
        write_catalog(catalog, path)
        needing_work[language] = len(check_catalog(template, read_catalog(language), root))
    i18n.reload_catalogs()
    return needing_work


def _texts(message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def _translations(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [
        message.string]


def check_catalog(template: Catalog, translated: Catalog,
                  root: Path = PACKAGE_ROOT) -> list[str]:
    """What is wrong with one language's catalog against the sources, one line a problem:
    a text without translation, a fuzzy entry, an entry no source uses any more, a
    translation whose placeholders differ from the English, a marked f-string (which the
    extractor cannot see)."""
    problems = []
    wanted = {message.id: message for message in template if message.id}
    have = {message.id: message for message in translated if message.id}
    for key, message in wanted.items():
        where = ", ".join(sorted({file for file, _ in message.locations}))
        entry = have.get(key)
        if entry is None or not all(_translations(entry)):
            problems.append(f"missing: {_texts(message)[0]!r} ({where})")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {_texts(message)[0]!r} ({where})")
        else:
            english = i18n.placeholders(_texts(message)[-1])
            for text in _translations(entry):
                if english is not None and i18n.placeholders(text) != english:
                    problems.append(f"placeholders differ: {_texts(message)[0]!r} has "
                                    f"{sorted(english)}, its translation "
                                    f"{sorted(i18n.placeholders(text) or [])}")
    problems += [f"unused: {_texts(m)[0]!r}" for key, m in have.items() if key not in wanted]
    problems += [f"unused: {_texts(m)[0]!r} (obsolete: delete it, or restore its source text)"
                 for m in translated.obsolete.values()]
    for path in source_files(root):
        text = path.read_text(encoding="utf-8")
        if _FORMATTED_MARK.search(text.replace('\\"', '"')):
            problems.append(f"f-string marked for translation in {path.relative_to(root)}: "
                            "use named placeholders, _('{n} rows', n=...)")
    return problems


def check(root: Path = PACKAGE_ROOT, languages: Iterable[str] = TRANSLATED) -> list[str]:
    """``check_catalog`` for every translated language (problems prefixed with it)."""
    template = extract_catalog(root)
    return [f"{language}: {problem}" for language in languages
            for problem in check_catalog(template, read_catalog(language), root)]


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m helpers.catalog extract|update|check``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.catalog", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["extract", "update", "check"])
    command = parser.parse_args(argv).command
    if command == "extract":
        catalog = extract_catalog()
        write_catalog(catalog, TEMPLATE)
        print(f"{len(catalog)} texts -> {TEMPLATE}")
        return 0
    if command == "update":
        for language, count in update().items():
            print(f"{i18n.catalog_path(language)}: "
                  + (f"{count} entries to translate or review" if count else "complete"))
        return 0
    problems = check()
    print("\n".join(problems) or "catalogs complete: every text translated, none unused")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
