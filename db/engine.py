"""Engine and session set-up, and the schema upgrade every command runs on first use."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from db.settlement import watch_rollbacks

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
P = ParamSpec("P")
T = TypeVar("T")


def make_engine(url: str, *, connections: int | None = None, **kwargs: Any) -> Engine:
    """The engine for `url`; `connections` caps its pool (no overflow beyond it), so the
    threads that share it can be sized to it (tools.deps.connect)."""
    if connections is not None and url not in ("sqlite://", "sqlite:///:memory:"):
        kwargs = {"pool_size": connections, "max_overflow": 0, **kwargs}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        event.listen(engine, "connect", _postgres_settings)
    watch_rollbacks(engine)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the bot read while an import writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # 200 MiB per connection keeps the report's hot pages (a million invoices: 2.1 s here,
    # 2.85 s with 64 MiB); the digest's 4 parallel sessions pay for it in memory.
    cur.execute("PRAGMA cache_size=-204800")
    cur.close()


def _postgres_settings(dbapi_conn: Any, _record: Any) -> None:
    # The metrics are many cheap index lookups; JIT compiling them costs ~0.3 s per query.
    # A scan of every account groups 70,000 customers: with the default 4 MB of memory per
    # sort or hash the groups spill to disk, which doubles the risk scan's queries.
    with dbapi_conn.cursor() as cur:
        cur.execute("SET jit = off")
        cur.execute("SET work_mem = '64MB'")
    dbapi_conn.commit()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> bool:
    """Bring the schema to the newest revision; True when something was applied.

    Every command calls this first, so the up-to-date case reads one row and skips loading
    Alembic (a fifth of a short command's start-up).
    """
    head = head_revision()
    with engine.connect() as conn:
        current = (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if inspect(conn).has_table("alembic_version")
            else None
        )
    if current == head:
        return False
    from alembic import command

    log.info("event=db_upgrade from=%s to=%s", current, head)
    command.upgrade(alembic_config(engine), "head")
    return True


def head_revision() -> str:
    """The newest revision: the one no migration names as its down_revision."""
    revisions, downs = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(re.findall(r'^revision: str = "(\w+)"', source, re.M))
        downs.update(re.findall(r'^down_revision: str \| None = "(\w+)"', source, re.M))
    (head,) = revisions - downs
    return str(head)


def read_beside(
    pool: Executor,
    session: Session,
    read: Callable[Concatenate[Session, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> Future[T]:
    """`read(session, ...)` started beside the caller's own reads: in the pool's thread on a new
    session of the same engine when the database serves connections in parallel (PostgreSQL);
    at once on the caller's session on SQLite, where a second connection keeps a page cache of
    its own (another 200 MiB of the same ledger, and the CPU to fill it), or when the session
    is bound to a single connection, which threads cannot share."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name != "sqlite":
        return pool.submit(lambda: _on_own_session(bind, read, *args, **kwargs))
    done: Future[T] = Future()
    done.set_result(read(session, *args, **kwargs))
    return done


def _on_own_session(
    engine: Engine, read: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    with Session(engine) as own:
        return read(own, *args, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit at the end, roll back on any error."""
    with factory() as session, session.begin():
        yield session
