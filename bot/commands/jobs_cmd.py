"""`arbot jobs list`, `arbot jobs run NAME [--now YYYY-MM-DDTHH:MM]` and `arbot worker`
(the scheduler alone). The jobs and their cron settings come from `jobs.table`."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jobs.table import JOBS, NAMES, job_named
from tools.deps import connect
from tools.settings import SettingsError, env_name, load_settings

log = logging.getLogger(__name__)


def _table(rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """Rows as aligned columns; the last one (what a job does) is left ragged."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]

    def line(row: Sequence[str]) -> str:
        cells = [f"{value:<{width}}" for value, width in zip(row[:-1], widths, strict=True)]
        return indent + "  ".join([*cells, row[-1]])

    return "\n".join(line(row) for row in rows)


def register(sub: Any) -> None:
    jobs = sub.add_parser("jobs", help="list the scheduled jobs, or run one by hand")
    actions = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    list_p = actions.add_parser("list", help="each job, its cron from the settings, what it does")
    list_p.set_defaults(run=run_list)
    run_p = actions.add_parser(
        "run",
        help="run one job now (exactly-once claims still apply: a repeat posts nothing)",
        epilog="jobs:\n" + _table([(job.name, job.description) for job in JOBS], indent="  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run_p.add_argument("name", choices=NAMES, metavar="NAME", help="the job to run (below)")
    run_p.add_argument(
        "--now",
        help="pretend it is this moment, in the company time zone (YYYY-MM-DDTHH:MM)",
    )
    run_p.set_defaults(run=run)
    worker = sub.add_parser("worker", help="run the scheduler alone (no Slack listener)")
    worker.set_defaults(run=run_worker)


def run_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    rows = [
        (job.name, job.cron(settings), env_name(job.cron_setting), job.description) for job in JOBS
    ]
    print(f"Cron strings are in {settings.timezone}; set one to 'off' to switch the job off.")
    print(_table(rows))
    return 0


def parse_now(text: str | None, tz: Any) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(
            f"--now {text!r}: use YYYY-MM-DDTHH:MM, e.g. 2026-11-23T08:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def run(args: argparse.Namespace) -> int:
    from jobs.runner import run_job

    settings = load_settings()
    now = parse_now(args.now, settings.tz)
    deps = connect(settings)
    try:
        result = run_job(deps, args.name, now=now)
    finally:
        deps.engine.dispose()
    if job_named(args.name).nothing_done(result):
        print(f"{args.name}: nothing to post (already done for this period, or nothing due)")
    else:
        print(f"{args.name}: {result}")
    return 0


def run_worker(args: argparse.Namespace) -> int:
    from jobs.scheduler import start_scheduler

    deps = connect(load_settings())
    stop = start_scheduler(deps)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    log.info("event=worker_started")
    done.wait()
    stop()
    return 0
