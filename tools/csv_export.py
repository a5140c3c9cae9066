"""Every CSV arbot hands to a person is written here, so none can carry a live formula.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and some also after a leading
tab or carriage return) as a formula: a customer named `=HYPERLINK("http://x","x")` would
become a link in the controller's spreadsheet. Such a text cell is written with a leading `'`,
which spreadsheets show as text. A number stays a number: an int, a Decimal, or text that is
exactly a decimal number (an amount as `format_major` writes it, `-12.50`) is not prefixed,
since a plain number cannot run anything.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

Cell = str | int | Decimal | date | None

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: Cell) -> str:
    """The text a cell is written as: numbers as they are, formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_bytes(rows: Iterable[Sequence[Cell]]) -> bytes:
    """The rows (the header first) as UTF-8 CSV, every cell through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue().encode("utf-8")
