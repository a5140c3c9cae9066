"""Start-up refuses a malformed setting with a message that names it, and never shows secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import arbot
from tools.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "ARBOT_TIMEZONE",
            "Mars/Olympus",
            "setting ARBOT_TIMEZONE: Value error, unknown time zone",
        ),
        (
            "ARBOT_REPORTING_CURRENCY",
            "XYZ",
            "setting ARBOT_REPORTING_CURRENCY: Value error, unknown currency",
        ),
        (
            "ARBOT_PERIOD_DAYS",
            "ninety",
            "setting ARBOT_PERIOD_DAYS: Input should be a valid integer",
        ),
        (
            "ARBOT_RESERVE_RATES_PCT",
            "1,5,10",
            "setting ARBOT_RESERVE_RATES_PCT: Value error, give five",
        ),
        ("ARBOT_DATABASE_URL", "mysql://x", "setting ARBOT_DATABASE_URL: Value error, use sqlite"),
        (
            "ARBOT_CLI_SLACK_USERS",
            "alice=U0123ABCD,bob",
            "setting ARBOT_CLI_SLACK_USERS: Value error, 'bob': use OSUSER=SLACK_USER_ID",
        ),
        (
            "ARBOT_CLI_SLACK_USERS",
            "alice=U0123ABCD,bob=C0123ABCD",
            "setting ARBOT_CLI_SLACK_USERS: Value error, 'bob=C0123ABCD': 'C0123ABCD' is a "
            "channel or conversation id",
        ),
        (
            "ARBOT_CLI_SLACK_USERS",
            "alice=u0123abcd",
            "setting ARBOT_CLI_SLACK_USERS: Value error, 'alice=u0123abcd': 'u0123abcd' is not "
            "a Slack user id",
        ),
    ],
)
def test_malformed_setting_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)

    run = arbot(capsys, "report", "--json")

    assert run.code == 2
    assert message in run.err
    assert run.out == ""


def test_dotenv_file_is_read_and_secrets_are_hidden(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "ARBOT_FINANCE_USERS=U1, U2\nSLACK_BOT_TOKEN=xoxb-secret-value\nSLACK_APP_TOKEN=\n"
    )

    settings = load_settings()

    assert settings.finance_users == ["U1", "U2"]
    assert settings.slack_app_token is None  # empty means unset, not ""
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-secret-value"
    assert "xoxb-secret-value" not in repr(settings)


def test_several_bad_settings_are_all_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARBOT_TIMEZONE", "Nowhere")
    monkeypatch.setenv("ARBOT_DUAL_APPROVAL_MINOR", "-1")

    with pytest.raises(SettingsError) as err:
        load_settings()

    assert "ARBOT_TIMEZONE" in str(err.value)
    assert "ARBOT_DUAL_APPROVAL_MINOR" in str(err.value)
