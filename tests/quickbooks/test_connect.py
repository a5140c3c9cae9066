"""`arbot quickbooks connect`: the OAuth consent in a terminal, against the fake Intuit."""

from __future__ import annotations

import pytest

from tests.cli_helpers import consent_by_cli
from tests.fakes.quickbooks_api import FIRST_REFRESH_TOKEN, REALM, FakeQuickBooks
from tests.quickbooks.conftest import build_world, sync
from tools.deps import ToolDeps
from tools.token_box import load_refresh_token

REDIRECT = "http://localhost:8765/quickbooks/callback"


@pytest.fixture
def consenting(qdeps: ToolDeps, monkeypatch: pytest.MonkeyPatch) -> ToolDeps:
    monkeypatch.setenv("ARBOT_QUICKBOOKS_REDIRECT_URI", REDIRECT)
    return qdeps


def test_consent_stores_the_token_and_the_next_sync_uses_it(
    consenting: ToolDeps, fake: FakeQuickBooks
) -> None:
    build_world(fake)
    run = consent_by_cli("quickbooks", fake.consent)
    assert run.code == 0, run.err
    assert f"connected to QuickBooks company {REALM}" in run.out
    issued = fake.refresh_token
    assert issued != FIRST_REFRESH_TOKEN
    assert load_refresh_token(consenting.settings, consenting.engine, "quickbooks") == issued
    stats = sync(consenting)
    assert stats.objects["Invoice"] > 0
    # the token in the settings predates the consent: the sync never tried it
    tried = [r.body for r in fake.requests if r.path == "/oauth2/v1/tokens/bearer"]
    assert tried and not [body for body in tried if FIRST_REFRESH_TOKEN in body]


def test_a_consent_for_another_company_is_refused(
    consenting: ToolDeps, fake: FakeQuickBooks
) -> None:
    run = consent_by_cli(
        "quickbooks", lambda url: fake.consent(url).replace(f"realmId={REALM}", "realmId=999")
    )
    assert run.code == 1 and "company 999" in run.err and "nothing was stored" in run.err
    assert load_refresh_token(consenting.settings, consenting.engine, "quickbooks") is None
