"""`arbot xero connect`: the OAuth consent in a terminal, against the fake identity server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.oauth_tokens import OAuthToken
from tests.cli_helpers import consent_by_cli
from tests.fakes.xero_api import FIRST_REFRESH_TOKEN, TENANT, FakeXero
from tests.xero.conftest import build_world, sync
from tools.deps import ToolDeps
from tools.token_box import load_refresh_token

REDIRECT = "http://localhost:8765/xero/callback"


@pytest.fixture
def consenting(xdeps: ToolDeps, fake: FakeXero, monkeypatch: pytest.MonkeyPatch) -> ToolDeps:
    monkeypatch.setenv("ARBOT_XERO_REDIRECT_URI", REDIRECT)
    monkeypatch.setenv("ARBOT_XERO_AUTHORIZE_URL", f"{fake.base}/identity/connect/authorize")
    monkeypatch.setenv("ARBOT_XERO_CONNECTIONS_BASE", fake.base)
    return xdeps


def test_consent_stores_the_token_encrypted_and_the_next_sync_uses_it(
    consenting: ToolDeps, fake: FakeXero
) -> None:
    build_world(fake)
    run = consent_by_cli("xero", fake.consent)
    assert run.code == 0, run.err
    assert f"connected to Xero company {TENANT} (Demo Company (US))" in run.out
    issued = fake.refresh_token
    assert issued != FIRST_REFRESH_TOKEN
    assert load_refresh_token(consenting.settings, consenting.engine, "xero") == issued
    with consenting.engine.connect() as conn:
        stored = conn.execute(select(OAuthToken.refresh_token_encrypted)).scalars().all()
    assert all(issued not in row for row in stored), "kept encrypted, never in clear"

    stats = sync(consenting)
    assert stats.objects["Invoices"] > 0
    # the token in the settings predates the consent: the sync never tried it
    assert FIRST_REFRESH_TOKEN not in fake.refused_refresh_tokens


def test_an_address_from_another_consent_is_refused_and_nothing_is_stored(
    consenting: ToolDeps, fake: FakeXero
) -> None:
    def forged(url: str) -> str:
        real = fake.consent(url)
        return real.replace("state=", "state=x")

    run = consent_by_cli("xero", forged)
    assert run.code == 1
    assert "not from this consent" in run.err and "nothing was stored" in run.err
    assert not [r for r in fake.requests if r.path == "/connect/token"], "code never sent"
    assert load_refresh_token(consenting.settings, consenting.engine, "xero") is None


def test_an_address_with_a_state_no_one_sent_is_refused_plainly(
    consenting: ToolDeps, fake: FakeXero
) -> None:
    run = consent_by_cli("xero", lambda url: f"{REDIRECT}?code=abc&state=%C3%A9t%C3%A9")
    assert run.code == 1 and "not from this consent" in run.err
    assert "Traceback" not in run.err


def test_a_denied_consent_says_so(consenting: ToolDeps, fake: FakeXero) -> None:
    run = consent_by_cli("xero", lambda url: f"{REDIRECT}?error=access_denied&state=whatever")
    assert run.code == 1 and "the consent was not given: access_denied" in run.err
