"""Benchmark: the dispute watch beside a year of claims, and the retention job that prunes them.

    python -m tests.bench.bench_dispute_watch [sqlite|postgresql] [CLAIMS]

Fills `job_runs` with CLAIMS old "dispute-new" claims and as many daily reminder claims
(default 200,000 each, about what a busy year leaves), then times a dispute-watch run, which
reads only the claims of the disputes it may alert, and the retention job. Prints seconds.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.slack_client import make_web_client
from db.models import JobRun
from jobs.runner import run_job
from tests.conftest import fresh_database
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger
from tests.jobs.conftest import job_settings
from tests.jobs.ledger import MONDAY
from tools.deps import connect


def bench(kind: str, claims: int) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        fresh_database(kind, Path(tmp)) as url,
        FakeSlack(keep_calls=False) as slack,
    ):
        deps = connect(job_settings(url, slack.base_url))
        ledger.build(deps, Path(tmp) / "csv")
        # a young dispute, so every run checks whether its "new" alert is still owed
        ledger.add_dispute(deps, "G3", opened_at=MONDAY - timedelta(hours=1), external_id="dp-y")
        old = MONDAY - timedelta(days=200)
        with deps.engine.begin() as conn:
            for start in range(0, claims, 20_000):
                rows = [
                    {"job": job, "period": f"{n}{suffix}", "claimed_at": old, "status": "done"}
                    for n in range(start, min(start + 20_000, claims))
                    for job, suffix in (
                        ("dispute-new", ""),
                        ("dispute-reminder", ":2026-01-01"),
                    )
                ]
                conn.execute(insert(JobRun), rows)
        client = make_web_client(deps.settings)
        print(f"{kind}: {2 * claims} old claims")
        for minute in (1, 2, 3):
            started = time.perf_counter()
            run_job(deps, "dispute-watch", now=MONDAY + timedelta(minutes=minute), client=client)
            print(f"  dispute-watch run {minute}: {time.perf_counter() - started:6.3f} s")
        started = time.perf_counter()
        result = run_job(deps, "retention", now=MONDAY, client=client)
        print(f"  retention: {time.perf_counter() - started:6.3f} s, deleted {result.deleted}")
        started = time.perf_counter()
        run_job(deps, "dispute-watch", now=MONDAY + timedelta(minutes=4), client=client)
        print(f"  dispute-watch after retention: {time.perf_counter() - started:6.3f} s")
        deps.engine.dispose()


if __name__ == "__main__":
    kinds = [a for a in sys.argv[1:] if not a.isdigit()] or ["sqlite", "postgresql"]
    n = next((int(a) for a in sys.argv[1:] if a.isdigit()), 200_000)
    for k in kinds:
        bench(k, n)
