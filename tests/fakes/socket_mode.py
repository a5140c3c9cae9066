"""A fake of Slack's Socket Mode endpoint: a WebSocket server on 127.0.0.1 speaking the envelope
protocol, for driving the real `slack_bolt` Socket Mode handler in tests.

Slack's side of the protocol, as the handler sees it: the app calls `apps.connections.open`
(FakeSlack answers with `url`), opens the WebSocket, receives `hello`, then receives
envelopes `{"envelope_id", "type": "events_api" | "interactive" | "slash_commands",
"payload", "accepts_response_payload", ...}` and must acknowledge each one by sending back
`{"envelope_id": ...}` (with a `payload` when it answers a command inline).

    with FakeSocketMode() as socket_mode:
        fake_slack.socket_mode_url = socket_mode.url
        handler = SocketModeHandler(app, "xapp-test")
        handler.connect()
        socket_mode.wait_connected()
        envelope_id = socket_mode.send("events_api", event_callback(...))
        ack = socket_mode.wait_for_ack(envelope_id)
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.fakes.signing import API_APP_ID


class FakeSocketMode:
    def __init__(self) -> None:
        self.acks: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self._conn: ServerConnection | None = None
        self._cond = threading.Condition()
        self._server: Server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=test-ticket&app_id={API_APP_ID}"

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)

    def _session(self, conn: ServerConnection) -> None:
        conn.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": API_APP_ID},
                }
            )
        )
        with self._cond:
            self._conn = conn
            self._cond.notify_all()
        try:
            for raw in conn:
                message = json.loads(raw)
                with self._cond:
                    self.received.append(message)
                    if "envelope_id" in message:
                        self.acks[message["envelope_id"]] = message
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                if self._conn is conn:
                    self._conn = None

    def wait_connected(self, timeout: float = 10.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self._conn is not None, timeout), "no client"

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
    ) -> str:
        """Deliver one envelope to the connected app; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": ""}
        with self._cond:
            conn = self._conn
        assert conn is not None, "no Socket Mode client connected"
        conn.send(json.dumps(envelope))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while envelope_id not in self.acks:
                left = deadline - time.monotonic()
                assert left > 0, f"envelope {envelope_id} was not acknowledged in {timeout}s"
                self._cond.wait(left)
            return self.acks[envelope_id]
