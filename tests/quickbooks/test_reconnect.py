"""Reconnecting QuickBooks: a new refresh token set in the settings is used on the next run,
and the run after that goes on with the token it stored."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.quickbooks.conftest import build_world, sync
from tools.deps import ToolDeps
from tools.settings import SettingsError


def test_a_new_refresh_token_in_the_settings_is_used_after_reconnecting(
    qdeps: ToolDeps, fake: FakeQuickBooks
) -> None:
    build_world(fake)
    sync(qdeps)
    fake.refresh_token = "AB11fromthenewconnectflow"  # the stored token is dead now
    with pytest.raises(SettingsError) as err:
        sync(qdeps)
    assert "ARBOT_QUICKBOOKS_REFRESH_TOKEN" in str(err.value)
    qdeps.settings.quickbooks_refresh_token = SecretStr("AB11fromthenewconnectflow")
    sync(qdeps)
    fake.requests.clear()
    sync(qdeps)
    bearer = [r.status for r in fake.requests if r.path.endswith("/bearer")]
    assert bearer == [200]
