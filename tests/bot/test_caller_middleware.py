"""Who may see what, and where, over real HTTP: every kind of input a person outside finance
can send is refused with no numbers, a finance user in a channel that is not allowed is sent
to a DM, and a form remembers the channel it was opened from."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.blocks.ids import ActionId, AlertForm, AlertRef, FieldId, RowsRequest, ViewId
from db.models import PromiseToPay
from tests.bot.conftest import CHANNEL, FINANCE, OTHER_CHANNEL, OUTSIDER, Running
from tests.fakes.signing import block_action, mention_event, message_event, new_ts, view_submission
from tests.fakes.slack_api import Call, FakeSlack
from tools.customers import OpenInvoicesInput, open_invoice_lines
from tools.deps import ToolDeps
from tools.watch import snoozed_customers

NOT_FINANCE = (
    "Sorry, AR numbers are only shared with the finance team. "
    "If you need access, ask whoever runs arbot to add you to ARBOT_FINANCE_USERS."
)
WRONG_PLACE = (
    "I only answer AR questions in a direct message or in the finance channels. "
    "Send me a DM and ask there."
)
ALERT_REFUSED = "Only the finance team can act on alerts."
SHOWN = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.open")

Send = Callable[[Running, ToolDeps, str, str], object]


def shown(fake: FakeSlack) -> list[Call]:
    """Every message, update or modal the bot showed anyone."""
    return [c for c in fake.calls() if c.method in SHOWN]


def globex(deps: ToolDeps) -> tuple[int, int]:
    """Globex's customer id and the id of one of its open invoices."""
    line = next(
        x for x in open_invoice_lines(deps, OpenInvoicesInput()) if x.customer_name == "Globex LLC"
    )
    return line.customer_id, line.invoice_id


def send_dm(bot: Running, _deps: ToolDeps, user: str, _channel: str) -> object:
    return bot.slack.event(message_event("what's our AR?", user=user, channel=f"D{user[1:]}"))


def send_mention(bot: Running, _deps: ToolDeps, user: str, channel: str) -> object:
    return bot.slack.event(mention_event("what's our AR?", user=user, channel=channel))


def send_command(bot: Running, _deps: ToolDeps, user: str, channel: str) -> object:
    return bot.slack.command("/ar", "aging", user=user, channel=channel)


def click(action_id: ActionId, value: str, user: str, channel: str) -> dict[str, Any]:
    return block_action(action_id, value=value, user=user, channel=channel, message_ts=new_ts())


def send_show_invoices(bot: Running, _deps: ToolDeps, user: str, channel: str) -> object:
    rows = RowsRequest(kind="open_invoices", as_of=date.today(), more_than_days=None)
    return bot.slack.interaction(click(ActionId.SHOW_ROWS, rows.model_dump_json(), user, channel))


def send_alert_button(bot: Running, deps: ToolDeps, user: str, channel: str) -> object:
    ref = AlertRef(customer_id=globex(deps)[0])
    return bot.slack.interaction(click(ActionId.ALERT_SNOOZE, ref.model_dump_json(), user, channel))


def promise_form(deps: ToolDeps, user: str, on: date) -> dict[str, Any]:
    """The promise form as submitted from an alert posted in CHANNEL."""
    customer_id, invoice_id = globex(deps)
    picked = {"type": "static_select", "selected_option": {"value": str(invoice_id)}}
    values = {
        FieldId.INVOICE: {FieldId.INVOICE: picked},
        FieldId.PROMISED_ON: {
            FieldId.PROMISED_ON: {"type": "datepicker", "selected_date": on.isoformat()}
        },
        FieldId.AMOUNT: {FieldId.AMOUNT: {"type": "plain_text_input", "value": None}},
    }
    form = AlertForm(customer_id=customer_id, channel=CHANNEL)
    return view_submission(
        ViewId.PROMISE, user=user, values=values, private_metadata=form.model_dump_json()
    )


def promises(deps: ToolDeps) -> list[str]:
    with deps.sessions() as session:
        return list(session.execute(select(PromiseToPay.recorded_by)).scalars())


@pytest.mark.parametrize(
    ("send", "method", "text"),
    [
        pytest.param(send_dm, "chat.postMessage", NOT_FINANCE, id="dm"),
        pytest.param(send_command, "chat.postEphemeral", NOT_FINANCE, id="ar-command"),
        pytest.param(send_show_invoices, "chat.postEphemeral", NOT_FINANCE, id="show-invoices"),
        pytest.param(send_alert_button, "chat.postEphemeral", ALERT_REFUSED, id="alert-button"),
    ],
)
def test_outsider_is_refused_with_no_numbers(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps, today: date,
    send: Send, method: str, text: str,
) -> None:  # fmt: skip
    send(bot, ledger, OUTSIDER, CHANNEL)
    bot.listeners.wait_idle()
    [told] = shown(fake_slack)
    assert (told.method, told.params["text"]) == (method, text)
    assert not any(ch.isdigit() for ch in told.all_text)
    if method == "chat.postEphemeral":
        assert told.params["user"] == OUTSIDER
    assert fake_slack.uploads() == []
    assert snoozed_customers(ledger, today) == set()


def test_outsider_form_submission_is_refused_in_the_form(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps, today: date
) -> None:
    status, answer = bot.slack.interaction(promise_form(ledger, OUTSIDER, today))
    assert status == 200
    assert json.loads(answer) == {
        "response_action": "errors",
        "errors": {FieldId.INVOICE: ALERT_REFUSED},
    }
    bot.listeners.wait_idle()
    assert shown(fake_slack) == [] and promises(ledger) == []


def test_finance_form_submission_is_announced_where_the_form_was_opened(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps, today: date
) -> None:
    status, answer = bot.slack.interaction(promise_form(ledger, FINANCE, today))
    assert (status, answer) == (200, "")
    [told] = fake_slack.wait_for("chat.postMessage")
    assert told.params["channel"] == CHANNEL
    assert told.params["text"].startswith(f"<@{FINANCE}> recorded a promise to pay")
    assert promises(ledger) == [FINANCE]


@pytest.mark.parametrize(
    ("send", "method"),
    [
        pytest.param(send_mention, "chat.postMessage", id="mention"),
        pytest.param(send_command, "chat.postEphemeral", id="ar-command"),
        pytest.param(send_show_invoices, "chat.postEphemeral", id="show-invoices"),
    ],
)
def test_finance_user_in_a_channel_not_allowed_is_sent_to_a_dm(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps, send: Send, method: str
) -> None:
    send(bot, ledger, FINANCE, OTHER_CHANNEL)
    bot.listeners.wait_idle()
    [told] = shown(fake_slack)
    assert (told.method, told.params["channel"], told.params["text"]) == (
        method,
        OTHER_CHANNEL,
        WRONG_PLACE,
    )
    assert fake_slack.uploads() == []


def test_alert_buttons_work_for_finance_wherever_the_alert_is(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps, today: date
) -> None:
    send_alert_button(bot, ledger, FINANCE, OTHER_CHANNEL)
    [told] = fake_slack.wait_for("chat.postMessage")
    assert told.params["channel"] == OTHER_CHANNEL
    assert told.params["text"].startswith(f"<@{FINANCE}> snoozed alerts about this account")
    assert snoozed_customers(ledger, today) == {globex(ledger)[0]}
