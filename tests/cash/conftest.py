"""The OS user running the tests is a finance user in Slack, as `arbot cash apply` requires
(ARBOT_CLI_SLACK_USERS maps it to a member of ARBOT_FINANCE_USERS)."""

from __future__ import annotations

import os
import pwd

import pytest

ME = pwd.getpwuid(os.geteuid()).pw_name
FINANCE = "U0CASHFIN"


@pytest.fixture(autouse=True)
def _cli_user_is_finance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARBOT_CLI_SLACK_USERS", f"{ME}={FINANCE}")
    monkeypatch.setenv("ARBOT_FINANCE_USERS", FINANCE)
