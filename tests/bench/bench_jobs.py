"""Benchmark: the weekly digest (13-week DSO trend and the look-ahead lines included) and the
at-risk scan (credit limits included) on the one-million-invoice ledger, SQLite and
PostgreSQL. Prints seconds and peak memory, then the issue's table rows.

    ARBOT_BENCH_CUSTOMERS=7000 python -m tests.bench.bench_jobs      # ~100k invoices
    python -m tests.bench.bench_jobs [sqlite|postgresql]             # 70,000 customers, ~1M
    python -m tests.bench.bench_jobs sqlite=sqlite:////path/ledger.db  # another ledger

Each job runs end to end as the scheduler runs it (claim, assemble, render, post to a fake
Slack over loopback HTTP). Targets: digest under 2 s, at-risk scan under 2 s, peak memory
under 1 GiB. The CPU seconds of this process (every thread; on SQLite, the queries too)
tell a change's effect apart from the machine's load, which stretches the wall time; on
PostgreSQL the CPU of the server processes serving this run's connections is added beside
(read from /proc, so only when the server runs on this machine). The load average is
printed with every run. Run 1 is the first after start-up (no cached answer, cold
connections), run 2 the same job again.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bot.slack_client import make_web_client
from jobs.runner import run_job
from tests.bench.big_ledger import AS_OF, CUSTOMERS, big_ledger_url
from tests.fakes.slack_api import FakeSlack
from tools.deps import connect
from tools.settings import Settings

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    kind: str
    job: str
    attempt: int
    wall: float
    cpu: float
    server_cpu: float | None
    load: float


def _fresh_claims(deps) -> None:  # type: ignore[no-untyped-def]
    with deps.engine.begin() as conn:
        conn.execute(text("DELETE FROM job_runs"))


def _server_pids(engine: Engine) -> set[int] | None:
    """The PostgreSQL backends this engine's connections talk to, as they are opened; None on
    SQLite, whose queries run in this process."""
    if engine.dialect.name != "postgresql":
        return None
    pids: set[int] = set()

    @event.listens_for(engine, "connect")
    def remember(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pids.add(int(cur.fetchone()[0]))
        dbapi_conn.commit()

    return pids


def _cpu_of(pids: set[int] | None) -> float | None:
    """User + system seconds of those processes; None when they are not on this machine."""
    if pids is None:
        return None
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def bench(kind: str, url: str | None = None) -> list[Run]:
    url = url or big_ledger_url(kind)
    runs: list[Run] = []
    with FakeSlack(keep_calls=True) as slack:
        settings = Settings(
            database_url=url,
            timezone="UTC",
            slack_bot_token="xoxb-bench",
            slack_api_url=slack.base_url,
            digest_channel="CDIGEST",
            alerts_channel="CALERTS",
        )
        deps = connect(settings)
        pids = _server_pids(deps.engine)
        deps.engine.dispose()  # every connection from here on is one whose backend is known
        client = make_web_client(settings)
        with deps.engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM invoices")).scalar_one()
        print(f"{kind}: {CUSTOMERS} customers, {n} invoices")
        monday = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 8, tzinfo=UTC)
        for name in ("weekly-digest", "at-risk-scan"):
            for attempt in (1, 2):
                _fresh_claims(deps)
                slack.reset()
                server = _cpu_of(pids)
                started, cpu = time.perf_counter(), time.process_time()
                result = run_job(deps, name, now=monday + timedelta(minutes=attempt), client=client)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                after = _cpu_of(pids)  # connections opened during the run count from zero
                server_cpu = None if server is None or after is None else after - server
                load = os.getloadavg()[0]
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                posts = len(slack.calls("chat.postMessage"))
                uploads = len(slack.uploads())
                alerted = len(result) if isinstance(result, list) else "-"
                on_server = "" if server_cpu is None else f", server CPU {server_cpu:5.2f} s"
                print(
                    f"  {name:14} run {attempt}: {seconds:6.2f} s (this process's CPU {cpu:5.2f} s"
                    f"{on_server}; load {load:4.1f})  max RSS so far {rss:6.0f} MiB  "
                    f"posts {posts} uploads {uploads} alerted {alerted}"
                )
                runs.append(Run(kind, name, attempt, seconds, cpu, server_cpu, load))
        deps.engine.dispose()
    return runs


def table(runs: list[Run]) -> None:
    """The issue's rows: per job and database, CPU and wall of each run, with the load."""
    print("\n| measure | database | run 1: CPU / wall (load) | run 2: CPU / wall (load) | target |")
    print("|---|---|---|---|---|")
    for job, label in (("weekly-digest", "weekly digest"), ("at-risk-scan", "at-risk scan")):
        for kind in dict.fromkeys(r.kind for r in runs):
            cells = []
            for r in (r for r in runs if r.kind == kind and r.job == job):
                server = "" if r.server_cpu is None else f" + {r.server_cpu:.2f} s server"
                cells.append(f"{r.cpu:.2f} s{server} / {r.wall:.2f} s ({r.load:.1f})")
            print(f"| {label} | {kind} | {' | '.join(cells)} | <= 2 s |")


if __name__ == "__main__":
    every: list[Run] = []
    for arg in sys.argv[1:] or ["sqlite", "postgresql"]:
        kind, _, url = arg.partition("=")
        every += bench(kind, url or None)
    table(every)
