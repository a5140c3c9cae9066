"""Pages of a Stripe list endpoint, read ahead on a thread and handed out in batches.

The backfill writes each batch in one transaction with its cursor. A transaction costs a
fixed number of statements (stage, upsert, settlement, dated sums, cursor, commit) whatever
its size, so writing one page of 100 objects at a time spends most of the database's time on
that fixed part. Here a thread keeps fetching while the caller writes, and the caller takes
every page that has arrived since (up to `batch_pages`): when Stripe answers faster than the
ledger writes, batches grow and the fixed part is paid once for many pages; when it answers
slower, each page is written as soon as it comes.

A failed request ends the listing, but only after the pages fetched before it are handed
out, so the caller commits them and a retry starts after the last committed object.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import stripe

Page = list[Any]
Fetch = Callable[[str | None], Any]  # cursor -> the decoded list response


def list_page(client: stripe.StripeClient, path: str, params: Mapping[str, Any]) -> Any:
    """One page of a list endpoint, decoded into plain dicts and lists.

    `raw_request` decodes every answer with an OrderedDict per JSON object, which costs four
    times a plain decode and is most of the client's CPU on a page of 100 invoices (about
    0.16 of 0.24 ms per object). The client's own requestor still sends the request (key,
    API version, retries of connection errors and 5xx) and turns an error answer into the
    same typed exception `raw_request` raises; only the decoding of a good answer is ours.
    Those are private parts of the client (pinned below 17 in pyproject.toml); without them
    this falls back to `raw_request`.
    """
    requestor = getattr(client, "_requestor", None)
    if requestor is None or not hasattr(requestor, "_interpret_response"):
        return client.raw_request("get", path, **params).data
    body, code, headers = requestor.request_raw(
        "get", path, dict(params), base_address="api", api_mode="V1", usage=["raw_request"]
    )
    if not 200 <= code < 300:
        requestor._interpret_response(body, code, headers, "V1")  # raises the typed error
    return json.loads(body)


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


def single_pages(
    fetch: Fetch, after: str | None, waited: Callable[[float], None]
) -> Iterator[list[Page]]:
    """Fetch and hand out in turn, one page per batch (no thread)."""
    while True:
        started = time.perf_counter()
        page = fetch(after)
        waited(time.perf_counter() - started)
        data = page["data"]
        if data:
            yield [data]
            after = data[-1]["id"]
        if not (page["has_more"] and data):
            return


def read_ahead(
    fetch: Fetch,
    after: str | None,
    waited: Callable[[float], None],
    *,
    batch_pages: int,
    pages_ahead: int,
) -> Iterator[list[Page]]:
    """Batches of the pages after `after`, in order; `waited` is told how long the caller
    waited for each batch (the time the listing, not the ledger, cost)."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=pages_ahead)
    stop = threading.Event()

    def produce() -> None:
        cursor = after
        try:
            while not stop.is_set():
                page = fetch(cursor)
                data = page["data"]
                if data:
                    ready.put(data)
                if not (page["has_more"] and data):
                    break
                cursor = data[-1]["id"]
            ready.put(_END)
        except BaseException as exc:  # handed to the caller, which decides about retrying
            ready.put(_Failed(exc))

    worker = threading.Thread(target=produce, name="stripe-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            started = time.perf_counter()
            item = ready.get()
            waited(time.perf_counter() - started)
            batch: list[Page] = []
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
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)
        worker.join()
