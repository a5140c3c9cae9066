"""Run one tool for the model: validate, check permission, call, render; never raise.

A wrong argument, an unknown customer or a refused proposal comes back to the model as a
sentence it can act on (fix the call, ask the user), so one bad call does not end the turn.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import ValidationError

from bot.agent.tools.present import as_data
from bot.agent.tools.specs import Spec, specs
from bot.agent.tools.turn import Proposed, current_turn, permission
from tools.actions import ActionError
from tools.clock import day_out_of_range, today
from tools.deps import ToolDeps
from tools.money import MoneyError

log = logging.getLogger(__name__)

EXPECTED_ERRORS: tuple[type[Exception], ...] = (ValueError, LookupError, MoneyError, ActionError)


def _invalid(spec: Spec, exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
    )
    return f"error: invalid arguments for {spec.name}: {problems}. Fix them and call again."


def _dates_refused(deps: ToolDeps, spec: Spec, args: Any) -> str | None:
    now = today(deps.settings.tz)
    for name in type(args).model_fields:
        value = getattr(args, name)
        if isinstance(value, date) and (why := day_out_of_range(name, value, now)):
            return f"error: invalid arguments for {spec.name}: {why}. Fix them and call again."
    return None


def run_spec(deps: ToolDeps, spec: Spec, raw: dict[str, Any]) -> str:
    """Validate, check permission, run, render; every failure is a message for the model."""
    try:
        args = spec.args(**raw)
    except ValidationError as exc:
        return _invalid(spec, exc)
    if refused := _dates_refused(deps, spec, args):
        return refused
    turn = current_turn()
    refusal = permission(turn, spec.kind, spec.targets(args))
    if refusal is not None:
        log.warning("event=agent_proposal_refused tool=%s", spec.name)
        if turn is not None:
            turn.refused.append(spec.name)
        return f"error: {refusal}"
    try:
        result = spec.run(deps, args, turn)
    except ValidationError as exc:
        return f"error: {spec.name}: {exc.errors()[0]['msg']}"
    except EXPECTED_ERRORS as exc:
        return f"error: {spec.name}: {exc}"
    if turn is not None and spec.kind != "read" and isinstance(result, dict):
        turn.proposed.append(_proposed(spec, args, result))
    return as_data(spec.name, result)


def _proposed(spec: Spec, args: Any, view: dict[str, Any]) -> Proposed:
    """What a proposal covers, from what it stored: advice about another customer or invoice
    is not backed by it."""
    items = view.get("invoices") or [view.get("invoice") or {}]
    labels = tuple(str(i["label"]) for i in items if isinstance(i, dict) and i.get("label"))
    return Proposed(
        kind=spec.kind,
        customer=str(view.get("customer_name") or ""),
        invoices=labels,
        every_invoice=spec.kind == "dunning" and not getattr(args, "invoice", None),
    )


def build_tools(deps: ToolDeps) -> list[StructuredTool]:
    """LangChain tools over `deps`; built once per app, the turn comes from `turn_scope`."""
    out = []
    for spec in specs():

        def call(_spec: Spec = spec, **raw: Any) -> str:
            return run_spec(deps, _spec, raw)

        out.append(
            StructuredTool.from_function(
                func=call,
                name=spec.name,
                description=spec.description,
                args_schema=spec.args,
                infer_schema=False,
            )
        )
    return out
