"""Finance user groups, looked up through the real Web API client: a failed lookup refuses
the group's members this once (fail closed) and is tried again on the next request; a user
named directly never waits on it."""

from __future__ import annotations

import socket

from bot.access import Access
from bot.slack_client import make_web_client
from tests.fakes.slack_api import FakeSlack
from tools.settings import Settings

GROUP, MEMBER, DIRECT = "SFINANCE01", "UGRP000001", "UFIN000001"


def _access(slack_url: str) -> tuple[Access, Settings]:
    settings = Settings(
        database_url="sqlite://",
        slack_bot_token="xoxb-test-token",
        slack_api_url=slack_url,
        finance_users=[DIRECT, GROUP],
    )
    return Access(settings, make_web_client(settings, timeout=2)), settings


def test_a_slack_error_refuses_the_group_once_then_it_is_asked_again() -> None:
    with FakeSlack(usergroups={GROUP: [MEMBER]}) as fake:
        access, _ = _access(fake.base_url)
        fake.fail_next("usergroups.users.list", status=500, retry_after=None, error="fatal_error")
        assert access.is_finance(MEMBER) is False
        assert access.is_finance(MEMBER) is True  # not cached: asked again, and answered
        assert len(fake.calls("usergroups.users.list")) == 1


def test_no_slack_at_all_refuses_members_but_not_direct_users() -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    access, _ = _access(f"http://127.0.0.1:{port}/api/")
    assert access.is_finance(MEMBER) is False
    assert access.is_finance(DIRECT) is True
