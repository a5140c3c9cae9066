"""Coalesce identical concurrent questions into one database computation.

When fifty people ask "what's our AR?" in the same second, the first question runs the
query and the others wait for its result instead of queueing fifty identical aggregates
behind it. Nothing is cached after the computation finishes, so a question that arrives
later always gets fresh numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class SingleFlight:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, Future[object]] = {}

    def run(self, key: Hashable, fn: Callable[[], T]) -> T:
        with self._lock:
            future = self._inflight.get(key)
            leader = future is None
            if future is None:
                future = Future()
                self._inflight[key] = future
        if not leader:
            return future.result()  # type: ignore[return-value]
        try:
            value = fn()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(value)
            return value
        finally:
            with self._lock:
                self._inflight.pop(key, None)
