"""The tools the agent may call: each `tools/` function with the name and description the
model sees, and the input fields it may fill.

Fields the model must not choose (who asks, internal ids) are cut from the input model: the
asking user comes from the turn, and a reminder's recipient from the customer's record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, create_model

from bot.agent.tools.turn import ToolKind, Turn, persons_words
from tools import (
    aging,
    cash,
    cash_lines,
    credit,
    customer_detail,
    customers,
    cuts,
    disputes,
    dso_change,
    dunning,
    forecast,
    overdue,
    payment_history,
    promise_outcome,
    promises,
    reconcile,
    risk,
    risk_money,
    write_off,
)
from tools.action_model import RECORD_KINDS
from tools.actions import ActionInfo
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.report import ar_report


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    args: type[BaseModel]
    run: Callable[[ToolDeps, BaseModel, Turn | None], BaseModel]
    kind: ToolKind = "read"
    targets: Callable[[BaseModel], list[str]] = lambda _args: []
    # What the model reads of the result (the typed result itself unless said otherwise).
    shown: Callable[[Any], Any] = lambda result: result


def without(model: type[BaseModel], *hidden: str, name: str | None = None) -> type[BaseModel]:
    """The same input model minus the fields the model must not choose (who asks, ids)."""
    fields: dict[str, Any] = {
        k: (f.annotation, f) for k, f in model.model_fields.items() if k not in hidden
    }
    return create_model(name or f"{model.__name__}ForAgent", **fields)


def _user(turn: Turn | None) -> str:
    return turn.user if turn is not None else "agent"


def _action_view(info: ActionInfo) -> dict[str, Any]:
    """A proposal as the model reads it: waiting for a person, nothing sent yet."""
    payload = info.payload
    keep = (
        "customer_name", "subject", "totals", "invoices", "invoice", "effect", "reason", "tone",
        "promised_on", "amount", "text",
    )  # fmt: skip
    waiting = "confirmation" if info.kind in RECORD_KINDS else "approval"
    return {
        "proposed_action_id": info.id,
        "kind": info.kind,
        "status": f"proposed: waiting for {waiting} in Slack, nothing has been sent or changed",
        **{k: payload[k] for k in keep if k in payload},
    }


def _report_specs() -> list[Spec]:
    return [
        Spec(
            "ar_metrics",
            "Ledger-wide AR as of a date: AR total, aging buckets (amount and %), DSO, best "
            "possible DSO, average days delinquent, CEI, bad debt %, AR turnover, weighted days "
            "past due, dunning recovery, allowance, unapplied cash. Use for 'what is our AR / "
            "DSO / CEI', and with an earlier as_of for 'last quarter' or 'on June 30'.",
            MetricsInput,
            lambda d, a, t: ar_report(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "ar_report_by",
            "Every AR metric cut by customer segment, payment method, currency or account "
            "owner, one report per group (or one group alone): 'DSO by segment', 'CEI per "
            "owner', 'enterprise aging'. Group amounts add up to the whole; ratios are each "
            "group's own, with each segment's DSO and share-current targets.",
            cuts.CutInput,
            lambda d, a, t: cuts.cut_report(d, a),  # type: ignore[arg-type]
            shown=cuts.cut_json,
        ),
        Spec(
            "cash_forecast",
            "Expected cash from today's open invoices: per week for 13 weeks and within 30/60/90 "
            "days, from each customer's payment history; promises to pay on their dates, "
            "disputes lowered, failed card payments weighted by recovery. For 'how much cash "
            "will come in next month', 'cash forecast'.",
            forecast.ForecastInput,
            lambda d, a, t: forecast.cash_forecast(d, a),  # type: ignore[arg-type]
            shown=forecast.forecast_json,
        ),
        Spec(
            "dso_change",
            "Why DSO moved between two dates (default: the last 7 days): the move split into "
            "terms (best possible DSO) and lateness (average days delinquent), which add up to "
            "it, the customers who moved it most and the move per segment.",
            dso_change.DsoChangeInput,
            lambda d, a, t: dso_change.dso_change(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "credit_limits",
            "Customers over their credit limit, and those heading to it within 30 days at the "
            "last 30 days' pace: exposure (open AR) against the limit, in the customer's "
            "currency.",
            credit.CreditInput,
            lambda d, a, t: credit.credit_limits(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "aging",
            "Aging buckets (current, 1-30, 31-60, 61-90, 90+) for all customers, one customer "
            "or one segment, as of a date.",
            aging.AgingInput,
            lambda d, a, t: aging.aging(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "customer_detail",
            "Everything about one customer: balance, open invoices with days past due, recent "
            "payments (including failed attempts), disputes, promises to pay, notes, contacts, "
            "terms and credit limit.",
            customer_detail.CustomerDetailInput,
            lambda d, a, t: customer_detail.customer_detail(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "payment_history",
            "How fast customers pay: average days to pay and days late on invoices paid in a "
            "window, per customer (with what each owes now) or per segment; slowest first.",
            payment_history.PaymentHistoryInput,
            lambda d, a, t: payment_history.payment_history(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "at_risk_accounts",
            "Accounts at risk of not paying, the most money at risk first (open balance in "
            "every currency, converted, times the 0-100 score as a %: the digest's and the "
            "alerts' order), each with its score and the reasons (aging trend, 60+ share, "
            "broken promises, failed payments, disputes, credit limit, paying slower).",
            risk.AtRiskInput,
            lambda d, a, t: risk_money.at_risk(d, a),  # type: ignore[arg-type]
        ),
    ]


def _lookup_specs() -> list[Spec]:
    return [
        Spec(
            "customer_balance",
            "One customer's open balance and open invoices (fuzzy name match; returns "
            "candidates when the name is ambiguous).",
            without(customers.CustomerBalanceInput, "customer_id"),
            lambda d, a, t: customers.customer_balance(
                d, customers.CustomerBalanceInput(**a.model_dump())
            ),
        ),
        Spec(
            "top_overdue",
            "Accounts with the most past-due money, largest first.",
            overdue.TopOverdueInput,
            lambda d, a, t: overdue.top_overdue(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "open_disputes",
            "Disputes and chargebacks open as of a date, with amounts and reasons.",
            disputes.OpenDisputesInput,
            lambda d, a, t: disputes.open_disputes(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "broken_promises",
            "Promises to pay dated in the last N days that were not kept: paid short or "
            "late, with what was paid by the promised day, largest shortfall first.",
            promise_outcome.BrokenPromisesInput,
            lambda d, a, t: promise_outcome.broken_promises(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "unapplied_cash",
            "Payments received that are not applied to any invoice.",
            cash.UnappliedCashInput,
            lambda d, a, t: cash.unapplied_cash(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "find_bank_receipts",
            "Bank credits imported from statements and not applied yet, filtered by amount "
            "and payer, each with its best suggestion of customer and invoices. Use for "
            "'match the 12,400 wire from Acme'. Applying is a person's click on the card.",
            cash_lines.FindReceiptsInput,
            lambda d, a, t: cash_lines.find_receipts(d, a),  # type: ignore[arg-type]
        ),
        Spec(
            "reconcile",
            "Compare the invoice sources (stripe, quickbooks, xero, csv) invoice by invoice at a "
            "date: AR per source and each invoice missing, differing in amount or in status.",
            reconcile.ReconcileInput,
            lambda d, a, t: reconcile.reconcile(d, a),  # type: ignore[arg-type]
        ),
    ]


def _propose_specs() -> list[Spec]:
    return [
        Spec(
            "propose_dunning_email",
            "Draft a payment reminder for a customer (all overdue invoices, or one) and post "
            "it for approval. Only when the user asked for a reminder. Nothing is sent until a "
            "person approves; the recipient is the customer's AP contact on record.",
            without(
                dunning.DunningInput, "requested_by", "customer_id", "invoice_id", "by_assistant"
            ),
            lambda d, a, t: dunning.propose_dunning_email(
                d,
                dunning.DunningInput(**a.model_dump(), requested_by=_user(t), by_assistant=True),
            ),
            kind="dunning",
            shown=_action_view,
            targets=lambda a: [str(getattr(a, "customer", "") or ""), str(a.invoice or "")],  # type: ignore[attr-defined]
        ),
        Spec(
            "propose_write_off",
            "Propose writing off one invoice as uncollectible, with a reason, for approval. "
            "Only when the user asked for a write-off.",
            without(write_off.WriteOffInput, "requested_by", "by_assistant"),
            # The reason recorded is the person's, never the model's (`persons_words`).
            lambda d, a, t: write_off.propose_write_off(
                d,
                write_off.WriteOffInput(
                    **(a.model_dump() | {"reason": persons_words(t)}),
                    requested_by=_user(t),
                    by_assistant=True,
                ),
            ),
            kind="write_off",
            shown=_action_view,
            targets=lambda a: [a.invoice],  # type: ignore[attr-defined]
        ),
        Spec(
            "record_promise_to_pay",
            "Propose recording that the customer promised to pay an invoice on a date (it "
            "pauses reminders once a person confirms it in Slack). Only when the user reports "
            "such a promise. The date must be within the next few weeks.",
            without(promises.PromiseInput, "recorded_by", "invoice_id"),
            lambda d, a, t: promises.propose_promise(
                d, promises.PromiseInput(**a.model_dump(), recorded_by=_user(t))
            ),
            kind="promise",
            shown=_action_view,
            targets=lambda a: [a.invoice],  # type: ignore[attr-defined]
        ),
        Spec(
            "record_dispute_note",
            "Propose recording what the customer disputes about an invoice, as a note a "
            "person confirms in Slack. Only when the user reports a dispute.",
            without(promises.DisputeNoteInput, "author"),
            lambda d, a, t: promises.propose_dispute_note(
                d,
                promises.DisputeNoteInput(
                    **(a.model_dump() | {"text": persons_words(t)}), author=_user(t)
                ),
            ),
            kind="dispute_note",
            shown=_action_view,
            targets=lambda a: [a.invoice],  # type: ignore[attr-defined]
        ),
    ]


def specs() -> list[Spec]:
    """Every tool the agent is offered, reports first, proposals last."""
    return [*_report_specs(), *_lookup_specs(), *_propose_specs()]
