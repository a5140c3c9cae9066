"""Benchmark: 1,000 approvals clicked by 10 concurrent users against PostgreSQL.

Everything is real except the far ends: the Bolt app behind the WSGI server receives signed
interaction payloads, the ledger is PostgreSQL, cards are updated through slack_sdk against the
fake Slack Web API, and two outbox workers deliver over SMTP to an aiosmtpd server.

Measured: proposal rate, click throughput, click-to-card-update latency (from sending the
click until Slack receives the chat.update that shows "Approved by"), time to drain the
outbox, and the count of emails received (must equal the approvals; no duplicates).

    .venv/bin/python tests/bench/bench_approvals.py [--approvals 1000] [--users 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import create_app
from bot.blocks.ids import ActionId, CardRef
from bot.cards import card_notifier, post_card
from bot.listeners import LISTENERS, approvals
from bot.server import default_routes, serve, serve_in_thread
from bot.slack_client import make_web_client
from db.models import Action
from tests.fakes.signing import SlackSender, block_action
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp_server import FakeSmtp
from tests.ledger_files import customer, invoice, write_csvs
from tools.csv_import import import_directory
from tools.deps import connect
from tools.dunning import DunningInput, propose_dunning_email
from tools.outbox import Outbox
from tools.settings import Settings

PG_URL = os.environ.get("ARBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "bench-signing-secret"
CHANNEL = "CAPPROVAL1"
PROPOSER = "UCOLLECT01"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--approvals", type=int, default=1000)
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2, help="outbox workers running at once")
    opts = ap.parse_args()
    n, users = opts.approvals, [f"UAPPR{i:05d}" for i in range(opts.users)]

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    fake_slack, smtp = FakeSlack().start(), FakeSmtp().start()
    try:
        settings = Settings(
            database_url=f"{PG_URL}?options=-csearch_path%3D{schema}",
            timezone="UTC",
            approvers=users,
            finance_users=[*users, PROPOSER],
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET,
            slack_api_url=fake_slack.base_url,
            approvals_channel=CHANNEL,
            smtp_url=smtp.url,
            smtp_from="ar@bench.example.com",
        )
        deps = connect(settings)
        today = datetime.now(UTC).date()
        with tempfile.TemporaryDirectory() as tmp:
            write_csvs(
                Path(tmp),
                customers=[customer(f"C{i:05d}", name=f"Customer {i:05d}") for i in range(n)],
                invoices=[
                    invoice(
                        f"I{i:05d}",
                        f"{100 + i}.00",
                        (today - timedelta(days=40)).isoformat(),
                        (today - timedelta(days=10)).isoformat(),
                        customer_id=f"C{i:05d}",
                    )
                    for i in range(n)
                ],
            )
            import_directory(deps.engine, Path(tmp), tz=settings.tz)

        client = make_web_client(settings)
        t0 = time.perf_counter()
        cards: list[tuple[str, str]] = []
        for i in range(n):
            a = propose_dunning_email(
                deps, DunningInput(invoice=f"INV-I{i:05d}", requested_by=PROPOSER)
            )
            shown = CardRef(action_id=a.id, version=a.shown_version).model_dump_json()
            cards.append((shown, post_card(client, deps, a, channel=CHANNEL)))
        propose_s = time.perf_counter() - t0

        app = create_app(settings, deps)
        if approvals not in LISTENERS:
            approvals.register(app, deps)
        server = serve(default_routes(app, deps), host="127.0.0.1", port=0)
        serve_in_thread(server)
        sender = SlackSender(f"http://127.0.0.1:{server.server_address[1]}/slack/events", SECRET)

        boxes = [
            Outbox(deps, notify=card_notifier(client, deps), backoff_seconds=0.5)
            for _ in range(opts.workers)
        ]
        stops = [box.start(interval=0.2)[1] for box in boxes]

        clicked_at: dict[str, float] = {}
        lock = threading.Lock()

        def user_clicks(user_index: int) -> int:
            user, done = users[user_index], 0
            for value, ts in cards[user_index :: len(users)]:
                with lock:
                    clicked_at[ts] = time.monotonic()
                status, _ = sender.interaction(
                    block_action(
                        ActionId.APPROVE,
                        value=value,
                        user=user,
                        channel=CHANNEL,
                        message_ts=ts,
                    )
                )
                done += status == 200
            return done

        t1 = time.perf_counter()
        with ThreadPoolExecutor(len(users)) as pool:
            acked = sum(pool.map(user_clicks, range(len(users))))
        # Wait until every card shows its approval, then until the outbox has drained.
        approved_seen: dict[str, float] = {}
        deadline = time.monotonic() + 120
        while len(approved_seen) < n and time.monotonic() < deadline:
            for call in fake_slack.calls("chat.update"):
                ts = call.params["ts"]
                if ts not in approved_seen and "Approved by" in str(call.params.get("text")):
                    approved_seen[ts] = call.at
            time.sleep(0.05)
        clicks_s = time.perf_counter() - t1
        while time.monotonic() < deadline:
            with deps.sessions() as session:
                left = session.scalar(
                    sa.select(sa.func.count()).where(Action.status.in_(["approved", "executing"]))
                )
            if left == 0:
                break
            time.sleep(0.1)
        drain_s = time.perf_counter() - t1
        for stop in stops:
            stop.set()
        with deps.sessions() as session:
            done = session.scalar(sa.select(sa.func.count()).where(Action.status == "done"))
        time.sleep(0.5)
        emails = len(smtp.messages)
        distinct = len({m["Message-ID"] for m in smtp.messages})
        latencies = [(approved_seen[ts] - clicked_at[ts]) * 1000 for ts in approved_seen]

        print(f"approvals: {n} clicked by {len(users)} concurrent users (PostgreSQL)")
        print(f"proposals drafted and posted: {n / propose_s:.0f}/s ({propose_s:.1f} s)")
        print(f"clicks acked 200: {acked}; cards updated to Approved: {len(approved_seen)}")
        print(f"click throughput: {n / clicks_s:.0f} approvals/s ({clicks_s:.2f} s)")
        print(
            "click-to-card-update ms: "
            f"p50 {statistics.median(latencies):.1f}, p95 {pct(latencies, 95):.1f}, "
            f"p99 {pct(latencies, 99):.1f}, max {max(latencies):.1f}"
        )
        print(f"outbox workers: {opts.workers}; all sent after {drain_s:.2f} s from first click")
        print(f"actions done: {done}; emails received: {emails}; distinct Message-IDs: {distinct}")
        ok = emails == n == distinct == done
        print("OK: one email per approval" if ok else "MISMATCH")
        server.shutdown()
        deps.engine.dispose()
        return 0 if ok else 1
    finally:
        fake_slack.stop()
        smtp.stop()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
