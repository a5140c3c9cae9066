"""Whole answers kept until the ledger changes: the same question asked fifty times a second
costs one computation and fifty one-row reads of the ledger version.

Every write bumps the version in its own transaction (db.ar_sums), so an answer cached under
version V is exactly what a fresh computation at V gives; a question asked after a write sees
the new version and recomputes. A key names everything the answer depends on besides the
ledger (the database, the resolved as-of date, the settings that shape it). Concurrent askers
of one key wait for a single computation instead of each running it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy.orm import Session

from db.ar_sums import ledger_version

T = TypeVar("T")
MAX_ANSWERS = 256
# Large values (a whole ledger's open invoices indexed for matching, about 100 MB on a
# million invoices) are kept a few at a time, apart from the answers.
MAX_LARGE = 2

_answers: OrderedDict[Hashable, tuple[int, object]] = OrderedDict()
_large: OrderedDict[Hashable, tuple[int, object]] = OrderedDict()
_guard = threading.Lock()
_computing: dict[Hashable, threading.Lock] = {}


def cached(session: Session, key: Hashable, compute: Callable[[], T], *, large: bool = False) -> T:
    """compute(), or the answer it gave for this key at the ledger's current version; a
    `large` answer is one of the MAX_LARGE kept."""
    full = (str(session.get_bind().engine.url), key)
    store, limit = (_large, MAX_LARGE) if large else (_answers, MAX_ANSWERS)
    version = ledger_version(session)
    found = _lookup(store, full, version)
    if found is not None:
        return found[0]  # type: ignore[return-value]
    with _guard:
        lock = _computing.setdefault(full, threading.Lock())
    with lock:
        found = _lookup(store, full, version)
        if found is not None:
            return found[0]  # type: ignore[return-value]
        value = compute()
        with _guard:
            store[full] = (version, value)
            store.move_to_end(full)
            while len(store) > limit:
                store.popitem(last=False)
            _computing.pop(full, None)  # waiters still hold it and will find the answer
        return value


def _lookup(
    store: OrderedDict[Hashable, tuple[int, object]], full: Hashable, version: int
) -> tuple[object] | None:
    with _guard:
        hit = store.get(full)
        if hit is None or hit[0] != version:
            return None
        store.move_to_end(full)
        return (hit[1],)
