"""Where an accounting sync of one entity stands, so it resumes and continues incrementally:
keyset paging on the vendor's last-updated time, shared by the connectors.

The vendors bump an object's last-updated time on every change and can list objects ordered
by it from a given time on. The cursor keeps the newest update time read (`ts`) and the ids
read at exactly that time. Each page asks for "updated at or after `ts`" from the first
position: an object changed while the sync runs gets a newer time and is met again further
on, so none is lost to shifting offsets, and the few objects read again at `ts` are recognised
by id and dropped.

One case needs offsets: a whole page sharing one update time (a bulk import inside one
second). Those are read from position `tie` page by page, then the sync goes on strictly after
`ts` (`after`). Each connector turns this state into its own request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Stamp = Callable[[Any, str | None], str | None]  # (object, default) -> its update time
Ident = Callable[[Any], str]


@dataclass
class Cursor:
    ts: str | None = None
    ids: list[str] = field(default_factory=list)
    tie: int = 0  # > 0: reading the objects at exactly `ts` from this position
    after: bool = False  # the objects at `ts` are all read: continue strictly after it

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        data = json.loads(text or "{}")
        return cls(
            ts=data.get("ts"),
            ids=list(data.get("ids", [])),
            tie=int(data.get("tie", 0)),
            after=bool(data.get("after", False)),
        )

    def dump(self) -> str:
        return json.dumps({"ts": self.ts, "ids": self.ids, "tie": self.tie, "after": self.after})

    def advance(
        self, page: list[Any], size: int, stamp: Stamp, ident: Ident
    ) -> tuple[list[Any], bool]:
        """(the objects of `page` not read before, whether the entity is done). `stamp`
        gives an object's update time as a comparable string (the default when it has none:
        the server placed it here, it belongs with its neighbours)."""
        seen = set(self.ids)
        fresh = [o for o in page if not (stamp(o, self.ts) == self.ts and ident(o) in seen)]
        full = len(page) >= size
        if self.tie:
            self.tie = self.tie + len(page) if full else 0
            self.after = not full
            self.ids = []
            return fresh, False
        last = stamp(page[-1], self.ts) if page else self.ts
        if full and last == self.ts:
            self.tie, self.ids, self.after = 1 + len(page), [], False
            return fresh, False
        if last != self.ts:
            self.ts, self.ids, self.after = last, [], False
        self.ids = sorted(set(self.ids) | {ident(o) for o in page if stamp(o, self.ts) == self.ts})
        return fresh, not full
