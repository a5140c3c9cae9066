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
OnJoin = Callable[[Hashable, int], None]


class SingleFlight:
    def __init__(self, on_join: OnJoin | None = None) -> None:
        """`on_join(key, callers)` hears of each caller joining a flight (callers so far, the
        leader included), so a caller can count sharing, or know everyone is waiting."""
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, Future[object]] = {}
        self._callers: dict[Hashable, int] = {}
        self._on_join = on_join

    def run(self, key: Hashable, fn: Callable[[], T]) -> T:
        with self._lock:
            future = self._inflight.get(key)
            leader = future is None
            if future is None:
                future = Future()
                self._inflight[key] = future
            self._callers[key] = self._callers.get(key, 0) + 1
            if self._on_join is not None:
                self._on_join(key, self._callers[key])
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
                self._callers.pop(key, None)
