"""The Monday digest says where cash is going and what moved DSO, with the numbers of
tests/test_dso_change.py's ledger worked out by hand for the week ending Sunday June 28."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.slack_client import make_web_client
from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import DIGEST, job_settings
from tests.test_dso_change import _ledger
from tools.csv_import import import_directory
from tools.deps import ToolDeps, connect


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def ddeps(db_url: str, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[ToolDeps]:
    d = connect(job_settings(db_url, fake_slack.base_url))
    import_directory(d.engine, _ledger(tmp_path), tz=d.settings.tz)
    yield d
    d.engine.dispose()


def test_digest_forecast_segments_and_dso_move(ddeps: ToolDeps, fake_slack: FakeSlack) -> None:
    client = make_web_client(ddeps.settings)
    run_job(ddeps, "weekly-digest", now=datetime(2026, 7, 1, 8, 0, tzinfo=UTC), client=client)

    [summary] = [
        c for c in fake_slack.calls("chat.postMessage")
        if c.params["channel"] == DIGEST and "thread_ts" not in c.params
    ]  # fmt: skip
    text = html.unescape(summary.all_text)
    # Open on Jun 28: X1 900 (3 days late), X2 300 and Y2 600 (current); no payment history
    # yet, so each is expected on its due date (X1, past due, tomorrow): 1,800 within 30 days.
    assert (
        "*Cash forecast* USD 1,800.00 expected in the next 30 days "
        "(60 days USD 1,800.00, 90 days USD 1,800.00)"
    ) in text
    # Jun 21 -> Jun 28: DSO 90 -> 60; best possible 56.25 -> 30; Yarrow paid its 900.
    assert (
        "*DSO since last week* -30.00 days: terms -26.25 days, lateness -3.75 days; moved most "
        "by Yarrow Ltd -36.25 days, Xenon Corp +6.25 days"
    ) in text
    # enterprise: AR 1,200 over sales 1,200 x 90; 300 current. smb: 600 over 1,500 x 90.
    assert (
        "• *enterprise*: DSO 90.00 days (target < 45) :x: · 25.00% current (target > 80) :x:"
    ) in text
    assert (
        "• *smb*: DSO 36.00 days (target < 45) :white_check_mark: · 100.00% current "
        "(target > 80) :white_check_mark:"
    ) in text
    [upload] = [u for u in fake_slack.uploads() if u.filename.endswith(".csv")]
    rows = list(csv.reader(io.StringIO(upload.content.decode("utf-8-sig"))))
    assert ["forecast", "next_30_days", "1800.00", "USD"] in rows
    assert ["dso_change", "lateness", "-3.75", ""] in rows
    assert ["segment enterprise", "dso", "90.00", ""] in rows
