"""The physical limit an import is measured against: the same CSV rows, unchecked, written
into empty tables with the same columns and no index, by the fastest plain means each
database offers (PostgreSQL: the file streamed into COPY ... CSV; SQLite: csv.reader and
the driver's executemany). An import's rate divided by this one says how much of the
machine's write speed the checks, the references, the upserts and settlement cost.
"""

from __future__ import annotations

import csv
import sqlite3
import time
from pathlib import Path

import psycopg

from tests.bench.big_ledger import BENCH_DIR, PG_URL

LIMIT_SCHEMA = "bench_import_limit"


def _sql_type(column: str) -> str:
    if column.endswith("_on") or column == "date":
        return "date"
    if column in ("amount", "total", "credit_limit", "rate"):
        return "numeric"
    if column == "payment_terms_days":
        return "integer"
    return "text"


def _create(header: list[str], table: str) -> str:
    return f"CREATE TABLE {table} ({', '.join(f'{c} {_sql_type(c)}' for c in header)})"


def limit_seconds(kind: str, directory: Path) -> tuple[int, float]:
    """(rows, seconds) to write every CSV of the directory raw into empty tables."""
    files = sorted(directory.glob("*.csv"))
    if kind == "sqlite":
        return _sqlite(files)
    return _postgres(files)


def _sqlite(files: list[Path]) -> tuple[int, float]:
    path = BENCH_DIR / "import_limit.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    rows = 0
    started = time.perf_counter()
    for file in files:
        with file.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            db.execute(_create(header, file.stem))
            marks = ", ".join("?" * len(header))
            while batch := [r for _, r in zip(range(20_000), reader, strict=False)]:
                db.executemany(f"INSERT INTO {file.stem} VALUES ({marks})", batch)
                rows += len(batch)
    db.commit()
    seconds = time.perf_counter() - started
    db.close()
    path.unlink()
    return rows, seconds


def _postgres(files: list[Path]) -> tuple[int, float]:
    url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {LIMIT_SCHEMA} CASCADE")
        admin.execute(f"CREATE SCHEMA {LIMIT_SCHEMA}")
    rows = 0
    try:
        with psycopg.connect(url, options=f"-csearch_path={LIMIT_SCHEMA}") as conn:
            started = time.perf_counter()
            with conn.cursor() as cur:
                for file in files:
                    with file.open("rb") as fh:
                        header = fh.readline().decode().strip().split(",")
                        cur.execute(_create(header, file.stem))
                        with cur.copy(f"COPY {file.stem} FROM STDIN (FORMAT csv)") as copy:
                            while chunk := fh.read(1 << 20):
                                copy.write(chunk)
                    rows += cur.rowcount
            conn.commit()
            seconds = time.perf_counter() - started
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {LIMIT_SCHEMA} CASCADE")
    return rows, seconds
