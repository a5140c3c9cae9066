"""The page loop the accounting connectors share: read one entity page by page from its cursor
(tools.sync_cursor), write the pages together with their cursor, show a progress bar.

An object pointing at one the ledger lacks (a payment of an invoice created after the sync
read invoices) is kept as read and applied again after the next run's parents
(`apply_waiting`), so the cursor can move on without losing it.

Pages are read ahead on a thread while the ledger writes, and every page that arrived
meanwhile is written in one transaction with the cursor after it (tools.read_ahead, as the
Stripe backfill does), so a sync that dies resumes after the last committed page and the same
cursor makes the next run incremental; waiting on the vendor overlaps our writes, and the
fixed statements of a write are paid once per batch rather than once per page.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection
from tqdm import tqdm

from db import books_state
from db import stripe_sql as sq
from tools.books_apply import Problem
from tools.deps import ToolDeps
from tools.ledger_record import relink
from tools.read_ahead import read_ahead
from tools.settings import Settings, SettingsError, env_name
from tools.stripe_sync import RetryPolicy
from tools.sync_cursor import Cursor, Ident, Stamp

PAGE = 1000  # the largest page QuickBooks (MAXRESULTS) and Xero (pageSize) serve
BATCH_OBJECTS = 5000  # pages written per transaction at most: this many objects' worth


@dataclass
class SyncStats:
    objects: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    retries: int = 0
    token_refreshes: int = 0
    deleted: int = 0
    applied_later: int = 0  # objects kept waiting for their parent, applied once it came
    problems: list[Problem] = field(default_factory=list)
    fetch_seconds: float = 0.0  # waiting on the vendor client (HTTP and JSON) for a page
    vendor_seconds: float = 0.0  # inside the vendor client, in the fetch thread (overlaps ours)
    process_seconds: float = 0.0  # ours: mapping, staging, upserts, settlement, commit
    # CPU time of the two threads, which wall time overstates on a busy machine.
    vendor_cpu_seconds: float = 0.0
    process_cpu_seconds: float = 0.0

    @property
    def total_objects(self) -> int:
        return sum(self.objects.values())


def need_setting(settings: Settings, name: str, purpose: str) -> str:
    value = getattr(settings, name)
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    if not text:
        raise SettingsError(f"setting {env_name(name)}: required for {purpose}")
    return str(text)


@dataclass
class EntityPages:
    """How to read and write one entity of one vendor."""

    label: str  # on the progress bar, e.g. "Xero Invoices"
    cursor_name: str
    fetch: Callable[[Cursor], list[Any]]  # the page the cursor points at
    apply: Callable[[Connection, list[Any]], list[Problem]]
    stamp: Stamp
    ident: Ident
    source: str


class BooksSync:
    """What a connector's sync keeps while it runs (settings, retry policy, page size, progress
    bar, counts), and the steps every connector takes in the same way; the vendor's subclass
    brings its client and mapper (`connect`) and how to read its entities (`run`)."""

    def __init__(
        self,
        deps: ToolDeps,
        *,
        retry: RetryPolicy | None = None,
        progress: bool | None = None,
        page_size: int = PAGE,
    ) -> None:
        self.deps = deps
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self.progress_disabled = None if progress is None else not progress
        self.stats = SyncStats()
        self.statistics = sq.StatisticsDue()
        self.connect()  # its first token refresh
        self.stats.token_refreshes = 1

    def connect(self) -> None:
        raise NotImplementedError

    def run(self, *, full: bool = False) -> SyncStats:
        raise NotImplementedError

    @classmethod
    def run_and_relink(
        cls,
        deps: ToolDeps,
        *,
        full: bool = False,
        retry: RetryPolicy | None = None,
        progress: bool | None = None,
        page_size: int = PAGE,
    ) -> SyncStats:
        """Sync, then derive again the links of what it wrote (tools.ledger_record)."""
        stats = cls(deps, retry=retry, progress=progress, page_size=page_size).run(full=full)
        relink(deps.engine, deps.settings, written=True)
        return stats

    def forget_cursors(self, names: list[str]) -> None:
        """A full sync: every entity read again from the start."""
        with self.deps.engine.begin() as c:
            for name in names:
                sq.delete_cursor(c, name)

    def read(self, entity: str, pages: EntityPages) -> EntityPages:
        sync_entity(
            self.deps,
            self.stats,
            entity,
            pages,
            page_size=self.page_size,
            progress_disabled=self.progress_disabled,
            statistics=self.statistics,
        )
        return pages

    def apply_waiting(self, every: dict[str, EntityPages]) -> None:
        for entity, pages in every.items():  # parents first, as read
            apply_waiting(self.deps, self.stats, entity, pages)


@dataclass(frozen=True)
class _Read:
    """One page as read: the objects not read before, and the cursor after it."""

    fresh: list[Any]
    state: str


def sync_entity(
    deps: ToolDeps,
    stats: SyncStats,
    entity: str,
    pages: EntityPages,
    *,
    page_size: int,
    progress_disabled: bool | None,
    statistics: sq.StatisticsDue | None = None,
) -> None:
    """Read one entity from its cursor and write what arrives, a batch of pages (those read
    while the last batch was written, tools.read_ahead) per transaction with its cursor."""
    with deps.engine.connect() as c:
        start = Cursor.load(sq.get_cursor(c, pages.cursor_name)).dump()
        waiting = set(books_state.pending(c, pages.source, entity))

    def step(state: str) -> tuple[_Read, str | None]:
        cursor = Cursor.load(state)
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            page = pages.fetch(Cursor.load(state))
        finally:
            stats.vendor_seconds += time.perf_counter() - started
            stats.vendor_cpu_seconds += time.thread_time() - cpu
        fresh, done = cursor.advance(page, page_size, pages.stamp, pages.ident)
        after = cursor.dump()
        return _Read(fresh, after), (None if done else after)

    def waited(seconds: float) -> None:
        stats.fetch_seconds += seconds

    batch_pages = max(1, BATCH_OBJECTS // page_size)
    batches = read_ahead(
        step, start, waited, batch_pages=batch_pages, pages_ahead=2 * batch_pages,
        name="books-read-ahead",
    )  # fmt: skip
    with tqdm(desc=pages.label, unit=" obj", disable=progress_disabled) as bar:
        for batch in batches:
            started, cpu = time.perf_counter(), time.thread_time()
            read = sum(len(r.fresh) for r in batch)
            fresh = _latest([obj for r in batch for obj in r.fresh], pages.ident)
            with deps.engine.begin() as c:
                # The cursor first: on SQLite this write takes the database lock before any
                # read, so a token refresh committed by the fetch thread meanwhile cannot
                # leave this transaction on a stale snapshot (SQLITE_BUSY_SNAPSHOT).
                sq.set_cursor(c, pages.cursor_name, batch[-1].state)
                found = pages.apply(c, fresh)
                _keep_waiting(c, pages, entity, fresh, found, waiting)
                stats.problems += found
            stats.process_seconds += time.perf_counter() - started
            stats.process_cpu_seconds += time.thread_time() - cpu
            stats.objects[entity] = stats.objects.get(entity, 0) + read
            stats.pages += len(batch)
            bar.update(read)
            if statistics is not None:
                statistics.after(deps.engine, stats.pages)


def _latest(objs: list[Any], ident: Ident) -> list[Any]:
    """Each object once, its last version read, where that one was read: an object changed
    while the sync ran is met again further on, and the copy read first must not write rows the
    newer one dropped. Objects without an id (`ident` gives "" or "None") are all kept, each
    to be reported."""
    seen: set[str] = set()
    kept = []
    for obj in reversed(objs):
        oid = ident(obj)
        if oid in seen:
            continue
        if oid not in ("", "None"):
            seen.add(oid)
        kept.append(obj)
    kept.reverse()
    return kept


def _keep_waiting(
    conn: Connection,
    pages: EntityPages,
    entity: str,
    objs: list[Any],
    problems: list[Problem],
    waiting: set[str],
) -> None:
    """Keep the objects that point at one not read yet (books_state.books_pending), as read;
    forget the waiting copy of an object read again, its newer version is what counts."""
    held = {p.object_id: p.reason for p in problems if p.waiting}
    keep = {}
    for obj in objs:
        oid = pages.ident(obj)
        if oid in held:
            keep[oid] = (json.dumps(obj, default=str), held[oid])
        elif oid in waiting:
            books_state.drop_pending(conn, pages.source, entity, [oid])
            waiting.discard(oid)
    books_state.keep_pending(conn, pages.source, entity, keep)
    waiting.update(keep)


def apply_waiting(deps: ToolDeps, stats: SyncStats, entity: str, pages: EntityPages) -> None:
    """Apply again the objects of `entity` kept waiting for their parent, after this run
    read the parents; those whose parent is still missing wait on, reported each run."""
    with deps.engine.begin() as c:
        items = books_state.pending(c, pages.source, entity)
        if not items:
            return
        objs = [json.loads(body, parse_float=Decimal) for body in items.values()]
        problems = pages.apply(c, objs)
        still = {p.object_id for p in problems if p.waiting}
        books_state.drop_pending(c, pages.source, entity, [i for i in items if i not in still])
    seen = {(p.entity, p.object_id) for p in stats.problems}
    stats.problems += [p for p in problems if (p.entity, p.object_id) not in seen]
    stats.applied_later += len(items) - len(still)
