"""Exactly-once handling of Slack events, across retries, restarts and replicas.

Slack retries an event it thinks was not acked (X-Slack-Retry-Num) and may deliver the same
message twice by different routes; the first handler to insert its keys into
processed_events wins, the unique constraint turns every later attempt into a no-op.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from db.bot_state import record_seen_events
from db.engine import transaction
from tools.deps import ToolDeps

SOURCE = "slack"


def claim(deps: ToolDeps, keys: list[str]) -> bool:
    """True when none of these keys was seen before (and they are now recorded)."""
    keys = [k[:255] for k in keys if k]
    if not keys:
        return True
    try:
        with transaction(deps.sessions) as session:
            record_seen_events(session, SOURCE, keys)
    except IntegrityError:
        return False
    return True
