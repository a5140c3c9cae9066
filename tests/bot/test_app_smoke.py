"""The app answers Slack's handshake and refuses unsigned requests, over real HTTP."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.bot.conftest import Running
from tests.fakes.slack_api import FakeSlack


def test_url_verification_and_signature(running: Running, fake_slack: FakeSlack) -> None:
    challenge = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    status, body = running.slack.post(challenge, "application/json")
    assert status == 200 and "c-123" in body

    status, _ = running.slack.post(challenge, "application/json", secret="wrong-secret")
    assert status == 401
    stale = int(time.time()) - 60 * 10
    status, _ = running.slack.post(challenge, "application/json", timestamp=stale)
    assert status == 401
    assert fake_slack.calls("auth.test")


def test_healthz(running: Running) -> None:
    with urllib.request.urlopen(f"{running.base}/healthz", timeout=5) as resp:
        assert resp.status == 200
        assert json.loads(resp.read())["database"] == "reachable"
