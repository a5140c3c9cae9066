"""The buttons on at-risk and dispute alerts, and their two forms.

Draft reminder -> an approval card in the alert's thread (never an email); Record promise to
pay -> a form (invoice, date, amount), which pauses dunning until then; Mark disputed -> a
form (invoice, reason), which stops dunning; Snooze -> no alerts about the account for 7
days. Only finance users or approvers may use them, wherever the alert was posted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.app import BotDeps
from bot.blocks.alerts import dispute_modal, promise_modal
from bot.blocks.ids import ActionId, AlertForm, AlertRef, FieldId, ViewId
from bot.caller import Caller, caller
from bot.cards import post_card
from bot.listeners._slack import clicked, field_errors, field_value, tell
from tools import watch
from tools.actions import ActionError, now_utc
from tools.dunning import DunningInput, propose_dunning_email
from tools.money import format_money
from tools.promises import PromiseError, PromiseInput, PromiseRecorded, record_promise
from tools.watch import InvoiceChoices

REFUSED = "Only the finance team can act on alerts."

# (deps, client, caller, what the alert is about, the click's body)
ButtonHandler = Callable[[BotDeps, WebClient, Caller, AlertRef, dict[str, Any]], None]
FormBuilder = Callable[[AlertForm, InvoiceChoices], dict[str, Any]]


def _draft(
    deps: BotDeps, client: WebClient, who: Caller, ref: AlertRef, _body: dict[str, Any]
) -> None:
    args = DunningInput(
        customer_id=ref.customer_id, invoice_id=ref.invoice_id, requested_by=who.user
    )
    try:
        action = propose_dunning_email(deps, args)
    except ActionError as exc:
        tell(client, who, str(exc))
        return
    post_card(client, deps, action, channel=who.channel or who.user, thread_ts=who.thread_ts)


def _snooze(
    deps: BotDeps, client: WebClient, who: Caller, ref: AlertRef, _body: dict[str, Any]
) -> None:
    until = watch.snooze(deps, ref.customer_id, who.user, now=now_utc())
    if who.channel:
        client.chat_postMessage(
            channel=who.channel,
            thread_ts=who.thread_ts,
            text=f"<@{who.user}> snoozed alerts about this account until {until}.",
        )


def _form(build: FormBuilder) -> ButtonHandler:
    """Open the promise or dispute form on the customer's open invoices."""

    def open_form(
        deps: BotDeps, client: WebClient, who: Caller, ref: AlertRef, body: dict[str, Any]
    ) -> None:
        choices = watch.invoice_choices(deps, ref.customer_id)
        if not choices.invoices:
            tell(client, who, f"{choices.customer_name} has no open invoice.")
            return
        form = AlertForm(**ref.model_dump(), channel=who.channel)
        client.views_open(trigger_id=body["trigger_id"], view=build(form, choices))

    return open_form


def _button(deps: BotDeps, handler: ButtonHandler) -> Callable[..., None]:
    def on_click(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, who: Caller
    ) -> None:
        if not who.on_team:
            tell(client, who, REFUSED)
            return
        handler(deps, client, who, AlertRef.model_validate_json(action["value"]), body)

    return clicked(on_click)


def _record_promise(deps: BotDeps, who: Caller, view: dict[str, Any]) -> PromiseRecorded:
    """The form's promise, recorded; a PromiseError names the input a refusal belongs under."""
    chosen = field_value(view, FieldId.INVOICE)
    if not chosen.isdigit():
        raise PromiseError("invoice", "choose the invoice the customer promised to pay")
    try:
        args = PromiseInput(
            invoice_id=int(chosen),
            promised_on=date.fromisoformat(field_value(view, FieldId.PROMISED_ON)),
            amount=field_value(view, FieldId.AMOUNT) or None,
            recorded_by=who.user,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        if "amount" in error["loc"]:
            raise PromiseError("amount", str(error["msg"])) from None
        raise PromiseError("promised_on", str(error["msg"])) from None
    except ValueError as exc:  # not a date
        raise PromiseError("promised_on", str(exc)) from None
    return record_promise(deps, args)


class FormError(Exception):
    """Keeps a submitted form open with the message under one input."""

    def __init__(self, field: FieldId, message: str) -> None:
        super().__init__(message)
        self.field = field


def _submitted(handle: Callable[[dict[str, Any], Caller], str]) -> Callable[..., None]:
    """A form listener: refuse anyone outside the team in the form, let `handle` act (a
    FormError keeps the form open), then say what was done in the alert's channel."""

    def on_submit(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who = caller(context)
        if not who.on_team:
            ack(**field_errors(FieldId.INVOICE, REFUSED))
            return
        try:
            said = handle(view, who)
        except FormError as exc:
            ack(**field_errors(exc.field, str(exc)))
            return
        ack()
        if who.channel:
            client.chat_postMessage(channel=who.channel, text=said)

    return on_submit


def register(app: App, deps: BotDeps) -> None:
    buttons: dict[ActionId, ButtonHandler] = {
        ActionId.ALERT_DRAFT: _draft,
        ActionId.ALERT_PROMISE: _form(promise_modal),
        ActionId.ALERT_DISPUTE: _form(dispute_modal),
        ActionId.ALERT_SNOOZE: _snooze,
    }
    for action_id, handler in buttons.items():
        app.action(action_id)(_button(deps, handler))

    def promise(view: dict[str, Any], who: Caller) -> str:
        try:
            recorded = _record_promise(deps, who, view)
        except PromiseError as exc:
            raise FormError(FieldId(exc.field), str(exc)) from None
        amount = format_money(recorded.amount_minor, recorded.currency)
        return (
            f"<@{who.user}> recorded a promise to pay {amount} on {recorded.invoice_label} by "
            f"{recorded.promised_on}; reminders pause until then."
        )

    def dispute(view: dict[str, Any], who: Caller) -> str:
        try:
            invoice_id = int(field_value(view, FieldId.INVOICE))
            reason = field_value(view, FieldId.REASON)
            watch.mark_disputed(deps, invoice_id, who.user, reason, now=now_utc())
        except (ActionError, ValueError) as exc:
            raise FormError(FieldId.REASON, str(exc)) from None
        return (
            f"<@{who.user}> marked the invoice disputed; it will not be dunned while the "
            "dispute is open."
        )

    app.view(ViewId.PROMISE)(_submitted(promise))
    app.view(ViewId.DISPUTE)(_submitted(dispute))
