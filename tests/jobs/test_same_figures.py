"""One figure reads the same wherever it is shown: the report, an answer, the digest, an alert,
a CSV. A controller compares them; the first mismatch costs the bot their trust."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

from slack_sdk import WebClient

from bot.answer import answer
from bot.commands.report_cmd import report_table
from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger, ledger_fx
from tests.jobs.conftest import ALERTS, DIGEST
from tests.jobs.ledger import MONDAY
from tests.ledger_files import customer, invoice, write_csvs
from tools.aging import AgingInput, aging
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.digest import DigestInput, weekly_digest
from tools.format import LABELS, format_days, format_figure
from tools.metrics import MetricsInput
from tools.money import format_major, format_money
from tools.report import ar_report

SUNDAY = date(2026, 11, 22)


def _add_invoices_at_the_90_day_edge(deps: ToolDeps, directory: Path) -> None:
    """One invoice exactly 90 days past due on Sunday (61-90), one 91 days (90+)."""
    write_csvs(
        directory,
        customers=[customer("EDGE", name="Edge Partners")],
        invoices=[
            invoice("E90", "111.11", str(SUNDAY - timedelta(days=120)),
                    str(SUNDAY - timedelta(days=90)), customer_id="EDGE"),
            invoice("E91", "222.22", str(SUNDAY - timedelta(days=121)),
                    str(SUNDAY - timedelta(days=91)), customer_id="EDGE"),
        ],
    )  # fmt: skip
    import_directory(deps.engine, directory, tz=deps.settings.tz)


def _digest_posts(fake: FakeSlack) -> str:
    return "\n".join(
        c.all_text for c in fake.calls("chat.postMessage") if c.params["channel"] == DIGEST
    )


def test_90_plus_is_the_report_bucket_in_answers_digest_and_csv(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    _add_invoices_at_the_90_day_edge(jdeps, tmp_path / "edge")
    report = ar_report(jdeps, MetricsInput(as_of=SUNDAY))
    over_90 = report.aging_minor["90+"]
    # R1 (5,000.00, 110 days) and E91 (222.22, 91 days); E90 is 90 days late, so 61-90
    assert over_90 == 500_000 + 22_222
    shown = format_money(over_90, "USD")

    for question in (
        "who is 90+ days late as of 2026-11-22?",
        "customers more than 90 days past due as of 2026-11-22",
        "who is over 90 days overdue as of 2026-11-22",
    ):
        reply = answer(jdeps, question)
        assert reply.tool == "top_overdue", question
        assert f"{shown} 90+ days past due" in reply.text, (question, reply.text)
        assert "Edge Partners" in reply.text

    run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    digest_line = next(line for line in _digest_posts(fake_slack).splitlines() if "90+" in line)
    assert shown in digest_line
    uploads = {u.filename: u.content for u in fake_slack.uploads()}
    rows = list(csv.reader(io.StringIO(uploads[f"ar-digest-{SUNDAY}.csv"].decode())))
    assert ["aging", "90+", format_major(over_90, "USD"), "USD"] in rows

    edge = aging(jdeps, AgingInput(as_of=SUNDAY, customer="Edge Partners"))
    assert (edge.buckets_minor["61-90"], edge.buckets_minor["90+"]) == (11_111, 22_222)


def test_the_at_risk_alert_quotes_the_customers_aging(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    tuesday = MONDAY + timedelta(days=1)
    ledger.failed_payment(jdeps, "R1", tuesday - timedelta(hours=3), "fail-1")
    run_job(jdeps, "at-risk-scan", now=tuesday, client=client)
    alert = next(
        c.all_text for c in fake_slack.calls("chat.postMessage") if c.params["channel"] == ALERTS
    )
    risky = aging(jdeps, AgingInput(as_of=tuesday.date(), customer="Risky Inc"))
    late = risky.buckets_minor["61-90"] + risky.buckets_minor["90+"]
    balance = format_money(risky.total_minor, "USD")
    assert f"more than 60 days past due: {format_money(late, 'USD')} of {balance}" in alert
    reply = answer(jdeps, "what's Risky Inc's balance?")
    assert balance in reply.text


def test_dso_and_targets_read_the_same_in_answer_digest_and_report(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    report = ar_report(jdeps, MetricsInput(as_of=SUNDAY))
    dso = format_days(report.dso)
    assert report.dso is not None and len(dso.split()[0].split(".")[1]) == 2  # two decimals

    reply = answer(jdeps, "what's our DSO as of 2026-11-22?")
    assert f"DSO: {dso}" in reply.text
    run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    assert f"DSO {dso}" in _digest_posts(fake_slack)
    assert dso in report_table(report, jdeps.settings)

    # every target metric: one label and one value in the answer, the digest and the table
    everything = answer(jdeps, "AR report as of 2026-11-22").text
    digest_text = _digest_posts(fake_slack)
    table = report_table(report, jdeps.settings)
    for field in ("dso", "average_days_delinquent", "cei_pct", "bad_debt_pct"):
        label, value = LABELS[field], format_figure(field, getattr(report, field))
        assert f"{label}: {value}" in everything, field
        assert f"*{label}* {value}" in digest_text, field
        assert re.search(rf"^  {re.escape(label)} +{re.escape(value)}", table, re.M), field

    # the report's ok/off marks are the digest's target checks
    digest = weekly_digest(jdeps, DigestInput(as_of=SUNDAY))
    table = report_table(report, jdeps.settings).splitlines()
    for label, check in (("DSO", "DSO"), ("CEI", "CEI"), ("Bad debt", "Bad debt")):
        met = next(t.met for t in digest.targets if t.name == check)
        line = next(row for row in table if row.strip().startswith(label + " "))
        assert ("ok  target" in line) == bool(met) and ("off target" in line) == (met is False)


def test_converted_amounts_read_the_same_in_digest_alerts_answer_and_csv(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    """A GBP account at the rate on or before the as-of date (1.25; the 1.30 of 2026-11-30 is
    later): GBP 40,000.00 is USD 50,000.00, at score 60 USD 30,000.00 at risk, everywhere."""
    ledger_fx.build(jdeps, tmp_path / "fx")
    run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    run_job(jdeps, "at-risk-scan", now=MONDAY, client=client)  # Monday: the same rate
    run_job(jdeps, "dispute-watch", now=MONDAY, client=client)
    digest = _digest_posts(fake_slack)
    alerts = [
        c.all_text for c in fake_slack.calls("chat.postMessage") if c.params["channel"] == ALERTS
    ]
    at_risk = "USD 30,000.00 at risk (balance USD 50,000.00 (GBP 40,000.00), score 60)"
    assert f"Britannia Ltd: {at_risk}" in digest
    risk_alert = next(a for a in alerts if "Britannia Ltd entered high risk" in a)
    assert f"*Britannia Ltd* (BRIT) entered *high risk*: {at_risk}" in risk_alert
    assert "USD 50,000.00 (GBP 40,000.00) is 60+ days past due" in risk_alert
    assert "1. Britannia Ltd: USD 50,000.00 overdue" in digest

    dispute = "USD 1,250.00 (GBP 1,000.00)"
    assert any(f"*Britannia Ltd* on INV-B1: {dispute} billing" in a for a in alerts), alerts
    assert "over 30 days: 1 dispute, USD 1,250.00" in digest

    uploads = {u.filename: u.content for u in fake_slack.uploads()}
    rows = list(csv.reader(io.StringIO(uploads[f"ar-digest-{SUNDAY}.csv"].decode())))
    assert ["at_risk_balance", "Britannia Ltd", "50000.00", "USD"] in rows
    assert ["at_risk_amount", "Britannia Ltd", "30000.00", "USD"] in rows
    assert ["top_overdue", "Britannia Ltd", "50000.00", "USD"] in rows
    assert ["disputes_by_age_amount", "over 30 days", "1250.00", "USD"] in rows

    reply = answer(jdeps, "what's Britannia Ltd's balance as of 2026-11-22?")
    assert "USD 50,000.00" in reply.text and "GBP 40,000.00" in reply.text, reply.text

    # the reasons and the open-disputes answer write amounts as the alerts do
    converted = "USD 50,000.00 (GBP 40,000.00)"
    share = f"100.00% of the balance is more than 60 days past due: {converted} of {converted}"
    assert share in digest and share in risk_alert
    assert f"1 open dispute for {dispute}" in digest
    disputes = answer(jdeps, "open disputes as of 2026-11-22")
    assert f"Britannia Ltd on INV-B1: {dispute} billing, open 40 days" in disputes.text, (
        disputes.text
    )


def test_a_foreign_balance_in_several_buckets_reads_the_same_to_the_cent(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    ledger_fx.build(jdeps, tmp_path / "fx")
    ledger_fx.add_mixed(jdeps, tmp_path / "more")
    reply = answer(jdeps, "what's Multibucket plc's balance as of 2026-11-22?")
    assert "USD 2,500.02" in reply.text, reply.text
    run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    digest = _digest_posts(fake_slack)
    assert "Multibucket plc: USD 2,500.02 overdue" in digest
    assert (
        "Multibucket plc: USD 1,500.01 at risk (balance USD 2,500.02 (GBP 2,000.02), score 60)"
        in digest
    )
    uploads = {u.filename: u.content for u in fake_slack.uploads()}
    rows = list(csv.reader(io.StringIO(uploads[f"ar-digest-{SUNDAY}.csv"].decode())))
    assert ["top_overdue", "Multibucket plc", "2500.02", "USD"] in rows
    assert ["at_risk_balance", "Multibucket plc", "2500.02", "USD"] in rows
