"""`arbot stripe sync`: backfill the ledger from Stripe, then follow its events.

Backfill walks each list endpoint through the real client, newest first, and commits each
batch of pages (those that arrived while the last batch was written, tools.stripe_pages) in one
transaction together with a cursor (`sync_cursors`), so a sync that dies midway leaves the
ledger consistent and the next run resumes after the last committed page.
Before the first page it notes the newest event, so the incremental sync that follows picks up
whatever changed while the backfill ran.

Incremental sync reads `/v1/events` created since its cursor, oldest first, and applies them
in batches; each event id is claimed in `processed_events` first, so an event seen twice (or
already delivered by the webhook) changes nothing.

Resilience: the client retries 5xx and connection errors itself (`max_network_retries`); 429s
and whatever outlasts those retries are retried here with exponential backoff, restarting the
listing from the last committed object.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import stripe
from sqlalchemy import Engine
from tqdm import tqdm

from db import stripe_sql as sq
from tools.deps import ToolDeps
from tools.ledger_record import relink, relink_in
from tools.redact import redact, redact_logger
from tools.settings import SettingsError
from tools.stripe_apply import SOURCE, Applier, NewDispute, Resolver
from tools.stripe_map import Mapper
from tools.stripe_pages import list_page, read_ahead, single_pages

log = logging.getLogger(__name__)

BACKFILL_CURSOR = "stripe:backfill"
EVENTS_CURSOR = "stripe:events"
PAGE = 100
# Pages written per transaction at most, when they arrive faster than the ledger takes them.
BATCH_PAGES = 10
# (list endpoint of the client, object kind), parents first.
PHASES: tuple[tuple[str, str], ...] = (
    ("customers", "customer"),
    ("invoices", "invoice"),
    ("invoice_payments", "invoice_payment"),
    ("charges", "charge"),
    ("refunds", "refund"),
    ("credit_notes", "credit_note"),
    ("disputes", "dispute"),
)
DisputeHook = Callable[[NewDispute], None]


class SyncInterrupted(Exception):
    """Stripe kept failing; what was committed stays, and the next run resumes from there."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay, self.first_delay * 2 ** (attempt - 1)))


@dataclass
class SyncStats:
    """What a sync did, and where its time went (for the CLI summary and the benchmark)."""

    objects: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    retries: int = 0
    events_applied: int = 0
    events_skipped: int = 0
    fetch_seconds: float = 0.0  # inside the stripe client: HTTP, JSON, StripeObjects
    process_seconds: float = 0.0  # ours: mapping, staging, upserts, settlement, commit
    new_disputes: list[NewDispute] = field(default_factory=list)

    @property
    def total_objects(self) -> int:
        return sum(self.objects.values())

    def count(self, kind: str, n: int) -> None:
        self.objects[kind] = self.objects.get(kind, 0) + n


def make_client(deps: ToolDeps, *, max_network_retries: int = 3) -> stripe.StripeClient:
    key = deps.settings.stripe_api_key
    if key is None or not key.get_secret_value():
        raise SettingsError("setting STRIPE_API_KEY: required for the Stripe sync (sk_test_...)")
    redact_logger("stripe")
    return stripe.StripeClient(
        key.get_secret_value(),
        base_addresses={"api": deps.settings.stripe_api_base},
        max_network_retries=max_network_retries,
    )


def mapper(deps: ToolDeps) -> Mapper:
    return Mapper(tz=deps.settings.tz, default_currency=deps.settings.reporting_currency)


_RETRYABLE = (stripe.RateLimitError, stripe.APIConnectionError, stripe.APIError)


def _retryable(exc: stripe.StripeError) -> bool:
    return isinstance(exc, _RETRYABLE) or (exc.http_status or 0) >= 500


class StripeSync:
    def __init__(
        self,
        deps: ToolDeps,
        client: stripe.StripeClient,
        *,
        retry: RetryPolicy | None = None,
        progress: bool | None = None,
        on_new_dispute: DisputeHook | None = None,
        raw: bool = True,
        prefetch: bool = True,
    ) -> None:
        self.deps, self.client = deps, client
        self.raw, self.prefetch = raw, prefetch
        self.engine: Engine = deps.engine
        self.retry = retry or RetryPolicy()
        # tqdm's disable=None: a bar on a terminal, silence in logs and tests.
        self.progress_disabled = None if progress is None else not progress
        resolver = invoice_payments_resolver(client)
        self.applier = Applier(mapper(deps), resolver=resolver)
        self.lister = Applier(mapper(deps), resolver=resolver, listed=True)
        self.on_new_dispute = on_new_dispute
        self.stats = SyncStats()
        self.statistics = sq.StatisticsDue()

    # --- entry point -------------------------------------------------------------------------

    def run(self, *, full: bool = False, events: bool = True) -> SyncStats:
        """Finish (or, with full=True, redo) the backfill, then apply new events."""
        with self.engine.begin() as conn:
            if full:
                sq.delete_cursor(conn, BACKFILL_CURSOR)
            state = json.loads(sq.get_cursor(conn, BACKFILL_CURSOR) or "{}")
        if state.get("phase") != "done":
            self.backfill(state)
        if events:
            self.sync_events()
        return self.stats

    # --- backfill ----------------------------------------------------------------------------

    def backfill(self, state: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            if sq.get_cursor(conn, EVENTS_CURSOR) is None:
                sq.set_cursor(conn, EVENTS_CURSOR, str(self._newest_event_created()))
        names = [name for name, _ in PHASES]
        start = names.index(state["phase"]) if state.get("phase") in names else 0
        for name, kind in PHASES[start:]:
            after = state.get("after") if name == state.get("phase") else None
            self._backfill_phase(name, kind, after)
        with self.engine.begin() as conn:
            sq.set_cursor(conn, BACKFILL_CURSOR, json.dumps({"phase": "done"}))
        log.info("event=stripe_backfill_done objects=%s", self.stats.total_objects)

    def _newest_event_created(self) -> int:
        page = self._retrying(lambda: self.client.v1.events.list(params={"limit": 1}))
        return int(page.data[0]["created"]) if page.data else 0

    def _backfill_phase(self, name: str, kind: str, after: str | None) -> None:
        with tqdm(
            desc=f"stripe {name}", unit=" obj", disable=self.progress_disabled, leave=False
        ) as bar:
            for pages in self._pages(name, after):
                started = time.perf_counter()
                chunk = [obj for page in pages for obj in page]
                with self.engine.begin() as conn:
                    applied = self.lister.apply(conn, kind, chunk)
                    cursor = {"phase": name, "after": chunk[-1]["id"]}
                    sq.set_cursor(conn, BACKFILL_CURSOR, json.dumps(cursor))
                self.stats.pages += len(pages)
                self.statistics.after(self.engine, self.stats.pages)
                self.stats.process_seconds += time.perf_counter() - started
                self.stats.count(kind, applied.objects)
                bar.update(len(chunk))

    def _pages(self, name: str, after: str | None) -> Iterator[list[list[Any]]]:
        """Batches of pages of a list endpoint, newest first, surviving rate limits and
        outages; the caller writes each batch in one transaction.

        On a failure the listing restarts after the last object handed out, whose batch the
        caller has committed by the time it asks for the next one.
        """
        failures = 0
        while True:
            listing = (
                self._raw_listing(name, after) if self.raw else self._typed_listing(name, after)
            )
            try:
                for pages in listing:
                    failures = 0
                    yield pages
                    after = pages[-1][-1]["id"]
                return
            except stripe.StripeError as exc:
                failures = self._backoff(exc, failures)

    def _params(self, after: str | None) -> dict[str, Any]:
        return {"limit": PAGE} | ({"starting_after": after} if after else {})

    def _typed_listing(self, name: str, after: str | None) -> Iterator[list[list[Any]]]:
        """The client's auto-pagination, StripeObjects; each chunk of PAGE is one page."""
        started = time.perf_counter()
        service = getattr(self.client.v1, name)
        items = iter(service.list(params=self._params(after)).auto_paging_iter())
        while True:
            chunk = list(islice(items, PAGE))
            self.stats.fetch_seconds += time.perf_counter() - started
            if not chunk:
                return
            yield [chunk]
            started = time.perf_counter()

    def _raw_listing(self, name: str, after: str | None) -> Iterator[list[list[Any]]]:
        """Pages as plain dicts, read ahead (tools.stripe_pages).

        Building StripeObjects costs about 1 ms per invoice, more than the HTTP round trip;
        the mapping only reads fields, so the backfill skips them. The same client does the
        request (auth, API version, retries of 5xx). Fetch time counts only the wait for it.
        """
        path = f"/v1/{name}"

        def fetch(cursor: str | None) -> Any:
            return list_page(self.client, path, self._params(cursor))

        def waited(seconds: float) -> None:
            self.stats.fetch_seconds += seconds

        if not self.prefetch:
            return single_pages(fetch, after, waited)
        return read_ahead(
            fetch, after, waited, batch_pages=BATCH_PAGES, pages_ahead=2 * BATCH_PAGES
        )

    def _backoff(self, exc: stripe.StripeError, failures: int) -> int:
        failures += 1
        if not _retryable(exc) or failures > self.retry.attempts:
            raise SyncInterrupted(
                f"Stripe answered {exc.http_status or 'no response'}: "
                f"{redact(str(exc.user_message or exc))} "
                f"(after {failures - 1} retries). What was synced is kept; run "
                "`arbot stripe sync` again to resume."
            ) from exc
        delay = self.retry.delay(failures)
        log.warning(
            "event=stripe_retry status=%s attempt=%s delay_s=%.1f",
            exc.http_status,
            failures,
            delay,
        )
        self.stats.retries += 1
        time.sleep(delay)
        return failures

    def _retrying(self, call: Callable[[], Any]) -> Any:
        failures = 0
        while True:
            try:
                return call()
            except stripe.StripeError as exc:
                failures = self._backoff(exc, failures)

    # --- incremental -------------------------------------------------------------------------

    def sync_events(self) -> int:
        """Apply every event since the cursor, oldest first; return how many were new."""
        with self.engine.begin() as conn:
            since = int(sq.get_cursor(conn, EVENTS_CURSOR) or 0)
        events = self._retrying(lambda: self._events_since(since))
        events.reverse()  # Stripe lists newest first
        applied = 0
        for i in range(0, len(events), PAGE):
            applied += self._apply_event_batch(events[i : i + PAGE])
        return applied

    def _events_since(self, since: int) -> list[Any]:
        started = time.perf_counter()
        listing = self.client.v1.events.list(params={"limit": PAGE, "created": {"gte": since}})
        events = list(listing.auto_paging_iter())
        self.stats.fetch_seconds += time.perf_counter() - started
        return events

    def _apply_event_batch(self, batch: Sequence[Any]) -> int:
        started = time.perf_counter()
        with self.engine.begin() as conn:
            fresh_ids = sq.claim_events(conn, SOURCE, [e["id"] for e in batch])
            fresh = [e for e in batch if e["id"] in fresh_ids]
            applied = self.applier.apply_events(conn, fresh)
            sq.set_cursor(conn, EVENTS_CURSOR, str(max(int(e["created"]) for e in batch)))
        self.stats.process_seconds += time.perf_counter() - started
        self.stats.events_applied += len(fresh)
        self.stats.events_skipped += len(batch) - len(fresh)
        self.stats.new_disputes += applied.new_disputes
        notify(applied.new_disputes, self.on_new_dispute)
        return len(fresh)


def notify(disputes: Sequence[NewDispute], hook: DisputeHook | None) -> None:
    """Tell the dispute alert about new disputes, after they are committed.

    A failing alert is logged, never raised: the ledger write stands either way.
    """
    if hook is None:
        return
    for dispute in disputes:
        try:
            hook(dispute)
        except Exception:
            log.exception("event=dispute_hook_failed dispute=%s", dispute.external_id)


def run_stripe_sync(
    deps: ToolDeps,
    *,
    full: bool = False,
    progress: bool | None = None,
    on_new_dispute: DisputeHook | None = None,
    client: stripe.StripeClient | None = None,
    retry: RetryPolicy | None = None,
) -> SyncStats:
    """The whole sync as `arbot stripe sync` and the scheduled job run it."""
    sync = StripeSync(
        deps,
        client or make_client(deps),
        retry=retry,
        progress=progress,
        on_new_dispute=on_new_dispute,
    )
    stats = sync.run(full=full)
    relink(deps.engine, deps.settings, written=True)
    return stats


def invoice_payments_resolver(client: stripe.StripeClient) -> Resolver:
    """Look up the invoice payments of payment intents the ledger cannot place."""

    def resolve(intents: list[str]) -> list[Any]:
        found: list[Any] = []
        for pi in intents:
            params: Any = {"payment": {"type": "payment_intent", "payment_intent": pi}}
            found += client.v1.invoice_payments.list(params=params).data
        return found

    return resolve


def apply_webhook_event(
    deps: ToolDeps,
    event: Any,
    *,
    on_new_dispute: DisputeHook | None = None,
    client: stripe.StripeClient | None = None,
) -> str:
    """Apply one verified webhook event: 'applied', 'duplicate' or 'ignored'.

    With a client, a failed charge whose invoice is unknown is placed by asking Stripe.
    """
    applier = Applier(mapper(deps), resolver=invoice_payments_resolver(client) if client else None)
    with deps.engine.begin() as conn:
        if not sq.claim_events(conn, SOURCE, [event["id"]]):
            return "duplicate"
        applied = applier.apply_events(conn, [event])
        obj = event["data"]["object"]
        if obj["object"] == "invoice":  # the books may hold it: link it before it counts
            relink_in(conn, deps.settings, sq.invoice_ids(conn, SOURCE, [str(obj["id"])]))
    notify(applied.new_disputes, on_new_dispute)
    return "applied" if applied.objects else "ignored"
