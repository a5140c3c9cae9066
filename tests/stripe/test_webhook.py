"""POST /stripe/webhook over real HTTP, signed with stripe.WebhookSignature."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select

from bot.server import WsgiApp, serve, serve_in_thread
from bot.stripe_webhook import stripe_webhook_wsgi
from db.models import Invoice, ProcessedEvent
from tests.fakes.stripe_api import FIXTURES, FakeStripe
from tests.stripe.conftest import WEBHOOK_SECRET, build_world, day_of, ledger_rows, sync
from tests.stripe.test_sync import assert_matches_stripe
from tools.deps import ToolDeps
from tools.stripe_apply import NewDispute


class Endpoint:
    def __init__(self, url: str) -> None:
        self.url = url

    def post(
        self, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
    ) -> tuple[int, dict[str, Any]]:
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(
            payload, secret, timestamp=timestamp
        )
        return self.raw(payload.encode(), header)

    def raw(self, body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())


@pytest.fixture
def alerts() -> list[NewDispute]:
    return []


@pytest.fixture
def endpoint(sdeps: ToolDeps, alerts: list[NewDispute]) -> Iterator[Endpoint]:
    app = WsgiApp({})
    app.add_route(
        "POST", "/stripe/webhook", stripe_webhook_wsgi(sdeps, on_new_dispute=alerts.append)
    )
    server = serve(app, host="127.0.0.1", port=0)
    serve_in_thread(server)
    yield Endpoint(f"http://127.0.0.1:{server.server_port}/stripe/webhook")
    server.shutdown()
    server.server_close()


def counts(deps: ToolDeps) -> tuple[int, int]:
    with deps.sessions() as s:
        return (
            int(s.scalar(select(func.count()).select_from(Invoice)) or 0),
            int(s.scalar(select(func.count()).select_from(ProcessedEvent)) or 0),
        )


def test_webhook_alone_keeps_the_ledger_equal_to_stripe(
    sdeps: ToolDeps, fake: FakeStripe, endpoint: Endpoint, alerts: list[NewDispute]
) -> None:
    build_world(fake)
    events = fake.events()  # oldest first, as Stripe would have sent them
    outcomes = [endpoint.post(e) for e in events]
    assert {status for status, _ in outcomes} == {200}
    assert_matches_stripe(sdeps, fake, day_of(fake.now))
    assert sorted(a.external_id for a in alerts) == sorted(d["id"] for d in fake.all("dispute"))
    first = next(a for a in alerts if a.external_id == fake.all("dispute")[0]["id"])
    assert first.amount_minor == fake.all("dispute")[0]["amount"] and first.currency == "USD"
    assert first.evidence_due_at is not None and first.invoice_external_id is not None

    rows = ledger_rows(sdeps)
    again = [endpoint.post(e) for e in events]  # Stripe redelivers everything
    assert {body["outcome"] for _, body in again} == {"duplicate"}
    assert ledger_rows(sdeps) == rows
    assert len(alerts) == 2  # no second alert for a redelivered dispute

    # A full sync after the webhook finds everything already there.
    stats = sync(sdeps)
    assert stats.events_applied == 0
    assert ledger_rows(sdeps) == rows


def test_new_dispute_after_backfill_alerts_once(
    sdeps: ToolDeps, fake: FakeStripe, endpoint: Endpoint, alerts: list[NewDispute]
) -> None:
    w = build_world(fake)
    sync(sdeps)
    fake.now += 60
    dispute = fake.open_dispute(w.charges["recovered"], reason="duplicate")
    event = fake.events()[-1]
    assert event["type"] == "charge.dispute.created"
    assert endpoint.post(event) == (200, {"received": True, "outcome": "applied"})
    assert endpoint.post(event)[1]["outcome"] == "duplicate"
    assert [a.external_id for a in alerts] == [dispute["id"]]
    assert alerts[0].invoice_external_id == w.invoices["declined_recovered"]
    assert alerts[0].reason == "duplicate"
    stats = sync(sdeps)  # the same event through /v1/events: already processed
    assert stats.new_disputes == []


def test_bad_or_stale_signature_is_refused_and_writes_nothing(
    sdeps: ToolDeps, fake: FakeStripe, endpoint: Endpoint
) -> None:
    build_world(fake)
    event = fake.events()[5]
    assert endpoint.post(event, secret="whsec_wrong")[0] == 400
    assert endpoint.post(event, timestamp=int(time.time()) - 3600)[0] == 400
    assert endpoint.raw(json.dumps(event).encode(), None)[0] == 400
    tampered = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(tampered, WEBHOOK_SECRET)
    assert endpoint.raw(tampered.replace("usd", "eur").encode(), header)[0] == 400
    assert counts(sdeps) == (0, 0)
    status, body = endpoint.post(event)
    assert (status, body["outcome"]) == (200, "applied")
    assert counts(sdeps)[1] == 1


def test_unknown_event_types_are_acknowledged_and_ignored(
    sdeps: ToolDeps, endpoint: Endpoint
) -> None:
    plan_event = FIXTURES["event"]  # a plan.created event, straight from Stripe's fixtures
    assert endpoint.post(plan_event) == (200, {"received": True, "outcome": "ignored"})
    assert endpoint.post(plan_event)[1]["outcome"] == "duplicate"
    assert counts(sdeps) == (0, 1)


def test_no_secret_configured_refuses(sdeps: ToolDeps, fake: FakeStripe) -> None:
    deps = ToolDeps(
        settings=sdeps.settings.model_copy(update={"stripe_webhook_secret": None}),
        engine=sdeps.engine,
        sessions=sdeps.sessions,
    )
    app = WsgiApp({("POST", "/stripe/webhook"): stripe_webhook_wsgi(deps)})
    server = serve(app, host="127.0.0.1", port=0)
    serve_in_thread(server)
    try:
        status, body = Endpoint(f"http://127.0.0.1:{server.server_port}/stripe/webhook").post(
            FIXTURES["event"]
        )
    finally:
        server.shutdown()
        server.server_close()
    assert status == 503 and "STRIPE_WEBHOOK_SECRET" in body["error"]
    assert counts(sdeps) == (0, 0)
