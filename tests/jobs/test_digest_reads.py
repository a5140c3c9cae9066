"""The whole Monday digest, posted by the real job to the fake Slack, read as a controller
reads it: which numbers went up or down and whether that is good, what is at risk in money
and what to chase first, in the reporting currency, in plain English."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from slack_sdk import WebClient

from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger_fx
from tests.jobs.conftest import DIGEST
from tests.jobs.ledger import MONDAY
from tests.jobs.ledger_fx import SUNDAY
from tools.deps import ToolDeps
from tools.format import format_ratio, round_ratio
from tools.metrics import MetricsInput
from tools.report import ar_report


def _posted(fake: FakeSlack) -> tuple[str, str]:
    posts = [c for c in fake.calls("chat.postMessage") if c.params["channel"] == DIGEST]
    top = [c.all_text for c in posts if not c.params.get("thread_ts")]
    thread = [c.all_text for c in posts if c.params.get("thread_ts")]
    assert len(top) == 1 and len(thread) == 1
    return top[0], thread[0]


def _expected_target_line(label: str, now: Decimal | None, before: Decimal | None,
                          target: str, unit: str, higher_is_better: bool) -> str:  # fmt: skip
    """The line as a controller should read it, derived from the two reports."""
    shown, shown_before = round_ratio(now), round_ratio(before)
    assert shown is not None and shown_before is not None
    met = shown > Decimal(target) if higher_is_better else shown < Decimal(target)
    status = ":white_check_mark: on target" if met else ":x: off target"
    op = ">" if higher_is_better else "<"
    line = f"*{label}* {format_ratio(now, unit)} (target {op} {target}{unit}) {status} · "
    change = shown - shown_before
    if change == 0:
        return line + "unchanged vs last week"
    rose = change > 0
    arrow, way = (":arrow_up_small:", "up") if rose else (":arrow_down_small:", "down")
    word = "better" if rose == higher_is_better else "worse"
    step = " pts" if unit == "%" else unit
    return line + f"{arrow} {way} {format_ratio(abs(change), step)} vs last week, {word}"


def test_the_digest_reads_right_on_a_fixed_ledger(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    ledger_fx.build(jdeps, tmp_path / "fx")
    assert run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    top, thread = _posted(fake_slack)
    now = ar_report(jdeps, MetricsInput(as_of=SUNDAY))
    before = ar_report(jdeps, MetricsInput(as_of=SUNDAY.replace(day=15)))

    # 1. the arrow is the number's direction; better/worse in words; on target only when met
    for label, field, target, unit, higher in (
        ("DSO", "dso", "45", " days", False),
        ("CEI", "cei_pct", "90", "%", True),
        ("Bad debt", "bad_debt_pct", "1", "%", False),
        ("Average days delinquent", "average_days_delinquent", "10", " days", False),
    ):
        line = _expected_target_line(
            label, getattr(now, field), getattr(before, field), target, unit, higher
        )
        assert line in top.splitlines(), (line, top)
    assert (
        "*DSO* 319.31 days (target < 45 days) :x: off target · :arrow_down_small: down "
        "9.54 days vs last week, better"
    ) in top  # DSO fell: the arrow points down, and that is better
    assert (
        "*Bad debt* 0.00% (target < 1%) :white_check_mark: on target · unchanged vs last week"
    ) in top
    for line in top.splitlines():
        assert ("on target" in line) == (":white_check_mark:" in line), line
    assert "*AR total* USD 66,700.00 (:arrow_up_small: up USD 200.00 vs 2026-11-15)" in top
    assert "AR USD 66,700.00 (up USD 200.00 vs last week)" in top  # the notification text
    assert (
        "*At risk* USD 34,145.00 in 4 high-risk accounts, most in Britannia Ltd "
        "(USD 30,000.00; details in the thread)"
    ) in top.splitlines()

    # 2. money at risk: the total first, then by expected loss, small accounts in one line
    risk = thread[thread.index("*At-risk accounts (high)*") :].splitlines()
    assert risk[0] == (
        "*At-risk accounts (high)*: USD 34,145.00 at risk in 4 accounts "
        "(expected loss: open balance × risk score as a %)"
    )
    assert [line.split(":")[0] for line in risk[1:4]] == [
        "• Britannia Ltd", "• Risky Inc", "• Slowpoke Corp"
    ]  # fmt: skip
    assert risk[1].startswith(
        "• Britannia Ltd: USD 30,000.00 at risk (balance USD 50,000.00 (GBP 40,000.00), score 60)"
    )
    assert risk[2].startswith("• Risky Inc: USD 2,750.00 at risk (balance USD 5,000.00, score 55)")
    assert risk[3].startswith("• Slowpoke Corp: USD 1,200.00 at risk (balance USD 2,000.00,")
    assert risk[4] == (
        "1 smaller account (balance under USD 500.00): USD 195.00 at risk, not listed"
    )
    assert "Tiny Co" not in thread.split("*Open disputes")[1]  # score 65, yet USD 195.00

    # 3. every amount in the reporting currency, at the rate on or before Sunday (1.25)
    assert "1. Britannia Ltd: USD 50,000.00 overdue, oldest 100 days past due (1 invoice)" in thread
    assert "over 30 days: 1 dispute, USD 1,250.00" in thread
    assert "2-7 days: 1 dispute, USD 100.00" in thread and "8-30 days: none" in thread
    upload = {u.filename: u.content for u in fake_slack.uploads()}[f"ar-digest-{SUNDAY}.csv"]
    rows = list(csv.reader(io.StringIO(upload.decode())))
    for row in (
        ["disputes_by_age_amount", "over 30 days", "1250.00", "USD"],
        ["disputes_by_age_by_currency", "over 30 days", "1000.00", "GBP"],
        ["at_risk", "total_at_risk", "34145.00", "USD"],
        ["at_risk", "accounts_under_min_balance", "1", ""],
        ["at_risk_amount", "Britannia Ltd", "30000.00", "USD"],
        ["at_risk_balance", "Britannia Ltd", "50000.00", "USD"],
        ["at_risk_balance_by_currency", "Britannia Ltd", "40000.00", "GBP"],
    ):
        assert row in rows, row

    # 4. English: plurals and signs
    assert (
        "paying slower: 16.00 days late on average in the last 90 days against 4.00 days early "
        "before"
    ) in thread
    assert "1 open dispute for USD 1,250.00 (GBP 1,000.00)" in thread
    assert "1 failed payment attempt in the last 90 days" in thread
    assert "(2 invoices)" in thread  # Dunmore AG
    everything = top + "\n" + thread
    wrong = re.findall(r"\b1 (?:invoices|disputes|accounts|attempts|promises|days)\b", everything)
    assert not wrong, wrong
    assert "(s)" not in everything and "-USD" not in everything
    assert not re.search(r"against -\d", everything)


def test_an_account_under_the_minimum_is_listed_when_the_minimum_is_lower(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    ledger_fx.build(jdeps, tmp_path / "fx")
    deps = replace(
        jdeps, settings=jdeps.settings.model_copy(update={"risk_min_balance": Decimal("250")})
    )
    assert run_job(deps, "weekly-digest", now=MONDAY, client=client)
    _, thread = _posted(fake_slack)
    assert "• Tiny Co: USD 195.00 at risk (balance USD 300.00, score 65)" in thread
    assert "smaller account" not in thread
