"""A simulated week on the configured cron schedules, and the real scheduler's misfire policy."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient

from jobs.runner import run_job
from jobs.scheduler import TABLE, make_scheduler, start_scheduler
from jobs.table import JOBS
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger
from tests.jobs.conftest import ALERTS, APPROVALS, DIGEST
from tests.jobs.ledger import MONDAY, OWNER
from tools.deps import ToolDeps

WEEK_START = MONDAY.replace(hour=0)
WEEK_JOBS = ("weekly-digest", "at-risk-scan", "dispute-watch", "dunning")


def _fire_times(cron: str, start: datetime, end: datetime) -> list[datetime]:
    trigger = CronTrigger.from_crontab(cron, timezone=UTC)
    out, prev, t = [], None, trigger.get_next_fire_time(None, start)
    while t is not None and t < end:
        out.append(t)
        prev, t = t, trigger.get_next_fire_time(t, t + timedelta(seconds=1))
    assert prev is None or prev < end
    return out


def test_a_simulated_week_posts_each_expected_message_once(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    deps = replace(
        jdeps, settings=jdeps.settings.model_copy(update={"dispute_watch_cron": "5 * * * *"})
    )
    s = deps.settings
    crons = {job.name: job.cron(s) for job in JOBS}
    end = WEEK_START + timedelta(days=7)
    schedule = sorted(
        (t, name) for name in WEEK_JOBS for t in _fire_times(crons[name], WEEK_START, end)
    )
    events = {
        # a failed payment on Tuesday pushes Risky Inc into high risk
        WEEK_START + timedelta(days=1, hours=12): lambda: ledger.failed_payment(
            deps, "R1", WEEK_START + timedelta(days=1, hours=12), "fail-tue"
        ),
        # a dispute arrives on Wednesday at 10:00
        WEEK_START + timedelta(days=2, hours=10): lambda: ledger.add_dispute(
            deps, "G3", opened_at=WEEK_START + timedelta(days=2, hours=10), external_id="dp-wed"
        ),
    }
    pending = sorted(events)
    for when, name in schedule:
        while pending and pending[0] <= when:
            events[pending.pop(0)]()
        run_job(deps, name, now=when, client=client)
        if name == "weekly-digest":  # a second worker firing the same schedule changes nothing
            assert run_job(deps, name, now=when, client=client) is None

    posts = fake_slack.calls("chat.postMessage")
    by_channel = Counter(c.params["channel"] for c in posts if not c.params.get("thread_ts"))
    alerts = [c.all_text for c in posts if c.params["channel"] == ALERTS]
    assert by_channel[DIGEST] == 1
    assert by_channel[OWNER] == 1  # Risky Inc's owner: its high-risk alert
    risk = [t for t in alerts if "entered high risk" in t]
    new = [t for t in alerts if t.startswith("New dispute")]
    reminders = [t for t in alerts if "attention today" in t]
    assert len(risk) == 1 and "Risky Inc" in risk[0]
    assert len(new) == 1 and "Goodpay Ltd" in new[0]
    # the 5-day-old dispute every day (7); Wednesday's from Friday 11:05 (49 h) on (3);
    # Friday's two reminders arrive in two runs, so 8 messages
    assert len(reminders) == 8
    assert sum(t.count("Dunmore AG") for t in reminders) == 7
    assert sum(t.count("Goodpay Ltd") for t in reminders) == 3
    # dunning cards: Monday D1 (-3), D2 (+1), R1 (+30); Friday D1 (+1) after its expiry
    assert by_channel[APPROVALS] == 4
    assert by_channel[ALERTS] == 10


def _digests(fake: FakeSlack) -> int:
    return sum(
        1
        for c in fake.calls("chat.postMessage")
        if c.params["channel"] == DIGEST and not c.params.get("thread_ts")
    )


class Runs:
    """The scheduler's run events; `ended` is set when the first run ends, however it ends."""

    def __init__(self) -> None:
        self.events: list[JobEvent] = []
        self.ended = threading.Event()

    def __call__(self, event: JobEvent) -> None:
        self.events.append(event)
        self.ended.set()

    def executed(self) -> list[str]:
        return [e.job_id for e in self.events if e.code == EVENT_JOB_EXECUTED]

    def failed(self) -> list[str]:
        return [e.job_id for e in self.events if e.code == EVENT_JOB_ERROR]


def _store(deps: ToolDeps) -> SQLAlchemyJobStore:
    """The job store read directly: no scheduler thread may run while a test edits it."""
    store = SQLAlchemyJobStore(engine=deps.engine, tablename=TABLE)
    store.start(make_scheduler(deps), "default")
    return store


def _miss_the_digest(deps: ToolDeps) -> None:
    """As if the worker was down when the digest was due: its run time is 30 hours past."""
    store = _store(deps)
    job = store.lookup_job("weekly-digest")
    assert job is not None
    job.next_run_time = datetime.now(UTC) - timedelta(hours=30)
    store.update_job(job)


def _run_the_missed_digest(deps: ToolDeps, *, workers: int = 1) -> Runs:
    """Miss the digest, start `workers` schedulers, wait for the first run to end, stop them
    all (each stop waits for a run it started), and return what the runs reported."""
    _miss_the_digest(deps)
    runs = Runs()
    stops = [start_scheduler(deps, on_event=runs) for _ in range(workers)]
    try:
        assert runs.ended.wait(timeout=60), "the missed digest never ran"
    finally:
        for stop in stops:
            stop()
    return runs


def _only_the_digest(deps: ToolDeps, **settings: object) -> ToolDeps:
    """The job deps with every scheduled job but the digest switched off."""
    off = {job.cron_setting: "off" for job in JOBS if job.name != "weekly-digest"}
    return replace(deps, settings=deps.settings.model_copy(update=off | settings))


def test_restart_after_a_missed_monday_posts_once_even_with_two_workers(
    jdeps: ToolDeps, fake_slack: FakeSlack
) -> None:
    deps = _only_the_digest(jdeps)
    start_scheduler(deps)()  # first start: the job is stored with its next Monday
    stored = _store(deps).lookup_job("weekly-digest")
    assert stored is not None and stored.next_run_time > datetime.now(UTC)
    runs = _run_the_missed_digest(deps, workers=2)
    assert "weekly-digest" in runs.executed() and runs.failed() == []
    assert _digests(fake_slack) == 1
    assert len(fake_slack.calls("chat.postMessage")) == 2  # the message and its thread
    # Another restart: the digest waits for next Monday...
    stop = start_scheduler(deps)
    stop()
    stored = _store(deps).lookup_job("weekly-digest")
    assert stored is not None and stored.next_run_time > datetime.now(UTC)
    # ...and a late run for the same week, should one happen, posts nothing more.
    again = _run_the_missed_digest(deps)
    assert again.executed() == ["weekly-digest"] and again.failed() == []
    assert len(fake_slack.calls("chat.postMessage")) == 2


def test_a_job_that_fails_is_reported_as_failed_not_as_run(
    jdeps: ToolDeps, fake_slack: FakeSlack
) -> None:
    deps = _only_the_digest(jdeps, digest_channel=None)  # the digest cannot post
    start_scheduler(deps)()
    runs = _run_the_missed_digest(deps)
    assert runs.failed() == ["weekly-digest"] and runs.executed() == []
    assert fake_slack.calls("chat.postMessage") == []
