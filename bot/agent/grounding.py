"""Every figure in an answer must be one a tool returned in the same turn.

A "figure" is an amount or a ratio: a number with decimals, thousands separators, a percent
sign, a currency code or symbol, or of 100 and more. Small bare integers ("top 5", "3
invoices", "30 days") and dates are not checked: they are counts and labels, and checking
them would reject good answers without catching wrong money. A figure passes when it equals
a tool number, or that number rounded to the figure's own decimals ("USD 111,925" for
111,924.53; "39.6" for 39.60).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

_DATES = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")
_NUMBER = re.compile(
    r"(?P<cur>\b[A-Z]{3}\s?|[$€£¥]\s?)?"
    r"(?<![\w.\-/])(?P<num>-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?)"
    r"(?![\w-])(?P<pct>\s?%)?"
)
_DATA = re.compile(r'<data tool="(?P<tool>[^"]+)">(?P<json>.*?)</data>', re.S)


@dataclass(frozen=True)
class Figure:
    text: str
    value: Decimal
    places: int
    checked: bool


def figures(text: str) -> list[Figure]:
    out = []
    for m in _NUMBER.finditer(_DATES.sub(" ", text)):
        raw = m.group("num")
        try:
            value = Decimal(raw.replace(",", ""))
        except InvalidOperation:
            continue
        places = len(raw.split(".")[1]) if "." in raw else 0
        is_year = places == 0 and "," not in raw and 1900 <= value <= 2100
        checked = bool(
            places
            or "," in raw
            or m.group("pct")
            or m.group("cur")
            or (abs(value) >= 100 and not is_year)
        )
        out.append(Figure(m.group(0).strip(), value, places, checked))
    return out


def numbers_in(texts: list[str]) -> set[Decimal]:
    return {f.value for t in texts for f in figures(t)}


def _matches(fig: Figure, known: set[Decimal]) -> bool:
    if fig.value in known or -fig.value in known:
        return True
    quantum = Decimal(1).scaleb(-fig.places)
    return any(
        abs(k).quantize(quantum, rounding=ROUND_HALF_UP) == abs(fig.value)
        for k in known
        if abs(k) < Decimal(10) ** 15
    )


def unsupported(answer: str, sources: list[str]) -> list[str]:
    """The figures of `answer` that no source text contains (empty list: grounded)."""
    known = numbers_in(sources)
    return [f.text for f in figures(answer) if f.checked and not _matches(f, known)]


# --- the tools' own rendering, used when the model cannot be trusted with the figures ---------


def parse_data(tool_text: str) -> tuple[str, Any] | None:
    m = _DATA.search(tool_text)
    if m is None:
        return None
    try:
        return m.group("tool"), json.loads(m.group("json"))
    except json.JSONDecodeError:
        return None


def _scalar(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_scalar(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return f"{len(value)} rows"
    return str(value)


def render_data(tool: str, data: Any, max_rows: int = 10) -> str:
    """Plain text lines straight from a tool's data: every figure is the tool's own."""
    lines = [f"*{tool.replace('_', ' ')}*"]
    if not isinstance(data, dict):
        return "\n".join([*lines, str(data)])
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{key.replace('_', ' ')}:")
            for row in value[:max_rows]:
                simple = {k: v for k, v in row.items() if not isinstance(v, list | dict)}
                nested = {k: v for k, v in row.items() if isinstance(v, dict)}
                parts = [f"{k.replace('_', ' ')} {v}" for k, v in simple.items() if v is not None]
                parts += [f"{k.replace('_', ' ')} {_scalar(v)}" for k, v in nested.items() if v]
                lines.append("• " + "; ".join(parts))
            if len(value) > max_rows:
                lines.append(f"… and {len(value) - max_rows} more")
        elif value is not None and value != [] and value != {}:
            lines.append(f"{key.replace('_', ' ')}: {_scalar(value)}")
    return "\n".join(lines)
