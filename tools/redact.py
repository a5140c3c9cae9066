"""Keeping secrets out of what people read: logs, error messages, Slack cards.

Two kinds of secret travel in text. URLs carry passwords (ARBOT_DATABASE_URL, ARBOT_SMTP_URL):
`mask_url` shows a URL with its password replaced. Vendor error messages may echo a key
(Stripe's "Invalid API Key provided: sk_live_..."): `redact` removes keys and URL passwords
from any text before it is logged, stored as an action's error, or shown on a card.
"""

from __future__ import annotations

import logging
import re

MASK = "***"

# Stripe secret and restricted keys, webhook secrets, Slack and OpenAI tokens.
_KEY = re.compile(
    r"\b(?P<kind>(?:sk|rk)_(?:live|test)_|whsec_|xox[abposre]-|xapp-|sk-(?:proj-)?)"
    r"[A-Za-z0-9_\-]+"
)
# scheme://user:PASSWORD@host in any text. The password runs to the LAST "@" before the next
# whitespace: drivers (SQLAlchemy, urllib) accept "/", "?", "#" and even "@" in it, so stopping
# at the first of them would show the rest. Masking too much is harmless; too little leaks.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^\s:/]*:)\S*(?=@)", re.I)
# ?password=... (or &pass=...) query parameters, which SQLAlchemy hands to the driver.
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&;](?:password|passwd|pass)=)[^&;#\s]*", re.I)


def mask_passwords(text: str) -> str:
    """`text` with every URL password (user:password@ or a password query key) replaced by ***.

    The one rule for URL passwords: `mask_url` and `redact` both apply it."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _QUERY_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def mask_url(url: str) -> str:
    """The URL with its password (in user:password@ or ?password=) replaced by ***."""
    return mask_passwords(url)


# OAuth 2 tokens of the accounting connectors, which have no recognisable prefix: as a bearer
# header, and as the token fields of a token request or answer (form or JSON).
_OAUTH = re.compile(
    r"(?P<kind>\bBearer\s+|\b(?:access_token|refresh_token|id_token)['\"]?\s*[=:]\s*['\"]?)"
    r"[A-Za-z0-9._~+/\-]+=*",
    re.I,
)


def redact(text: str) -> str:
    """`text` without API keys, tokens and URL passwords (each replaced by its prefix + ***)."""
    text = _OAUTH.sub(lambda m: m.group("kind") + MASK, text)
    return mask_passwords(_KEY.sub(lambda m: m.group("kind") + MASK, text))


class RedactingFilter(logging.Filter):
    """Redacts each record of a logger that quotes vendor replies (the Stripe library logs
    every error message it receives), before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        clean = redact(record.getMessage())
        record.msg, record.args = clean, None
        return True


def redact_logger(name: str) -> None:
    """Redact what logger `name` and its children log. A logger's filters see only the
    records that start at that logger; a child's records (urllib3.connectionpool,
    xero_python.rest) pass the parent's handlers but never its filters. So the filter goes on
    the logger and on every handler its records reach, the root's included."""
    logger = logging.getLogger(name)
    _add_filter(logger)
    node: logging.Logger | None = logger
    while node is not None:
        for handler in node.handlers:
            _add_filter(handler)
        node = node.parent if node.propagate else None


def _add_filter(target: logging.Filterer) -> None:
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, then redacts it: a library's exception text
    may quote a URL or a key."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
