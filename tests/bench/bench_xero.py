"""Benchmark: sync 100,000 invoices from the fake Xero into a fresh ledger.

Prints objects per second and where the time went: waiting on xero-python (HTTP to the fake
on loopback plus JSON decoding into Decimals) versus our own processing (mapping, staging,
upserts, settlement refresh, cursor and commit, one transaction per 1,000-object page), with
the machine's load average. Targets: >= 2,000 objects/s, our processing < 50% of the total.

    .venv/bin/python -m tests.bench.bench_xero [--invoices N] [--postgres]

The fake runs in a child process, as Xero would be another machine; both share this
machine's cores, so the figures are for the machine it runs on and its load at the time;
the CPU seconds of this process are printed beside the wall-clock figures for that reason.
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

from tests.fakes.xero_api import CLIENT_ID, CLIENT_SECRET, FIRST_REFRESH_TOKEN, TENANT, FakeXero
from tools.deps import connect
from tools.settings import Settings
from tools.xero_sync import XeroSync

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def build(fake: FakeXero, invoices: int, customers: int) -> None:
    """Contacts, then invoices over a year in three currencies (JPY among them), a quarter
    paid by a payment each, one in fifty part-credited by a credit note."""
    fake.step_ms = 0
    ids = [fake.add_contact(f"Customer {n}", email=f"ap{n}@example.com") for n in range(customers)]
    first = date(2025, 1, 1)
    for n in range(invoices):
        fake.step_ms = 20 if n % 50 == 0 else 0  # fifty changes per stamp
        currency = ("USD", "EUR", "JPY")[n % 3]
        total = f"{50 + n % 977}" if currency == "JPY" else f"{50 + n % 977}.{n % 100:02d}"
        on = first + timedelta(n % 365)
        inv = fake.add_invoice(ids[n % customers], total, on=on, currency=currency)
        if n % 4 == 0:
            fake.add_payment(inv, total, on=on + timedelta(20))
        elif n % 50 == 1:
            fake.add_credit("CreditNotes", ids[n % customers], "10", on=on + timedelta(5),
                            allocate={inv: "10"}, currency=currency)  # fmt: skip


def serve_fake(pipe: Connection, invoices: int, customers: int) -> None:
    fake = FakeXero()
    started = time.perf_counter()
    build(fake, invoices, customers)
    fake.requests_recorded = False
    with fake:
        pipe.send((fake.api_base, fake.identity_url, time.perf_counter() - started))
        pipe.recv()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--postgres", action="store_true", help="ledger on PostgreSQL")
    args = parser.parse_args()

    ours, theirs = mp.Pipe()
    child = mp.Process(target=serve_fake, args=(theirs, args.invoices, args.customers))
    child.start()
    api_base, identity, built = ours.recv()
    print(f"fake Xero (own process) built in {built:.1f}s", flush=True)
    load_before = os.getloadavg()
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
            xero_client_id=CLIENT_ID,
            xero_client_secret=SecretStr(CLIENT_SECRET),
            xero_tenant_id=TENANT,
            xero_refresh_token=SecretStr(FIRST_REFRESH_TOKEN),
            xero_api_base=api_base,
            xero_identity_url=identity,
        )
        deps = connect(settings)
        try:
            sync = XeroSync(deps, progress=False)
            started, cpu_started = time.perf_counter(), time.process_time()
            sync.run()
            total = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        finally:
            ours.send("stop")
            child.join()
            deps.engine.dispose()
            if schema is not None:
                with admin.connect() as conn:
                    conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    s = sync.stats
    objects = s.total_objects
    other = total - s.fetch_seconds - s.process_seconds
    load_after = os.getloadavg()
    print(f"ledger: {'postgresql' if args.postgres else 'sqlite'}")
    print(f"objects synced: {objects:,} ({', '.join(f'{k} {v:,}' for k, v in s.objects.items())})")
    print(f"pages: {s.pages:,}  retries: {s.retries}  problems: {len(s.problems)}")
    print(f"total: {total:.1f}s  ->  {objects / total:,.0f} objects/s")
    print(f"invoices: {s.objects.get('Invoices', 0) / total:,.0f} invoices/s")
    print(
        f"CPU of this process (ours and xero-python's, both threads): {cpu:.1f}s "
        f"->  {objects / cpu:,.0f} objects per CPU-second (the machine is shared)"
    )
    print(
        f"waiting on xero-python (HTTP + JSON): {s.fetch_seconds:.1f}s "
        f"({100 * s.fetch_seconds / total:.0f}%)"
    )
    print(
        f"inside xero-python, in the fetch thread, overlapping the writes: "
        f"{s.vendor_seconds:.1f}s ({100 * s.vendor_seconds / total:.0f}% of the wall time)"
    )
    print(
        f"our processing (map + upsert + settle + commit): {s.process_seconds:.1f}s "
        f"({100 * s.process_seconds / total:.0f}%)"
    )
    print(f"other (token refresh, cursor reads): {other:.1f}s ({100 * other / total:.0f}%)")
    print(
        "load average (1, 5, 15 min) before: "
        f"{' '.join(f'{x:.2f}' for x in load_before)}, after: "
        f"{' '.join(f'{x:.2f}' for x in load_after)}"
    )
    print(f"target >= 2,000 objects/s: {'met' if objects / total >= 2_000 else 'NOT met'}")
    share_ok = s.process_seconds / total < 0.5
    print(f"target our processing < 50% of total: {'met' if share_ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
