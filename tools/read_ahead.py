"""Pages of a vendor's listing, read ahead on a thread and handed out in batches: how every
sync (Stripe's backfill, the accounting connectors) overlaps the vendor with its writes.

A sync writes each batch in one transaction with its cursor. A transaction costs a fixed
number of statements (stage, checks, upsert, settlement, dated sums, cursor, commit) whatever
its size, so writing one page at a time spends much of the database's time on that fixed
part. Here a thread keeps fetching while the caller writes, and the caller takes every page
that has arrived since (up to `batch_pages`): when the vendor answers faster than the ledger
writes, batches grow and the fixed part is paid once for many pages; when it answers slower,
each page is written as soon as it comes.

A failed request ends the listing, but only after the pages fetched before it are handed
out, so the caller commits them and a retry starts after the last committed page.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
# cursor -> (what the page gives the caller, or None for nothing; the next cursor, or None
# once the listing is done)
Step = Callable[[Any], tuple[Item | None, Any]]


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


def one_at_a_time(
    step: Step[Item], start: Any, waited: Callable[[float], None]
) -> Iterator[list[Item]]:
    """Fetch and hand out in turn, one page per batch (no thread)."""
    cursor = start
    while True:
        started = time.perf_counter()
        item, cursor = step(cursor)
        waited(time.perf_counter() - started)
        if item is not None:
            yield [item]
        if cursor is None:
            return


class _Producer(Generic[Item]):
    def __init__(self, step: Step[Item], start: Any, pages_ahead: int) -> None:
        self.step, self.cursor = step, start
        self.ready: queue.Queue[Any] = queue.Queue(maxsize=pages_ahead)
        self.stop = threading.Event()

    def __call__(self) -> None:
        try:
            while not self.stop.is_set():
                item, self.cursor = self.step(self.cursor)
                if item is not None:
                    self.ready.put(item)
                if self.cursor is None:
                    break
            self.ready.put(_END)
        except BaseException as exc:  # handed to the caller, which decides about retrying
            self.ready.put(_Failed(exc))


def read_ahead(
    step: Step[Item],
    start: Any,
    waited: Callable[[float], None],
    *,
    batch_pages: int,
    pages_ahead: int,
    name: str = "read-ahead",
) -> Iterator[list[Item]]:
    """Batches of what `step` gives for each page from `start` on, in order; `waited` is told
    how long the caller waited for each batch (the time the listing, not the ledger, cost)."""
    producer = _Producer(step, start, pages_ahead)
    ready = producer.ready
    worker = threading.Thread(target=producer, name=name, daemon=True)
    worker.start()
    try:
        while True:
            started = time.perf_counter()
            item = ready.get()
            waited(time.perf_counter() - started)
            batch: list[Item] = []
            while True:
                if item is _END or isinstance(item, _Failed):
                    break
                batch.append(item)
                if len(batch) >= batch_pages:
                    item = None
                    break
                try:
                    item = ready.get_nowait()
                except queue.Empty:
                    item = None
                    break
            if batch:
                yield batch
            if isinstance(item, _Failed):
                raise item.error
            if item is _END:
                return
    finally:
        # The caller stopped early (or failed writing): let the thread finish its request,
        # unblock it if the queue is full, and wait for it, so no request outlives the sync.
        producer.stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)
        worker.join()
