"""Waiting out a vendor's rate limit or server error during a sync: the rule the accounting
connectors share.

429 and 5xx (and a dropped connection) are worth another try: wait the `Retry-After` the
vendor asked for, else back off exponentially (RetryPolicy). Past the last attempt the sync
stops with `SyncInterrupted`; what it committed stays, and the next run resumes from there.
"""

from __future__ import annotations

import logging
import time

from tools.redact import redact
from tools.stripe_sync import RetryPolicy, SyncInterrupted

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after_seconds(header: str | None) -> float | None:
    """`Retry-After` in seconds; the HTTP-date form is left to the backoff."""
    text = (header or "").strip()
    return float(text) if text.isdigit() else None


class Backoff:
    """The failures of one call; `wait` sleeps before the next try or gives up."""

    def __init__(self, policy: RetryPolicy, vendor: str) -> None:
        self.policy, self.vendor, self.failures = policy, vendor, 0

    def wait(self, status: int | None, retry_after: float | None, exc: Exception) -> float:
        self.failures += 1
        if self.failures >= self.policy.attempts:
            raise SyncInterrupted(
                f"{self.vendor} kept failing ({status or 'network'}: {redact(str(exc))[:300]}); "
                "what was read is saved, run the sync again to resume"
            ) from exc
        delay = self.policy.delay(self.failures) if retry_after is None else retry_after
        log.warning("event=sync_retry vendor=%s status=%s wait_s=%.2f", self.vendor, status, delay)
        time.sleep(delay)
        return delay
