"""Rate limits, server errors and a sync that dies midway, against the fake Stripe."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.cli import main
from db import stripe_sql
from db.models import Invoice
from tests.fakes.stripe_api import FakeStripe
from tests.stripe.conftest import build_world, day_of, ledger_rows, sync
from tests.stripe.test_sync import assert_matches_stripe
from tools.deps import ToolDeps
from tools.stripe_sync import BACKFILL_CURSOR, SyncInterrupted


def test_429_and_500_on_the_way_are_retried(sdeps: ToolDeps, fake: FakeStripe) -> None:
    build_world(fake)
    fake.fail(500, path="/v1/customers")
    fake.fail(429, path="/v1/invoices", after=1)  # the second page of invoices
    fake.fail(429, path="/v1/events", times=2)
    stats = sync(sdeps)
    statuses = [(r.path, r.status) for r in fake.requests]
    assert ("/v1/customers", 500) in statuses and ("/v1/invoices", 429) in statuses
    assert statuses.count(("/v1/events", 429)) == 2
    assert stats.retries == 3  # the 429s are ours to retry; the client retried the 500
    assert_matches_stripe(sdeps, fake, day_of(fake.now))


def test_interrupted_sync_keeps_pages_and_resumes(sdeps: ToolDeps, fake: FakeStripe) -> None:
    build_world(fake)
    fake.fail(500, path="/v1/invoices", after=2, times=1_000)
    with pytest.raises(SyncInterrupted, match="run `arbot stripe sync` again to resume"):
        sync(sdeps, max_network_retries=1)
    with sdeps.sessions() as s:
        # Two whole pages of 100 were committed; the newest invoice is the draft, not kept.
        assert s.scalar(select(func.count()).select_from(Invoice)) == 199
    with sdeps.engine.connect() as conn:
        cursor = json.loads(stripe_sql.get_cursor(conn, BACKFILL_CURSOR) or "{}")
    newest_first = [i["id"] for i in reversed(fake.all("invoice"))]
    assert cursor == {"phase": "invoices", "after": newest_first[199]}

    fake.clear_failures()
    seen = len(fake.requests)
    sync(sdeps)
    resumed = [r.query for r in fake.requests[seen:] if r.path == "/v1/invoices"]
    assert resumed[0].get("starting_after") == newest_first[199]  # no page fetched twice
    assert_matches_stripe(sdeps, fake, day_of(fake.now))
    rows = ledger_rows(sdeps)
    sync(sdeps, full=True)
    assert ledger_rows(sdeps) == rows


def test_cli_stripe_sync(
    sdeps: ToolDeps, fake: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    build_world(fake)
    assert main(["stripe", "sync"]) == 0
    out = capsys.readouterr().out
    assert "read from Stripe: 3 customers, 231 invoices" in out
    assert_matches_stripe(sdeps, fake, day_of(fake.now))
    assert main(["stripe", "sync"]) == 0
    assert "already complete" in capsys.readouterr().out


def test_cli_without_key_names_the_setting(
    sdeps: ToolDeps, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STRIPE_API_KEY")
    assert main(["stripe", "sync"]) == 2
    assert "STRIPE_API_KEY" in capsys.readouterr().err
