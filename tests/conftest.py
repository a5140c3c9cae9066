"""Shared fixtures: a real ledger on SQLite and on PostgreSQL for every test that asks.

PostgreSQL tests each get their own schema in the `test` database, so parallel runs and
leftovers never collide. ARBOT_TEST_PG_URL points elsewhere if needed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tools.deps import ToolDeps, connect
from tools.settings import Settings

PG_URL = os.environ.get("ARBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read a developer's .env or real credentials."""
    for name in list(os.environ):
        if (
            name.startswith(("ARBOT_", "SLACK_", "OPENAI_", "STRIPE_"))
            and name != "ARBOT_TEST_PG_URL"
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """An empty database URL: a SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'ledger-{uuid.uuid4().hex[:8]}.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def settings(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ARBOT_DATABASE_URL", db_url)
    return Settings(database_url=db_url, timezone="UTC", reporting_currency="USD")


@pytest.fixture
def deps(settings: Settings) -> Iterator[ToolDeps]:
    d = connect(settings)
    yield d
    d.engine.dispose()
