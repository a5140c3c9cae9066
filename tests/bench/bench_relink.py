"""Benchmark: what deriving the links costs after a sync and after a webhook, on a ledger of N
invoices in each of two sources (Stripe and QuickBooks holding the same invoices; default
200,000 each), in CPU seconds of this process (all of SQLite's work; PostgreSQL's server time
shows in wall time only) and wall seconds.

- whole: every link derived again (`arbot db relink`, a changed ARBOT_LEDGER_OF_RECORD);
- sync: a sync wrote 100 QuickBooks invoices (new totals, no link changes), then relinks
  what it wrote;
- webhook: one Stripe invoice written and relinked in the webhook's transaction.

Run it against another checkout's code (before / after) with ARBOT_CODE=/path/to/checkout.

    nice .venv/bin/python -m tests.bench.bench_relink [--invoices N] [--postgres]
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, os.environ.get("ARBOT_CODE", str(Path(__file__).resolve().parents[2])))

from db import ingest, upserts
from tests.bench.bench_reconcile import PG_URL, fill
from tools import ledger_record
from tools.deps import ToolDeps, connect
from tools.settings import Settings

WRITTEN = 100


def timed(label: str, step: Callable[[], object]) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    step()
    print(f"{label}: cpu {time.process_time() - cpu:.3f}s  wall {time.perf_counter() - wall:.3f}s")


def sync_write(deps: ToolDeps, lo: int, n: int, bump: int) -> None:
    """`n` QuickBooks invoices written as a sync writes them (staged, upserted)."""
    with deps.engine.begin() as conn:
        ids = dict(
            conn.execute(
                sa.text(
                    "SELECT i.external_id, c.external_id FROM invoices i "
                    "JOIN customers c ON c.id = i.customer_id WHERE i.source = 'quickbooks' "
                    "AND i.external_id IN :e"
                ).bindparams(sa.bindparam("e", expanding=True)),
                {"e": [f"qu_{k}" for k in range(lo, lo + n)]},
            ).all()
        )
        rows = conn.execute(
            sa.text(
                "SELECT external_id, number, currency, total_minor, issued_at, due_on "
                "FROM invoices WHERE source = 'quickbooks' AND external_id IN :e"
            ).bindparams(sa.bindparam("e", expanding=True)),
            {"e": list(ids)},
        ).all()
        ingest.create_stages(conn)
        staged = [
            {"line": k, "external_id": e, "customer_ext": ids[e], "number": num,
             "currency": cur, "total_minor": int(t) + bump, "issued_at": at, "due_on": due,
             "voided_at": None, "written_off_at": None, "payment_url": None}
            for k, (e, num, cur, t, at, due) in enumerate(rows, 1)
        ]  # fmt: skip
        for row in staged:  # SQLite hands timestamps and dates back as text here
            if isinstance(row["issued_at"], str):
                row["issued_at"] = datetime.fromisoformat(row["issued_at"]).replace(tzinfo=UTC)
            if isinstance(row["due_on"], str):
                row["due_on"] = date.fromisoformat(row["due_on"])
        ingest.stage_rows(conn, "invoices", staged)
        upserts.write(conn, "invoices", source="quickbooks")
        ingest.drop_stages(conn)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    incremental = "written" in inspect.signature(ledger_record.relink).parameters
    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            schema = f"bench_link_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(database_url=url)
        deps = connect(settings)
        try:
            t = time.perf_counter()
            fill(deps.engine, args.invoices)
            with deps.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
            print(f"code: {ledger_record.__file__}")
            print(f"database: {'postgresql' if args.postgres else 'sqlite'}")
            print(f"ledger: {args.invoices:,} invoices per source, {time.perf_counter() - t:.1f}s")
            timed(
                "first relink (shadows one source)",
                lambda: ledger_record.relink(deps.engine, settings),
            )
            timed("whole relink", lambda: ledger_record.relink(deps.engine, settings))
            sync_write(deps, 1000, WRITTEN, 1)

            def after_sync() -> object:
                if incremental:
                    return ledger_record.relink(deps.engine, settings, written=True)
                return ledger_record.relink(deps.engine, settings)

            timed(f"sync of {WRITTEN} invoices, relink", after_sync)
            with deps.engine.connect() as conn:
                one = int(
                    conn.execute(
                        sa.text(
                            "SELECT id FROM invoices WHERE source = 'stripe' "
                            "AND external_id = 'st_5'"
                        )
                    ).scalar_one()
                )

            def webhook() -> object:
                with deps.engine.begin() as conn:
                    return ledger_record.relink_in(conn, settings, [one])

            timed("webhook relink of one invoice", webhook)
        finally:
            deps.engine.dispose()
            if schema is not None:
                with admin.connect() as conn:
                    conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    print(f"load average: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
