"""Dispute watch: a new dispute is alerted at once; a lingering one is reminded once a day.

"New" alerts are claimed per dispute ("dispute-new", id), so the Stripe webhook hook, an
import followed by the scheduled watch, and two workers all post it once. A dispute open
longer than the target (48 h) or with evidence due within 3 days is reminded once per day
("dispute-reminder", "ID:DATE"), in one list to the alerts channel and one per owner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

from bot import posting
from jobs import claim
from tools.clock import today
from tools.deps import ToolDeps
from tools.watch import NEW_DISPUTE_JOB as NEW
from tools.watch import DisputeAlert, needs_reminder, open_dispute_alerts, snoozed_customers

log = logging.getLogger(__name__)
REMIND = "dispute-reminder"


def alert_new_disputes(
    deps: ToolDeps,
    *,
    now: datetime,
    client: WebClient | None = None,
    dispute_ids: list[int] | None = None,
) -> list[int]:
    """Alert disputes not alerted yet and still young (older ones get reminders instead)."""
    alerts = open_dispute_alerts(deps, now=now, dispute_ids=dispute_ids)
    return _alert_new(deps, alerts, now=now, client=client)


def _alert_new(
    deps: ToolDeps, alerts: list[DisputeAlert], *, now: datetime, client: WebClient | None
) -> list[int]:
    s = deps.settings
    young = [a for a in alerts if a.open_hours <= s.target_dispute_hours]
    if not young:
        return []
    fresh = {str(a.dispute_id): a for a in young}
    with claim.claims_to_post(deps, NEW, list(fresh), now=now) as won:
        if not won:
            return []
        slack = client or posting.client_for(s)
        posted = claim.post_claimed(
            deps, NEW, won, lambda p: posting.post_dispute_alert(slack, s.alerts_channel, fresh[p]),
            now=now,
        )  # fmt: skip
    return [int(p) for p in posted]


def run_dispute_watch(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> dict[str, list[int]]:
    """New-dispute alerts plus today's reminders; what was posted, by kind."""
    s = deps.settings
    slack = client or posting.client_for(s)
    alerts = open_dispute_alerts(deps, now=now)
    new = _alert_new(deps, alerts, now=now, client=slack)
    day = today(s.tz, now)
    snoozed = snoozed_customers(deps, day)
    due = {
        f"{a.dispute_id}:{day.isoformat()}": a
        for a in alerts
        if needs_reminder(a) and a.dispute_id not in new and a.customer_id not in snoozed
    }
    with claim.claims_to_post(deps, REMIND, list(due), now=now) as won:
        if won:
            items = [due[p] for p in won]
            claim.post_together(
                deps, REMIND, won,
                lambda: posting.post_dispute_reminders(slack, s.alerts_channel, items), now=now,
            )  # fmt: skip
    log.info("event=dispute_watch new=%d reminded=%d", len(new), len(won))
    return {"new": new, "reminded": [due[p].dispute_id for p in won]}


def webhook_hook(deps: ToolDeps, client: WebClient | None = None) -> Callable[[Any], None]:
    """The Stripe webhook's `on_new_dispute`: alert that dispute at once (after the commit)."""

    def on_new_dispute(dispute: Any) -> None:
        alert_new_disputes(
            deps, now=datetime.now(UTC), client=client, dispute_ids=[int(dispute.dispute_id)]
        )

    return on_new_dispute
