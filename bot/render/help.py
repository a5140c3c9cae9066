"""What the fast path answers, with an example of each: the reply to "help" and to anything
nothing else could answer (the agent shows the same text when it is unavailable)."""

from __future__ import annotations

from pydantic import BaseModel

from bot.blocks.common import Rendered
from bot.intents import Intent
from bot.render.layout import Strong, compose

EXAMPLES = [
    ("AR now", "what's our AR right now?"),
    ("Aging", "aging as of June 30"),
    ("DSO and friends", "DSO last quarter · best possible DSO · ADD · CEI · turnover · bad debt %"),
    ("A customer", "what's Acme's balance? · open invoices for Globex"),
    ("Who to chase", "top 10 overdue accounts · who is 60+ days late?"),
    ("By segment", "DSO by segment · aging for enterprise · who owes most in mid-market"),
    ("Cash forecast", "cash forecast · expected cash as of June 30"),
    ("Disputes", "open disputes · broken promises to pay"),
    ("Unapplied cash", "unapplied cash"),
    ("All KPIs", "AR report as of 2024-03-31"),
]


class Help(BaseModel):
    """The help answer: it has no data of its own."""


def help_view(_help: Help | None = None, intent: Intent | None = None) -> Rendered:
    return compose(
        title=None,
        lines=[("Here is what I can answer right away:",)],
        items=[("• ", Strong(what), f": {example}") for what, example in EXAMPLES],
        note=("Add a date for history: as of June 30, last quarter, 2024-12-31.",),
    )


def help_text() -> str:
    return help_view().text
