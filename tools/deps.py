"""What every tool needs: the settings and a way to open a database session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, session_factory, upgrade
from tools.redact import mask_url, redact
from tools.settings import Settings, SettingsError


@dataclass(frozen=True)
class ToolDeps:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


# Connections beyond the listener threads': the scheduler's threads (up to 10; the digest
# reads on 3 more, a risk scan on 1 more, while they run), the outbox worker, Stripe webhooks
# and health checks. Jobs rarely all run at once; when they do, a job waits, never a question.
RESERVED_CONNECTIONS = 16


def pool_connections(settings: Settings) -> int:
    """One connection for every listener thread (ARBOT_WORKERS) plus the reserve, so no
    question ever waits for a connection another thread holds."""
    return settings.workers + RESERVED_CONNECTIONS


def open_ledger(settings: Settings) -> tuple[Engine, bool]:
    """The engine for ARBOT_DATABASE_URL, its schema upgraded (True when something was applied)
    and its links derived again when that or ARBOT_LEDGER_OF_RECORD changed.

    A URL that cannot be used stops start-up naming the setting, the URL with its password
    masked and the driver's reason, instead of a traceback.
    """
    url = settings.database_url
    try:
        engine = make_engine(url, connections=pool_connections(settings))
    except (ArgumentError, ValueError) as exc:
        raise SettingsError(
            f"setting ARBOT_DATABASE_URL: cannot use {mask_url(url)}: {redact(str(exc))}"
        ) from None
    try:
        migrated = upgrade(engine)
    except (OperationalError, InterfaceError) as exc:
        engine.dispose()
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise SettingsError(
            f"setting ARBOT_DATABASE_URL: cannot connect to {mask_url(url)}: {redact(reason)}"
        ) from None
    from tools.ledger_record import relink_if_stale  # it reaches this module through its tools

    relink_if_stale(engine, settings, migrated)
    return engine, migrated


def connect(settings: Settings) -> ToolDeps:
    """Open the ledger named by the settings, upgrading its schema on first use."""
    engine, _ = open_ledger(settings)
    return ToolDeps(settings=settings, engine=engine, sessions=session_factory(engine))
