"""SMTP adapter: one approved email, one SMTP transaction, a Message-ID stable per action.

ARBOT_SMTP_URL is `smtp://[user:password@]host:port[?starttls=1]`; STARTTLS is used when asked
or on port 587, and `smtps://` speaks TLS from the first byte. The Message-ID is derived from
the action id, so a copy that slipped through twice could still be recognised downstream.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, getaddresses, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from tools.settings import Settings, SettingsError


class PermanentSmtpError(Exception):
    """The server refused the message for good (5xx); retrying would not help."""


class TransientSmtpError(Exception):
    """The server answered "not now" (4xx) before accepting the message: worth a retry."""


class SmtpUnreachable(OSError):
    """No connection to the SMTP server (refused, unresolvable, timed out): worth a retry."""


class DeliveryUnknown(Exception):
    """The connection failed after the message went out and before the server answered: it
    may have been accepted, so sending it again could give the customer two copies."""


class UnsendableEmail(ValueError):
    """The message cannot be built (a header that would break the email); no retry helps."""


# Every character Python's str.splitlines() breaks on, plus the other C0 controls but tab, and DEL:
# one of these in a header either ends it early (a new, injected header) or makes the
# library refuse the message, so a header holding one is refused wherever it is written.
_HEADER_BREAKS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


def header_problem(field: str, value: str) -> str | None:
    """Why `value` cannot be the `field` header of an email (None: it can)."""
    found = _HEADER_BREAKS.search(value)
    if found is None:
        return None
    return f"the {field} holds a line break or control character (U+{ord(found.group()):04X})"


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    starttls: bool
    implicit_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SettingsError(
            "setting ARBOT_SMTP_URL: use smtp://host:port (add ?starttls=1 for STARTTLS) "
            "or smtps://host:465"
        )
    implicit = parts.scheme == "smtps"
    port = parts.port or (465 if implicit else 25)
    flag = parse_qs(parts.query).get("starttls", [""])[0].lower()
    starttls = not implicit and (flag in ("1", "true", "yes") or (port == 587 and flag == ""))
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        starttls=starttls,
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def message_id_for(action_id: int, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1] or "arbot.local"
    return f"<arbot-action-{action_id}@{domain}>"


def build_message(
    *, action_id: int, sender: str, recipient: str, subject: str, body: str
) -> EmailMessage:
    """The whole email, serialised once so anything that would fail at SMTP time fails here;
    raises UnsendableEmail with the reason."""
    for field, value in (("sender", sender), ("recipient", recipient), ("subject", subject)):
        problem = header_problem(field, value)
        if problem:
            raise UnsendableEmail(problem)
    try:
        msg = _message(action_id, sender, recipient, subject, body)
        msg.as_bytes(policy=SMTP)
    except (ValueError, TypeError, LookupError) as exc:
        raise UnsendableEmail(f"the email cannot be built: {exc}") from exc
    return msg


def _message(action_id: int, sender: str, recipient: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id_for(action_id, sender)
    msg["X-Arbot-Action"] = str(action_id)
    msg.set_content(body)
    return msg


class Mailer:
    """Sends one message per connection: approvals are rare and each must stand alone."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.target = parse_smtp_url(url)
        self.timeout = timeout
        self._context: ssl.SSLContext | None = None

    def _tls(self) -> ssl.SSLContext:
        # Loading the CA bundle takes ~20 ms: do it once, and only when TLS is used.
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def send(self, msg: EmailMessage) -> None:
        t = self.target
        smtp: smtplib.SMTP
        try:
            if t.implicit_tls:
                smtp = smtplib.SMTP_SSL(t.host, t.port, timeout=self.timeout, context=self._tls())
            else:
                smtp = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
        except OSError as exc:
            # Named by host and port only: the URL's user and password stay out of the card.
            raise SmtpUnreachable(
                f"cannot reach the SMTP server {t.host}:{t.port} ({exc.strerror or exc})"
            ) from None
        try:
            smtp.ehlo()
            if t.starttls:
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            if t.username:
                smtp.login(t.username, t.password or "")
            self._transaction(smtp, msg)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    @staticmethod
    def _transaction(smtp: smtplib.SMTP, msg: EmailMessage) -> None:
        """MAIL, RCPT and DATA one by one, so a failure is known to come before the message
        left (safe to retry) or after (DeliveryUnknown)."""
        sender = parseaddr(str(msg["From"]))[1]
        recipients = [addr for _, addr in getaddresses([str(msg["To"])])]
        international = any(not a.isascii() for a in (sender, *recipients))
        if international and not smtp.has_extn("smtputf8"):
            raise PermanentSmtpError("the SMTP server cannot take a non-ASCII address (SMTPUTF8)")
        options = ["SMTPUTF8", "BODY=8BITMIME"] if international else []
        data = msg.as_bytes(policy=SMTP.clone(utf8=international))
        code, reply = smtp.mail(sender, options)
        if code != 250:
            raise _refusal(code, reply, "the SMTP server refused the sender")
        for rcpt in recipients:
            code, reply = smtp.rcpt(rcpt)
            if code not in (250, 251):
                raise _refusal(code, reply, "the SMTP server refused the recipient")
        try:
            smtp.data(data)
        except smtplib.SMTPResponseException as exc:  # the server answered: not delivered
            refused = "the SMTP server refused the message"
            raise _refusal(exc.smtp_code, exc.smtp_error, refused) from exc
        except OSError as exc:  # smtplib's disconnects and timeouts are OSErrors too
            raise DeliveryUnknown(
                f"the connection failed while the SMTP server answered DATA ({exc})"
            ) from exc


def _refusal(code: int, reply: bytes | str, what: str) -> Exception:
    """A server's answer: permanent for 5xx, worth a retry otherwise."""
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    detail = f"{what}: SMTP {code} {text}"
    return PermanentSmtpError(detail) if 500 <= code < 600 else TransientSmtpError(detail)


def mailer_from_settings(settings: Settings) -> Mailer | None:
    return Mailer(settings.smtp_url) if settings.smtp_url else None
