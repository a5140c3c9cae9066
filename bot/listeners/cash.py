"""Apply / Choose invoices / Leave unapplied / Suggest again on cash application cards, and
the modal.

Thin: ack, check the caller is a finance user or approver, call tools.cash_apply (where the
once-only rule lives), redraw the card, and tell a refused user why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.cash import choose_modal
from bot.blocks.ids import ActionId, CashForm, FieldId, ViewId
from bot.caller import Caller, caller
from bot.cash_cards import refresh_cash_card
from bot.listeners._slack import Click, clicked, field_errors, field_value, tell
from tools.cash_apply import CashRefused, apply, leave, reopen
from tools.cash_choose import resolve_choice
from tools.cash_lines import open_choices
from tools.deps import ToolDeps

NOT_ALLOWED = "Only finance users (ARBOT_FINANCE_USERS) or approvers can apply bank receipts."


def register(app: App, deps: ToolDeps) -> None:
    def on_apply(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, who: Caller
    ) -> None:
        if not who.on_team:
            tell(client, who, NOT_ALLOWED)
            return
        # "txn:key": the key is what the card showed, so a click applies that or nothing
        raw_id, _, shown = str(action["value"]).partition(":")
        txn_id = int(raw_id)
        try:
            done = apply(deps, txn_id, who.user, shown=shown or None)
        except CashRefused as exc:
            tell(client, who, str(exc))
        else:
            tell(client, who, done.message)
        refresh_cash_card(client, deps, txn_id)

    def deciding(step: Callable[[ToolDeps, int, str], object]) -> Click:
        """A button that moves one bank line (leave it, suggest again), then redraws its card."""

        def on_click(
            body: dict[str, Any], action: dict[str, Any], client: WebClient, who: Caller
        ) -> None:
            if not who.on_team:
                tell(client, who, NOT_ALLOWED)
                return
            txn_id = int(action["value"])
            try:
                step(deps, txn_id, who.user)
            except CashRefused as exc:
                tell(client, who, str(exc))
            refresh_cash_card(client, deps, txn_id)

        return on_click

    on_leave, on_reopen = deciding(leave), deciding(reopen)

    def on_choose(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, who: Caller
    ) -> None:
        if not who.on_team:
            tell(client, who, NOT_ALLOWED)
            return
        txn_id = int(action["value"])
        customer, choices = open_choices(deps, txn_id)
        client.views_open(
            trigger_id=body["trigger_id"], view=choose_modal(txn_id, customer, choices)
        )

    def on_submit(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        who = caller(context)
        if not who.on_team:
            ack(**field_errors(FieldId.AMOUNT, NOT_ALLOWED))
            return
        form = CashForm.model_validate_json(view["private_metadata"])
        picked = view["state"]["values"].get(FieldId.INVOICES, {}).get(FieldId.INVOICES, {})
        ids = [o["value"] for o in picked.get("selected_options") or []]
        typed = [w.strip() for w in field_value(view, FieldId.AMOUNT).split(",") if w.strip()]
        try:
            words = [f"id:{i}" for i in ids] + typed
            if not words:
                raise CashRefused("Pick or type at least one invoice.")
            customer_id, allocations = resolve_choice(deps, form.txn_id, None, words)
            apply(deps, form.txn_id, who.user, allocations=allocations, customer_id=customer_id)
        except CashRefused as exc:
            ack(**field_errors(FieldId.AMOUNT, str(exc)))
            return
        ack()
        refresh_cash_card(client, deps, form.txn_id)

    app.action(re.compile(f"^{ActionId.CASH_APPLY}:"))(clicked(on_apply))
    app.action(re.compile(f"^{ActionId.CASH_LEAVE}:"))(clicked(on_leave))
    app.action(re.compile(f"^{ActionId.CASH_CHOOSE}:"))(clicked(on_choose))
    app.action(re.compile(f"^{ActionId.CASH_REOPEN}:"))(clicked(on_reopen))
    app.view(ViewId.CASH_CHOOSE.value)(on_submit)
