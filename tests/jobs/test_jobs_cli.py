"""`arbot jobs list` and `arbot jobs run --help` name the same jobs, with the configured crons."""

from __future__ import annotations

import pytest

from tests.cli_helpers import arbot

EXPECTED = (
    "weekly-digest", "at-risk-scan", "dispute-watch", "dunning", "stripe-sync",
    "quickbooks-sync", "xero-sync", "weekly-reconcile", "outbox", "retention",
)  # fmt: skip


def arbot_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """What argparse says when it refuses the command line."""
    with pytest.raises(SystemExit) as done:
        arbot(capsys, *argv)
    assert done.value.code == 2
    return capsys.readouterr().err


def test_jobs_list_prints_every_job_with_its_cron_from_the_settings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBOT_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("ARBOT_DUNNING_CRON", "30 6 * * tue")
    monkeypatch.setenv("ARBOT_STRIPE_SYNC_CRON", "off")
    run = arbot(capsys, "jobs", "list")
    assert run.code == 0, run.err
    head, *lines = run.out.splitlines()
    assert "Europe/Berlin" in head
    rows = {line.split()[0]: line for line in lines}
    assert tuple(rows) == EXPECTED
    assert "0 8 * * mon" in rows["weekly-digest"] and "ARBOT_DIGEST_CRON" in rows["weekly-digest"]
    assert "30 6 * * tue" in rows["dunning"] and "ARBOT_DUNNING_CRON" in rows["dunning"]
    assert " off " in rows["stripe-sync"]
    assert "*/15 * * * *" in rows["dispute-watch"]
    assert "digest" in rows["weekly-digest"].split("ARBOT_DIGEST_CRON")[1]  # what it does
    assert "30 3 * * *" in rows["retention"] and "ARBOT_RETENTION_DAYS" in rows["retention"]


def test_jobs_run_help_lists_the_same_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        arbot(capsys, "jobs", "run", "--help")
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    listed = help_text.split("jobs:\n", 1)[1].split()
    assert all(name in listed for name in EXPECTED)
    refused = arbot_error(capsys, "jobs", "run", "weekly-report")
    assert all(name in refused for name in EXPECTED)
