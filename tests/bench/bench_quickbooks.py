"""Benchmark: sync 100,000 invoices from the fake QuickBooks Online into a fresh ledger.

Prints objects per second (wall clock) and where the CPU went: our thread (mapping, staging,
upserts, settlement, commit, one transaction per 1,000-object page), the PostgreSQL backends
running our statements, python-quickbooks' thread (HTTP and JSON, fetching the next page while
ours is written), and the fake's own process. Targets: >= 2,000 objects/s, our share < 50%.

    .venv/bin/python -m tests.bench.bench_quickbooks [--invoices N] [--postgres]
        [--dump FILE]

The fake runs in a child process, as QuickBooks would be another machine; both share this
machine's cores, so the wall-clock figures are for the machine's load at the time (printed),
and our share is given both ways: wall time in our code, and CPU seconds (tests.bench.sync_cpu
says why the second is the one that holds on a shared machine).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.ledger_dump import dump
from tests.bench.sync_cpu import Backends, Figures
from tests.fakes.quickbooks_api import (
    CLIENT_ID,
    CLIENT_SECRET,
    FIRST_REFRESH_TOKEN,
    REALM,
    FakeQuickBooks,
)
from tools.deps import connect
from tools.quickbooks_sync import QuickBooksSync
from tools.settings import Settings

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def build(fake: FakeQuickBooks, invoices: int, customers: int) -> None:
    """Customers, then invoices over a year, a quarter of them paid by a payment each."""
    fake.step_seconds = 0  # build fast; changes still come in creation order by Id
    ids = [fake.add_customer(f"Customer {n}", email=f"ap{n}@example.com") for n in range(customers)]
    first = date(2025, 1, 1)
    for n in range(invoices):
        fake.step_seconds = 1 if n % 50 == 0 else 0  # fifty changes a second
        total = f"{50 + n % 977}.{n % 100:02d}"
        inv = fake.add_invoice(ids[n % customers], total, txn_date=first + timedelta(n % 365))
        if n % 4 == 0:
            fake.add_payment(
                ids[n % customers],
                total,
                txn_date=first + timedelta(n % 365 + 20),
                invoices={inv: total},
            )


def serve_fake(pipe: Connection, invoices: int, customers: int) -> None:
    fake = FakeQuickBooks()
    started = time.perf_counter()
    build(fake, invoices, customers)
    fake.requests_recorded = False
    with fake:
        pipe.send((fake.api_base, fake.discovery_url, time.perf_counter() - started))
        serving = time.process_time()
        pipe.recv()
        pipe.send(time.process_time() - serving)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--postgres", action="store_true", help="ledger on PostgreSQL")
    parser.add_argument("--dump", type=Path, help="write the synced rows here (ledger_dump)")
    args = parser.parse_args()
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the fake serves plain http on loopback

    ours, theirs = mp.Pipe()
    child = mp.Process(target=serve_fake, args=(theirs, args.invoices, args.customers))
    child.start()
    api_base, discovery, built = ours.recv()
    print(f"fake QuickBooks (own process) built in {built:.1f}s", flush=True)
    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(
            database_url=url,
            token_key=SecretStr(Fernet.generate_key().decode()),
            quickbooks_client_id=CLIENT_ID,
            quickbooks_client_secret=SecretStr(CLIENT_SECRET),
            quickbooks_realm_id=REALM,
            quickbooks_refresh_token=SecretStr(FIRST_REFRESH_TOKEN),
            quickbooks_api_base=api_base,
            quickbooks_discovery_url=discovery,
        )
        deps = connect(settings)
        backends = Backends(deps.engine)
        load_before = os.getloadavg()
        try:
            sync = QuickBooksSync(deps, progress=False)
            backends.mark()
            started, cpu_started = time.perf_counter(), time.process_time()
            sync.run()
            total = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            db_cpu = backends.used()
            if args.dump is not None:
                dump(deps.engine, args.dump)
        finally:
            ours.send("stop")
            fake_cpu = float(ours.recv())
            child.join()
            deps.engine.dispose()
            if schema is not None:
                with admin.connect() as conn:
                    conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    s = sync.stats
    objects = s.total_objects
    print(f"ledger: {'postgresql' if args.postgres else 'sqlite'}")
    print(f"objects synced: {objects:,} ({', '.join(f'{k} {v:,}' for k, v in s.objects.items())})")
    print(f"pages: {s.pages:,}  retries: {s.retries}  problems: {len(s.problems)}")
    print(f"invoices: {s.objects.get('Invoice', 0) / total:,.0f} invoices/s")
    print(
        f"waiting on the QuickBooks client for a page (main thread): {s.fetch_seconds:.1f}s "
        f"({100 * s.fetch_seconds / total:.0f}%)"
    )
    Figures(
        wall=total,
        objects=objects,
        ours_wall=s.process_seconds,
        ours_cpu=s.process_cpu_seconds,
        vendor_cpu=s.vendor_cpu_seconds,
        process_cpu=cpu,
        db_cpu=db_cpu,
        fake_cpu=fake_cpu,
        load_before=load_before,
    ).print("QuickBooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
