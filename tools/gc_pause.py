"""Python's cycle collector paused while a large structure is built.

Building an index of a million-invoice ledger allocates hundreds of thousands of lists and
tuples; each allocation burst triggers a collection that walks every object still young,
and the older generations grow with the index, so the collector costs as much again as the
build. What such a build makes (plain lists, tuples and dicts) holds no reference cycle and
is freed by reference counting; a cycle made meanwhile (a database session's bookkeeping)
waits for the first collection after the pause. The pause is process-wide: other threads
run without cycle collection for its few seconds.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collector off inside, back on after unless it was off already (nested or by the
    caller)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
