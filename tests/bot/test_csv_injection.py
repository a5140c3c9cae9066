"""A customer's name can't become a formula in the controller's spreadsheet.

"Show invoices" uploads the rows behind a figure; a text cell that a spreadsheet would run
(`=`, `+`, `-`, `@`, tab, CR first) is written with a leading `'`, and amounts stay numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from bot.blocks.ids import ActionId
from tests.bot.conftest import DM, FINANCE, Running
from tests.bot.test_questions_e2e import ask_dm
from tests.fakes.signing import block_action
from tests.fakes.slack_api import FakeSlack
from tests.ledger_files import customer, invoice, write_csvs
from tools.csv_export import csv_bytes
from tools.csv_import import import_directory
from tools.deps import ToolDeps

EVIL = '=HYPERLINK("http://x","x")'


def test_show_invoices_quotes_a_formula_name(
    bot: Running, fake_slack: FakeSlack, ledger: ToolDeps, tmp_path: Path, today: date
) -> None:
    day = lambda n: (today + timedelta(days=n)).isoformat()  # noqa: E731
    write_csvs(
        tmp_path / "evil",
        customers=[
            customer("EVIL", name=EVIL),
            customer("PLUS", name="+cmd|' /C calc'!A0"),
            customer("AT", name="@SUM(1+1)"),
        ],
        invoices=[
            invoice("E1", "10.00", day(-40), day(-10), customer_id="EVIL"),
            invoice("E2", "20.00", day(-40), day(-10), customer_id="PLUS"),
            invoice("E3", "30.00", day(-40), day(-10), customer_id="AT"),
        ],
    )
    import_directory(ledger.engine, tmp_path / "evil", tz=ledger.settings.tz)
    post = ask_dm(bot, fake_slack, "AR")
    button = next(
        e for b in post.blocks if b["type"] == "actions" for e in b["elements"]
        if e["action_id"] == ActionId.SHOW_ROWS
    )  # fmt: skip
    status, _ = bot.slack.interaction(
        block_action(button["action_id"], value=button["value"], user=FINANCE, channel=DM,
                     message_ts="1700000000.000100", thread_ts=post.params["thread_ts"])
    )  # fmt: skip
    assert status == 200
    fake_slack.wait_for("files.completeUploadExternal")
    [upload] = fake_slack.uploads()
    rows = {r["invoice_number"]: r for r in csv.DictReader(io.StringIO(upload.content.decode()))}
    assert rows["INV-E1"]["customer"] == "'" + EVIL
    assert rows["INV-E2"]["customer"] == "'+cmd|' /C calc'!A0"
    assert rows["INV-E3"]["customer"] == "'@SUM(1+1)"
    assert rows["INV-E1"]["open_amount"] == "10.00"
    assert rows["INV-A1"]["customer"] == "Acme Inc", "ordinary names are written as they are"
    assert all(not r["customer"].startswith(("=", "+", "-", "@")) for r in rows.values())


def test_numbers_stay_numbers_and_text_is_quoted() -> None:
    data = csv_bytes([["-12.50", -3, "-x", "\tx", "\rx", "a-b", "+1", "-1+2"]]).decode()
    assert next(csv.reader(io.StringIO(data))) == [
        "-12.50", "-3", "'-x", "'\tx", "'\rx", "a-b", "+1", "'-1+2",
    ]  # fmt: skip
