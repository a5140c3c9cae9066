"""The weekly reconciliation job posts the differences between QuickBooks and a CSV export
(every one in the CSV in the thread), or "in balance", once per week."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_client import make_web_client
from jobs.runner import run_job
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import DIGEST, job_settings
from tests.ledger_files import customer, invoice, write_csvs
from tests.quickbooks.conftest import sync
from tools.csv_import import import_directory
from tools.deps import ToolDeps, connect

MONDAY = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)  # the week closing Sunday 2026-02-01


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


@pytest.fixture
def jdeps(qdeps: ToolDeps, fake_slack: FakeSlack) -> Iterator[ToolDeps]:
    qbo = {k: v for k, v in qdeps.settings.model_dump().items() if k.startswith("quickbooks_")}
    settings = job_settings(
        qdeps.settings.database_url, fake_slack.base_url, token_key=qdeps.settings.token_key, **qbo
    )
    d = connect(settings)
    yield d
    d.engine.dispose()


def ledger(deps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path, csv_total: str) -> None:
    acme = fake.add_customer("Acme <!channel>")
    fake.add_invoice(acme, "100.00", txn_date=date(2026, 1, 5), number="=7")
    sync(deps)
    files = write_csvs(
        tmp_path / "export",
        customers=[customer("A", name="Acme <!channel>")],  # the same customer
        invoices=[
            invoice("i7", csv_total, "2026-01-05", "2026-02-04", customer_id="A", number="=7")
        ],
    )
    import_directory(deps.engine, files, tz=deps.settings.tz)


def test_differences_are_posted_with_every_row_as_csv_once(
    jdeps: ToolDeps,
    fake: FakeQuickBooks,
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> None:
    ledger(jdeps, fake, tmp_path, csv_total="120.00")
    client: WebClient = make_web_client(jdeps.settings)
    assert run_job(jdeps, "weekly-reconcile", now=MONDAY, client=client)
    assert run_job(jdeps, "weekly-reconcile", now=MONDAY, client=client) is None
    posts = fake_slack.calls("chat.postMessage")
    assert len(posts) == 1 and posts[0].params["channel"] == DIGEST
    text = posts[0].all_text
    assert "Reconciliation as of 2026-02-01" in text
    assert "*AR in csv* USD 120.00" in text and "*AR in quickbooks* USD 100.00" in text
    assert "1 amount differs" in text
    assert "*=7* amount differs: csv: open, USD 120.00 open of USD 120.00" in text
    assert "<!channel>" not in text
    (upload,) = fake_slack.uploads()
    rows = list(csv.reader(io.StringIO(upload.content.decode())))
    assert rows[1][:3] == ["amount_differs", "'=7", "csv"]  # formula-safe
    assert rows[2][2:5] == ["quickbooks", rows[2][3], "100.00"]


def test_in_balance_is_said_in_words(
    jdeps: ToolDeps, fake: FakeQuickBooks, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    ledger(jdeps, fake, tmp_path, csv_total="100.00")
    assert run_job(jdeps, "weekly-reconcile", now=MONDAY, client=make_web_client(jdeps.settings))
    (post,) = fake_slack.calls("chat.postMessage")
    assert "In balance: every invoice agrees." in post.all_text
    assert post.params["text"].startswith("csv and quickbooks are in balance as of 2026-02-01")
    assert fake_slack.uploads() == []


def test_a_csv_slack_failed_is_posted_next_run_under_the_same_message(
    jdeps: ToolDeps, fake: FakeQuickBooks, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    ledger(jdeps, fake, tmp_path, csv_total="120.00")
    client: WebClient = make_web_client(jdeps.settings)
    fake_slack.fail_next(
        "files.completeUploadExternal", status=200, retry_after=None, error="internal_error"
    )
    with pytest.raises(SlackApiError):
        run_job(jdeps, "weekly-reconcile", now=MONDAY, client=client)
    assert fake_slack.uploads() == []

    ts = run_job(jdeps, "weekly-reconcile", now=MONDAY + timedelta(hours=1), client=client)
    (post,) = fake_slack.calls("chat.postMessage")  # one message, not a second after the failure
    assert ts and "1 amount differs" in post.all_text
    (upload,) = fake_slack.uploads()
    assert upload.filename == "reconciliation-2026-02-01.csv"
    assert upload.completed["thread_ts"] == ts
    assert (
        run_job(jdeps, "weekly-reconcile", now=MONDAY + timedelta(hours=2), client=client) is None
    )
    assert len(fake_slack.uploads()) == 1
