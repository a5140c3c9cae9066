"""One renderer per result type: a tool's typed result in, Block Kit blocks and text out.

`KINDS` is the one table from a result type to its renderer and to its JSON form (what
`arbot ask --json` prints as "data"). Every renderer returns a `Rendered` whose blocks are
posted to Slack and whose text is both Slack's fallback and what `arbot ask` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bot.blocks.common import Rendered, escape, fit, sections
from bot.intents import Intent
from bot.render.cash import receipts_view
from bot.render.credit import credit_view
from bot.render.customer import customer_match_view, customer_view
from bot.render.cuts import cut_view
from bot.render.disputes import disputes_view
from bot.render.dso_change import dso_change_view
from bot.render.forecast import forecast_view
from bot.render.help import Help, help_text, help_view
from bot.render.metrics import metrics_view
from bot.render.overdue import overdue_view
from bot.render.promises import promises_view
from bot.render.proposal import proposal_view
from bot.render.reads import aging_view, at_risk_view, customer_detail_view, payment_history_view
from bot.render.reconcile import reconcile_view
from bot.render.unapplied import unapplied_view
from bot.render.words import Combined, Note, Refusal, note_view, refusal_view
from tools.actions import ActionInfo
from tools.aging import Aging
from tools.cash import UnappliedCash
from tools.cash_lines import ReceiptSearch
from tools.credit import CreditReport
from tools.customer_detail import CustomerDetail
from tools.customer_lookup import CustomerMatch
from tools.customers import CustomerBalance
from tools.cuts import CutReport, cut_json
from tools.disputes import OpenDisputes
from tools.dso_change import DsoChange
from tools.forecast import CashForecast, forecast_json
from tools.metrics import ArMetrics
from tools.overdue import TopOverdue
from tools.payment_history import PaymentHistory
from tools.promise_outcome import BrokenPromises
from tools.reconcile import Reconciliation
from tools.report import report_json
from tools.risk_money import AtRiskList


def _dump(result: BaseModel) -> dict[str, Any]:
    return result.model_dump(mode="json")


@dataclass(frozen=True)
class Kind:
    view: Callable[[Any, Intent | None], Rendered]
    data: Callable[[Any], dict[str, Any]] = _dump


KINDS: dict[type[BaseModel], Kind] = {
    ArMetrics: Kind(metrics_view, report_json),
    CutReport: Kind(cut_view, cut_json),
    CashForecast: Kind(forecast_view, forecast_json),
    CreditReport: Kind(credit_view),
    DsoChange: Kind(dso_change_view),
    CustomerBalance: Kind(customer_view),
    CustomerMatch: Kind(customer_match_view),
    TopOverdue: Kind(overdue_view),
    OpenDisputes: Kind(disputes_view),
    BrokenPromises: Kind(promises_view),
    UnappliedCash: Kind(unapplied_view),
    ReceiptSearch: Kind(receipts_view),
    Reconciliation: Kind(reconcile_view, lambda r: r.as_json()),
    ActionInfo: Kind(proposal_view, lambda a: {"action_id": a.id, "status": a.status}),
    Help: Kind(help_view, lambda _: {}),
    Refusal: Kind(refusal_view, lambda r: {"error": r.message}),
    Note: Kind(note_view),
    Aging: Kind(aging_view),
    CustomerDetail: Kind(customer_detail_view),
    PaymentHistory: Kind(payment_history_view),
    AtRiskList: Kind(at_risk_view),
}


def _combined(c: Combined, intent: Intent | None = None) -> Rendered:
    """The lead, then each part as it is drawn alone; a chart only for a single part."""
    parts = [render(p, intent) for p in c.parts]
    lead = [c.lead] if c.lead else []
    return Rendered(
        blocks=fit([*sections([escape(x) for x in lead]), *(b for p in parts for b in p.blocks)]),
        text="\n\n".join([*lead, *(p.text for p in parts)]),
        chart=False,  # a chart goes with a result posted alone
        csv=next((p.csv for p in parts if p.csv is not None), None),
    )


def _combined_data(c: Combined) -> dict[str, Any]:
    return {"lead": c.lead, "parts": [result_data(p) for p in c.parts]}


KINDS[Combined] = Kind(_combined, _combined_data)


def render(result: BaseModel, intent: Intent | None = None) -> Rendered:
    return KINDS[type(result)].view(result, intent)


def result_data(result: BaseModel) -> dict[str, Any]:
    return KINDS[type(result)].data(result)


__all__ = [
    "KINDS",
    "Combined",
    "Help",
    "Note",
    "Refusal",
    "help_text",
    "render",
    "result_data",
]
