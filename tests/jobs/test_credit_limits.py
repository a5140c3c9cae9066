"""Credit limits: exposure against the limit, worked out by hand; the daily scan alerts an
account when it goes over its limit or starts heading to it, not each day it stays so;
"who is over their credit limit?"."""

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
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.credit import CreditInput, credit_limits
from tools.csv_import import import_directory
from tools.deps import ToolDeps, connect
from tools.risk import score_customers

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


def test_scan_alerts_each_account_once_per_change(cdeps: ToolDeps, fake_slack: FakeSlack) -> None:
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
    # the next days, both still there: nothing new to tell
    run_job(cdeps, "at-risk-scan", now=SCAN + timedelta(days=1), client=client)
    run_job(cdeps, "at-risk-scan", now=SCAN + timedelta(days=2), client=client)
    assert len(_credit_posts(fake_slack, ALERTS)) == 2


def test_alert_again_only_after_falling_back_or_getting_worse(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    directory = write_csvs(
        tmp_path / "days",
        customers=[
            customer("BACK", name="Back Co", credit_limit="1000.00"),
            customer("WORSE", name="Worse Co", credit_limit="1000.00"),
            customer("SMALL", name="Small Co", credit_limit="10.00"),
        ],
        invoices=[
            invoice("B1", "1500.00", "2026-09-01", "2026-10-01", customer_id="BACK"),
            invoice("B2", "800.00", "2026-10-20", "2026-11-20", customer_id="BACK"),
            # 300 on 09-01, 800 from 10-01 (heading to 1000), 1300 from 10-20 (over)
            invoice("W1", "300.00", "2026-09-01", "2026-12-01", customer_id="WORSE"),
            invoice("W2", "500.00", "2026-10-01", "2026-12-01", customer_id="WORSE"),
            invoice("W3", "500.00", "2026-10-20", "2026-12-01", customer_id="WORSE"),
            # over its limit, but under the ARBOT_RISK_MIN_BALANCE of USD 500.00
            invoice("S1", "20.00", "2026-09-01", "2026-10-01", customer_id="SMALL"),
        ],
        payments=[payment("P1", "B1", "1000.00", "2026-09-10", customer_id="BACK")],
    )
    deps = connect(job_settings(db_url, fake_slack.base_url))
    try:
        import_directory(deps.engine, directory, tz=deps.settings.tz)
        client = make_web_client(deps.settings)

        def scan(day: str) -> list[str]:
            now = datetime.fromisoformat(f"{day}T08:00:00+00:00")
            before = len(_credit_posts(fake_slack, ALERTS))
            run_job(deps, "at-risk-scan", now=now, client=client)
            return _credit_posts(fake_slack, ALERTS)[before:]

        first = scan("2026-09-05")
        assert len(first) == 1 and "Back Co" in first[0] and "is over its credit limit" in first[0]
        assert scan("2026-09-06") == []  # still over: no second alert
        assert scan("2026-09-07") == []
        heading = scan("2026-10-02")  # Back Co paid down to 500, Worse Co now heading
        assert len(heading) == 1 and "Worse Co" in heading[0] and "reaches the limit" in heading[0]
        assert scan("2026-10-15") == []
        again = scan("2026-10-21")  # Back Co over again; Worse Co from heading to over
        assert len(again) == 2 and all("is over its credit limit" in p for p in again)
        assert any("Back Co" in p for p in again) and any("Worse Co" in p for p in again)
        assert scan("2026-10-22") == []
    finally:
        deps.engine.dispose()
    assert not any("Small Co" in p for p in _credit_posts(fake_slack, ALERTS))


def test_the_limit_covers_every_currency_rounded_once_on_every_surface(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    directory = write_csvs(
        tmp_path / "mixed",
        customers=[customer("MIX", name="Mixed Co", credit_limit="1000.16")],
        invoices=[
            invoice("U1", "1000.00", "2026-11-01", "2026-12-01", customer_id="MIX"),
            # EUR 0.15 at 1.1 is 16.5 cents: half-up to 17, so 1,000.17 against 1,000.16
            invoice("E1", "0.15", "2026-11-01", "2026-12-01", customer_id="MIX", currency="EUR"),
        ],
        fx_rates=[{"date": "2026-11-01", "currency": "EUR", "rate": "1.1"}],
    )
    deps = connect(job_settings(db_url, fake_slack.base_url))
    try:
        import_directory(deps.engine, directory, tz=deps.settings.tz)
        report = credit_limits(deps, CreditInput(as_of=SCAN.date()))
        with deps.sessions() as session:
            [risk] = score_customers(session, SCAN.date(), tz=deps.settings.tz)
    finally:
        deps.engine.dispose()

    [position] = report.positions
    assert (position.status, position.exposure_minor) == ("over", 100_017)
    # the risk score's credit-limit signal compares the same figure
    assert risk.signals.over_credit_limit
    assert "balance USD 1,000.17 is over the credit limit USD 1,000.16" in risk.reasons


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
        customers=[customer(c, name=f"Big {c}", credit_limit="1000.00") for c in names],
        invoices=[
            invoice(f"I{c}", "2000.00", "2026-11-01", "2026-12-01", customer_id=c) for c in names
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
