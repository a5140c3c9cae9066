"""Retention: the bot's bookkeeping older than ARBOT_RETENTION_DAYS is deleted by the
scheduled "retention" job; newer rows, at-risk alert claims and live snoozes stay, and every
alert is still posted exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, insert, select

from db.jobs import insert_claim
from db.models import ConversationMessage, JobRun, LlmUsage, ProcessedEvent
from jobs.runner import run_job
from jobs.table import JOBS, job_named
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger
from tests.jobs.conftest import ALERTS
from tests.jobs.ledger import MONDAY
from tools.deps import ToolDeps
from tools.settings import SettingsError, load_settings
from tools.watch import snooze, snoozed_customers

OLD = MONDAY - timedelta(days=91)  # the default retention is 90 days
NEW = MONDAY - timedelta(days=89)


def _add_bookkeeping(deps: ToolDeps, at: datetime, tag: str) -> None:
    with deps.engine.begin() as conn:
        conn.execute(insert(ProcessedEvent).values(source="slack", event_id=tag, received_at=at))
        conn.execute(
            insert(ConversationMessage).values(thread_key=tag, message={"x": 1}, created_at=at)
        )
        conn.execute(
            insert(LlmUsage).values(
                thread_key=tag, model="m", prompt_tokens=1, completion_tokens=1, latency_ms=1,
                created_at=at,
            )
        )  # fmt: skip
    for job, period in (("weekly-digest", tag), ("dispute-reminder", tag), ("risk-alert", tag)):
        assert insert_claim(deps.engine, job, period, at, None)


def _left(deps: ToolDeps) -> dict[str, set[str]]:
    with deps.engine.connect() as conn:
        return {
            "events": set(conn.execute(select(ProcessedEvent.event_id)).scalars()),
            "memory": set(conn.execute(select(ConversationMessage.thread_key)).scalars()),
            "usage": {str(k) for k in conn.execute(select(LlmUsage.thread_key)).scalars()},
            "claims": {f"{j}/{p}" for j, p in conn.execute(select(JobRun.job, JobRun.period))},
        }


def test_old_rows_go_new_rows_and_state_claims_stay(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    assert job_named("retention").cron(jdeps.settings) == "30 3 * * *"
    _add_bookkeeping(jdeps, OLD, "old")
    _add_bookkeeping(jdeps, NEW, "new")
    risky = ledger.customer_id(jdeps, "RISKY")
    good = ledger.customer_id(jdeps, "GOOD")
    snooze(jdeps, risky, "U1", now=OLD, days=120)  # old, still running: kept
    snooze(jdeps, good, "U1", now=MONDAY - timedelta(days=10))  # ended 3 days ago: gone
    result = run_job(jdeps, "retention", now=MONDAY, client=client)
    assert result.deleted == {
        "processed_events": 1, "conversation_messages": 1, "llm_usage": 1, "job_runs": 3,
    }  # fmt: skip
    left = _left(jdeps)
    assert left["events"] == {"new"} and left["memory"] == {"new"} and left["usage"] == {"new"}
    assert left["claims"] == {
        "weekly-digest/new", "dispute-reminder/new", "risk-alert/new", "risk-alert/old",
        f"snooze/customer:{risky}",
    }  # fmt: skip
    assert snoozed_customers(jdeps, MONDAY.date()) == {risky}
    # the snooze is still honoured: the snoozed account's dispute gets no reminder
    ledger.add_dispute(jdeps, "R1", opened_at=MONDAY - timedelta(days=5), external_id="dp-r")
    run_job(jdeps, "dispute-watch", now=MONDAY, client=client)
    assert not [t for t in _texts(fake_slack) if "Risky Inc" in t]
    # run again: nothing more to delete
    assert run_job(jdeps, "retention", now=MONDAY, client=client).total == 0


def _texts(fake: FakeSlack) -> list[str]:
    return [c.all_text for c in fake.calls("chat.postMessage") if c.params["channel"] == ALERTS]


def test_dispute_alerts_stay_exactly_once_across_retention(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    ledger.add_dispute(jdeps, "G3", opened_at=MONDAY - timedelta(hours=2), external_id="dp-new")
    assert len(run_job(jdeps, "dispute-watch", now=MONDAY, client=client)["new"]) == 1
    for later in (timedelta(hours=1), timedelta(days=100)):
        run_job(jdeps, "retention", now=MONDAY + later, client=client)
        out = run_job(jdeps, "dispute-watch", now=MONDAY + later, client=client)
        assert out["new"] == []
    assert len([t for t in _texts(fake_slack) if t.startswith("New dispute")]) == 1
    with jdeps.engine.connect() as conn:
        n = conn.execute(select(func.count()).where(JobRun.job == "dispute-new")).scalar_one()
    assert n == 0, "the old claim was pruned, and the old dispute was not alerted as new again"


def test_retention_shorter_than_a_misfire_grace_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    longest_grace_days = max(job.grace_seconds for job in JOBS) / 86400
    monkeypatch.setenv("ARBOT_RETENTION_DAYS", str(int(longest_grace_days)))
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "ARBOT_RETENTION_DAYS" in str(err.value)
    monkeypatch.setenv("ARBOT_RETENTION_DAYS", "14")
    assert load_settings().retention_days * 86400 > max(job.grace_seconds for job in JOBS)
