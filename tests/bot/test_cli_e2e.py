"""`arbot ask` gives the report's numbers; `arbot serve --http` answers Slack and health checks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.cli import main
from bot.server import health_check, serve, serve_in_thread
from tests.bot.conftest import DM, FINANCE, SECRET
from tests.fakes.signing import SlackSender, message_event
from tests.fakes.slack_api import FakeSlack
from tools.deps import ToolDeps, connect
from tools.format import format_days
from tools.metrics import MetricsInput
from tools.report import ar_report, report_json
from tools.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def ask_json(capsys: pytest.CaptureFixture[str], *question: str) -> dict[str, object]:
    assert main(["ask", "--json", "--no-agent", *question]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_ask_json_equals_report(
    ledger: ToolDeps, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARBOT_DATABASE_URL", ledger.settings.database_url)
    expected = report_json(ar_report(ledger, MetricsInput()))
    for question in ("what's our AR right now?", "aging", "DSO"):
        out = ask_json(capsys, question)
        assert out["answered_by"] == "router" and out["tool"] == "ar_report"
        assert out["data"] == expected
    out = ask_json(capsys, "how much does globex owe?")
    assert out["tool"] == "customer_balance"
    assert out["data"]["balance_minor"] == 450000  # type: ignore[index]
    out = ask_json(capsys, "sing me a song")
    assert out["answered_by"] == "help" and "what I can answer" in str(out["text"])

    assert main(["ask", "--no-agent", "receivables"]) == 0
    assert "USD" in capsys.readouterr().out

    dso = ask_json(capsys, "what's our DSO")["text"]
    assert f"DSO: {format_days(ar_report(ledger, MetricsInput()).dso)}" in str(dso)
    assert main(["ask", "--no-agent", "what's our DSO"]) == 0
    assert capsys.readouterr().out == f"{dso}\n", "the text printed is the answer's text"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_http_answers_and_reports_health(
    ledger: ToolDeps, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARBOT_", "SLACK_", "OPENAI_"))}
    env |= {
        "ARBOT_DATABASE_URL": ledger.settings.database_url,
        "ARBOT_SLACK_API_URL": fake_slack.base_url,
        "ARBOT_FINANCE_USERS": FINANCE,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SECRET,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET)
        assert sender.event(message_event("AR", user=FINANCE, channel=DM))[0] == 200
        [post] = fake_slack.wait_for("chat.postMessage", timeout=20)
        assert "USD" in post.all_text
        assert sender.post("{}", "application/json", secret="bad")[0] == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_healthz_is_503_without_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}")
    deps = connect(settings)
    deps.engine.dispose()
    broken = ToolDeps(
        settings=settings,
        engine=__import__("sqlalchemy").create_engine(
            "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
        ),
        sessions=deps.sessions,
    )
    server = serve({("GET", "/healthz"): health_check(broken)}, port=0)
    serve_in_thread(server)
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(
                f"http://127.0.0.1:{server.server_address[1]}/healthz", timeout=5
            )
        assert err.value.code == 503
        assert json.loads(err.value.read())["database"] == "unreachable"
    finally:
        server.shutdown()
        server.server_close()


def test_socket_mode_needs_app_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err
