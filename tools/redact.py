"""Keeping secrets out of what people read: logs, error messages, Slack cards.

Two kinds of secret travel in text. URLs carry passwords (ARBOT_DATABASE_URL, ARBOT_SMTP_URL):
`mask_url` shows a URL with its password replaced. Vendor error messages may echo a key
(Stripe's "Invalid API Key provided: sk_live_..."): `redact` removes keys and URL passwords
from any text before it is logged, stored as an action's error, or shown on a card.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# Stripe secret and restricted keys, webhook secrets, Slack and OpenAI tokens.
_KEY = re.compile(
    r"\b(?P<kind>(?:sk|rk)_(?:live|test)_|whsec_|xox[abposre]-|xapp-|sk-(?:proj-)?)"
    r"[A-Za-z0-9_\-]+"
)
# user:password@ in any URL inside free text.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+(?=@)", re.I)
_QUERY_SECRETS = {"password", "passwd", "pass"}


def mask_url(url: str) -> str:
    """The URL with its password (in user:password@ or ?password=) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _QUERY_SECRETS for k, _ in pairs):
            query = urlencode(
                [(k, MASK if k.lower() in _QUERY_SECRETS else v) for k, v in pairs], safe="*"
            )
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # rebuilding would turn sqlite:///x into sqlite:/x
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact(text: str) -> str:
    """`text` without API keys, tokens and URL passwords (each replaced by its prefix + ***)."""
    text = _KEY.sub(lambda m: m.group("kind") + MASK, text)
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


class RedactingFilter(logging.Filter):
    """Redacts each record of a logger that quotes vendor replies (the Stripe library logs
    every error message it receives), before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        clean = redact(record.getMessage())
        record.msg, record.args = clean, None
        return True


def redact_logger(name: str) -> None:
    """Install the redacting filter on logger `name`, once."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, then redacts it: a library's exception text
    may quote a URL or a key."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
