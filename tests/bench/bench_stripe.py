"""Benchmark: backfill 100,000 invoices from the fake Stripe API into a fresh ledger.

Prints objects per second and where the time went: waiting on the stripe client (HTTP to
the fake on loopback plus JSON decoding) versus our own processing (mapping, staging,
upserts, settlement refresh, cursor and commit, one transaction per page).
Targets: our processing < 50% of the total, >= 3,000 objects/s. Also printed: CPU seconds of
this process (the sync: its writer and the thread reading pages ahead) and of the fake, and
the load average, since the machine's other work moves the wall-clock figures.

    .venv/bin/python tests/bench/bench_stripe.py [--invoices N] [--postgres]
        [--no-prefetch] [--typed]

--no-prefetch fetches and writes in turn, so the split between HTTP and our code is plain;
the default (as in production) fetches the next page while writing this one. --typed uses
the client's auto_paging_iter and StripeObjects (the incremental sync's path) for comparison.
The fake Stripe runs in a child process, as Stripe would be another machine; both share this
machine's cores, so the figures are for the machine it runs on and its load at the time.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path

import sqlalchemy as sa
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fakes.stripe_api import API_KEY, DAY, START, FakeStripe
from tools.deps import connect
from tools.settings import Settings
from tools.stripe_sync import StripeSync, make_client

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def build(fake: FakeStripe, invoices: int, customers: int) -> None:
    """Customers, then invoices spread over a year; a quarter paid, a few declined."""
    ids = [
        fake.add_customer(f"Customer {n}", email=f"ap{n}@example.com", at=START, emit=False)["id"]
        for n in range(customers)
    ]
    for n in range(invoices):
        inv = fake.add_invoice(
            ids[n % customers], 5_000 + n % 977 * 100, at=START + n * 300, emit=False
        )
        if n % 4 == 0:
            fake.pay_invoice(inv["id"], at=START + n * 300 + 20 * DAY, emit=False)
        elif n % 97 == 0:
            fake.fail_payment(inv["id"], at=START + n * 300 + 20 * DAY, emit=False)


def serve_fake(pipe: Connection, invoices: int, customers: int) -> None:
    """Child process: build the fake's data, serve it, say where, and wait to be told to stop.

    Stripe is another machine; a fake in our own process would take turns with the sync for
    the interpreter lock and make our processing look slower than it is.
    """
    fake = FakeStripe(now=START + invoices * 300 + 30 * DAY)
    fake.record_requests = False
    started = time.perf_counter()
    build(fake, invoices, customers)
    with fake:
        pipe.send((fake.url, time.perf_counter() - started))
        pipe.recv()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--postgres", action="store_true", help="ledger on PostgreSQL")
    parser.add_argument(
        "--typed",
        action="store_true",
        help="auto_paging_iter with StripeObjects instead of raw pages (slower; for comparison)",
    )
    parser.add_argument("--no-prefetch", action="store_true", help="fetch and write in turn")
    args = parser.parse_args()

    ours, theirs = mp.Pipe()
    child = mp.Process(target=serve_fake, args=(theirs, args.invoices, args.customers))
    child.start()
    fake_url, built = ours.recv()
    print(f"fake Stripe (own process) built in {built:.1f}s", flush=True)
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
            stripe_api_key=SecretStr(API_KEY),
            stripe_api_base=fake_url,
        )
        deps = connect(settings)
        try:
            sync = StripeSync(
                deps,
                make_client(deps),
                progress=False,
                raw=not args.typed,
                prefetch=not args.no_prefetch,
            )
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            sync.run(events=False)
            total = time.perf_counter() - started
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
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
    print(
        f"ledger: {'postgresql' if args.postgres else 'sqlite'}; "
        f"pages: {'typed (auto_paging_iter)' if args.typed else 'raw, prefetched'}"
    )
    print(f"objects synced: {objects:,} ({', '.join(f'{k} {v:,}' for k, v in s.objects.items())})")
    print(f"pages: {s.pages:,}  retries: {s.retries}")
    print(f"total: {total:.1f}s  ->  {objects / total:,.0f} objects/s")
    cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("ru_utime", "ru_stime"))
    fake_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"CPU: sync process {cpu:.1f}s ({1000 * cpu / objects:.2f} ms/object); fake Stripe "
        f"{fake_cpu.ru_utime + fake_cpu.ru_stime:.1f}s including its build; "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(f"invoices: {s.objects.get('invoice', 0) / total:,.0f} invoices/s")
    print(
        f"waiting on the stripe client (HTTP + JSON, not overlapped): {s.fetch_seconds:.1f}s "
        f"({100 * s.fetch_seconds / total:.0f}%)"
    )
    print(
        f"our processing (map + upsert + settle + commit): {s.process_seconds:.1f}s "
        f"({100 * s.process_seconds / total:.0f}%)"
    )
    print(f"other (progress, cursor reads): {other:.1f}s ({100 * other / total:.0f}%)")
    share_ok = s.process_seconds / total < 0.5
    speed_ok = objects / total >= 3_000
    print(f"target our processing < 50% of total: {'met' if share_ok else 'NOT met'}")
    print(f"target >= 3,000 objects/s: {'met' if speed_ok else 'NOT met'}")
    if not args.no_prefetch:
        print("(prefetch overlaps HTTP with our writes, so little wait is left to count;")
        print(" --no-prefetch measures the two in turn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
