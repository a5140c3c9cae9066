"""What every tool needs: the settings and a way to open a database session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, session_factory, upgrade
from tools.settings import Settings


@dataclass(frozen=True)
class ToolDeps:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


# Connections beyond the listener threads': the scheduler's threads (up to 10, the digest
# with 2 more), the outbox worker, Stripe webhooks and health checks.
RESERVED_CONNECTIONS = 16


def pool_connections(settings: Settings) -> int:
    """One connection for every listener thread (ARBOT_WORKERS) plus the reserve, so no
    question ever waits for a connection another thread holds."""
    return settings.workers + RESERVED_CONNECTIONS


def connect(settings: Settings) -> ToolDeps:
    """Open the ledger named by the settings, upgrading its schema on first use."""
    engine = make_engine(settings.database_url, connections=pool_connections(settings))
    upgrade(engine)
    return ToolDeps(settings=settings, engine=engine, sessions=session_factory(engine))
