"""Looking ahead in Slack, over signed HTTP: "DSO by segment", "aging for enterprise", "who
owes most in mid-market" with the hand-computed numbers of tests/test_cuts.py, and "cash
forecast" with its chart on the ledger of tests/test_forecast.py."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from tests.bot.conftest import Running
from tests.bot.test_questions_e2e import ask_dm
from tests.cli_helpers import arbot
from tests.fakes.slack_api import FakeSlack
from tests.test_cuts import _ledger
from tests.test_forecast import _ledger as forecast_ledger
from tools.settings import Settings


@pytest.fixture
def cut_bot(
    settings: Settings, running: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Running:
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0
    return running


def test_dso_by_segment(cut_bot: Running, fake_slack: FakeSlack) -> None:
    post = ask_dm(cut_bot, fake_slack, "DSO by segment as of 2026-06-30")
    text = html.unescape(post.all_text).replace("*", "")
    assert "DSO by segment as of 2026-06-30" in text
    # enterprise 900 / 300 x 90; mid-market 260 / 760 x 90; the company 1160 / 1060 x 90
    assert (
        "enterprise: DSO 270.00 days (off target < 45) · 33.33% current (off target > 80)" in text
    )
    assert "mid-market: DSO 30.79 days (on target < 45)" in text
    assert "all: DSO 98.49 days" in text


def test_aging_for_one_segment(cut_bot: Running, fake_slack: FakeSlack) -> None:
    text = ask_dm(cut_bot, fake_slack, "aging for enterprise as of 2026-06-30").all_text
    assert "AR aging for enterprise as of 2026-06-30 (USD)" in text
    assert "USD 900.00" in text and "USD 600.00 (66.67%)" in text
    assert "USD 260.00" not in text  # mid-market's AR is not in it


def test_who_owes_most_in_a_segment(cut_bot: Running, fake_slack: FakeSlack) -> None:
    text = ask_dm(cut_bot, fake_slack, "who owes most in mid-market as of 2026-06-30").all_text
    assert "Largest balances in mid-market as of 2026-06-30" in text
    assert "Customer C2" in text and "Customer EU" in text
    assert "Customer C1" not in text  # enterprise


def test_segment_targets_from_settings(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("ARBOT_TARGET_DSO_DAYS_BY_SEGMENT", "enterprise=300, Mid-Market=30")
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0

    run = arbot(capsys, "ask", "DSO by segment as of 2026-06-30")

    assert run.code == 0, run.err
    assert "enterprise: DSO 270.00 days (on target < 300)" in run.out
    assert "mid-market: DSO 30.79 days (off target < 30)" in run.out


def test_bad_segment_target_is_named(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBOT_TARGET_DSO_DAYS_BY_SEGMENT", "enterprise")
    run = arbot(capsys, "report")
    assert run.code != 0
    assert "ARBOT_TARGET_DSO_DAYS_BY_SEGMENT" in run.err


def test_cash_forecast_with_chart(
    settings: Settings,
    running: Running,
    fake_slack: FakeSlack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert arbot(capsys, "import", str(forecast_ledger(tmp_path))).code == 0

    post = ask_dm(running, fake_slack, "cash forecast as of 2026-06-30")

    text = post.all_text
    assert "Cash forecast from 2026-06-30 (USD)" in text
    # the hand-computed figures of tests/test_forecast.py
    assert "Next 30 days: USD 2,000.00" in text.replace("*", "")
    assert "Week of 2026-07-15: USD 825.00" in text
    fake_slack.wait_for("files.completeUploadExternal")
    [chart] = fake_slack.uploads()
    assert chart.filename == "cash-forecast-2026-06-30.png"
    assert chart.content.startswith(b"\x89PNG")
