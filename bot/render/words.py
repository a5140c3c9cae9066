"""Answers that are sentences, not a tool's figures: the agent's reply, a refusal, an error."""

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


class AgentText(BaseModel):
    """The agent's reply, as it wrote it (the agent checks its figures against its tools)."""

    text: str


class WithLead(BaseModel):
    """Another answer with a sentence before it, e.g. why the assistant did not word it."""

    lead: str
    inner: Any  # a result type of `KINDS`


def refusal_view(r: Refusal, intent: Intent | None = None) -> Rendered:
    return compose(title=None, lines=[(f"{r.lead}: {r.message}",)])


def agent_view(a: AgentText, intent: Intent | None = None) -> Rendered:
    """The agent's lines as it wrote them (its bold and lists still read as such), escaped like
    every answer: a model echoing a customer named `<!channel>` must not ping the channel."""
    return compose(title=None, lines=[(line,) for line in a.text.split("\n")])
