""" "Which promises were broken?" over signed HTTP: the answer is the tool's list, one rule
deciding kept or broken, with the same amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text

from db.models import PromiseToPay
from tests.bot.conftest import Running
from tests.bot.test_questions_e2e import ask_dm
from tests.fakes.slack_api import FakeSlack
from tools.deps import ToolDeps
from tools.money import format_money
from tools.promise_outcome import BrokenPromisesInput, broken_promises


def promise(deps: ToolDeps, number: str, amount_minor: int, on: date) -> None:
    with deps.engine.connect() as conn:
        inv, cust = conn.execute(
            text("SELECT id, customer_id FROM invoices WHERE number = :n"), {"n": number}
        ).one()
    with deps.sessions() as session, session.begin():
        session.add(
            PromiseToPay(
                customer_id=cust,
                invoice_id=inv,
                amount_minor=amount_minor,
                currency="USD",
                promised_on=on,
                status="open",
                recorded_by="UCOLLECT1",
                created_at=datetime.combine(on - timedelta(days=7), time(), UTC),
            )
        )


def test_broken_promises_answer_lists_the_tools_shortfalls(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps, today: date
) -> None:
    with ledger.engine.connect() as conn:
        numbers = [str(n) for (n,) in conn.execute(text("SELECT number FROM invoices"))]
    promise(ledger, numbers[0], 123456, today - timedelta(days=3))
    expected = broken_promises(ledger, BrokenPromisesInput(as_of=today))
    assert expected.count >= 1
    post = ask_dm(bot, fake_slack, "which promises to pay were broken?")
    shown = post.all_text
    assert f"{expected.count}* broken promise" in shown
    assert format_money(expected.short_total_minor, "USD") in shown
    first = expected.promises[0]
    assert first.customer_name in shown and format_money(first.promised_minor, "USD") in shown
