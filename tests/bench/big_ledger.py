"""The one-million-invoice ledger the benchmarks share, built once and cached.

`python -m tests.bench.big_ledger` builds it; benchmarks call `big_ledger_url(kind)`.
The demo generator at 70,000 customers gives about one million invoices. Cached under
ARBOT_BENCH_DIR (default /tmp/arbot-bench): the CSVs, a SQLite file, and a PostgreSQL
schema `bench_1m` in the test database.
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from db.demo import write_demo_csvs
from db.engine import make_engine, upgrade
from tools.csv_import import import_directory
from tools.settings import Settings

CUSTOMERS = int(os.environ.get("ARBOT_BENCH_CUSTOMERS", "70000"))
AS_OF = date(2026, 11, 23)
BENCH_DIR = Path(os.environ.get("ARBOT_BENCH_DIR", "/tmp/arbot-bench")) / str(CUSTOMERS)
PG_URL = os.environ.get("ARBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = f"bench_{CUSTOMERS}"


def csv_dir() -> Path:
    out = BENCH_DIR / "csv"
    if not (out / "fx_rates.csv").exists():
        t = time.perf_counter()
        counts = write_demo_csvs(out, customers=CUSTOMERS, as_of=AS_OF)
        print(f"generated {counts} in {time.perf_counter() - t:.1f}s")
    return out


def url(kind: str, name: str = "ledger") -> str:
    """The cached ledger, or with another `name` a scratch database beside it."""
    if kind == "sqlite":
        return f"sqlite:///{BENCH_DIR / f'{name}.db'}"
    return f"{PG_URL}?options=-csearch_path%3D{_schema(name)}"


def _schema(name: str) -> str:
    return PG_SCHEMA if name == "ledger" else f"bench_{CUSTOMERS}_{name}"


def fresh(kind: str, name: str = "ledger") -> str:
    """An empty database of that kind (drops any cached ledger, or that scratch database)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            (BENCH_DIR / f"{name}.db{suffix}").unlink(missing_ok=True)
    else:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {_schema(name)} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {_schema(name)}"))
        admin.dispose()
    return url(kind, name)


def big_ledger_url(kind: str) -> str:
    """The cached ledger's URL, importing it first if it is not there yet."""
    target = url(kind)
    engine = make_engine(target)
    try:
        with engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM invoices")).scalar_one()
        if count > 0:
            return target
    except sa.exc.SQLAlchemyError:
        pass
    finally:
        engine.dispose()
    target = fresh(kind)
    engine = make_engine(target)
    upgrade(engine)
    settings = Settings(database_url=target, timezone="UTC")
    import_directory(engine, csv_dir(), tz=settings.tz)
    engine.dispose()
    return target


if __name__ == "__main__":
    for kind in ("sqlite", "postgresql"):
        print(kind, big_ledger_url(kind))
