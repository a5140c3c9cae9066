"""Credit limits: exposure against the limit, worked out by hand; the daily scan alerts each
account over its limit or heading to it once a day; "who is over their credit limit?"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.slack_client import make_web_client
from jobs.credit_scan import flag_credit_limits
from jobs.runner import run_job
from tests.cli_helpers import arbot
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import ALERTS, job_settings
from tests.ledger_files import customer, invoice, write_csvs
from tools.credit import CreditInput, credit_limits
from tools.csv_import import import_directory
from tools.deps import ToolDeps, connect

SCAN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
OWNER = "U0000000OV"


def _ledger(directory: Path) -> Path:
    return write_csvs(
        directory,
        customers=[
            customer("OVER", name="Over Co", credit_limit="1000.00", owner_slack_id=OWNER),
            customer("TREND", name="Trend Co", credit_limit="1000.00"),
            customer("SLOW", name="Slow Co", credit_limit="1000.00"),
            customer("NOLIM", name="Nolimit Co"),
        ],
        invoices=[
            invoice("O1", "1500.00", "2026-11-01", "2026-12-01", customer_id="OVER"),
            # 300 open 30 days ago, 800 now: +500 in 30 days, the last 200 in 12 more days
            invoice("T1", "300.00", "2026-10-01", "2026-10-31", customer_id="TREND"),
            invoice("T2", "500.00", "2026-11-10", "2026-12-10", customer_id="TREND"),
            # 0 -> 400: 600 left at 400 per 30 days is 45 days away, beyond the 30 watched
            invoice("S1", "400.00", "2026-11-20", "2026-12-20", customer_id="SLOW"),
            invoice("N1", "5000.00", "2026-11-01", "2026-12-01", customer_id="NOLIM"),
        ],
    )


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def cdeps(db_url: str, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[ToolDeps]:
    d = connect(job_settings(db_url, fake_slack.base_url))
    import_directory(d.engine, _ledger(tmp_path / "csv"), tz=d.settings.tz)
    yield d
    d.engine.dispose()


def _credit_posts(fake: FakeSlack, channel: str) -> list[str]:
    return [
        c.all_text
        for c in fake.calls("chat.postMessage")
        if c.params["channel"] == channel and "credit limit" in c.all_text
    ]


def test_exposure_against_limits_by_hand(cdeps: ToolDeps) -> None:
    r = credit_limits(cdeps, CreditInput(as_of=date(2026, 11, 23)))

    assert (r.over_count, r.trending_count, r.with_limit_count) == (1, 1, 3)
    over, trending = r.positions
    assert (over.name, over.status, over.exposure_minor, over.limit_minor) == (
        "Over Co", "over", 150_000, 100_000,
    )  # fmt: skip
    assert (trending.name, trending.status, trending.days_to_limit) == ("Trend Co", "trending", 12)
    assert (trending.exposure_before_minor, trending.exposure_minor) == (30_000, 80_000)


def test_scan_alerts_each_account_once_a_day(cdeps: ToolDeps, fake_slack: FakeSlack) -> None:
    client: WebClient = make_web_client(cdeps.settings)
    run_job(cdeps, "at-risk-scan", now=SCAN, client=client)

    posts = _credit_posts(fake_slack, ALERTS)
    assert len(posts) == 2
    assert any(
        "Over Co" in p and "USD 1,500.00 is over its credit limit USD 1,000.00 (150.00% used)" in p
        for p in posts
    )
    assert any("Trend Co" in p and "reaches the limit in 12 days" in p for p in posts)
    assert len(_credit_posts(fake_slack, OWNER)) == 1  # Over Co's owner, in a DM
    # the same day again: nothing more
    assert (
        flag_credit_limits(cdeps, SCAN.date(), now=SCAN + timedelta(hours=2), client=client) == []
    )
    assert len(_credit_posts(fake_slack, ALERTS)) == 2
    # the next day, both still there: alerted again, once each
    run_job(cdeps, "at-risk-scan", now=SCAN + timedelta(days=1), client=client)
    assert len(_credit_posts(fake_slack, ALERTS)) == 4


def test_who_is_over_their_credit_limit(
    cdeps: ToolDeps, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBOT_DATABASE_URL", cdeps.settings.database_url)

    run = arbot(capsys, "ask", "who is over their credit limit as of 2026-11-23?")

    assert run.code == 0, run.err
    assert "1 account(s) over their credit limit, 1 heading to it within 30 days" in run.out
    assert "Over Co: open AR USD 1,500.00 is over its credit limit USD 1,000.00" in run.out
    assert "Trend Co: open AR USD 800.00 of its credit limit USD 1,000.00 (80.00% used)" in run.out
    assert "Slow Co" not in run.out and "Nolimit Co" not in run.out


def test_many_accounts_over_their_limit_do_not_flood_slack(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    names = [f"C{k:02d}" for k in range(22)]
    directory = write_csvs(
        tmp_path / "many",
        customers=[customer(c, name=f"Big {c}", credit_limit="10.00") for c in names],
        invoices=[
            invoice(f"I{c}", "20.00", "2026-11-01", "2026-12-01", customer_id=c) for c in names
        ],
    )
    deps = connect(job_settings(db_url, fake_slack.base_url))
    try:
        import_directory(deps.engine, directory, tz=deps.settings.tz)
        client = make_web_client(deps.settings)
        alerted = flag_credit_limits(deps, SCAN.date(), now=SCAN, client=client)
    finally:
        deps.engine.dispose()

    assert len(alerted) == 22
    posts = [c.all_text for c in fake_slack.calls("chat.postMessage")]
    assert sum("Over credit limit: Big" in p for p in posts) == 20
    [listed] = [p for p in posts if "2 more accounts over or near their credit limit" in p]
    assert "Big C20" in listed and "Big C21" in listed
