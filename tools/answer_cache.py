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

_answers: OrderedDict[Hashable, tuple[int, object]] = OrderedDict()
_guard = threading.Lock()
_computing: dict[Hashable, threading.Lock] = {}


def cached(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), or the answer it gave for this key at the ledger's current version."""
    full = (str(session.get_bind().engine.url), key)
    version = ledger_version(session)
    found = _lookup(full, version)
    if found is not None:
        return found[0]  # type: ignore[return-value]
    with _guard:
        lock = _computing.setdefault(full, threading.Lock())
    with lock:
        found = _lookup(full, version)
        if found is not None:
            return found[0]  # type: ignore[return-value]
        value = compute()
        with _guard:
            _answers[full] = (version, value)
            _answers.move_to_end(full)
            while len(_answers) > MAX_ANSWERS:
                _answers.popitem(last=False)
            _computing.pop(full, None)  # waiters still hold it and will find the answer
        return value


def _lookup(full: Hashable, version: int) -> tuple[object] | None:
    with _guard:
        hit = _answers.get(full)
        if hit is None or hit[0] != version:
            return None
        _answers.move_to_end(full)
        return (hit[1],)
