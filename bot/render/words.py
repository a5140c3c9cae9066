"""Answers that are sentences of ours, not a tool's figures: a refusal, a note, a lead.

None of them ever holds a model's words: the agent posts the ledger's renderings of its tool
results, with at most a fixed sentence of ours before or beside them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bot.blocks.common import Rendered
from bot.intents import Intent
from bot.render.layout import compose


class Refusal(BaseModel):
    """A question the tool could not answer as asked ("no such invoice", "no rate for EUR")."""

    lead: str
    message: str


class Note(BaseModel):
    """A fixed sentence of ours, e.g. that a proposal waits for approval."""

    text: str


class Combined(BaseModel):
    """Answers posted as one message, after an optional sentence of ours (why the assistant
    did not answer itself, a greeting)."""

    lead: str | None = None
    parts: list[Any]  # result types of `KINDS`


def refusal_view(r: Refusal, intent: Intent | None = None) -> Rendered:
    return compose(title=None, lines=[(f"{r.lead}: {r.message}",)])


def note_view(n: Note, intent: Intent | None = None) -> Rendered:
    return compose(title=None, lines=[(n.text,)])
