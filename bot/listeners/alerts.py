"""The buttons on at-risk and dispute alerts, and their two modals.

Draft reminder -> the approvals issue's proposal card in the alert's thread (never an email);
Record promise to pay -> a modal (invoice, date, amount), which pauses dunning until then;
Mark disputed -> a modal (invoice, reason), which stops dunning; Snooze -> no alerts about
the account for 7 days. Only finance users (or approvers) may use them.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.app import BotDeps
from bot.blocks.alerts import AlertId, AlertRef, dispute_modal, promise_modal
from bot.cards import post_card
from bot.reply import access_for
from db import actions_sql as aq
from jobs import claim
from jobs.dispute_watch import NEW
from tools import watch
from tools.actions import ActionError, now_utc
from tools.clock import day_cut, today
from tools.deps import ToolDeps
from tools.dunning import DunningInput, propose_dunning_email
from tools.money import format_money
from tools.promises import PromiseInput, record_promise

log = logging.getLogger(__name__)
REFUSED = "Only the finance team can act on alerts."


def _allowed(deps: BotDeps, client: WebClient, user: str) -> bool:
    # The same finance check as questions (user groups expanded), plus the approvers.
    return access_for(deps, client).is_finance(user) or user in deps.settings.approvers


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return channel, container.get("message_ts")


def _tell(client: WebClient, channel: str | None, user: str, text: str) -> None:
    if channel is None:
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except Exception:
        log.exception("event=alert_ephemeral_failed")


def _invoices(deps: ToolDeps, customer_id: int) -> tuple[str, list[tuple[int, str]]]:
    s = deps.settings
    on = today(s.tz)
    with deps.sessions() as session:
        customer = aq.get_customer(session, customer_id)
        facts = aq.invoice_facts(
            session, cut=day_cut(on, s.tz), today=on, customer_id=customer_id, only_open=True
        )
    name = customer.name if customer else str(customer_id)
    items = [
        (f.id, f"{f.label} · {format_money(f.open_minor, f.currency)} due {f.due_on}")
        for f in facts
        if f.open_minor > 0
    ]
    return name, items


def _ref(body: dict[str, Any]) -> AlertRef:
    return AlertRef.model_validate_json(body["actions"][0]["value"])


def _selected(view: dict[str, Any], block: str) -> str:
    state = view["state"]["values"][block][block]
    if state.get("type") == "static_select" or "selected_option" in state:
        return str((state.get("selected_option") or {}).get("value") or "")
    if "selected_date" in state:
        return str(state.get("selected_date") or "")
    return str(state.get("value") or "")


def _promise_field(message: str) -> str:
    """The modal input an error is about, so Slack shows it under that input."""
    if message.startswith("amount "):
        return AlertId.AMOUNT.value
    if "invoice" in message:
        return AlertId.INVOICE.value
    return AlertId.DATE.value


def register(app: App, deps: BotDeps) -> None:
    @app.action(AlertId.DRAFT)
    def on_draft(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        channel, ts = _where(body)
        if not _allowed(deps, client, user):
            _tell(client, channel, user, REFUSED)
            return
        ref = _ref(body)
        args = DunningInput(
            customer=str(ref.customer_id),
            invoice=str(ref.invoice_id) if ref.invoice_id else None,
            requested_by=user,
        )
        try:
            action = propose_dunning_email(deps, args)
        except ActionError as exc:
            _tell(client, channel, user, str(exc))
            return
        post_card(client, deps, action, channel=channel or user, thread_ts=ts)

    @app.action(AlertId.PROMISE)
    def on_promise(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        channel, _ts = _where(body)
        if not _allowed(deps, client, user):
            _tell(client, channel, user, REFUSED)
            return
        ref = _ref(body)
        name, items = _invoices(deps, ref.customer_id)
        if not items:
            _tell(client, channel, user, f"{name} has no open invoice.")
            return
        view = promise_modal(ref, name, items, today(deps.settings.tz))
        meta = json.loads(view["private_metadata"]) | {"channel": channel}
        view["private_metadata"] = json.dumps(meta)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(AlertId.DISPUTE)
    def on_dispute(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        channel, _ts = _where(body)
        if not _allowed(deps, client, user):
            _tell(client, channel, user, REFUSED)
            return
        ref = _ref(body)
        name, items = _invoices(deps, ref.customer_id)
        if not items:
            _tell(client, channel, user, f"{name} has no open invoice.")
            return
        view = dispute_modal(ref, name, items)
        meta = json.loads(view["private_metadata"]) | {"channel": channel}
        view["private_metadata"] = json.dumps(meta)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(AlertId.SNOOZE)
    def on_snooze(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = body["user"]["id"]
        channel, ts = _where(body)
        if not _allowed(deps, client, user):
            _tell(client, channel, user, REFUSED)
            return
        ref = _ref(body)
        until = watch.snooze(deps, ref.customer_id, user, now=now_utc())
        if channel:
            client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                text=f"<@{user}> snoozed alerts about this account until {until}.",
            )

    @app.view(AlertId.PROMISE_MODAL)
    def on_promise_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = body["user"]["id"]
        if not _allowed(deps, client, user):
            ack(response_action="errors", errors={AlertId.INVOICE.value: REFUSED})
            return
        meta = json.loads(view["private_metadata"])
        try:
            promised_on = date.fromisoformat(_selected(view, AlertId.DATE))
            recorded = record_promise(
                deps,
                PromiseInput(
                    invoice=_selected(view, AlertId.INVOICE),
                    promised_on=promised_on,
                    amount=_selected(view, AlertId.AMOUNT) or None,
                    recorded_by=user,
                ),
            )
        except (ActionError, ValueError) as exc:
            ack(response_action="errors", errors={_promise_field(str(exc)): str(exc)[:1900]})
            return
        ack()
        if meta.get("channel"):
            client.chat_postMessage(
                channel=meta["channel"],
                text=f"<@{user}> recorded a promise to pay "
                f"{format_money(recorded.amount_minor, recorded.currency)} on "
                f"{recorded.invoice_label} by {recorded.promised_on}; reminders pause until then.",
            )

    @app.view(AlertId.DISPUTE_MODAL)
    def on_dispute_submit(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = body["user"]["id"]
        if not _allowed(deps, client, user):
            ack(response_action="errors", errors={AlertId.INVOICE.value: REFUSED})
            return
        meta = json.loads(view["private_metadata"])
        now = now_utc()
        try:
            invoice_id = int(_selected(view, AlertId.INVOICE))
            dispute_id = watch.mark_disputed(
                deps, invoice_id, user, _selected(view, AlertId.REASON), now=now
            )
        except (ActionError, ValueError) as exc:
            ack(response_action="errors", errors={AlertId.REASON.value: str(exc)[:1900]})
            return
        ack()
        # The person who marked it knows: no "new dispute" alert for it.
        claim.claim_many(deps, NEW, [str(dispute_id)], now=now)
        if meta.get("channel"):
            client.chat_postMessage(
                channel=meta["channel"],
                text=f"<@{user}> marked the invoice disputed; it will not be dunned while the "
                "dispute is open.",
            )
