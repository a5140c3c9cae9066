"""Identical concurrent questions share one computation; later ones compute afresh."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.singleflight import SingleFlight


def test_concurrent_calls_share_one_run_and_later_calls_rerun() -> None:
    flights = SingleFlight()
    runs: list[int] = []
    gate = threading.Event()

    def slow() -> int:
        runs.append(1)
        gate.wait(5)
        return len(runs)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(flights.run, "ar", slow) for _ in range(8)]
        time.sleep(0.2)
        gate.set()
        results = [f.result() for f in futures]
    assert results == [1] * 8 and len(runs) == 1
    assert flights.run("ar", slow) == 2, "nothing is cached once the flight has landed"
