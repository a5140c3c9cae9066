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


def connect(settings: Settings) -> ToolDeps:
    """Open the ledger named by the settings, upgrading its schema on first use."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return ToolDeps(settings=settings, engine=engine, sessions=session_factory(engine))
