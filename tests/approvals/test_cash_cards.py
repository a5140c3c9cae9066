"""Cash application cards end to end: a statement built here is imported, its lines are
posted as one card in the approvals channel, and signed clicks into the real app apply,
choose invoices and leave lines unapplied, with the fake Slack Web API on loopback."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.blocks.ids import ActionId, CashForm, FieldId, ViewId
from bot.cash_cards import post_cash_cards
from db.bank_models import BankTxn
from db.models import AuditLog, Invoice, Payment
from tests.approvals.conftest import APPROVALS_CHANNEL, COLLECTOR, OUTSIDER, SlackEnv
from tests.cash.statements import Line, csv_text
from tests.fakes.signing import block_action, view_submission
from tools.bank_import import import_statements
from tools.cash_apply import apply
from tools.cash_match import Allocation

TODAY = datetime.now(UTC).date()
LINES = [
    Line("W1", TODAY, "2000.50", payer="ACME CORP", remittance="INV-A1 INV-A2"),
    Line("W2", TODAY, "100.00", payer="Globex", remittance="part payment"),
    Line("W3", TODAY, "3.17", payer="", remittance="INTEREST"),
]


def _post(env: SlackEnv, tmp_path: Path) -> tuple[str, dict[str, str]]:
    path = tmp_path / "stmt.csv"
    path.write_text(csv_text(LINES))
    summary = import_statements(env.deps, [path])
    [ts] = post_cash_cards(env.client, env.deps, APPROVALS_CHANNEL, summary.new_ids)
    [post] = env.slack.calls("chat.postMessage")
    values = {
        e["action_id"]: e["value"]
        for b in post.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    }
    return ts, values


def _click(env: SlackEnv, action_id: str, value: str, ts: str, user: str) -> None:
    status, _ = env.sender.interaction(
        block_action(action_id, value=value, user=user, channel=APPROVALS_CHANNEL, message_ts=ts)
    )
    assert status == 200


def _bank_payments(env: SlackEnv) -> list[tuple[str, int]]:
    with env.deps.sessions() as s:
        q = select(Payment.external_id, Payment.amount_minor).where(Payment.source == "bank")
        return sorted((str(e), int(a)) for e, a in s.execute(q))


def test_one_card_per_statement_and_a_double_click_applies_once(
    slack_env: SlackEnv, tmp_path: Path
) -> None:
    ts, values = _post(slack_env, tmp_path)
    [post] = slack_env.slack.calls("chat.postMessage")
    assert post.params["channel"] == APPROVALS_CHANNEL
    text = post.all_text
    assert "USD 2,000.50* from ACME CORP" in text
    assert "Suggested: *Acme Corp*: INV-A2 USD 800.50, INV-A1 USD 1,200.00" in text
    assert "confidence 0.99" in text
    assert "No suggestion: nothing points to a customer." in text
    apply_w1 = next(k for k in values if k.startswith(ActionId.CASH_APPLY))
    # Two clicks at once (a double click, or two people): one application.
    clicks = [
        threading.Thread(target=_click, args=(slack_env, apply_w1, values[apply_w1], ts, COLLECTOR))
        for _ in range(2)
    ]
    for c in clicks:
        c.start()
    for c in clicks:
        c.join()
    slack_env.listeners.wait_idle()
    assert _bank_payments(slack_env) == [("ACC-1/W1/A1", 120000), ("ACC-1/W1/A2", 80050)]
    said = [c.params["text"] for c in slack_env.slack.calls("chat.postEphemeral")]
    assert sorted(said) == sorted(
        ["Applied USD 2,000.50 to 2 invoice(s).", f"Already applied by <@{COLLECTOR}>."]
    )
    card = slack_env.slack.calls("chat.update")[-1]
    assert card.params["ts"] == ts
    assert f"Applied to Acme Corp by <@{COLLECTOR}>" in card.all_text
    with slack_env.deps.sessions() as s:
        audit = s.execute(select(AuditLog).where(AuditLog.event == "cash_applied")).scalars().all()
    assert [a.actor for a in audit] == [COLLECTOR]


def test_only_finance_users_apply(slack_env: SlackEnv, tmp_path: Path) -> None:
    ts, values = _post(slack_env, tmp_path)
    apply_w1 = next(k for k in values if k.startswith(ActionId.CASH_APPLY))
    _click(slack_env, apply_w1, values[apply_w1], ts, OUTSIDER)
    [refusal] = slack_env.slack.wait_for("chat.postEphemeral")
    assert "Only finance users" in refusal.params["text"]
    slack_env.listeners.wait_idle()
    assert _bank_payments(slack_env) == []


def test_choose_invoices_and_leave_unapplied(slack_env: SlackEnv, tmp_path: Path) -> None:
    ts, values = _post(slack_env, tmp_path)
    w2 = [v for k, v in values.items() if k.startswith(ActionId.CASH_CHOOSE)][1]
    _click(slack_env, f"{ActionId.CASH_CHOOSE}:{w2}", w2, ts, COLLECTOR)
    [opened] = slack_env.slack.wait_for("views.open")
    view: dict[str, Any] = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    options = [
        o["text"]["text"]
        for b in view["blocks"]
        if b["block_id"] == FieldId.INVOICES
        for o in b["element"]["options"]
    ]
    assert options == [opt for opt in options if opt.startswith("INV-G1: USD 9,000.00 open")]
    meta = CashForm(txn_id=int(w2)).model_dump_json()

    def submit(typed: str) -> str:
        values_ = {
            FieldId.INVOICES: {
                FieldId.INVOICES: {"type": "multi_static_select", "selected_options": []}
            },
            FieldId.AMOUNT: {FieldId.AMOUNT: {"type": "plain_text_input", "value": typed}},
        }
        status, answer = slack_env.sender.interaction(
            view_submission(
                ViewId.CASH_CHOOSE, user=COLLECTOR, values=values_, private_metadata=meta
            )
        )
        assert status == 200
        return answer

    assert "take more than the bank line brought in" in submit("INV-G1")
    assert _bank_payments(slack_env) == []
    assert "errors" not in submit("INV-G1=100")
    assert _bank_payments(slack_env) == [("ACC-1/W2/G1", 10000)]
    w3 = [v for k, v in values.items() if k.startswith(ActionId.CASH_LEAVE)][2]
    _click(slack_env, f"{ActionId.CASH_LEAVE}:{w3}", w3, ts, COLLECTOR)
    slack_env.listeners.wait_idle()
    card = slack_env.slack.calls("chat.update")[-1].all_text
    assert f"Left unapplied by <@{COLLECTOR}>" in card
    assert f"Applied to Globex by <@{COLLECTOR}>" in card


def test_apply_applies_what_the_card_showed_or_nothing(slack_env: SlackEnv, tmp_path: Path) -> None:
    ts, values = _post(slack_env, tmp_path)
    apply_w1 = next(k for k in values if k.startswith(ActionId.CASH_APPLY))
    with slack_env.deps.sessions() as s:
        a1, acme = s.execute(
            select(Invoice.id, Invoice.customer_id).where(Invoice.number == "INV-A1")
        ).one()
        w2 = s.execute(select(BankTxn.id).where(BankTxn.external_id == "W2")).scalar_one()
    # The ledger moves after the card was drawn: INV-A1 is partly paid by another line.
    apply(slack_env.deps, w2, COLLECTOR, allocations=[Allocation(a1, 10000)], customer_id=acme)
    _click(slack_env, apply_w1, values[apply_w1], ts, COLLECTOR)
    slack_env.listeners.wait_idle()
    said = [c.params["text"] for c in slack_env.slack.calls("chat.postEphemeral")]
    assert any("The suggestion has changed since the card was drawn" in t for t in said), said
    assert _bank_payments(slack_env) == [("ACC-1/W2/A1", 10000)]
    redrawn = slack_env.slack.calls("chat.update")[-1]
    assert "INV-A1 USD 1,100.00" in redrawn.all_text
    fresh = {
        e["action_id"]: e["value"]
        for b in redrawn.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    }
    assert fresh[apply_w1] != values[apply_w1]
    _click(slack_env, apply_w1, fresh[apply_w1], ts, COLLECTOR)
    slack_env.listeners.wait_idle()
    assert ("ACC-1/W1/A1", 110000) in _bank_payments(slack_env)


def test_the_form_refuses_an_invoice_given_twice(slack_env: SlackEnv, tmp_path: Path) -> None:
    _post(slack_env, tmp_path)
    with slack_env.deps.sessions() as s:
        w2 = s.execute(select(BankTxn.id).where(BankTxn.external_id == "W2")).scalar_one()
    values_ = {
        FieldId.INVOICES: {
            FieldId.INVOICES: {"type": "multi_static_select", "selected_options": []}
        },
        FieldId.AMOUNT: {
            FieldId.AMOUNT: {"type": "plain_text_input", "value": "INV-G1=40, INV-G1=60"}
        },
    }
    meta = CashForm(txn_id=w2).model_dump_json()
    status, answer = slack_env.sender.interaction(
        view_submission(ViewId.CASH_CHOOSE, user=COLLECTOR, values=values_, private_metadata=meta)
    )
    assert status == 200
    assert "INV-G1 is chosen more than once" in answer and "USD 100.00" in answer
    assert _bank_payments(slack_env) == []


def _buttons(update: Any) -> dict[str, str]:
    return {
        e["action_id"]: e["value"]
        for b in update.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    }


def test_a_line_left_unapplied_can_have_its_suggestion_back_and_be_applied(
    slack_env: SlackEnv, tmp_path: Path
) -> None:
    ts, values = _post(slack_env, tmp_path)
    leave_w1 = next(k for k in values if k.startswith(ActionId.CASH_LEAVE))
    _click(slack_env, leave_w1, values[leave_w1], ts, COLLECTOR)
    slack_env.listeners.wait_idle()
    left = slack_env.slack.calls("chat.update")[-1]
    assert f"Left unapplied by <@{COLLECTOR}>" in left.all_text
    again = next(k for k in _buttons(left) if k.startswith(ActionId.CASH_REOPEN))
    w1 = _buttons(left)[again]
    assert f"{ActionId.CASH_APPLY}:{w1}" not in _buttons(left)
    # someone off the team cannot bring it back
    _click(slack_env, again, w1, ts, OUTSIDER)
    [refusal] = slack_env.slack.wait_for("chat.postEphemeral")
    assert "Only finance users" in refusal.params["text"]
    _click(slack_env, again, w1, ts, COLLECTOR)
    slack_env.listeners.wait_idle()
    back = slack_env.slack.calls("chat.update")[-1]
    assert "Suggested: *Acme Corp*: INV-A2 USD 800.50, INV-A1 USD 1,200.00" in back.all_text
    assert "Left unapplied" not in back.all_text.split("ACME CORP")[1].split("Globex")[0]
    buttons = _buttons(back)
    apply_w1 = f"{ActionId.CASH_APPLY}:{w1}"
    _click(slack_env, apply_w1, buttons[apply_w1], ts, COLLECTOR)
    slack_env.listeners.wait_idle()
    assert _bank_payments(slack_env) == [("ACC-1/W1/A1", 120000), ("ACC-1/W1/A2", 80050)]
    with slack_env.deps.sessions() as s:
        events = s.execute(
            select(AuditLog.event, AuditLog.actor)
            .where(AuditLog.entity_id == w1)
            .order_by(AuditLog.id)
        ).all()
    assert [tuple(e) for e in events] == [
        ("cash_left_unapplied", COLLECTOR),
        ("cash_reopened", COLLECTOR),
        ("cash_applied", COLLECTOR),
    ]
