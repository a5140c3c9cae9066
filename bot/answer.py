"""The answer pipeline: question -> `Intent` -> the tool's typed result -> rendered answer.

`answer(deps, question)` matches the question (`bot.intents`), runs the intent's tool and
renders its result (`bot.render`). A question the matcher is not sure of goes to the optional
`fallback` (the LLM agent) and, without one or when it declines, to help. Slack, `arbot ask`
and the agent's callers all get the same `Answer`, so a number is computed in one place (its
tool) and drawn in one place (its renderer).

A proposal ("draft a reminder to Acme") is an intent like any other: its result is the
proposed action, and whoever shows the answer posts its card with `bot.cards.post_card`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from bot.blocks.common import Rendered
from bot.intents import Intent, match
from bot.render import Help, Refusal, render, result_data
from bot.singleflight import SingleFlight
from tools.actions import ActionError, ActionInfo, cli_proposer
from tools.cash import UnappliedCashInput, unapplied_cash
from tools.cash_lines import FindReceiptsInput, find_receipts
from tools.clock import AsOfError
from tools.clock import today as today_in
from tools.credit import CreditInput, credit_limits
from tools.customers import CustomerBalanceInput, customer_balance, segment_names
from tools.cuts import CutInput, cut_report
from tools.deps import ToolDeps
from tools.disputes import OpenDisputesInput, open_disputes
from tools.dso_change import DsoChangeInput, dso_change
from tools.dunning import DunningInput, propose_dunning_email
from tools.errors import ToolInputError
from tools.forecast import ForecastInput, cash_forecast
from tools.metrics import MetricsError, MetricsInput
from tools.overdue import TopOverdueInput, top_overdue
from tools.promise_outcome import BrokenPromisesInput, broken_promises
from tools.reconcile import ReconcileError, ReconcileInput, reconcile
from tools.report import ar_report
from tools.write_off import WriteOffInput, propose_write_off

AnsweredBy = Literal["router", "agent", "help"]

# Longer than any question a person types; some patterns of the router (and the model's
# context) are slow on long input, so such text is refused before anything reads it.
MAX_QUESTION_CHARS = 2000
TOO_LONG = Refusal(
    lead="That question is too long",
    message=f"please ask in fewer than {MAX_QUESTION_CHARS:,} characters",
)


def too_long(question: str) -> bool:
    return len(question) > MAX_QUESTION_CHARS


class AskContext(BaseModel):
    """Who asked and where: proposals record the asker; the agent keeps memory per thread."""

    user: str | None = None
    channel: str | None = None
    thread_ts: str | None = None

    @property
    def thread_key(self) -> str | None:
        return f"{self.channel}:{self.thread_ts}" if self.channel and self.thread_ts else None


@dataclass(frozen=True)
class Answer:
    """Who answered, with which tool, the tool's typed result, and its rendered message."""

    answered_by: AnsweredBy
    tool: str | None
    result: BaseModel
    view: Rendered
    data: dict[str, Any]
    intent: Intent | None = None

    @classmethod
    def of(
        cls,
        answered_by: AnsweredBy,
        tool: str | None,
        result: BaseModel,
        *,
        intent: Intent | None = None,
        data: dict[str, Any] | None = None,
    ) -> Answer:
        """Render the result; `data` defaults to the result's JSON form."""
        data = result_data(result) if data is None else data
        return cls(answered_by, tool, result, render(result, intent), data, intent)

    @property
    def text(self) -> str:
        return self.view.text

    @property
    def proposal(self) -> ActionInfo | None:
        """The proposed action whose approval card this answer is, if it is one."""
        return self.result if isinstance(self.result, ActionInfo) else None

    @property
    def proposed_action_ids(self) -> list[int]:
        """Every action this answer proposed: the fast path's card, or the agent's proposals."""
        if self.proposal is not None:
            return [self.proposal.id]
        return [int(i) for i in self.data.get("proposed_action_ids") or []]

    def to_json(self) -> dict[str, Any]:
        """What `arbot ask --json` prints."""
        return {
            "answered_by": self.answered_by,
            "tool": self.tool,
            "data": self.data,
            "text": self.text,
        }


# question, context -> an answer, or None to fall through to the help message.
Fallback = Callable[[str, AskContext], Answer | None]

READS: dict[str, Callable[[ToolDeps, Intent], BaseModel]] = {
    "ar_report": lambda deps, i: ar_report(
        deps, MetricsInput(as_of=i.as_of, period_days=deps.settings.period_days)
    ),
    "ar_cut": lambda deps, i: cut_report(
        deps,
        CutInput(
            by=i.by or "segment",
            as_of=i.as_of,
            period_days=deps.settings.period_days,
            group=i.group,
        ),
    ),
    "credit_limits": lambda deps, i: credit_limits(deps, CreditInput(as_of=i.as_of)),
    "dso_change": lambda deps, i: dso_change(
        deps, DsoChangeInput(as_of=i.as_of, period_days=deps.settings.period_days)
    ),
    "cash_forecast": lambda deps, i: cash_forecast(deps, ForecastInput(as_of=i.as_of)),
    "customer_balance": lambda deps, i: customer_balance(
        deps, CustomerBalanceInput(customer=i.customer, customer_id=i.customer_id, as_of=i.as_of)
    ),
    "top_overdue": lambda deps, i: top_overdue(
        deps,
        TopOverdueInput(
            limit=i.limit, more_than_days=i.more_than_days, as_of=i.as_of, segment=i.group
        ),
    ),
    "open_disputes": lambda deps, i: open_disputes(deps, OpenDisputesInput(as_of=i.as_of)),
    "broken_promises": lambda deps, i: broken_promises(deps, BrokenPromisesInput(as_of=i.as_of)),
    "unapplied_cash": lambda deps, i: unapplied_cash(deps, UnappliedCashInput(as_of=i.as_of)),
    "find_receipts": lambda deps, i: find_receipts(
        deps, FindReceiptsInput(amount=i.amount, payer=i.customer)
    ),
    "reconcile": lambda deps, i: reconcile(deps, ReconcileInput(as_of=i.as_of, sources=i.sources)),
}

_FLIGHTS = SingleFlight()


def _read(deps: ToolDeps, intent: Intent) -> BaseModel:
    """The read tool's result; a figure it cannot give exactly becomes a refusal."""
    try:
        return READS[intent.tool](deps, intent)
    except MetricsError as exc:
        return Refusal(lead="I can't answer that exactly", message=str(exc))
    except ReconcileError as exc:
        return Refusal(lead="Nothing to compare", message=str(exc))
    except ToolInputError as exc:
        return Refusal(lead="I can't answer that as asked", message=str(exc))


def _propose(deps: ToolDeps, intent: Intent, context: AskContext) -> BaseModel:
    """The proposed action, or why there is no draft. Nothing is sent before approval."""
    user = context.user or cli_proposer()
    try:
        if intent.tool == "propose_write_off":
            args = WriteOffInput(invoice=intent.invoice, reason=intent.reason, requested_by=user)
            return propose_write_off(deps, args)
        dunning = DunningInput(
            customer=intent.customer, invoice=intent.invoice, tone=intent.tone, requested_by=user
        )
        return propose_dunning_email(deps, dunning)
    except ValidationError as exc:
        return Refusal(lead="No draft", message="; ".join(e["msg"] for e in exc.errors()))
    except ActionError as exc:
        return Refusal(lead="No draft", message=str(exc))


def run(deps: ToolDeps, intent: Intent, context: AskContext | None = None) -> Answer:
    """Run the intent's tool; identical reads in flight at once share one computation."""
    if intent.tool == "help":
        return help_answer()
    if intent.is_proposal:
        result = _propose(deps, intent, context or AskContext())
    else:
        key = (
            id(deps.engine),
            intent.model_dump_json(exclude={"topic"}),
            today_in(deps.settings.tz),
        )
        result = _FLIGHTS.run(key, lambda: _read(deps, intent))
    return Answer.of("router", intent.tool, result, intent=intent)


def help_answer() -> Answer:
    return Answer.of("help", "help", Help())


def answer(
    deps: ToolDeps,
    question: str,
    *,
    fallback: Fallback | None = None,
    context: AskContext | None = None,
    today: date | None = None,
) -> Answer:
    """Fast path first; then the fallback (agent); then help."""
    if too_long(question):
        return Answer.of("router", None, TOO_LONG)
    context = context or AskContext()
    try:
        intent = match(
            question,
            today=today or today_in(deps.settings.tz),
            segments=lambda: segment_names(deps),
        )
    except AsOfError as exc:
        return Answer.of("router", None, Refusal(lead="No figure", message=str(exc)))
    if intent is not None:
        return run(deps, intent, context)
    if fallback is not None:
        found = fallback(question, context)
        if found is not None:
            return found
    return help_answer()
