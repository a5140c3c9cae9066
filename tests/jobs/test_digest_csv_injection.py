"""The digest's CSV attachment quotes a customer name a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from slack_sdk import WebClient

from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs.ledger import MONDAY, OWNER
from tests.jobs.test_digest import SUNDAY
from tests.ledger_files import customer, write_csvs
from tools.csv_import import import_directory
from tools.deps import ToolDeps

EVIL = '=HYPERLINK("http://x","x")'


def test_digest_csv_quotes_a_formula_name(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    renamed = [customer("RISKY", name=EVIL, owner_slack_id=OWNER)]
    write_csvs(tmp_path / "rename", customers=renamed)
    import_directory(jdeps.engine, tmp_path / "rename", tz=jdeps.settings.tz)
    assert run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    uploads = {u.filename: u.content for u in fake_slack.uploads()}
    rows = list(csv.reader(io.StringIO(uploads[f"ar-digest-{SUNDAY}.csv"].decode())))
    names = {r[1] for r in rows if r[0] in ("top_overdue", "at_risk")}
    assert "'" + EVIL in names
    assert EVIL not in names
    change = next(r for r in rows if r[1] == "ar_change_vs_last_week")
    assert not change[2].startswith("'"), "an amount, even a negative one, stays a number"
