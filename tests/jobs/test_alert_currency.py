"""Alerts in the reporting currency, and still sent when a currency has no rate yet."""

from __future__ import annotations

from pathlib import Path

from slack_sdk import WebClient

from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import ALERTS
from tests.jobs.ledger import MONDAY, day
from tests.ledger_files import customer, invoice, write_csvs
from tools.csv_import import import_directory
from tools.deps import ToolDeps


def test_an_account_in_a_currency_without_a_rate_is_alerted_in_its_own_currency(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    # EUR 8,000.00 100 days late and getting older, over its credit limit: score 60, no EUR rate
    write_csvs(
        tmp_path / "eur",
        customers=[customer("EURO", "EUR", name="Euro GmbH", credit_limit="1000.00")],
        invoices=[invoice("E1", "8000.00", day(-130), day(-100), customer_id="EURO",
                          currency="EUR")],
    )  # fmt: skip
    import_directory(jdeps.engine, tmp_path / "eur", tz=jdeps.settings.tz)
    run_job(jdeps, "at-risk-scan", now=MONDAY, client=client)
    posts = [
        c.all_text for c in fake_slack.calls("chat.postMessage") if c.params["channel"] == ALERTS
    ]
    # the risk alert; the account is also over its credit limit, alerted on its own
    risk = [p for p in posts if "entered high risk" in p]
    assert len(risk) == 1, posts
    assert any("is over its credit limit EUR 1,000.00" in p for p in posts)
    assert (
        "*Euro GmbH* (EURO) entered *high risk*: EUR 4,800.00 at risk (balance EUR 8,000.00, "
        "score 60); EUR 8,000.00 is 60+ days past due."
    ) in risk[0]
