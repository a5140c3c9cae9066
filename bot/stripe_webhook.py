"""POST /stripe/webhook: Stripe events pushed to us, applied to the ledger at once.

The signature (Stripe-Signature header, STRIPE_WEBHOOK_SECRET) is checked before anything
else: a bad or stale one gets 400 and nothing is written. The event id is claimed in
`processed_events` in the same transaction as the ledger write, so a redelivery is a no-op
(200, nothing changes) and a crash mid-write leaves no claim behind (Stripe retries).
Types the ledger does not follow are acknowledged with 200 and ignored. A dispute the ledger
had not seen calls `on_new_dispute` after the commit, so its alert goes out at once and
only for disputes that were really written.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import stripe

from tools.deps import ToolDeps
from tools.stripe_apply import NewDispute
from tools.stripe_sync import apply_webhook_event, make_client

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiCallable = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def stripe_webhook_wsgi(
    deps: ToolDeps, *, on_new_dispute: Callable[[NewDispute], None] | None = None
) -> WsgiCallable:
    """The WSGI callable for POST /stripe/webhook.

    With STRIPE_API_KEY set, a declined charge is placed on its invoice by asking Stripe
    (webhooks carry no invoice payment for a failed attempt); without it, the decline is
    kept without an invoice.
    """
    key = deps.settings.stripe_api_key
    client = make_client(deps) if key is not None and key.get_secret_value() else None

    def webhook(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET").upper() != "POST":
            return _json(start_response, "405 Method Not Allowed", {"error": "use POST"})
        secret = deps.settings.stripe_webhook_secret
        if secret is None or not secret.get_secret_value():
            log.error("event=stripe_webhook_refused reason=no_secret setting=STRIPE_WEBHOOK_SECRET")
            return _json(
                start_response,
                "503 Service Unavailable",
                {"error": "STRIPE_WEBHOOK_SECRET is not set on this server"},
            )
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= 0:  # an oversized body never gets here: bot.server caps every route
            return _json(start_response, "400 Bad Request", {"error": "missing body"})
        body = environ["wsgi.input"].read(length)
        try:
            event = stripe.Webhook.construct_event(
                body, environ.get("HTTP_STRIPE_SIGNATURE"), secret.get_secret_value()
            )
        except stripe.SignatureVerificationError:
            log.warning("event=stripe_webhook_bad_signature")
            return _json(start_response, "400 Bad Request", {"error": "invalid signature"})
        except ValueError:
            return _json(start_response, "400 Bad Request", {"error": "body is not JSON"})
        try:
            outcome = apply_webhook_event(deps, event, on_new_dispute=on_new_dispute, client=client)
        except Exception:
            # Nothing was committed (claim and write share one transaction): let Stripe retry.
            log.exception("event=stripe_webhook_failed stripe_event=%s", event["id"])
            return _json(start_response, "500 Internal Server Error", {"error": "not applied"})
        log.info(
            "event=stripe_webhook stripe_event=%s type=%s outcome=%s",
            event["id"],
            event["type"],
            outcome,
        )
        return _json(start_response, "200 OK", {"received": True, "outcome": outcome})

    return webhook


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    raw = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(raw)))]
    )
    return [raw]
