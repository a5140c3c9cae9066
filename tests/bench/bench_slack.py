"""Benchmark: Slack request -> HTTP ack -> answer posted, on a big ledger.

Drives the real app over HTTP with signed Events API requests (DMs from a finance user) and
times, per question, the HTTP ack and the answer's chat.postMessage arriving at the fake
Slack server. Then holds a steady rate (default 50 questions/s for 60 s) and checks that
every question got exactly one answer and no error. Then: past as-of dates (each date asked
once, so no cached answer helps), and "AR now" right after a back-dated payment is imported
(timed from the import's commit to the posted reply, and checked against a fresh computation).

    python tests/bench/bench_slack.py                    # SQLite, the shared 1M ledger
    python tests/bench/bench_slack.py --db postgresql
    ARBOT_BENCH_CUSTOMERS=7000 python tests/bench/bench_slack.py   # a smaller cached ledger
    python tests/bench/bench_slack.py --url sqlite:////path/ledger.db

The ledger comes from tests/bench/big_ledger.py (demo CSVs + the real importer, cached).
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import create_app
from bot.server import default_routes, serve, serve_in_thread
from tests.fakes.signing import SlackSender, message_event
from tests.fakes.slack_api import Call, FakeSlack
from tests.ledger_files import write_csvs
from tools.csv_import import import_directory
from tools.deps import ToolDeps, connect
from tools.metrics import ar_metrics_and_trend
from tools.money import format_money
from tools.settings import Settings

AS_OF = date(2026, 11, 23)  # tests.bench.big_ledger's as-of date (imported lazily there)

SECRET = "bench-secret"
USER = "UBENCH0001"
QUESTIONS = {"ar": "what's our AR right now?", "aging": "aging"}


class Answers:
    """chat.postMessage arrivals per thread, stamped with time.monotonic()."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.by_thread: dict[str, list[float]] = defaultdict(list)
        self.text: dict[str, str] = {}
        self.errors = 0

    def on_call(self, call: Call) -> None:
        if call.method != "chat.postMessage" or call.status != 200:
            return
        with self.lock:
            self.by_thread[str(call.params.get("thread_ts"))].append(call.at)
            self.text.setdefault(str(call.params.get("thread_ts")), str(call.params))
            if "something went wrong" in str(call.params.get("text", "")):
                self.errors += 1
            self.lock.notify_all()

    def wait(self, thread_ts: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self.lock:
            while not self.by_thread.get(thread_ts):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.lock.wait(left)
            return self.by_thread[thread_ts][0]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.1f} ms, p99 {pct(values, 99) * 1000:.1f} ms"


def ask(sender: SlackSender, question: str) -> tuple[str, float, float, int]:
    event = message_event(question, user=USER, channel="DBENCH0001")
    start = time.monotonic()
    status, _ = sender.event(event)
    return event["ts"], start, time.monotonic() - start, status


def latency(sender: SlackSender, answers: Answers, samples: int) -> None:
    for name, question in QUESTIONS.items():
        acks, answer_times = [], []
        for _ in range(samples):
            ts, start, ack, status = ask(sender, question)
            assert status == 200, status
            arrived = answers.wait(ts, 30)
            assert arrived is not None, f"no answer to {question!r}"
            acks.append(ack)
            answer_times.append(arrived - start)
        print(f"  {name:5} ({samples} sequential): ack {ms(acks)}; answer {ms(answer_times)}")


def sustained(sender: SlackSender, answers: Answers, rate: float, seconds: float) -> None:
    total = int(rate * seconds)
    sent: list[tuple[str, float, float, int]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        result = ask(sender, QUESTIONS["ar" if i % 2 == 0 else "aging"])
        with lock:
            sent.append(result)

    begin = time.monotonic()
    with ThreadPoolExecutor(max_workers=128) as pool:
        for i in range(total):
            target = begin + i / rate
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i)
    sending = time.monotonic() - begin
    acks = [a for _, _, a, _ in sent]
    non_200 = sum(1 for *_, s in sent if s != 200)
    answer_times, missing = [], 0
    for ts, start, _, _ in sent:
        arrived = answers.wait(ts, max(0.0, begin + sending + 30 - time.monotonic()))
        if arrived is None:
            missing += 1
        else:
            answer_times.append(arrived - start)
    with answers.lock:
        duplicates = sum(1 for ts, _, _, _ in sent if len(answers.by_thread.get(ts, [])) > 1)
    print(
        f"  sustained: {len(sent)} questions in {sending:.1f}s ({len(sent) / sending:.1f}/s); "
        f"non-200 acks {non_200}, unanswered {missing}, duplicates {duplicates}, "
        f"error replies {answers.errors}"
    )
    print(f"  sustained: ack {ms(acks)}; answer {ms(answer_times)}")


def past_dates(sender: SlackSender, answers: Answers, samples: int) -> None:
    """Each question names a date not asked before, so every answer is computed afresh."""
    for name, template in (("ar", "what was AR on {}?"), ("aging", "aging as of {}")):
        times = []
        for k in range(samples):
            day = AS_OF - timedelta(days=30 + k * 7 + (3 if name == "aging" else 0))
            ts, start, _, status = ask(sender, template.format(day.isoformat()))
            assert status == 200, status
            arrived = answers.wait(ts, 60)
            assert arrived is not None, f"no answer to {template!r}"
            times.append(arrived - start)
        print(f"  past as-of {name:5} ({samples} dates, each new): answer {ms(times)}")


def after_backdated_payment(sender: SlackSender, answers: Answers, deps: ToolDeps) -> None:
    """Import one payment dated 30 days back on an open invoice, then ask for AR now; the
    answer must already count it (compared with a computation that bypasses every cache)."""
    with deps.engine.connect() as conn:
        inv, cust, cur = conn.execute(
            sa.text(
                "SELECT i.external_id, c.external_id, i.currency FROM invoices i "
                "JOIN customers c ON c.id = i.customer_id WHERE i.settled_at IS NULL "
                "AND i.total_minor - i.applied_minor > 100 AND i.currency = 'USD' "
                "AND i.source = 'csv' ORDER BY i.id LIMIT 1"
            )
        ).one()
    with tempfile.TemporaryDirectory() as tmp:
        directory = write_csvs(
            Path(tmp),
            payments=[
                {
                    "payment_id": f"BENCH-{uuid.uuid4().hex[:10]}",
                    "customer_id": cust,
                    "invoice_id": inv,
                    "amount": "1.00",
                    "currency": cur,
                    "paid_on": (date.today() - timedelta(days=30)).isoformat(),
                    "status": "succeeded",
                }
            ],
        )
        started = time.monotonic()
        import_directory(deps.engine, directory, tz=deps.settings.tz)
        imported = time.monotonic()
    ts, asked, _, _ = ask(sender, QUESTIONS["ar"])
    arrived = answers.wait(ts, 60)
    assert arrived is not None
    with deps.sessions() as session:
        reports, _ = ar_metrics_and_trend(
            session,
            [date.today()],
            [],
            period_days=90,
            tz=deps.settings.tz,
            reporting_currency=deps.settings.reporting_currency,
        )
    fresh = format_money(reports[0].ar_total_minor, reports[0].currency)
    exact = fresh in answers.text[ts]
    print(
        f"  back-dated payment: import {imported - started:.2f}s; AR now answered "
        f"{(arrived - asked) * 1000:.0f} ms after asking, {arrived - imported:.2f}s after the "
        f"import committed; {'exact' if exact else 'STALE'} (AR {fresh})"
    )


def ledger_url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url)
    from tests.bench.big_ledger import big_ledger_url

    return big_ledger_url(args.db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--url", help="use this ledger instead of the shared cached one")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--past", type=int, default=10, help="past as-of dates to ask")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE first")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    url = ledger_url(args)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        invoices = conn.execute(sa.text("SELECT count(*) FROM invoices")).scalar_one()
        # Planner statistics: without them SQLite picks a per-status payments index and the
        # AR query turns quadratic (seconds instead of milliseconds). The import does not
        # gather them (yet), so the benchmark does, once.
        if not args.no_analyze:
            t = time.perf_counter()
            conn.execute(sa.text("ANALYZE"))
            print(f"ANALYZE took {time.perf_counter() - t:.1f}s")
    engine.dispose()
    answers = Answers()
    with FakeSlack(on_call=answers.on_call, keep_calls=False) as slack:
        settings = Settings(
            database_url=url,
            timezone="UTC",
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET,
            slack_api_url=slack.base_url,
            finance_users=[USER],
        )
        deps = connect(settings)
        app = create_app(settings, deps)
        server = serve(default_routes(app, deps), port=0)
        serve_in_thread(server)
        sender = SlackSender(f"http://127.0.0.1:{server.server_address[1]}/slack/events", SECRET)
        print(f"bench_slack: {args.db if not args.url else url}, {invoices:,} invoices")
        for question in QUESTIONS.values():  # warm caches and connections
            ts, *_ = ask(sender, question)
            answers.wait(ts, 60)
        latency(sender, answers, args.samples)
        sustained(sender, answers, args.rate, args.seconds)
        past_dates(sender, answers, args.past)
        after_backdated_payment(sender, answers, deps)
        print(f"  peak memory of this process: {peak_mib():.0f} MiB")
        server.shutdown()
        deps.engine.dispose()


if __name__ == "__main__":
    main()
