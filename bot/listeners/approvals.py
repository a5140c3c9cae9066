"""Approve / Edit / Reject (and Confirm, for proposed records) on approval cards, and the
Edit and Reject forms.

Thin: ack, call tools.actions / tools.dunning (where every rule lives), redraw the card from
the database (bot.cards), and tell a refused user why in an ephemeral message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.approval import edit_modal, reject_modal
from bot.blocks.ids import ActionId, CardForm, CardRef, FieldId, ViewId
from bot.caller import Caller, caller
from bot.cards import refresh_card
from bot.listeners._slack import clicked, field_errors, field_value, tell
from tools import actions, dunning, promises
from tools.actions import (
    ActionError,
    ActionExpired,
    ActionInfo,
    ActionNotFound,
    AlreadyDecided,
    StaleCard,
)
from tools.deps import ToolDeps

# (action, user) -> why the form may not open, or None
FormRefusal = Callable[[ActionInfo, str], str | None]
# (deps, the form's metadata, the submitted view, user) -> raises ActionError to keep it open
FormSubmit = Callable[[ToolDeps, CardForm, dict[str, Any], str], object]


def _clicked(
    deps: ToolDeps, client: WebClient, who: Caller, action: dict[str, Any]
) -> ActionInfo | None:
    """The action behind the card, or None (and the person told) when it is gone."""
    try:
        return actions.load(deps, CardRef.parse(action["value"]).action_id)
    except ActionNotFound as exc:
        tell(client, who, str(exc))
        return None


def _form_opener(
    deps: ToolDeps, refusal: FormRefusal, build: Callable[[ActionInfo], dict[str, Any]]
) -> Callable[..., None]:
    def open_form(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, who: Caller
    ) -> None:
        a = _clicked(deps, client, who, action)
        if a is None:
            return
        why_not = refusal(a, who.user)
        if why_not is not None:
            tell(client, who, why_not)
            return
        client.views_open(trigger_id=body["trigger_id"], view=build(a))

    return clicked(open_form)


def _form_submitted(
    deps: ToolDeps, submit: FormSubmit, error_field: FieldId
) -> Callable[..., None]:
    def on_submit(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        form = CardForm.model_validate_json(view["private_metadata"])
        try:
            submit(deps, form, view, caller(context).user)
        except ActionError as exc:
            ack(**field_errors(error_field, str(exc)))
            return
        ack()
        refresh_card(client, deps, form.action_id)

    return on_submit


def _save_edit(deps: ToolDeps, form: CardForm, view: dict[str, Any], user: str) -> object:
    return dunning.edit_draft(
        deps,
        form.action_id,
        user,
        field_value(view, FieldId.SUBJECT),
        field_value(view, FieldId.BODY),
        expected_version=form.version,
    )


def _reject(deps: ToolDeps, form: CardForm, view: dict[str, Any], user: str) -> object:
    return actions.reject(deps, form.action_id, user, field_value(view, FieldId.REASON))


def register(app: App, deps: ToolDeps) -> None:
    def approve(
        _body: dict[str, Any], action: dict[str, Any], client: WebClient, who: Caller
    ) -> None:
        a = _clicked(deps, client, who, action)
        if a is None:
            return
        seen = CardRef.parse(action["value"]).version
        try:
            decision = actions.approve(deps, a.id, who.user, seen=seen)
        except ActionError as exc:
            tell(client, who, str(exc))
            if isinstance(exc, AlreadyDecided | ActionExpired | StaleCard):
                refresh_card(client, deps, a.id)
            return
        refresh_card(client, deps, a.id)
        if decision.outcome == "first_approval":
            tell(client, who, decision.message)

    def confirm(
        _body: dict[str, Any], action: dict[str, Any], client: WebClient, who: Caller
    ) -> None:
        a = _clicked(deps, client, who, action)
        if a is None:
            return
        try:
            promises.confirm_record(deps, a.id, who.user, finance=who.finance)
        except ActionError as exc:
            tell(client, who, str(exc))
            if isinstance(exc, AlreadyDecided | ActionExpired):
                refresh_card(client, deps, a.id)
            return
        refresh_card(client, deps, a.id)

    def may_edit(a: ActionInfo, user: str) -> str | None:
        return actions.edit_refusal(deps.settings, a, user)

    def may_reject(a: ActionInfo, user: str) -> str | None:
        return actions.reject_refusal(deps.settings, a, user)

    app.action(ActionId.APPROVE)(clicked(approve))
    app.action(ActionId.CONFIRM)(clicked(confirm))
    app.action(ActionId.EDIT)(_form_opener(deps, may_edit, edit_modal))
    app.action(ActionId.REJECT)(_form_opener(deps, may_reject, reject_modal))
    app.view(ViewId.EDIT_DRAFT)(_form_submitted(deps, _save_edit, FieldId.BODY))
    app.view(ViewId.REJECT)(_form_submitted(deps, _reject, FieldId.REASON))
