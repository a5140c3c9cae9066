"""Where an accounting-sync benchmark's CPU went, by process and thread, for the two sync
benchmarks (bench_quickbooks, bench_xero).

Wall-clock shares mislead on a shared machine: a thread waiting for a core counts as busy in
whatever it was doing, so "our processing" looks like all of the time whenever the machine is
loaded. CPU seconds do not depend on the load, so the share of the work that is ours is
reported from them too: our thread (mapping, staging, SQL on SQLite) plus the PostgreSQL
backends that run our statements, against everything the sync cost, the fake vendor's server
included (the vendor's machine, in production).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


class Backends:
    """The PostgreSQL server processes serving an engine's connections, and their CPU."""

    def __init__(self, engine: sa.Engine) -> None:
        self.pids: set[int] = set()
        self.start: dict[int, float] = {}
        if engine.dialect.name != "postgresql":
            return

        def saw(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                self.pids.add(int(cur.fetchone()[0]))

        event.listen(engine, "connect", saw)
        with engine.connect() as conn:
            pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            self.pids.add(int(pid))

    def mark(self) -> None:
        self.start = {pid: process_cpu(pid) for pid in self.pids}

    def used(self) -> float:
        return sum(process_cpu(pid) - self.start.get(pid, 0.0) for pid in self.pids)


@dataclass
class Figures:
    wall: float
    objects: int
    ours_wall: float  # the writing thread's wall time in our code (the old measure)
    ours_cpu: float  # the writing thread's CPU: mapping, staging, SQLite's work
    vendor_cpu: float  # the vendor client's thread: HTTP and JSON
    process_cpu: float  # this whole process
    db_cpu: float  # PostgreSQL backends running our statements (0 on SQLite)
    fake_cpu: float  # the fake vendor's server process
    load_before: tuple[float, float, float]

    def print(self, vendor: str) -> None:
        total_cpu = self.process_cpu + self.db_cpu + self.fake_cpu
        ours = self.ours_cpu + self.db_cpu
        load_after = os.getloadavg()
        print(f"total: {self.wall:.1f}s wall  ->  {self.objects / self.wall:,.0f} objects/s")
        print(
            f"our processing, wall (thread busy or waiting for a core in our code): "
            f"{self.ours_wall:.1f}s ({100 * self.ours_wall / self.wall:.0f}% of the wall time)"
        )
        print("CPU seconds:")
        print(f"  ours, map + stage + write thread: {self.ours_cpu:.1f}s")
        print(f"  ours, PostgreSQL backends:        {self.db_cpu:.1f}s")
        print(f"  {vendor} client thread (HTTP + JSON): {self.vendor_cpu:.1f}s")
        other = self.process_cpu - self.ours_cpu - self.vendor_cpu
        print(f"  rest of this process (tokens, pool): {other:.1f}s")
        print(f"  fake {vendor} server process: {self.fake_cpu:.1f}s")
        print(
            f"  all: {total_cpu:.1f}s  ->  {self.objects / total_cpu:,.0f} objects per CPU-second"
        )
        print(f"our share of the CPU: {100 * ours / total_cpu:.0f}%")
        if ours:
            print(f"ours alone would sustain {self.objects / ours:,.0f} objects/s on a free core")
        print(
            f"CPU available to the sync: {total_cpu / self.wall:.2f} cores of "
            f"{os.cpu_count()}; load average (1, 5, 15 min) before: "
            f"{' '.join(f'{x:.2f}' for x in self.load_before)}, after: "
            f"{' '.join(f'{x:.2f}' for x in load_after)}"
        )
        rate = self.objects / self.wall
        print(f"target >= 2,000 objects/s (wall): {'met' if rate >= 2_000 else 'NOT met'}")
        print(f"target our share < 50% (CPU): {'met' if ours < 0.5 * total_cpu else 'NOT met'}")
        wall_ok = self.ours_wall < 0.5 * self.wall
        print(f"target our share < 50% (wall): {'met' if wall_ok else 'NOT met'}")
