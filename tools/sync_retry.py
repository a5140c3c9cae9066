"""Waiting out a vendor's rate limit or server error during a sync: the rule the accounting
connectors share.

429 and 5xx (and a dropped connection) are worth another try: wait the `Retry-After` the
vendor asked for, else back off exponentially (RetryPolicy). Past the last attempt the sync
stops with `SyncInterrupted`; what it committed stays, and the next run resumes from there.
A `Retry-After` longer than the policy's longest wait (a daily limit) stops it at once, saying
when to run again, instead of sleeping for hours.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from tools.redact import redact
from tools.stripe_sync import RetryPolicy, SyncInterrupted

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
T = TypeVar("T")


class Unavailable(Exception):
    """A vendor call that may work later (429, 5xx, no connection): backed off during a
    sync, retried by the outbox for a write."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


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
        if retry_after is not None and retry_after > self.policy.max_delay:
            resume = datetime.now(UTC) + timedelta(seconds=retry_after)
            raise SyncInterrupted(
                f"{self.vendor} asks to wait {retry_after:.0f} s ({status}); what was read is "
                f"saved, run the sync again after {resume:%Y-%m-%d %H:%M} UTC to resume"
            ) from exc
        delay = self.policy.delay(self.failures) if retry_after is None else retry_after
        log.warning("event=sync_retry vendor=%s status=%s wait_s=%.2f", self.vendor, status, delay)
        time.sleep(delay)
        return delay


def with_backoff(policy: RetryPolicy | None, vendor: str, call: Callable[[], T]) -> T:
    """`call`, tried again after an Unavailable as the policy says; without a policy the
    Unavailable goes to the caller (the outbox retries a write later)."""
    if policy is None:
        return call()
    backoff = Backoff(policy, vendor)
    while True:
        try:
            return call()
        except Unavailable as exc:
            backoff.wait(exc.status, exc.retry_after, exc)
