"""Fast path for proposals, no LLM needed: "draft a reminder to Acme", "write off INV-000123
because the customer went bankrupt".

A confident match proposes the action through the same tools the agent and the CLI use, and
answers with the approval card itself (the card learns where it was posted on its first click).
Anything less certain returns None and goes on to the question router and the agent.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from bot.blocks.approval import approval_dicts, approval_text
from bot.router import AskContext, RouteResult
from tools.actions import ActionError, ActionInfo
from tools.deps import ToolDeps
from tools.dunning import DunningInput, propose_dunning_email
from tools.write_off import WriteOffInput, propose_write_off

_MARKUP = re.compile(r"<@[^>]+>")
_POLITE = r"^(?:hey\s+|hi\s+)?(?:please\s+|can you\s+|could you\s+|pls\s+)?"
DUNNING = re.compile(
    _POLITE + r"(?:draft|write|prepare|send)\s+(?:me\s+)?(?:a\s+|an\s+)?"
    r"(?P<tone>friendly|firm|final)?\s*(?:payment\s+)?"
    r"(?:reminder|dunning\s+email|dunning\s+notice|collection\s+email|notice)(?:\s+email)?"
    r"\s+(?:to|for)\s+(?P<who>.+?)"
    r"(?:\s+(?:about|for|re|regarding)\s+(?:invoice\s+)?(?P<inv>(?=[\w-]*\d)[\w-]+))?"
    r"\s*[.!?]*$",
    re.IGNORECASE,
)
REMIND = re.compile(
    _POLITE + r"remind\s+(?P<who>.+?)\s+(?:about|of|re)\s+(?:invoice\s+)?"
    r"(?P<inv>(?=[\w-]*\d)[\w-]+)\s*[.!?]*$",
    re.IGNORECASE,
)
WRITE_OFF = re.compile(
    _POLITE + r"write[- ]?off\s+(?:invoice\s+)?(?P<inv>(?=[\w-]*\d)[\w-]+)\s*"
    r"(?:because|since|as|reason:?|:|-|—)\s*(?P<reason>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)


def match(question: str) -> tuple[str, dict[str, Any]] | None:
    text = " ".join(_MARKUP.sub(" ", question).split())
    if m := WRITE_OFF.match(text):
        return "write_off", {"invoice": m["inv"], "reason": m["reason"]}
    if m := DUNNING.match(text) or REMIND.match(text):
        groups = m.groupdict()
        who = groups["who"].strip(" ,'\"")
        if re.search(r"\b(about|regarding|re|for|invoices?)\b", who, re.IGNORECASE):
            return None  # "about the March invoice": the agent works out which one
        return "dunning", {
            "customer": who,
            "invoice": groups.get("inv"),
            "tone": groups.get("tone"),
        }
    return None


def _result(tool: str, a: ActionInfo) -> RouteResult:
    return RouteResult(
        answered_by="router",
        tool=tool,
        data={"action_id": a.id, "status": a.status},
        text=approval_text(a),
        blocks=approval_dicts(a),
    )


def _refusal(tool: str, message: str) -> RouteResult:
    return RouteResult(
        answered_by="router", tool=tool, data={"error": message}, text=f"No draft: {message}"
    )


def proposal_answer(deps: ToolDeps, question: str, context: AskContext) -> RouteResult | None:
    found = match(question)
    if found is None:
        return None
    kind, args = found
    user = context.user or "cli"
    thread = (
        {"channel": context.channel, "thread_ts": context.thread_ts} if context.channel else None
    )
    if kind == "write_off":
        tool = "propose_write_off"
        try:
            a = propose_write_off(deps, WriteOffInput(**args, requested_by=user), thread=thread)
        except ValidationError as exc:
            return _refusal(tool, "; ".join(e["msg"] for e in exc.errors()))
        except ActionError as exc:
            return _refusal(tool, str(exc))
        return _result(tool, a)
    tool = "propose_dunning_email"
    if args["invoice"] and args["customer"].lower() in ("them", "the customer"):
        args["customer"] = None
    try:
        a = propose_dunning_email(deps, DunningInput(**args, requested_by=user), thread=thread)
    except ValidationError as exc:
        return _refusal(tool, "; ".join(e["msg"] for e in exc.errors()))
    except ActionError as exc:
        return _refusal(tool, str(exc))
    return _result(tool, a)
