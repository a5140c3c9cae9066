"""The Monday digest: the report's numbers, valid charts in the thread, posted once."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import DIGEST
from tests.jobs.ledger import MONDAY
from tools.buckets import BUCKETS
from tools.deps import ToolDeps
from tools.format import format_days, format_pct, round_ratio
from tools.metrics import MetricsInput
from tools.money import format_major, format_money
from tools.report import ar_report, report_json

PNG = b"\x89PNG\r\n\x1a\n"
SUNDAY = date(2026, 11, 22)


def test_digest_numbers_equal_the_report_and_charts_are_pngs(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    ts = run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    assert ts
    report = ar_report(jdeps, MetricsInput(as_of=SUNDAY))
    last_week = ar_report(jdeps, MetricsInput(as_of=SUNDAY - timedelta(days=7)))
    posts = fake_slack.calls("chat.postMessage")
    top = [c for c in posts if not c.params.get("thread_ts")]
    assert len(top) == 1 and top[0].params["channel"] == DIGEST
    text = top[0].all_text
    assert f"week ending {SUNDAY}" in text
    assert format_money(report.ar_total_minor, "USD") in text
    for b in BUCKETS:
        assert format_money(report.aging_minor[b], "USD") in text
    change = report.ar_total_minor - last_week.ar_total_minor
    assert format_money(abs(change), "USD") in text
    # the figures a controller reads, exactly as the report gives them (2 decimals for ratios)
    assert report.dso is not None and last_week.dso is not None
    assert f"DSO {format_days(report.dso)}" in top[0].params["text"]  # the notification text
    assert f"*AR total* {format_money(report.ar_total_minor, 'USD')}" in text
    ninety = next(line for line in text.splitlines() if line.startswith("`    90+`"))
    assert format_money(report.aging_minor["90+"], "USD") in ninety
    assert format_pct(report.aging_pct["90+"]) in ninety
    assert f"*CEI* {format_pct(report.cei_pct)} (target > 90%)" in text
    assert f"*Bad debt* {format_pct(report.bad_debt_pct)} (target < 1%)" in text
    # DSO against its target and against last week: the arrow is the number's way, the word
    # whether that is good (lower is better)
    dso_change = round_ratio(report.dso) - round_ratio(last_week.dso)  # type: ignore[operator]
    assert dso_change < 0
    assert (
        f"*DSO* {format_days(report.dso)} (target < 45 days) :x: off target · "
        f":arrow_down_small: down {format_days(abs(dso_change))} vs last week, better"
    ) in text
    assert len(top[0].blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in top[0].blocks)
    # details in the thread
    thread = [c for c in posts if c.params.get("thread_ts") == ts]
    assert len(thread) == 1
    detail = thread[0].all_text
    assert "Top" in detail and "Risky Inc" in detail and "Open disputes by age" in detail
    # two PNGs and a CSV whose figures equal `arbot report`'s JSON
    uploads = {u.filename: u.content for u in fake_slack.uploads()}
    assert uploads[f"aging-{SUNDAY}.png"].startswith(PNG)
    assert uploads[f"dso-trend-{SUNDAY}.png"].startswith(PNG)
    rows = list(csv.reader(io.StringIO(uploads[f"ar-digest-{SUNDAY}.csv"].decode())))
    figures = {(r[0], r[1]): r[2] for r in rows[1:]}
    expected = report_json(report)
    assert figures[("ar", "ar_total")] == expected["ar_total"]
    for b in BUCKETS:
        assert figures[("aging", b)] == expected["aging"][b]
    assert figures[("ar", "ar_change_vs_last_week")] == format_major(change, "USD")
    for name in ("dso", "cei_pct", "best_possible_dso", "average_days_delinquent"):
        value = expected[name]
        assert figures[("metrics", name)] == ("" if value is None else f"{value:.2f}")
    trend = [k for k in figures if k[0].startswith("trend ") and k[1] == "dso"]
    assert len(trend) == 13


def test_digest_run_twice_or_by_two_workers_posts_once(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    results: list[object] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
            )
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for r in results if r) == 1
    assert run_job(jdeps, "weekly-digest", now=MONDAY + timedelta(hours=2), client=client) is None
    top = [c for c in fake_slack.calls("chat.postMessage") if not c.params.get("thread_ts")]
    assert len(top) == 1


def test_missed_monday_posts_once_on_tuesday_and_next_week_again(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    tuesday = MONDAY + timedelta(days=1, hours=3)
    assert run_job(jdeps, "weekly-digest", now=tuesday, client=client)
    assert run_job(jdeps, "weekly-digest", now=tuesday + timedelta(days=1), client=client) is None
    top = [c for c in fake_slack.calls("chat.postMessage") if not c.params.get("thread_ts")]
    assert len(top) == 1 and f"week ending {SUNDAY}" in top[0].all_text
    assert run_job(jdeps, "weekly-digest", now=MONDAY + timedelta(days=7), client=client)
    top = [c for c in fake_slack.calls("chat.postMessage") if not c.params.get("thread_ts")]
    assert len(top) == 2 and f"week ending {SUNDAY + timedelta(days=7)}" in top[1].all_text


def test_a_thread_slack_failed_is_posted_next_run_under_the_same_message(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.fail_next(
        "files.completeUploadExternal", status=200, retry_after=None, error="internal_error"
    )
    with pytest.raises(SlackApiError):
        run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    assert fake_slack.uploads() == []

    ts = run_job(jdeps, "weekly-digest", now=MONDAY + timedelta(hours=1), client=client)
    posts = fake_slack.calls("chat.postMessage")
    top = [c for c in posts if not c.params.get("thread_ts")]
    details = [c for c in posts if c.params.get("thread_ts")]
    assert len(top) == 1, "the channel got one digest, not a second after the failure"
    assert [c.params["thread_ts"] for c in details] == [ts], "details posted once, in its thread"
    files = fake_slack.uploads()
    assert sorted(u.filename for u in files) == sorted(
        [f"aging-{SUNDAY}.png", f"dso-trend-{SUNDAY}.png", f"ar-digest-{SUNDAY}.csv"]
    )
    assert {u.completed["thread_ts"] for u in files} == {ts}
    assert run_job(jdeps, "weekly-digest", now=MONDAY + timedelta(hours=2), client=client) is None
    assert len(fake_slack.uploads()) == 3


def test_a_thread_an_earlier_week_owes_is_posted_by_the_next_weeks_run(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.fail_next(
        "files.completeUploadExternal", status=200, retry_after=None, error="internal_error"
    )
    with pytest.raises(SlackApiError):
        run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    run_job(jdeps, "weekly-digest", now=MONDAY + timedelta(days=7), client=client)
    top = [c for c in fake_slack.calls("chat.postMessage") if not c.params.get("thread_ts")]
    assert len(top) == 2, "one message per week, the failed week's not posted again"
    files = {u.filename: u.completed["thread_ts"] for u in fake_slack.uploads()}
    first_ts = fake_slack.calls("chat.postMessage")[0]
    assert f"ar-digest-{SUNDAY}.csv" in files
    assert f"ar-digest-{SUNDAY + timedelta(days=7)}.csv" in files
    assert files[f"ar-digest-{SUNDAY}.csv"] != files[f"ar-digest-{SUNDAY + timedelta(days=7)}.csv"]
    assert first_ts.params.get("thread_ts") is None
