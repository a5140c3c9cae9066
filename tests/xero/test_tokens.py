"""Refresh tokens as people meet them: an identity server that is briefly down, a reconnect
with a new token in the settings, and two processes refreshing one after the other."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tests.approvals.conftest import APPROVER, COLLECTOR
from tests.fakes.xero_api import FakeXero
from tests.xero.conftest import build_world, sync
from tests.xero.test_write_back import with_approvals
from tools import actions
from tools.deps import ToolDeps
from tools.outbox import Outbox
from tools.settings import SettingsError
from tools.write_off import WriteOffInput, propose_write_off
from tools.xero_sync import XeroSession


def test_identity_outage_during_a_sync_is_backed_off(xdeps: ToolDeps, fake: FakeXero) -> None:
    build_world(fake)
    fake.identity_failures = [503, 429]
    stats = sync(xdeps)
    assert stats.objects["Invoices"] == 6
    assert fake.identity_failures == []


def test_identity_outage_is_not_a_permanent_write_off_failure(
    xdeps: ToolDeps, fake: FakeXero
) -> None:
    build_world(fake)
    sync(xdeps)
    deps = with_approvals(xdeps)
    proposed = propose_write_off(
        deps, WriteOffInput(invoice="INV-1005", reason="gone", requested_by=COLLECTOR)
    )
    actions.approve(deps, proposed.id, APPROVER)
    fake.identity_failures = [503]
    box = Outbox(deps, backoff_seconds=0)
    box.run_once()
    first = actions.load(deps, proposed.id)
    assert first.status == "approved", first.last_error  # to be tried again
    assert "connect" not in (first.last_error or "")
    box.run_once()
    assert actions.load(deps, proposed.id).status == "done"


def test_a_new_refresh_token_in_the_settings_is_used_after_reconnecting(
    xdeps: ToolDeps, fake: FakeXero
) -> None:
    build_world(fake)
    sync(xdeps)  # stores the rotated token
    fake.refresh_token = "token-from-the-new-connect-flow"  # the stored one is dead now
    with pytest.raises(SettingsError) as err:
        sync(xdeps)
    assert "ARBOT_XERO_REFRESH_TOKEN" in str(err.value)
    xdeps.settings.xero_refresh_token = SecretStr("token-from-the-new-connect-flow")
    assert sync(xdeps).objects["Contacts"] == 0  # connected again, incremental
    # The next run uses the token it stored, not the (now used) one in the settings.
    refused = len(fake.refused_refresh_tokens)
    sync(xdeps)
    assert len(fake.refused_refresh_tokens) == refused


def test_a_second_session_does_not_void_the_first(xdeps: ToolDeps, fake: FakeXero) -> None:
    build_world(fake)
    first = XeroSession(xdeps)  # the xero-sync job
    XeroSession(xdeps)  # the outbox posting a write-off meanwhile
    first.refresh()  # the job's access token expired: it refreshes with the newest token
    assert sync(xdeps).objects["Invoices"] == 6
    assert fake.refused_refresh_tokens == set()
