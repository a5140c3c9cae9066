"""Benchmark: `arbot reconcile` over N invoices in each of two sources (default a million).

Both sources hold the same invoices (same numbers), with one in a hundred differing: a
different total, paid on one side only, or missing on one side. Rows are written straight
into the ledger tables (with their settlement columns filled in), as the reconciliation only
reads them. Target: <= 10 s at a million invoices per source.

    .venv/bin/python -m tests.bench.bench_reconcile [--invoices N] [--postgres]
        [--ledger FILE | --schema NAME] [--json FILE]

`--ledger FILE` (SQLite) or `--schema NAME` (PostgreSQL) keeps the filled ledger and reuses
it when it exists, so runs compare on the same rows (drop the schema by hand afterwards);
`--json FILE` writes the `arbot reconcile --json` document, to compare byte for byte between
two versions of the code. Printed beside the wall time: the CPU seconds of this process
(SQLite runs in it) and of the PostgreSQL backend, and the load average (a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from db.models import Customer, Invoice
from tests.bench.sync_cpu import Backends
from tools.deps import connect
from tools.reconcile import ReconcileInput, reconcile
from tools.settings import Settings

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AS_OF = date(2026, 11, 30)
CHUNK = 50_000


def fill(engine: sa.Engine, invoices: int, customers: int = 10_000) -> None:
    start = datetime(2025, 12, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for source in ("stripe", "quickbooks"):
            conn.execute(
                sa.insert(Customer),
                [
                    {"source": source, "external_id": f"c{n}", "name": f"Customer {n}",
                     "currency": "USD"}
                    for n in range(customers)
                ],
            )  # fmt: skip
        ids = {
            (s, e): i
            for i, s, e in conn.execute(
                sa.select(Customer.id, Customer.source, Customer.external_id)
            )
        }
        for source in ("stripe", "quickbooks"):
            for lo in range(0, invoices, CHUNK):
                rows = []
                for n in range(lo, min(lo + CHUNK, invoices)):
                    odd = n % 100 == 0 and source == "quickbooks"
                    if odd and n % 300 == 0:
                        continue  # missing in the books
                    issued = start + timedelta(minutes=n % 500_000)
                    total = 10_000 + n % 977 + (1 if odd and n % 300 == 100 else 0)
                    paid = (n % 2 == 0) != (odd and n % 300 == 200)
                    rows.append(
                        {
                            "source": source,
                            "external_id": f"{source[:2]}_{n}",
                            "customer_id": ids[(source, f"c{n % customers}")],
                            "number": f"INV-{n:07d}",
                            "currency": "USD",
                            "total_minor": total,
                            "issued_at": issued,
                            "due_on": (issued + timedelta(days=30)).date(),
                            "settled_at": issued + timedelta(days=10) if paid else None,
                            "applied_minor": total if paid else 0,
                        }
                    )
                conn.execute(sa.insert(Invoice), rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--ledger", type=Path, help="SQLite file to keep and reuse")
    parser.add_argument("--schema", help="PostgreSQL schema to keep and reuse")
    parser.add_argument("--json", type=Path, help="write the --json document here")
    args = parser.parse_args()
    schema = None
    reused = False
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            schema = args.schema or f"bench_rec_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                found = sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s")
                reused = conn.execute(found, {"s": schema}).first() is not None
                if not reused:
                    conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{args.ledger or Path(tmp) / 'bench.db'}"
            reused = args.ledger is not None and args.ledger.exists()
        deps = connect(Settings(database_url=url))
        try:
            t = time.perf_counter()
            if not reused:
                fill(deps.engine, args.invoices)
                with deps.engine.begin() as conn:
                    conn.execute(sa.text("ANALYZE"))
            print(f"ledger: {args.invoices:,} invoices per source, {time.perf_counter() - t:.1f}s")
            backends = Backends(deps.engine)
            load_before = os.getloadavg()
            backends.mark()
            t, cpu = time.perf_counter(), time.process_time()
            result = reconcile(deps, ReconcileInput(as_of=AS_OF))
            took, cpu = time.perf_counter() - t, time.process_time() - cpu
            db_cpu = backends.used()
        finally:
            deps.engine.dispose()
            if schema is not None and args.schema is None:
                with admin.connect() as conn:
                    conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    if args.json is not None:
        args.json.write_text(json.dumps(result.as_json(), indent=2) + "\n")
    print(f"database: {'postgresql' if args.postgres else 'sqlite'}")
    print(f"differences: {result.totals}")
    print(f"reconcile: {took:.1f}s  (target <= 10 s at 1,000,000 per source)")
    print(
        f"CPU seconds: this process {cpu:.1f}s, PostgreSQL backend {db_cpu:.1f}s; load average "
        f"before {' '.join(f'{x:.2f}' for x in load_before)}, after "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
