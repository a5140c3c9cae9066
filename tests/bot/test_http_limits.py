"""The HTTP front door refuses what it should not read: oversized, unsized and stalled requests.

Each request is written by hand on a raw socket so the test controls what a client sends and
sees exactly what the server answers; `/healthz` answering afterwards (or meanwhile) shows
that no request took the server down or held it.
"""

from __future__ import annotations

import json
import select
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot.app import create_app
from bot.server import MAX_BODY_BYTES, ThreadingWSGIServer, default_routes, serve, serve_in_thread
from bot.stripe_webhook import stripe_webhook_wsgi
from tools.deps import ToolDeps
from tools.settings import Settings

TIMEOUT_SECONDS = 1.0  # the server's socket timeout in these tests


DEADLINE_SECONDS = 2.0  # for a whole request, however it trickles in
TRICKLE_SECONDS = 0.2  # a slow client's pace: well inside the per-read timeout


@pytest.fixture
def server(bot_settings: Settings, bot_deps: ToolDeps) -> Iterator[ThreadingWSGIServer]:
    yield from _serving(bot_settings, bot_deps)


@pytest.fixture
def small_server(bot_settings: Settings, bot_deps: ToolDeps) -> Iterator[ThreadingWSGIServer]:
    """Serves two connections at once."""
    yield from _serving(bot_settings, bot_deps, max_connections=2)


def _serving(settings: Settings, deps: ToolDeps, **kw: int) -> Iterator[ThreadingWSGIServer]:
    app = create_app(settings, deps, fallback=lambda *_: None)
    routes = default_routes(app, deps)
    routes[("POST", "/stripe/webhook")] = stripe_webhook_wsgi(deps)
    srv = serve(
        routes, port=0, timeout_seconds=TIMEOUT_SECONDS, deadline_seconds=DEADLINE_SECONDS, **kw
    )
    serve_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


def _port(server: ThreadingWSGIServer) -> int:
    return int(server.server_address[1])


def _healthz(server: ThreadingWSGIServer) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{_port(server)}/healthz", timeout=10) as r:
        return int(r.status)


def _head(path: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_all(conn: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass  # the server closed with our unread body in its buffer; what it sent is kept
    return data


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path", ["/slack/events", "/stripe/webhook"])
def test_a_50_mib_unsigned_post_gets_413_before_its_body_is_read(
    server: ThreadingWSGIServer, path: str
) -> None:
    size = 50 * 1024 * 1024
    chunk = b"x" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as conn:
        conn.sendall(_head(path, Content_Length=str(size)))
        try:
            # Send the body the way a client streams it, until the server answers.
            while sent < size and not select.select([conn], [], [], 0)[0]:
                sent += conn.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = _read_all(conn)

    assert _status(response) == 413
    assert (
        f"body over {MAX_BODY_BYTES} bytes"
        in json.loads(response.split(b"\r\n\r\n", 1)[1])["error"]
    )
    assert sent < size, "the server answered before the client could send the whole body"
    assert _healthz(server) == 200


@pytest.mark.timeout(60)
def test_a_body_without_length_is_refused_unread(server: ThreadingWSGIServer) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as conn:
        conn.sendall(_head("/slack/events", Transfer_Encoding="chunked") + b"10\r\n")
        response = _read_all(conn)

    assert _status(response) == 411
    assert _healthz(server) == 200


@pytest.mark.timeout(60)
def test_a_client_stalling_mid_body_is_dropped_while_healthz_answers(
    server: ThreadingWSGIServer,
) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as conn:
        conn.sendall(_head("/slack/events", Content_Length="100") + b'{"type":')
        assert _healthz(server) == 200
        response = _read_all(conn)

    assert _status(response) == 408


@pytest.mark.timeout(60)
def test_a_client_stalling_mid_headers_is_dropped_while_healthz_answers(
    server: ThreadingWSGIServer,
) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert _healthz(server) == 200
        assert _read_all(conn) == b"", "the server closed the connection without an answer"


def _trickle_until_dropped(
    conn: socket.socket, byte: bytes, server: ThreadingWSGIServer
) -> float | None:
    """Send `byte` every TRICKLE_SECONDS (checking /healthz once on the way) until the server
    closes the connection; seconds that took, or None if it never did within 10 deadlines."""
    start = time.monotonic()
    for i in range(int(10 * DEADLINE_SECONDS / TRICKLE_SECONDS)):
        try:
            conn.sendall(byte)
            if select.select([conn], [], [], TRICKLE_SECONDS)[0] and conn.recv(65536) == b"":
                return time.monotonic() - start
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start
        if i == 2:
            assert _healthz(server) == 200, "a trickling client holds no other request up"
    return None


@pytest.mark.timeout(60)
def test_a_client_trickling_its_headers_is_dropped_at_the_deadline(
    server: ThreadingWSGIServer,
) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nX-Slow: ")
        took = _trickle_until_dropped(conn, b"x", server)

    assert took is not None, "a byte every 0.2 s kept the connection open"
    assert took < DEADLINE_SECONDS + 2.0


@pytest.mark.timeout(60)
def test_a_client_trickling_its_body_is_dropped_at_the_deadline(
    server: ThreadingWSGIServer,
) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=30) as conn:
        conn.sendall(_head("/slack/events", Content_Length="100000"))
        took = _trickle_until_dropped(conn, b" ", server)

    assert took is not None, "a byte every 0.2 s kept the connection open"
    assert took < DEADLINE_SECONDS + 2.0


@pytest.mark.timeout(60)
def test_connections_past_the_cap_get_503_at_once(small_server: ThreadingWSGIServer) -> None:
    port = _port(small_server)
    slow = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(2)]
    try:
        for conn in slow:
            conn.sendall(b"GET /healthz HTTP/1.1\r\n")  # and nothing more: each holds a thread
        with socket.create_connection(("127.0.0.1", port), timeout=30) as third:
            third.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            response = _read_all(third)
        assert _status(response) == 503
        assert b"Retry-After: 1" in response
    finally:
        for conn in slow:
            conn.close()
    # Once the slow ones are gone, the slots are free again.
    give_up = time.monotonic() + 10
    while True:
        try:
            assert _healthz(small_server) == 200
            break
        except urllib.error.HTTPError as exc:
            assert exc.code == 503 and time.monotonic() < give_up, "slots never freed"
