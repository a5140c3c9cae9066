"""The at-risk alert's buttons end to end: the scan posts a real alert, then signed Slack
interactions (button clicks and modal submissions) go to the real Bolt app over HTTP, which
answers through the real slack_sdk client to the fake Slack Web API. Each test checks what a
collector would: the approval card in the alert's thread, the promise or dispute in the
ledger, the dunning run that now leaves the invoice alone, the alert that does not come back.

The listeners read the wall clock (the job ledger's "Monday" is a fixed date), so dates the
buttons produce (promise dates, snooze ends) are read back from what Slack was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import select

from bot.blocks.ids import ActionId, CardRef, FieldId, ViewId
from db.models import Action, ActionStatus, Dispute, PromiseToPay
from jobs.runner import run_job
from tests.bot import conftest as bot_conftest
from tests.bot.conftest import FINANCE, OUTSIDER, Running
from tests.fakes.signing import block_action, new_ts, view_submission
from tests.fakes.slack_api import Call, FakeSlack
from tests.jobs import ledger
from tests.jobs.conftest import ALERTS, APPROVER
from tests.jobs.ledger import MONDAY
from tests.ledger_files import invoice, payment, write_csvs
from tools import actions
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.settings import Settings
from tools.watch import snoozed_customers

# The real app served over HTTP (tests/bot), fed with the job ledger's deps below.
running = bot_conftest.running

TUESDAY = MONDAY + timedelta(days=1)
REFUSED = "Only the finance team can act on alerts."
FINANCE_GROUP, GROUP_MEMBER = "SFINANCE01", "UGRPMEMBER"
BUTTONS = (
    ActionId.ALERT_DRAFT,
    ActionId.ALERT_PROMISE,
    ActionId.ALERT_DISPUTE,
    ActionId.ALERT_SNOOZE,
)


@pytest.fixture
def bot_settings(jdeps: ToolDeps) -> Settings:
    """The job settings, signed like tests/bot's sender, with one finance user who is not
    an approver (the collector clicking the buttons), and a finance user group."""
    return jdeps.settings.model_copy(
        update={
            "slack_signing_secret": SecretStr(bot_conftest.SECRET),
            "finance_users": [APPROVER, FINANCE, FINANCE_GROUP],
        }
    )


@pytest.fixture
def bot_deps(jdeps: ToolDeps, bot_settings: Settings) -> Iterator[ToolDeps]:
    yield replace(jdeps, settings=bot_settings)


@dataclass
class Alert:
    """The at-risk alert as posted to the alerts channel: where it is and its buttons."""

    ts: str
    block_id: str
    values: dict[str, str]  # action_id -> the button's value
    text: str


@pytest.fixture
def alert(running: Running, bot_deps: ToolDeps, fake_slack: FakeSlack, client: WebClient) -> Alert:
    """Risky Inc enters high risk on Tuesday (a failed payment) and the scan alerts it."""
    ledger.failed_payment(bot_deps, "R1", TUESDAY - timedelta(hours=3), "fail-1")
    risky = ledger.customer_id(bot_deps, "RISKY")
    assert run_job(bot_deps, "at-risk-scan", now=TUESDAY, client=client) == [risky]
    [post] = _posts(fake_slack, ALERTS)
    [row] = [b for b in post.blocks if b["type"] == "actions"]
    fake_slack.reset()
    return Alert(
        ts=new_ts(),  # the fake does not record the ts it answered; any message ts will do
        block_id=row["block_id"],
        values={e["action_id"]: e["value"] for e in row["elements"]},
        text=post.all_text,
    )


def _posts(fake: FakeSlack, channel: str) -> list[Call]:
    return [c for c in fake.calls("chat.postMessage") if c.params["channel"] == channel]


def click(bot: Running, alert: Alert, button: ActionId, user: str) -> None:
    status, _ = bot.slack.interaction(
        block_action(
            button,
            value=alert.values[button],
            user=user,
            channel=ALERTS,
            message_ts=alert.ts,
            block_id=alert.block_id,
        )
    )
    assert status == 200


def opened_view(fake: FakeSlack) -> dict[str, Any]:
    [opened] = fake.wait_for("views.open")
    view = opened.params["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def invoice_option(view: dict[str, Any], number: str) -> str:
    """The value of the invoice picker's option a user would pick by its label."""
    [picker] = [b for b in view["blocks"] if b.get("block_id") == FieldId.INVOICE]
    [value] = [
        o["value"] for o in picker["element"]["options"] if o["text"]["text"].startswith(number)
    ]
    return str(value)


def submit(bot: Running, view: dict[str, Any], user: str, values: dict[str, Any]) -> str:
    status, answer = bot.slack.interaction(
        view_submission(
            view["callback_id"],
            user=user,
            values=values,
            private_metadata=view["private_metadata"],
        )
    )
    assert status == 200
    return answer


def dunned(deps: ToolDeps, client: WebClient, now: datetime) -> set[str]:
    """Invoice numbers the dunning job proposes a reminder for at `now`."""
    numbers = {v: k for k, v in ledger.ids(deps).items()}
    out = set()
    for action_id in run_job(deps, "dunning", now=now, client=client):
        a = actions.load(deps, action_id)
        out.update(numbers[int(i["id"])] for i in a.payload["invoices"])
    return out


def test_alert_has_the_four_buttons_about_the_account(alert: Alert, bot_deps: ToolDeps) -> None:
    assert "Risky Inc" in alert.text and "high risk" in alert.text
    assert list(alert.values) == list(BUTTONS)
    risky = ledger.customer_id(bot_deps, "RISKY")
    assert {json.loads(v)["customer_id"] for v in alert.values.values()} == {risky}


def test_draft_reminder_posts_an_approval_card_in_the_alert_thread(
    running: Running, alert: Alert, bot_deps: ToolDeps, fake_slack: FakeSlack
) -> None:
    click(running, alert, ActionId.ALERT_DRAFT, FINANCE)
    [card] = fake_slack.wait_for("chat.postMessage")
    assert card.params["channel"] == ALERTS and card.params["thread_ts"] == alert.ts
    text = card.all_text
    assert "ap@risky.example.com" in text and "INV-R1" in text and "USD 5,000.00" in text
    assert "Approve" in text
    assert fake_slack.calls("chat.postEphemeral") == []
    [action_id] = {
        CardRef.parse(e["value"]).action_id
        for b in card.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    }
    a = actions.load(bot_deps, action_id)
    assert a.status == ActionStatus.PROPOSED and a.proposed_by == FINANCE
    assert a.payload["recipient"] == "ap@risky.example.com"
    assert a.customer_id == ledger.customer_id(bot_deps, "RISKY")
    # the card's place is stored right after Slack answers, so later decisions redraw it
    running.listeners.wait_idle()
    a = actions.load(bot_deps, action_id)
    assert a.slack_channel == ALERTS and a.slack_ts


def test_record_promise_writes_it_and_dunning_skips_the_invoice_until_then(
    running: Running, alert: Alert, bot_deps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    click(running, alert, ActionId.ALERT_PROMISE, FINANCE)
    view = opened_view(fake_slack)
    assert view["title"]["text"] == "Promise to pay"
    r1 = invoice_option(view, "INV-R1")
    assert r1 == str(ledger.ids(bot_deps)["INV-R1"])
    real_today = datetime.now(UTC).date()

    def values(on: date, amount: str | None) -> dict[str, Any]:
        return {
            FieldId.INVOICE: {
                FieldId.INVOICE: {"type": "static_select", "selected_option": {"value": r1}}
            },
            FieldId.PROMISED_ON: {
                FieldId.PROMISED_ON: {"type": "datepicker", "selected_date": on.isoformat()}
            },
            FieldId.AMOUNT: {FieldId.AMOUNT: {"type": "plain_text_input", "value": amount}},
        }

    # a date in the past keeps the modal open with the reason, and records nothing
    answer = submit(running, view, FINANCE, values(real_today - timedelta(days=1), "2500.00"))
    assert json.loads(answer)["response_action"] == "errors"
    assert "today or later" in json.loads(answer)["errors"][FieldId.PROMISED_ON]
    promised_on = real_today + timedelta(days=10)
    # an amount it cannot read is shown under the amount, not under the date
    answer = submit(running, view, FINANCE, values(promised_on, "2,500.00"))
    assert json.loads(answer)["errors"] == {FieldId.AMOUNT: "amount '2,500.00' is not a number"}
    assert submit(running, view, FINANCE, values(promised_on, "2500.00")) == ""
    [told] = fake_slack.wait_for("chat.postMessage")
    assert told.params["channel"] == ALERTS
    assert told.params["text"] == (
        f"<@{FINANCE}> recorded a promise to pay USD 2,500.00 on INV-R1 by {promised_on}; "
        "reminders pause until then."
    )
    with bot_deps.sessions() as session:
        rows = session.execute(
            select(PromiseToPay).where(PromiseToPay.recorded_by == FINANCE)
        ).scalars()
        got = [(p.invoice_id, p.amount_minor, p.currency, p.promised_on, p.status) for p in rows]
    assert got == [(int(r1), 250_000, "USD", promised_on, "open")]
    # the dunning run the same day drafts D1 and D2 but leaves the promised R1 alone ...
    assert dunned(bot_deps, client, TUESDAY) == {"INV-D1", "INV-D2"}
    # ... and reminds about R1 again once the promised date has passed unpaid
    after = datetime.combine(promised_on + timedelta(days=1), datetime.min.time(), UTC)
    assert "INV-R1" in dunned(bot_deps, client, after + timedelta(hours=8))


def test_mark_disputed_writes_a_dispute_and_the_invoice_is_no_longer_dunned(
    running: Running, alert: Alert, bot_deps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    click(running, alert, ActionId.ALERT_DISPUTE, FINANCE)
    view = opened_view(fake_slack)
    assert view["title"]["text"] == "Mark disputed"
    r1 = invoice_option(view, "INV-R1")
    reason = "Says the July delivery arrived damaged"
    values = {
        FieldId.INVOICE: {
            FieldId.INVOICE: {"type": "static_select", "selected_option": {"value": r1}}
        },
        FieldId.REASON: {FieldId.REASON: {"type": "plain_text_input", "value": reason}},
    }
    assert submit(running, view, FINANCE, values) == ""
    [told] = fake_slack.wait_for("chat.postMessage")
    assert told.params["channel"] == ALERTS and "marked the invoice disputed" in told.params["text"]
    with bot_deps.sessions() as session:
        [d] = session.execute(select(Dispute).where(Dispute.invoice_id == int(r1))).scalars()
        assert (d.source, d.kind, d.reason, d.amount_minor, d.resolved_at) == (
            "slack",
            "billing",
            reason,
            500_000,
            None,
        )
    # a second "mark disputed" on the same invoice is refused in the modal
    again = json.loads(submit(running, view, FINANCE, values))
    assert "INV-R1 is already disputed" in again["errors"][FieldId.REASON]
    assert dunned(bot_deps, client, TUESDAY) == {"INV-D1", "INV-D2"}
    # the person who marked it knows: the dispute watch posts no "new dispute" about it
    fake_slack.reset()
    run_job(bot_deps, "dispute-watch", now=datetime.now(UTC), client=client)
    assert not any("Risky Inc" in c.all_text for c in fake_slack.calls("chat.postMessage"))


def test_snooze_suppresses_the_next_alert_until_it_ends(
    running: Running,
    alert: Alert,
    bot_deps: ToolDeps,
    fake_slack: FakeSlack,
    client: WebClient,
    tmp_path: Path,
) -> None:
    click(running, alert, ActionId.ALERT_SNOOZE, FINANCE)
    [told] = fake_slack.wait_for("chat.postMessage")
    assert told.params["channel"] == ALERTS and told.params["thread_ts"] == alert.ts
    found = re.fullmatch(
        rf"<@{FINANCE}> snoozed alerts about this account until (\d{{4}}-\d\d-\d\d)\.",
        told.params["text"],
    )
    assert found is not None
    until = date.fromisoformat(found.group(1))
    assert until == datetime.now(UTC).date() + timedelta(days=7)
    risky = ledger.customer_id(bot_deps, "RISKY")
    # Wednesday R1 is paid (Risky leaves high risk); Thursday a forgotten 120-days-late
    # invoice is imported and Risky is high risk again: that would alert, but it is snoozed.
    write_csvs(
        tmp_path / "paid",
        payments=[payment("PR1", "R1", "5000.00", ledger.day(1), customer_id="RISKY")],
    )
    import_directory(bot_deps.engine, tmp_path / "paid", tz=bot_deps.settings.tz)
    assert run_job(bot_deps, "at-risk-scan", now=TUESDAY + timedelta(days=1), client=client) == []
    write_csvs(
        tmp_path / "late",
        invoices=[
            invoice("R2", "3000.00", ledger.day(-150), ledger.day(-120), customer_id="RISKY")
        ],
    )
    import_directory(bot_deps.engine, tmp_path / "late", tz=bot_deps.settings.tz)
    assert run_job(bot_deps, "at-risk-scan", now=TUESDAY + timedelta(days=2), client=client) == []
    assert _posts(fake_slack, ALERTS) == [told]
    # the day after the snooze ends, the alert comes back (a fresh failed attempt keeps the
    # account high risk however late this test runs)
    back = datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=8
    )
    ledger.failed_payment(bot_deps, "R2", back - timedelta(hours=3), "fail-2")
    assert snoozed_customers(bot_deps, back.date()) == set()
    assert run_job(bot_deps, "at-risk-scan", now=back, client=client) == [risky]
    assert "Risky Inc" in _posts(fake_slack, ALERTS)[-1].all_text


def test_non_finance_user_is_refused_and_nothing_changes(
    running: Running, alert: Alert, bot_deps: ToolDeps, fake_slack: FakeSlack
) -> None:
    for button in BUTTONS:
        click(running, alert, button, OUTSIDER)
    # a modal submitted by someone who is not (or no longer) in finance is refused too
    r1 = str(ledger.ids(bot_deps)["INV-R1"])
    meta = json.dumps(json.loads(alert.values[ActionId.ALERT_PROMISE]) | {"channel": ALERTS})
    picked = {FieldId.INVOICE: {"type": "static_select", "selected_option": {"value": r1}}}
    forged = {
        ViewId.PROMISE: {
            FieldId.INVOICE: picked,
            FieldId.PROMISED_ON: {
                FieldId.PROMISED_ON: {"type": "datepicker", "selected_date": "2030-01-01"}
            },
            FieldId.AMOUNT: {FieldId.AMOUNT: {"type": "plain_text_input", "value": None}},
        },
        ViewId.DISPUTE: {
            FieldId.INVOICE: picked,
            FieldId.REASON: {FieldId.REASON: {"type": "plain_text_input", "value": "no reason"}},
        },
    }
    for callback_id, values in forged.items():
        view = {"callback_id": callback_id, "private_metadata": meta}
        answer = json.loads(submit(running, view, OUTSIDER, values))
        assert answer == {"response_action": "errors", "errors": {FieldId.INVOICE: REFUSED}}
    told = fake_slack.wait_for("chat.postEphemeral", count=4)
    assert [(c.params["user"], c.params["text"]) for c in told] == [(OUTSIDER, REFUSED)] * 4
    running.listeners.wait_idle()
    assert fake_slack.calls("chat.postMessage") == [] and fake_slack.calls("views.open") == []
    assert snoozed_customers(bot_deps, TUESDAY.date()) == set()
    with bot_deps.sessions() as session:
        assert session.execute(select(PromiseToPay.recorded_by)).scalars().all() == ["UCOLLECT1"]
        assert session.execute(select(Dispute.source)).scalars().all() == ["csv"]
        assert session.execute(select(Action.id)).scalars().all() == []


def test_a_member_of_the_finance_user_group_may_act(
    running: Running, alert: Alert, fake_slack: FakeSlack
) -> None:
    fake_slack.usergroups[FINANCE_GROUP] = [GROUP_MEMBER]
    click(running, alert, ActionId.ALERT_SNOOZE, GROUP_MEMBER)
    [told] = fake_slack.wait_for("chat.postMessage")
    assert told.params["text"].startswith(f"<@{GROUP_MEMBER}> snoozed alerts about this account")


def test_buttons_carry_ids_that_no_customer_or_invoice_reference_can_shadow(
    running: Running,
    alert: Alert,
    bot_deps: ToolDeps,
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> None:
    """A customer whose external id is Risky's internal id, and an invoice whose number is
    R1's internal id: the buttons still mean Risky and R1."""
    risky, r1 = ledger.customer_id(bot_deps, "RISKY"), ledger.ids(bot_deps)["INV-R1"]
    write_csvs(
        tmp_path / "shadow",
        customers=[{"customer_id": str(risky), "name": "Shadow Co", "currency": "USD",
                    "ap_email": "ap@shadow.example.com"}],
        invoices=[invoice(f"X{r1}", "10.00", "2026-01-01", "2026-01-31",
                          customer_id=str(risky), number=str(r1))],
    )  # fmt: skip
    import_directory(bot_deps.engine, tmp_path / "shadow", tz=bot_deps.settings.tz)

    click(running, alert, ActionId.ALERT_DRAFT, FINANCE)
    [card] = fake_slack.wait_for("chat.postMessage")
    assert "ap@risky.example.com" in card.all_text and "Shadow" not in card.all_text

    fake_slack.reset()
    click(running, alert, ActionId.ALERT_PROMISE, FINANCE)
    view = opened_view(fake_slack)
    on = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()
    fields = {
        FieldId.PROMISED_ON: {FieldId.PROMISED_ON: {"type": "datepicker", "selected_date": on}},
        FieldId.AMOUNT: {FieldId.AMOUNT: {"type": "plain_text_input", "value": None}},
    }
    # nothing chosen: the reason shows under the invoice picker and nothing is recorded
    unchosen = {FieldId.INVOICE: {FieldId.INVOICE: {"type": "static_select"}}}
    answer = json.loads(submit(running, view, FINANCE, fields | unchosen))
    assert answer["response_action"] == "errors" and FieldId.INVOICE in answer["errors"]
    chosen = {
        FieldId.INVOICE: {
            FieldId.INVOICE: {
                "type": "static_select",
                "selected_option": {"value": invoice_option(view, "INV-R1")},
            }
        }
    }
    assert submit(running, view, FINANCE, fields | chosen) == ""
    with bot_deps.sessions() as session:
        promised = session.execute(
            select(PromiseToPay.invoice_id).where(PromiseToPay.recorded_by == FINANCE)
        ).scalars()
        assert list(promised) == [r1]
