"""A date that does not exist gets "there is no such date", never today's figure; a date no
report can be made for gets a plain sentence, not an error id; a very long question a short
refusal. Asked over signed HTTP (the real app, fake Slack) and with `arbot ask`.
"""

from __future__ import annotations

import pytest

from tests.bot.conftest import CHANNEL, FINANCE, Running
from tests.bot.test_questions_e2e import ask_dm
from tests.cli_helpers import arbot
from tests.fakes.signing import mention_event
from tests.fakes.slack_api import FakeSlack
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.money import format_money
from tools.report import ar_report

NO_SUCH_DATE = [
    ("AR on 2/30", "2/30"),
    ("what was AR on Feb 29 2025?", "feb 29 2025"),
    ("aging as of 29 february 2023", "29 february 2023"),
    ("AR on 13/01/2024", "13/01/2024"),
    ("receivables as of 2024-02-30", "2024-02-30"),
    ("aging on 32 march", "32 march"),
]
# Dates nobody could read: each must be refused in words, never answered for another day.
UNREADABLE = [
    ("AR on 12/31/99999", "12/31/99999"),
    ("AR on 1/1/0", "1/1/0"),
    ("AR at end of q5", "no such quarter: q5"),
    ("AR in q0 2024", "no such quarter: q0"),
    ("AR on 20240230", "20240230"),
    ("AR on 2024.02.30", "2024.02.30"),
    ("AR on 1/2/3/4", "1/2/3/4"),
]
LONG = "what is our AR " + "please " * 400


def test_impossible_dates_in_slack(bot: Running, fake_slack: FakeSlack, ledger: ToolDeps) -> None:
    today_ar = format_money(ar_report(ledger, MetricsInput()).ar_total_minor, "USD")
    n = 0
    for n, (question, phrase) in enumerate(NO_SUCH_DATE, 1):
        post = ask_dm(bot, fake_slack, question, n)
        assert f"there is no such date: {phrase}" in post.all_text, (question, post.all_text)
        assert today_ar not in post.all_text and "USD" not in post.all_text
    first = n + 1
    for n, (question, words) in enumerate(UNREADABLE, first):
        post = ask_dm(bot, fake_slack, question, n)
        assert words in post.all_text and "USD" not in post.all_text, (question, post.all_text)

    post = ask_dm(bot, fake_slack, "AR as of 9999-12-31", n + 1)
    assert "not 9999-12-31" in post.all_text, post.all_text
    assert "error" not in post.all_text.lower() and "USD" not in post.all_text

    post = ask_dm(bot, fake_slack, LONG, n + 2)
    assert "too long" in post.all_text and "USD" not in post.all_text

    event = mention_event("<@UBOT|arbot> " + "<@U1|" * 2000, user=FINANCE, channel=CHANNEL)
    assert bot.slack.event(event)[0] == 200
    post = fake_slack.wait_for("chat.postMessage", n + 3)[n + 2]
    assert "too long" in post.all_text


def test_impossible_dates_from_the_cli(
    ledger: ToolDeps, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARBOT_DATABASE_URL", ledger.settings.database_url)
    for question, phrase in NO_SUCH_DATE:
        run = arbot(capsys, "ask", "--no-agent", question)
        assert f"there is no such date: {phrase}" in run.out, (question, run)
        assert "USD" not in run.out
    for question, words in UNREADABLE:
        run = arbot(capsys, "ask", "--no-agent", question)
        assert words in run.out and "USD" not in run.out, (question, run)
    run = arbot(capsys, "ask", "--no-agent", "AR as of 9999-12-31")
    assert run.code == 0 and "not 9999-12-31" in run.out and "Traceback" not in run.err
    run = arbot(capsys, "report", "--as-of", "9999-12-31")
    assert run.code == 2 and "Traceback" not in run.err
    assert run.err.startswith("arbot report: --as-of: I can report as of 1900-01-01 to "), run.err
    assert run.err.strip().endswith(", not 9999-12-31"), run.err
    run = arbot(capsys, "ask", "--no-agent", LONG)
    assert "too long" in run.out and "USD" not in run.out
