"""Thin scheduled entries for work whose rules live elsewhere: the syncs, the outbox."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from tools.deps import ToolDeps

log = logging.getLogger(__name__)


def run_stripe_sync_job(deps: ToolDeps, *, now: datetime, client: WebClient | None = None) -> Any:
    """tools.stripe_sync's sync, with new disputes alerted at once; skipped without a key."""
    key = deps.settings.stripe_api_key
    if key is None or not key.get_secret_value():
        log.info("event=stripe_sync_skipped reason=no_key setting=STRIPE_API_KEY")
        return None
    from jobs.dispute_watch import webhook_hook
    from tools.stripe_sync import run_stripe_sync

    return run_stripe_sync(deps, progress=False, on_new_dispute=webhook_hook(deps, client))


def run_quickbooks_sync_job(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> Any:
    """tools.quickbooks_sync's incremental sync; skipped until QuickBooks is configured."""
    if not deps.settings.quickbooks_realm_id:
        log.info("event=quickbooks_sync_skipped reason=not_configured")
        return None
    from tools.quickbooks_sync import run_quickbooks_sync

    return run_quickbooks_sync(deps, progress=False)


def run_xero_sync_job(deps: ToolDeps, *, now: datetime, client: WebClient | None = None) -> Any:
    """tools.xero_sync's incremental sync; skipped until Xero is configured."""
    if not deps.settings.xero_tenant_id:
        log.info("event=xero_sync_skipped reason=not_configured")
        return None
    from tools.xero_sync import run_xero_sync

    return run_xero_sync(deps, progress=False)


def run_outbox_job(deps: ToolDeps, *, now: datetime, client: WebClient | None = None) -> Any:
    """One pass of the approvals outbox (sends approved actions, retries failed ones)."""
    from tools.outbox import Outbox

    notify = None
    if client is not None or deps.settings.slack_bot_token is not None:
        from bot.cards import card_notifier
        from bot.posting import client_for

        notify = card_notifier(client or client_for(deps.settings), deps)
    return Outbox(deps, notify=notify).run_once()
