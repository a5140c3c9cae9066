"""Benchmark: the weekly digest (13-week DSO trend included) and the at-risk scan on the
one-million-invoice ledger, SQLite and PostgreSQL. Prints seconds and peak memory.

    ARBOT_BENCH_CUSTOMERS=7000 python -m tests.bench.bench_jobs      # ~100k invoices
    python -m tests.bench.bench_jobs [sqlite|postgresql]             # 70,000 customers, ~1M
    python -m tests.bench.bench_jobs sqlite=sqlite:////path/ledger.db  # another ledger

Each job runs end to end as the scheduler runs it (claim, assemble, render, post to a fake
Slack over loopback HTTP). Targets: digest under 2 s, at-risk scan under 2 s, peak memory
under 1 GiB. The CPU seconds of this process (every thread; on SQLite, the queries too)
tell a change's effect apart from the machine's load, which stretches the wall time.
Run 1 is the first after start-up (no cached answer), run 2 the same job again.
"""

from __future__ import annotations

import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.slack_client import make_web_client
from jobs.runner import run_job
from tests.bench.big_ledger import AS_OF, CUSTOMERS, big_ledger_url
from tests.fakes.slack_api import FakeSlack
from tools.deps import connect
from tools.settings import Settings


def _fresh_claims(deps) -> None:  # type: ignore[no-untyped-def]
    with deps.engine.begin() as conn:
        conn.execute(text("DELETE FROM job_runs"))


def bench(kind: str, url: str | None = None) -> None:
    url = url or big_ledger_url(kind)
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
        client = make_web_client(settings)
        with deps.engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM invoices")).scalar_one()
        print(f"{kind}: {CUSTOMERS} customers, {n} invoices")
        monday = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 8, tzinfo=UTC)
        for name in ("weekly-digest", "at-risk-scan"):
            for attempt in (1, 2):
                _fresh_claims(deps)
                slack.reset()
                started, cpu = time.perf_counter(), time.process_time()
                result = run_job(deps, name, now=monday + timedelta(minutes=attempt), client=client)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                posts = len(slack.calls("chat.postMessage"))
                uploads = len(slack.uploads())
                alerted = len(result) if isinstance(result, list) else "-"
                print(
                    f"  {name:14} run {attempt}: {seconds:6.2f} s (this process's CPU {cpu:5.2f} s)"
                    f"  max RSS so far "
                    f"{rss:6.0f} MiB  posts {posts} uploads {uploads} alerted {alerted}"
                )
        deps.engine.dispose()


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["sqlite", "postgresql"]:
        kind, _, url = arg.partition("=")
        bench(kind, url or None)
