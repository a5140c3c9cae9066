"""Money at risk as a controller checks it: everything an account owes, in every currency,
converted at the report's rate, ranked the same way in the digest, the alerts and the chat
answer, and a foreign balance that reads to the cent the same everywhere."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.blocks.digest import detail_blocks
from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger_fx
from tests.jobs.conftest import ALERTS, DIGEST
from tests.jobs.ledger import MONDAY
from tests.jobs.ledger_fx import SUNDAY
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.digest import DigestInput, weekly_digest
from tools.metrics import MetricsError
from tools.risk import AtRiskInput
from tools.risk_money import at_risk, money_at_risk


def _d(offset: int) -> str:
    return (SUNDAY + timedelta(days=offset)).isoformat()


def _row(rows: list[list[str]], section: str, item: str) -> list[str]:
    return next(r for r in rows if r[:2] == [section, item])


def _posts(fake: FakeSlack, channel: str) -> str:
    return "\n".join(
        c.all_text for c in fake.calls("chat.postMessage") if c.params["channel"] == channel
    )


def test_money_at_risk_counts_every_currency_the_account_owes(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    ledger_fx.build(jdeps, tmp_path / "fx")
    ledger_fx.add_mixed(jdeps, tmp_path / "more")
    run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    run_job(jdeps, "at-risk-scan", now=MONDAY, client=client)
    digest = _posts(fake_slack, DIGEST)
    mixed = "USD 33,150.00 at risk (balance USD 51,000.00 (GBP 40,000.00 + USD 1,000.00), score 65)"
    assert "most in Mixed Corp (USD 33,150.00; details in the thread)" in digest
    assert f"• Mixed Corp: {mixed}" in digest
    alerts = _posts(fake_slack, ALERTS)
    assert f"*Mixed Corp* (MIX) entered *high risk*: {mixed}" in alerts
    assert "USD 51,000.00 (GBP 40,000.00 + USD 1,000.00) is 60+ days past due" in alerts

    uploads = {u.filename: u.content for u in fake_slack.uploads()}
    rows = list(csv.reader(io.StringIO(uploads[f"ar-digest-{SUNDAY}.csv"].decode())))
    assert ["at_risk_balance", "Mixed Corp", "51000.00", "USD"] in rows
    assert ["at_risk_balance_by_currency", "Mixed Corp", "40000.00", "GBP"] in rows
    assert ["at_risk_balance_by_currency", "Mixed Corp", "1000.00", "USD"] in rows
    assert ["at_risk_amount", "Mixed Corp", "33150.00", "USD"] in rows
    assert ["top_overdue", "Mixed Corp", "51000.00", "USD"] in rows
    assert ["top_overdue_by_currency", "Mixed Corp", "40000.00", "GBP"] in rows
    assert ["top_overdue_by_currency", "Mixed Corp", "1000.00", "USD"] in rows
    # AR and the 90+ bucket in GBP: Britannia 40,000.00, Mixed 40,000.00, Multibucket 1,000.01
    assert ["aging_by_currency", "90+", "81000.01", "GBP"] in rows
    assert ["aging_by_currency", "1-30", "1000.01", "GBP"] in rows
    assert ["ar_by_currency", "ar_total", "82000.02", "GBP"] in rows
    usd_ar = next(r for r in rows if r[:2] == ["ar_by_currency", "ar_total"] and r[3] == "USD")
    # converted at 1.25 and added, the currencies make the AR total (to the cent per bucket)
    gbp_in_usd = Decimal("82000.02") * Decimal("1.25")
    ar_total = Decimal(_row(rows, "ar", "ar_total")[2])
    assert abs(Decimal(usd_ar[2]) + gbp_in_usd - ar_total) <= Decimal("0.01")


def test_the_chat_answer_ranks_at_risk_accounts_as_the_digest_does(
    jdeps: ToolDeps, tmp_path: Path
) -> None:
    ledger_fx.build(jdeps, tmp_path / "fx")
    ledger_fx.add_mixed(jdeps, tmp_path / "more")
    listed = at_risk(jdeps, AtRiskInput(as_of=SUNDAY, min_level="high", limit=50))
    names = [a.name for a in listed.accounts]
    # Tiny Co scores 65 like Mixed Corp but has USD 195.00 at risk: it comes last
    assert names == [
        "Mixed Corp",
        "Britannia Ltd",
        "Risky Inc",
        "Multibucket plc",
        "Slowpoke Corp",
        "Tiny Co",
    ]
    digest = money_at_risk(jdeps, SUNDAY)
    assert [a.name for a in digest.accounts] == names[:-1]  # Tiny Co: under USD 500.00
    assert [a.at_risk_minor for a in listed.accounts][:2] == [3_315_000, 3_000_000]


def test_accounts_past_the_list_are_counted_in_one_line(jdeps: ToolDeps, tmp_path: Path) -> None:
    ledger_fx.build(jdeps, tmp_path / "fx")
    ledger_fx.add_mixed(jdeps, tmp_path / "more")
    digest = weekly_digest(jdeps, DigestInput(as_of=SUNDAY))
    cut = digest.model_copy(update={"at_risk": money_at_risk(jdeps, SUNDAY, limit=2)})
    text = "\n".join(str(b.to_dict()) for b in detail_blocks(cut))
    assert "• Mixed Corp:" in text and "• Britannia Ltd:" in text
    assert "• Risky Inc:" not in text
    assert "_… and 3 more accounts with USD 500.00 or more_" in text
    assert "1 smaller account (balance under USD 500.00): USD 195.00 at risk" in text


def test_most_at_risk_names_the_top_account_of_all_even_when_not_listed(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    """With a USD 60,000.00 minimum Mixed Corp (USD 51,000.00 balance) is not listed, yet it
    holds the most at risk: the channel line names it, not the first listed account."""
    ledger_fx.build(jdeps, tmp_path / "fx")
    ledger_fx.add_mixed(jdeps, tmp_path / "more")
    deps = replace(
        jdeps, settings=jdeps.settings.model_copy(update={"risk_min_balance": Decimal(60_000)})
    )
    run_job(deps, "weekly-digest", now=MONDAY, client=client)
    digest = _posts(fake_slack, DIGEST)
    assert (
        "most in Mixed Corp (USD 33,150.00; balance under USD 60,000.00, not listed)" in digest
    ), digest
    assert "• Mixed Corp:" not in digest


def test_an_alert_without_a_rate_comes_after_every_converted_one(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    """No JPY rate: Yen KK's JPY 650,000 at risk is in yen, not comparable with the USD
    amounts, so it is alerted after them (in its own currency) rather than first; the GBP it
    also owes is shown beside, not added."""
    ledger_fx.build(jdeps, tmp_path / "fx")
    write_csvs(
        tmp_path / "yen",
        customers=[customer("YEN", "JPY", name="Yen KK")],
        invoices=[
            invoice("Y1", "1000000", _d(-130), _d(-100), customer_id="YEN", currency="JPY"),
            invoice("Y2", "100.00", _d(-130), _d(-100), customer_id="YEN", currency="GBP"),
        ],
        payments=[
            payment("PY1", "Y1", "1000000", _d(-20), customer_id="YEN", currency="JPY",
                    status="failed"),
            payment("PY2", "Y1", "1000000", _d(-10), customer_id="YEN", currency="JPY",
                    status="failed"),
        ],
    )  # fmt: skip
    import_directory(jdeps.engine, tmp_path / "yen", tz=jdeps.settings.tz)
    run_job(jdeps, "at-risk-scan", now=MONDAY, client=client)
    alerts = [
        c.all_text for c in fake_slack.calls("chat.postMessage") if c.params["channel"] == ALERTS
    ]
    entered = [a.split(" entered high risk")[0] for a in alerts if "entered high risk" in a]
    assert entered[-1] == "Yen KK" and len(entered) > 1, entered
    # each currency on its own, no total that adds yen to pounds
    yen = "JPY 650,000 at risk (balance GBP 100.00 + JPY 1,000,000, score 65)"
    assert f"Yen KK entered high risk: {yen}" in alerts[-1], alerts[-1]
    assert "GBP 100.00 + JPY 1,000,000 is 60+ days past due" in alerts[-1]


def test_the_minimum_balance_is_converted_at_the_reports_rate(
    jdeps: ToolDeps, tmp_path: Path
) -> None:
    """GBP 400.00 at Sunday's 1.25 is USD 500.00: Tiny Co (USD 300.00) is counted, not
    listed, and the line says the minimum in the reporting currency."""
    ledger_fx.build(jdeps, tmp_path / "fx")
    gbp = jdeps.settings.model_copy(
        update={"risk_min_balance": Decimal(400), "risk_min_balance_currency": "GBP"}
    )
    digest = weekly_digest(replace(jdeps, settings=gbp), DigestInput(as_of=SUNDAY))
    text = "\n".join(str(b.to_dict()) for b in detail_blocks(digest))
    assert "1 smaller account (balance under USD 500.00): USD 195.00 at risk" in text
    assert digest.at_risk.min_balance_minor == 50_000
    assert "• Tiny Co:" not in text


def test_a_minimum_balance_in_a_currency_without_a_rate_says_what_to_set(
    jdeps: ToolDeps, tmp_path: Path
) -> None:
    ledger_fx.build(jdeps, tmp_path / "fx")
    chf = jdeps.settings.model_copy(update={"risk_min_balance_currency": "CHF"})
    with pytest.raises(MetricsError) as err:
        weekly_digest(replace(jdeps, settings=chf), DigestInput(as_of=SUNDAY))
    assert str(err.value) == (
        "ARBOT_RISK_MIN_BALANCE is in CHF and there is no CHF rate on or before 2026-11-22: "
        "import one in fx_rates.csv, or set ARBOT_RISK_MIN_BALANCE_CURRENCY=USD (and the "
        "amount in USD)"
    )
