"""What the model reads of a tool result: plain JSON in a delimited data block.

Money is rendered as "USD 1,234.56" and ratios rounded as people see them, so the model reads
the figures as a person would when it chooses its next call; every `<` and `>` in the data is
escaped so a customer name or memo can never close the block and pass as instructions.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from tools.format import round_ratio
from tools.money import format_money, is_currency

HIDDEN_KEYS = frozenset({"customer_pk", "recipient", "slack_channel", "slack_ts", "signals"})
# What the model reads stays the same size however large the ledger: long lists are cut
# here (the tools' totals still cover every row).
MAX_LIST_ITEMS = 15


def _money_or_none(value: Any, currency: str) -> Any:
    return (
        format_money(value, currency) if isinstance(value, int) and is_currency(currency) else value
    )


def _present_dict(value: dict[str, Any], currency: str | None) -> dict[str, Any]:
    cur = value.get("currency") if isinstance(value.get("currency"), str) else currency
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in HIDDEN_KEYS:
            continue
        if key.endswith("_minor") and cur and is_currency(cur):
            name = key.removesuffix("_minor")
            if isinstance(item, int):
                out[name] = format_money(item, cur)
            elif isinstance(item, dict):
                out[name] = {k: _money_or_none(v, cur) for k, v in item.items()}
            else:
                out[name] = item
        elif key.endswith("_by_currency") and isinstance(item, dict):
            out[key] = {c: _money_or_none(v, c) for c, v in item.items()}
        else:
            out[key] = present(item, cur)
    return out


def present(value: Any, currency: str | None = None) -> Any:
    """Plain JSON data with money formatted for people and ratios rounded as shown."""
    if isinstance(value, BaseModel):
        value = {k: getattr(value, k) for k in type(value).model_fields}
    if isinstance(value, dict):
        return _present_dict(value, currency)
    if isinstance(value, list | tuple):
        shown = [present(v, currency) for v in value[:MAX_LIST_ITEMS]]
        if len(value) > MAX_LIST_ITEMS:
            shown.append(f"... and {len(value) - MAX_LIST_ITEMS} more not shown")
        return shown
    if isinstance(value, Decimal):
        return str(round_ratio(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def as_data(tool: str, payload: Any) -> str:
    """The tool result as the model reads it: JSON inside a delimited data block."""
    text = json.dumps(present(payload), ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<data tool="{tool}">{text}</data>'
