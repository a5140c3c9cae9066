"""Prompts are files in `prompts/`, loaded by name and rendered at call time.

Rendering at call time (not import time) keeps "today" right in a process that runs for
weeks, and picks up the company name and currency from the settings in force.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from tools.settings import Settings

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@lru_cache(maxsize=16)
def _template(name: str) -> str:
    path = PROMPTS / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"prompt {name!r} not found: expected {path}")
    return path.read_text(encoding="utf-8")


def render(name: str, settings: Settings, *, today: date, **values: str) -> str:
    """The prompt `name` with today's date, company name, currency and time zone filled in."""
    return _template(name).format(
        today=today.isoformat(),
        company_name=settings.company_name,
        currency=settings.reporting_currency,
        timezone=settings.timezone,
        **values,
    )
