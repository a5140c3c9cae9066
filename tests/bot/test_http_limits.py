"""The HTTP front door refuses what it should not read: oversized, unsized and stalled requests.

Each request is written by hand on a raw socket so the test controls what a client sends and
sees exactly what the server answers; `/healthz` answering afterwards (or meanwhile) shows
that no request took the server down or held it.
"""

from __future__ import annotations

import json
import select
import socket
import urllib.request
from collections.abc import Iterator

import pytest

from bot.app import create_app
from bot.server import MAX_BODY_BYTES, ThreadingWSGIServer, default_routes, serve, serve_in_thread
from bot.stripe_webhook import stripe_webhook_wsgi
from tools.deps import ToolDeps
from tools.settings import Settings

TIMEOUT_SECONDS = 1.0  # the server's socket timeout in these tests


@pytest.fixture
def server(bot_settings: Settings, bot_deps: ToolDeps) -> Iterator[ThreadingWSGIServer]:
    app = create_app(bot_settings, bot_deps, fallback=lambda *_: None)
    routes = default_routes(app, bot_deps)
    routes[("POST", "/stripe/webhook")] = stripe_webhook_wsgi(bot_deps)
    srv = serve(routes, port=0, timeout_seconds=TIMEOUT_SECONDS)
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
