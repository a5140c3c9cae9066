"""A real SMTP server (aiosmtpd) on a free 127.0.0.1 port that keeps what it receives.

Tests point ARBOT_SMTP_URL at `fake.url` and assert on the delivered messages: recipient,
subject, body, Message-ID. `stop()` / `start()` on the same port simulate an outage,
`refuse_next(code)` answers the next DATA with an error, and `hold_data()` keeps the next DATA
unanswered (`data_arrived` is set once the whole message is in) until `release()`, so a test
can kill the sending process while it waits for the server's reply. `drop_after_data()` keeps
the next message and closes the connection instead of answering its DATA.

    with FakeSmtp() as smtp:
        ...
        [msg] = smtp.wait_for(1)
        assert msg["To"] == "ap@acme.example.com"
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def __getitem__(self, header: str) -> Any:
        return self.message[header]

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return "" if part is None else str(part.get_content())  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, owner: FakeSmtp) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        owner = self.owner
        if owner._drop_next:
            owner._drop_next = False
            owner._accept(envelope)
            server.transport.abort()  # closed at once: the reply below is never written
            return "250 OK"
        if owner._holding:
            owner.data_arrived.set()
            await asyncio.get_running_loop().run_in_executor(None, owner._released.wait)
            return "421 4.3.0 held and dropped"
        return owner._accept(envelope)


class FakeSmtp:
    def __init__(self) -> None:
        self.port = _free_port()
        self.messages: list[Received] = []
        self._refusals: list[str] = []
        self._lock = threading.Condition()
        self._controller: Controller | None = None
        self._holding = False
        self._drop_next = False
        self._released = threading.Event()
        self.data_arrived = threading.Event()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> FakeSmtp:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> FakeSmtp:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.release()
        self.stop()

    def hold_data(self) -> None:
        """Answer no DATA until `release()`; nothing held is ever counted as received."""
        self._released.clear()
        self._holding = True

    def drop_after_data(self) -> None:
        """Keep the next message as received, then close the connection before replying: the
        sender cannot tell whether it arrived."""
        self._drop_next = True

    def release(self) -> None:
        self._holding = False
        self._released.set()

    def refuse_next(self, reply: str = "451 4.3.0 try again later") -> None:
        with self._lock:
            self._refusals.append(reply)

    def _accept(self, envelope: Any) -> str:
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
            msg = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), msg)  # type: ignore[arg-type]
            )
            self._lock.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} email(s) within {timeout}s, got {len(self.messages)}"
                    )
                self._lock.wait(left)
            return list(self.messages)
