"""SMTP adapter: one approved email, one SMTP transaction, a Message-ID stable per action.

ARBOT_SMTP_URL is `smtp://[user:password@]host:port[?starttls=1]`; STARTTLS is used when asked
or on port 587, and `smtps://` speaks TLS from the first byte. The Message-ID is derived from
the action id, so a copy that slipped through twice could still be recognised downstream.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from tools.settings import Settings, SettingsError


class PermanentSmtpError(Exception):
    """The server refused the message for good (5xx); retrying would not help."""


class SmtpUnreachable(OSError):
    """No connection to the SMTP server (refused, unresolvable, timed out): worth a retry."""


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
            try:
                smtp.send_message(msg)
            except smtplib.SMTPResponseException as exc:
                if 500 <= exc.smtp_code < 600:
                    raise PermanentSmtpError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
                raise
            except smtplib.SMTPRecipientsRefused as exc:
                raise PermanentSmtpError("the SMTP server refused the recipient") from exc
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def mailer_from_settings(settings: Settings) -> Mailer | None:
    return Mailer(settings.smtp_url) if settings.smtp_url else None
