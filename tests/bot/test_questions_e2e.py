"""Fast-path questions asked over signed HTTP, answered in the thread with the ledger's numbers.

The expected numbers come from the same tools `arbot report` uses (ar_report etc.) on the same
ledger, formatted the way a person reads them, so the test checks what the user would check.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from bot.blocks.ids import ActionId
from tests.bot.conftest import CHANNEL, DM, FINANCE, Running
from tests.fakes.signing import block_action, mention_event, message_event
from tests.fakes.slack_api import FakeSlack
from tools.buckets import BUCKETS
from tools.deps import ToolDeps
from tools.format import round_ratio
from tools.metrics import MetricsInput
from tools.money import format_money, to_major
from tools.report import ar_report


def ask_dm(bot: Running, slack: FakeSlack, text: str, n: int = 1):  # type: ignore[no-untyped-def]
    event = message_event(text, user=FINANCE, channel=DM)
    status, _ = bot.slack.event(event)
    assert status == 200
    post = slack.wait_for("chat.postMessage", count=n)[n - 1]
    assert post.params["channel"] == DM
    assert post.params["thread_ts"] == event["ts"], "answers go in the question's thread"
    return post


def test_ar_now_matches_report(bot: Running, fake_slack: FakeSlack, ledger: ToolDeps) -> None:
    post = ask_dm(bot, fake_slack, "what's our AR right now?")
    report = ar_report(ledger, MetricsInput())
    assert format_money(report.ar_total_minor, "USD") in post.all_text
    assert format_money(report.unapplied_cash_minor, "USD") in post.all_text
    assert "Show invoices" in post.all_text


def test_aging_in_channel_with_chart(bot: Running, fake_slack: FakeSlack, ledger: ToolDeps) -> None:
    event = mention_event("aging please", user=FINANCE, channel=CHANNEL)
    assert bot.slack.event(event)[0] == 200
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert (post.params["channel"], post.params["thread_ts"]) == (CHANNEL, event["ts"])
    report = ar_report(ledger, MetricsInput())
    for bucket in BUCKETS:
        assert format_money(report.aging_minor[bucket], "USD") in post.all_text
        assert f"{round_ratio(report.aging_pct[bucket])}%" in post.all_text
    fake_slack.wait_for("files.completeUploadExternal")
    [chart] = fake_slack.uploads()
    assert chart.filename.endswith(".png") and chart.content.startswith(b"\x89PNG")
    assert chart.completed["thread_ts"] == event["ts"]
    assert chart.completed["channel_id"] == CHANNEL


def test_metrics_and_as_of(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps, today: date
) -> None:
    now = ar_report(ledger, MetricsInput())
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    last_quarter = ar_report(ledger, MetricsInput(as_of=quarter_start - timedelta(days=1)))
    ten_days_ago = today - timedelta(days=10)
    past = ar_report(ledger, MetricsInput(as_of=ten_days_ago))
    cases = [
        ("what's our DSO", f"{round_ratio(now.dso)} days"),
        ("best possible dso?", f"{round_ratio(now.best_possible_dso)} days"),
        ("average days delinquent", f"{round_ratio(now.average_days_delinquent)} days"),
        ("CEI", f"{round_ratio(now.cei_pct)}%"),
        ("ar turnover", f"{round_ratio(now.ar_turnover)}x"),
        ("bad debt %", f"{round_ratio(now.bad_debt_pct)}%"),
        ("DSO last quarter", f"{round_ratio(last_quarter.dso)} days"
         if last_quarter.dso is not None else "n/a"),
        (f"what was AR on {ten_days_ago:%B} {ten_days_ago.day}?",
         format_money(past.ar_total_minor, "USD")),
        (f"receivables as of {ten_days_ago.isoformat()}", format_money(past.ar_total_minor, "USD")),
    ]  # fmt: skip
    for n, (question, expected) in enumerate(cases, 1):
        post = ask_dm(bot, fake_slack, question, n)
        assert expected in post.params["text"], (question, expected, post.params["text"])
        assert expected in str(post.blocks), "the blocks show the figure the text gives"
    assert str(ten_days_ago) in post.all_text


def test_customer_balance_and_ambiguity(bot: Running, fake_slack: FakeSlack) -> None:
    post = ask_dm(bot, fake_slack, "what's globex's balance?")
    assert "Globex LLC" in post.all_text
    assert format_money(450000, "USD") in post.all_text  # 5000-1500 + 1200-200
    assert "INV-G1" in post.all_text and "INV-G2" in post.all_text

    post = ask_dm(bot, fake_slack, "how much does acme owe", 2)
    assert "Acme Inc" in post.all_text and "Acme GmbH" in post.all_text
    buttons = [e for b in post.blocks if b["type"] == "actions" for e in b["elements"]]
    gmbh = next(b for b in buttons if b["text"]["text"] == "Acme GmbH")
    status, _ = bot.slack.interaction(
        block_action(gmbh["action_id"], value=gmbh["value"], user=FINANCE, channel=DM,
                     message_ts=post.params.get("ts", "1.1"), thread_ts=post.params["thread_ts"])
    )  # fmt: skip
    assert status == 200
    answer = fake_slack.wait_for("chat.postMessage", 3)[2]
    assert "Acme GmbH" in answer.all_text and format_money(30000, "USD") in answer.all_text
    assert answer.params["thread_ts"] == post.params["thread_ts"]
    assert fake_slack.wait_for("chat.update")


def test_overdue_disputes_unapplied_help(bot: Running, fake_slack: FakeSlack) -> None:
    post = ask_dm(bot, fake_slack, "who is 60+ days late?")
    assert "Acme Inc" in post.all_text and "Globex LLC" in post.all_text
    assert "Initech" not in post.all_text  # only 20 days late
    assert format_money(600050, "USD") in post.all_text  # 2500.50 + 3500.00

    post = ask_dm(bot, fake_slack, "any open disputes?", 2)
    assert "Globex LLC" in post.all_text and format_money(350000, "USD") in post.all_text
    assert "1* open dispute" in post.all_text  # the resolved chargeback is not listed
    assert "<@U123>" not in post.all_text, "customer text is shown literally, never as markup"

    post = ask_dm(bot, fake_slack, "unapplied cash", 3)
    assert format_money(77777, "USD") in post.all_text and "Initech Ltd" in post.all_text

    post = ask_dm(bot, fake_slack, "what's the weather like?", 4)
    assert "what I can answer" in post.all_text
    assert "USD" not in post.all_text


def test_show_invoices_uploads_rows_that_add_up(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps
) -> None:
    post = ask_dm(bot, fake_slack, "AR")
    button = next(
        e for b in post.blocks if b["type"] == "actions" for e in b["elements"]
        if e["action_id"] == ActionId.SHOW_ROWS
    )  # fmt: skip
    status, _ = bot.slack.interaction(
        block_action(button["action_id"], value=button["value"], user=FINANCE, channel=DM,
                     message_ts="1700000000.000100", thread_ts=post.params["thread_ts"])
    )  # fmt: skip
    assert status == 200
    fake_slack.wait_for("files.completeUploadExternal")
    [upload] = fake_slack.uploads()
    assert upload.completed["thread_ts"] == post.params["thread_ts"]
    rows = list(csv.DictReader(io.StringIO(upload.content.decode())))
    total = sum(Decimal(r["open_amount"]) for r in rows)
    assert total == to_major(ar_report(ledger, MetricsInput()).ar_total_minor, "USD")
    assert {"INV-A1", "INV-G1", "INV-D01"} <= {r["invoice_number"] for r in rows}
    assert upload.completed["initial_comment"] == f"The {len(rows)} rows behind this answer."


def test_slash_command_answers_in_channel(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps
) -> None:
    status, _ = bot.slack.command("/ar", "top 3 overdue", user=FINANCE, channel=CHANNEL)
    assert status == 200
    post = fake_slack.wait_for("chat.postMessage")[0]
    assert post.params["channel"] == CHANNEL
    assert f"<@{FINANCE}> asked" in post.all_text
    assert "1. *Acme Inc*" in post.all_text and "3. *Initech Ltd*" in post.all_text
    assert "4." not in post.all_text
