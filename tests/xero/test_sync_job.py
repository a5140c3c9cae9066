"""The `xero-sync` job: an incremental sync on its schedule, skipped until Xero is set up."""

from __future__ import annotations

from datetime import UTC, datetime

from jobs.runner import run_job
from tests.fakes.xero_api import FakeXero
from tests.xero.conftest import build_world
from tests.xero.test_sync import invoices
from tools.deps import ToolDeps

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def test_the_job_syncs_what_changed(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    stats = run_job(xdeps, "xero-sync", now=NOW)
    assert stats.objects["Invoices"] == 6 and stats.problems == []
    assert w.open_ in invoices(xdeps)
    assert run_job(xdeps, "xero-sync", now=NOW).total_objects == 0  # nothing changed since


def test_the_job_waits_for_a_tenant(xdeps: ToolDeps, fake: FakeXero) -> None:
    settings = xdeps.settings.model_copy(update={"xero_tenant_id": None})
    bare = ToolDeps(settings=settings, engine=xdeps.engine, sessions=xdeps.sessions)
    assert run_job(bare, "xero-sync", now=NOW) is None
    assert fake.requests == []
