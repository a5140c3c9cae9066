"""Words of a question that compares the sources: "does Stripe match QuickBooks?", "reconcile
the books", "are stripe and qbo in balance?". Pure pattern matching."""

from __future__ import annotations

import re

SOURCE_NAMES = {"stripe": "stripe", "quickbooks": "quickbooks", "quickbook": "quickbooks",
                "qbo": "quickbooks", "xero": "xero", "csv": "csv"}  # fmt: skip
_SOURCE = r"\b(" + "|".join(SOURCE_NAMES) + r")\b"
RECONCILE = re.compile(r"(?<!un)\breconcil\w*|\bin balance\b", re.IGNORECASE)
AGREE = re.compile(
    r"\b(match(es)?|agree|differ\w*|discrepanc\w*|the same|line up|tie out)\b", re.IGNORECASE
)


def compared(text: str) -> tuple[bool, list[str] | None]:
    """Whether `text` asks to compare sources, and those it names (two or more), else None for
    every source."""
    named = list(dict.fromkeys(SOURCE_NAMES[m.lower()] for m in re.findall(_SOURCE, text, re.I)))
    if not (RECONCILE.search(text) or (named and AGREE.search(text))):
        return False, None
    return True, named if len(named) >= 2 else None
