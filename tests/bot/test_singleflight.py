"""Identical concurrent questions share one computation; later ones compute afresh."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor

from bot.singleflight import SingleFlight

CALLERS = 8


def test_concurrent_calls_share_one_run_and_later_calls_rerun() -> None:
    everyone_waits = threading.Event()

    def joined(_key: Hashable, callers: int) -> None:
        if callers == CALLERS:
            everyone_waits.set()

    flights = SingleFlight(on_join=joined)
    runs: list[int] = []
    gate = threading.Event()

    def slow() -> int:
        runs.append(1)
        assert gate.wait(10), "the test never opened the gate"
        return len(runs)

    with ThreadPoolExecutor(CALLERS) as pool:
        futures = [pool.submit(flights.run, "ar", slow) for _ in range(CALLERS)]
        assert everyone_waits.wait(10), "not every caller joined the flight"
        gate.set()
        results = [f.result() for f in futures]
    assert results == [1] * CALLERS and len(runs) == 1
    assert flights.run("ar", slow) == 2, "nothing is cached once the flight has landed"


def test_a_failure_reaches_every_caller_and_is_not_remembered() -> None:
    everyone_waits = threading.Event()
    flights = SingleFlight(on_join=lambda _k, n: everyone_waits.set() if n == 2 else None)
    gate = threading.Event()

    def broken() -> int:
        assert gate.wait(10)
        raise RuntimeError("database exploded")

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(flights.run, "ar", broken) for _ in range(2)]
        assert everyone_waits.wait(10)
        gate.set()
        errors = [f.exception(10) for f in futures]
    assert [str(e) for e in errors] == ["database exploded"] * 2
    assert flights.run("ar", lambda: 7) == 7
