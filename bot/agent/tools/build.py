"""Run one tool for the model: validate, check permission, call, present; never raise.

A wrong argument, an unknown customer or a refused proposal comes back to the model as a
sentence it can act on (fix the call, ask the user), so one bad call does not end the turn.
A call that worked also hands back its typed result (`Found`, the tool message's artifact):
that, rendered by `bot.render`, is what the person sees, never what the model makes of it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ValidationError

from bot.agent.about import About, known_segment, of_call
from bot.agent.tools.present import as_data
from bot.agent.tools.specs import Spec, specs
from bot.agent.tools.turn import Turn, current_turn, permission
from db.invoices import find_invoices
from tools.action_withdraw import open_proposal
from tools.actions import ActionError, ActionInfo
from tools.clock import day_out_of_range, today
from tools.customer_lookup import CustomerMatch, resolve_customer
from tools.cuts import CutReport
from tools.deps import ToolDeps
from tools.errors import ToolInputError
from tools.money import MoneyError

log = logging.getLogger(__name__)

EXPECTED_ERRORS: tuple[type[Exception], ...] = (ValueError, LookupError, MoneyError, ActionError)


@dataclass(frozen=True)
class Found:
    """One tool call that worked: what was asked, the typed result, and what it is about."""

    tool: str
    args: dict[str, Any]
    result: BaseModel
    about: About

    @property
    def key(self) -> tuple[str, str]:
        """The same tool with the same arguments is the same answer."""
        return self.tool, json.dumps(self.args, sort_keys=True, default=str)


def _invalid(spec: Spec, exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
    )
    return f"error: invalid arguments for {spec.name}: {problems}. Fix them and call again."


def _refused(spec: Spec, why: str) -> str:
    return f"error: invalid arguments for {spec.name}: {why}. Fix them and call again."


def _dates_refused(deps: ToolDeps, args: BaseModel) -> str | None:
    now = today(deps.settings.tz)
    for name in type(args).model_fields:
        value = getattr(args, name)
        if isinstance(value, date) and (why := day_out_of_range(name, value, now)):
            return why
    return None


def _words_refused(deps: ToolDeps, args: BaseModel) -> tuple[BaseModel, str | None]:
    """Words the model chose that an answer would repeat (a segment, a payer) must name
    something on record, so no words of the model reach the person through a title (an
    amount is shown as the one typed-amount rule read it, or refused).
    Returns the arguments to run with (a payer becomes the customer's name on record)."""
    segment = getattr(args, "segment", None)
    if getattr(args, "by", None) == "segment" and getattr(args, "group", None):
        segment = args.group  # type: ignore[attr-defined]
    if isinstance(segment, str) and segment and not known_segment(deps, segment):
        return args, f"segment: no segment {segment!r} on record"
    if "payer" in type(args).model_fields:
        payer = getattr(args, "payer", None)
        if payer:
            try:
                with deps.sessions() as session:
                    name = resolve_customer(session, payer).name
            except ToolInputError as exc:
                return args, f"payer: {exc}"
            args = args.model_copy(update={"payer": name})
    return args, None


def _shown(result: BaseModel) -> bool:
    """Whether the result answers anything: a lookup that found no one or several does not
    (the model gets the candidates to ask about), nor a group that is not on record."""
    if isinstance(result, CustomerMatch):
        return False
    return not (isinstance(result, CutReport) and not result.groups)


# A proposing tool's kind as the action it stores.
ACTION_KIND = {
    "dunning": "dunning_email",
    "write_off": "write_off",
    "promise": "promise_to_pay",
    "dispute_note": "dispute_note",
}


def _named_refusal(deps: ToolDeps, turn: Turn | None, args: BaseModel) -> tuple[str | None, int]:
    """(why not, the invoice's id or 0): a proposal's customer and invoice must be ones this
    question names, by ledger id: "INV-12" does not name INV-1, "Globex Corp" not Globex Inc."""
    if turn is None or turn.customers is None or turn.invoices is None:
        return None, 0
    customer, ref = getattr(args, "customer", None), getattr(args, "invoice", None)
    invoice_id = 0
    with deps.sessions() as session:
        if isinstance(ref, str) and ref:
            found = find_invoices(session, ref)
            if len(found) != 1 or found[0].id not in turn.invoices:
                return f"the user did not name invoice {ref!r} in this question", 0
            invoice_id = found[0].id
        if isinstance(customer, str) and customer:
            try:
                cid = resolve_customer(session, customer).id
            except ToolInputError:
                cid = None
            if cid not in turn.customers:
                return f"the user did not name customer {customer!r} in this question", 0
    return None, invoice_id


def run_spec(deps: ToolDeps, spec: Spec, raw: dict[str, Any]) -> tuple[str, Found | None]:
    """(what the model reads, the typed result when the call worked); never raises."""
    try:
        args = spec.args(**raw)
    except ValidationError as exc:
        return _invalid(spec, exc), None
    if why := _dates_refused(deps, args):
        return _refused(spec, why), None
    args, why = _words_refused(deps, args)
    if why:
        return _refused(spec, why), None
    turn = current_turn()
    refusal = permission(turn, spec.kind, spec.targets(args))
    if refusal is not None:
        log.warning("event=agent_proposal_refused tool=%s", spec.name)
        if turn is not None:
            turn.refused.append(spec.name)
        return f"error: {refusal}", None
    if spec.kind != "read":
        why, invoice_id = _named_refusal(deps, turn, args)
        if why:
            log.warning("event=agent_proposal_refused tool=%s why=not_named", spec.name)
            if turn is not None:
                turn.refused.append(spec.name)
            return f"error: not done: {why}. Ask the user which one they mean.", None
        existing = open_proposal(deps, ACTION_KIND[spec.kind], invoice_id) if invoice_id else None
        if existing is not None:
            return "error: not done: this is already proposed and waiting: " + as_data(
                spec.name, spec.shown(existing)
            ), None
    try:
        result = spec.run(deps, args, turn)
    except ValidationError as exc:
        return f"error: {spec.name}: {exc.errors()[0]['msg']}", None
    except EXPECTED_ERRORS as exc:
        return f"error: {spec.name}: {exc}", None
    if isinstance(result, ActionInfo) and turn is not None:
        turn.proposed_action_ids.append(result.id)
    text = as_data(spec.name, spec.shown(result))
    if not _shown(result):
        return text, None
    found = Found(spec.name, args.model_dump(mode="json"), result, of_call(deps, args, result))
    return text, found


def build_tools(deps: ToolDeps) -> list[StructuredTool]:
    """LangChain tools over `deps`; built once per app, the turn comes from `turn_scope`."""
    out = []
    for spec in specs():

        def call(_spec: Spec = spec, **raw: Any) -> tuple[str, Found | None]:
            return run_spec(deps, _spec, raw)

        out.append(
            StructuredTool.from_function(
                func=call,
                name=spec.name,
                description=spec.description,
                args_schema=spec.args,
                infer_schema=False,
                response_format="content_and_artifact",
            )
        )
    return out
