"""The page loop the accounting connectors share: read one entity page by page from its cursor
(tools.sync_cursor), write each page together with its cursor, show a progress bar.

Each page is written in one transaction with its cursor, so a sync that dies resumes after the
last committed page and the same cursor makes the next run incremental. The next page is
fetched while this one is written (the cursor moves as soon as a page arrives), so waiting on
the vendor overlaps our writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from tqdm import tqdm

from db import stripe_sql as sq
from tools.books_apply import Problem
from tools.deps import ToolDeps
from tools.settings import Settings, SettingsError, env_name
from tools.sync_cursor import Cursor, Ident, Stamp

ANALYZE_EVERY_PAGES = 20  # PostgreSQL statistics refresh while a first sync grows the tables


@dataclass
class SyncStats:
    objects: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    retries: int = 0
    token_refreshes: int = 0
    deleted: int = 0
    problems: list[Problem] = field(default_factory=list)
    fetch_seconds: float = 0.0  # waiting on the vendor client (HTTP and JSON) for a page
    vendor_seconds: float = 0.0  # inside the vendor client, in the fetch thread (overlaps ours)
    process_seconds: float = 0.0  # ours: mapping, staging, upserts, settlement, commit

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


def sync_entity(
    deps: ToolDeps,
    stats: SyncStats,
    entity: str,
    pages: EntityPages,
    *,
    page_size: int,
    progress_disabled: bool | None,
) -> None:
    with deps.engine.connect() as c:
        cursor = Cursor.load(sq.get_cursor(c, pages.cursor_name))

    def fetch(at: Cursor) -> list[Any]:
        started = time.perf_counter()
        try:
            return pages.fetch(at)
        finally:
            stats.vendor_seconds += time.perf_counter() - started

    with (
        tqdm(desc=pages.label, unit=" obj", disable=progress_disabled) as bar,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="books-fetch") as pool,
    ):
        pending = pool.submit(fetch, Cursor.load(cursor.dump()))
        done = False
        while not done:
            waited = time.perf_counter()
            page = pending.result()
            stats.fetch_seconds += time.perf_counter() - waited
            started = time.perf_counter()
            fresh, done = cursor.advance(page, page_size, pages.stamp, pages.ident)
            state = cursor.dump()
            if not done:
                pending = pool.submit(fetch, Cursor.load(state))
            with deps.engine.begin() as c:
                stats.problems += pages.apply(c, fresh)
                sq.set_cursor(c, pages.cursor_name, state)
            stats.process_seconds += time.perf_counter() - started
            stats.objects[entity] = stats.objects.get(entity, 0) + len(fresh)
            stats.pages += 1
            bar.update(len(fresh))
            if stats.pages % ANALYZE_EVERY_PAGES == 0:
                with deps.engine.begin() as c:
                    sq.analyze_ledger(c)
