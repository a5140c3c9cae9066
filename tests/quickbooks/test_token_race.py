"""Two syncs starting together both need a fresh access token. QuickBooks voids a refresh
token once used, so they must refresh one after the other, the second with the token the
first stored: both syncs finish, and the stored token is the one QuickBooks holds valid."""

from __future__ import annotations

import threading

from cryptography.fernet import Fernet
from sqlalchemy import select

from db.oauth_tokens import OAuthToken
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.quickbooks.conftest import TOKEN_KEY, build_world, sync
from tools.deps import ToolDeps
from tools.quickbooks_sync import SyncStats


def test_two_syncs_at_once_refresh_in_turn(qdeps: ToolDeps, fake: FakeQuickBooks) -> None:
    # PostgreSQL: the token row lock; SQLite: the database write lock, which the other sync's
    # page writes wait for (the busy timeout) while one refresh is under way
    build_world(fake)
    sync(qdeps)  # a rotated token is stored; the one in the settings is dead
    fake.token_hold = 3.0  # the first refresh waits for a second one to arrive alongside
    start = threading.Barrier(2)
    results: list[SyncStats | BaseException] = []

    def run() -> None:
        start.wait()
        try:
            results.append(sync(qdeps, full=True))
        except BaseException as exc:  # reported below, with the other thread's result
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [type(r).__name__ for r in results] == ["SyncStats", "SyncStats"], results
    assert fake.token_requests_at_once == 1
    refused = [r for r in fake.requests if r.path.endswith("/bearer") and r.status == 400]
    assert refused == []
    with qdeps.sessions() as s:
        stored = s.scalars(
            select(OAuthToken.refresh_token_encrypted).where(OAuthToken.provider == "quickbooks")
        ).one()
    assert Fernet(TOKEN_KEY.encode()).decrypt(stored.encode()).decode() == fake.refresh_token
    assert sync(qdeps).token_refreshes == 1  # and the next run starts from it
