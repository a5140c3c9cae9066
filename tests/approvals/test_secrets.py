"""Passwords in ARBOT_DATABASE_URL and ARBOT_SMTP_URL, and keys a vendor echoes, stay hidden.

Each failure is produced for real (a refused database port, an unknown role, an SMTP port
nobody listens on, a Stripe error quoting a key) and the test reads what a person would:
the CLI's stderr, the log records, the approval card.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.blocks.ids import ActionId
from tests.approvals import ledger
from tests.approvals.conftest import APPROVER, APPROVER_2, SlackEnv
from tests.approvals.test_slack_approvals import (
    click,
    last_card,
    propose_reminder,
    propose_write_off_card,
)
from tests.fakes.stripe_api import FakeStripe
from tools.mailer import Mailer
from tools.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "S3cretPw-4d9"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        pytest.param(
            f"postgresql+psycopg://arbot:{PASSWORD}@127.0.0.1:{{port}}/test",
            "Connection refused",
            id="postgresql-unreachable",
        ),
        pytest.param(
            f"postgresql+psycopg://nobody_h13a:{PASSWORD}@127.0.0.1:5432/test",
            'role "nobody_h13a" does not exist',
            id="postgresql-wrong-user",
        ),
        pytest.param(
            "sqlite:////nonexistent-dir/ledger.db", "unable to open database file", id="sqlite"
        ),
        # SQLAlchemy takes everything up to the "@" as the password, "/", "?" and "#" included.
        *[
            pytest.param(
                f"postgresql+psycopg://arbot:pa{c}{PASSWORD}@127.0.0.1:{{port}}/test",
                "Connection refused",
                id=f"password-with-{name}",
            )
            for c, name in (("/", "slash"), ("?", "question-mark"), ("#", "hash"))
        ],
        pytest.param(
            f"postgresql+psycopg://arbot@127.0.0.1:{{port}}/test?password={PASSWORD}",
            "Connection refused",
            id="password-in-query",
        ),
    ],
)
def test_database_that_cannot_be_opened_is_named_without_its_password(
    tmp_path: Path, url: str, reason: str
) -> None:
    url = url.replace("{port}", str(_closed_port()))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARBOT_", "SLACK_", "OPENAI_"))}
    env |= {"ARBOT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "-v", "report", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert run.returncode == 2
    [line] = [ln for ln in run.stderr.splitlines() if ln.startswith("arbot: ")]
    masked = re.sub(rf"pa[/?#]{PASSWORD}|{PASSWORD}", "***", url)
    assert line.startswith(f"arbot: setting ARBOT_DATABASE_URL: cannot connect to {masked}: ")
    assert reason in line
    assert PASSWORD not in run.stderr + run.stdout
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("url", "shown_as"),
    [
        (f"postgresql+psycopg://arbot:pa/{PASSWORD}@db/ar", "postgresql+psycopg://arbot:***@db/ar"),
        (f"postgresql+psycopg://arbot:pa#{PASSWORD}@db/ar", "postgresql+psycopg://arbot:***@db/ar"),
        (f"postgresql+psycopg://arbot:pa?{PASSWORD}@db/ar", "postgresql+psycopg://arbot:***@db/ar"),
        (
            f"postgresql+psycopg://arbot@db/ar?sslmode=require&password={PASSWORD}",
            "postgresql+psycopg://arbot@db/ar?sslmode=require&password=***",
        ),
    ],
    ids=["slash", "hash", "question-mark", "query"],
)
def test_settings_shown_mask_passwords_the_driver_reads(url: str, shown_as: str) -> None:
    shown = repr(Settings(database_url=url))

    assert PASSWORD not in shown
    assert f"database_url='{shown_as}'" in shown


def test_settings_shown_mask_both_urls() -> None:
    settings = Settings(
        database_url=f"postgresql+psycopg://arbot:{PASSWORD}@db.example.com/ar",
        smtp_url=f"smtp://ar%40initrode:{PASSWORD}@mail.example.com:587",
    )

    shown = repr(settings) + str(settings)

    assert PASSWORD not in shown
    assert "postgresql+psycopg://arbot:***@db.example.com/ar" in shown
    assert "smtp://ar%40initrode:***@mail.example.com:587" in shown
    assert settings.database_url.endswith(f"{PASSWORD}@db.example.com/ar"), "still usable"


def test_unreachable_smtp_is_named_on_the_card_and_in_logs_without_its_password(
    slack_env: SlackEnv, caplog: pytest.LogCaptureFixture
) -> None:
    a, ts = propose_reminder(slack_env)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    last_card(slack_env, 1)
    port = _closed_port()
    mailer = Mailer(f"smtp://ar%40initrode:{PASSWORD}@127.0.0.1:{port}", timeout=5)

    with caplog.at_level(logging.DEBUG):
        slack_env.outbox(mailer=mailer).run_once()

    card = last_card(slack_env, 2)
    assert f"cannot reach the SMTP server 127.0.0.1:{port}" in card
    assert PASSWORD not in card and "initrode:" not in card
    assert PASSWORD not in caplog.text


def test_stripe_error_quoting_a_key_is_redacted_on_the_card(
    slack_env: SlackEnv, fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    cus = fake_stripe.add_customer(name="Globex")
    inv = fake_stripe.add_invoice(cus["id"], 900_000)
    ledger.make_stripe_invoice(slack_env.deps, "INV-G1", inv["id"])
    a, ts = propose_write_off_card(slack_env)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER_2)
    last_card(slack_env, 2)
    key = "sk_test_abc123DEF456ghi789"
    fake_stripe.fail(
        400,
        path=f"/v1/invoices/{inv['id']}/mark_uncollectible",
        message=f"This invoice cannot be marked uncollectible with key {key}.",
    )

    with caplog.at_level(logging.DEBUG):
        slack_env.outbox().run_once()

    card = last_card(slack_env, 3)
    assert "cannot be marked uncollectible with key sk_test_***." in card
    assert "abc123DEF456" not in card
    assert "abc123DEF456" not in caplog.text
