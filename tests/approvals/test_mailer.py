"""ARBOT_SMTP_URL parsing: STARTTLS when asked or on port 587, clear error otherwise."""

from __future__ import annotations

import pytest

from tools.mailer import build_message, parse_smtp_url
from tools.settings import SettingsError


def test_starttls_rules() -> None:
    assert parse_smtp_url("smtp://mail.example.com:25").starttls is False
    assert parse_smtp_url("smtp://mail.example.com:2525?starttls=1").starttls is True
    assert parse_smtp_url("smtp://mail.example.com:587").starttls is True
    assert parse_smtp_url("smtp://mail.example.com:587?starttls=0").starttls is False
    t = parse_smtp_url("smtps://user%40corp:p%3Ass@mail.example.com")
    assert (t.implicit_tls, t.port, t.username, t.password) == (True, 465, "user@corp", "p:ss")


def test_bad_url_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="ARBOT_SMTP_URL"):
        parse_smtp_url("mail.example.com:25")


def test_message_id_is_stable_per_action() -> None:
    one = build_message(
        action_id=7, sender="ar@co.example", recipient="a@b.c", subject="s", body="b"
    )
    two = build_message(
        action_id=7, sender="ar@co.example", recipient="a@b.c", subject="s", body="b"
    )
    assert one["Message-ID"] == two["Message-ID"] == "<arbot-action-7@co.example>"
