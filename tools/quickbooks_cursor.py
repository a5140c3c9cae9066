"""Where a QuickBooks sync of one entity stands, so it resumes and continues incrementally.

QuickBooks bumps `MetaData.LastUpdatedTime` on every change, and its query endpoint sorts by
it. The cursor keeps the newest update time read (`ts`) and the ids read at exactly that time.
Each page asks for `LastUpdatedTime >= ts` from the first position: an object changed while the
sync runs gets a newer time and is met again further on, so none is lost to shifting offsets,
and the few objects read again at `ts` are recognised by id and dropped.

One case needs offsets: a whole page sharing one update time (a bulk import inside one
second). Those are read with `= ts` page by page (`tie` = the next position), then the sync
goes on with `> ts`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tools.quickbooks_map import Malformed, Obj, updated_at


def _time(obj: Obj, default: str | None) -> str | None:
    try:
        return updated_at(obj).isoformat()
    except Malformed:
        return default  # the server placed it here; it belongs with its neighbours


def _id(obj: Obj) -> str:
    return str(obj.get("Id")) if isinstance(obj, dict) else ""


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

    def query(self, entity: str, size: int) -> str:
        where, start = "", 1
        if self.ts is not None:
            op = "=" if self.tie else (">" if self.after else ">=")
            where = f" WHERE MetaData.LastUpdatedTime {op} '{self.ts}'"
            start = self.tie or 1
        return (
            f"SELECT * FROM {entity}{where} ORDERBY MetaData.LastUpdatedTime "
            f"STARTPOSITION {start} MAXRESULTS {size}"
        )

    def advance(self, page: list[Obj], size: int) -> tuple[list[Obj], bool]:
        """(the objects of `page` not read before, whether the entity is done)."""
        seen = set(self.ids)
        fresh = [o for o in page if not (_time(o, self.ts) == self.ts and _id(o) in seen)]
        full = len(page) >= size
        if self.tie:
            self.tie = self.tie + len(page) if full else 0
            self.after = not full
            self.ids = []
            return fresh, False
        last = _time(page[-1], self.ts) if page else self.ts
        if full and last == self.ts:
            self.tie, self.ids, self.after = 1 + len(page), [], False
            return fresh, False
        if last != self.ts:
            self.ts, self.ids, self.after = last, [], False
        self.ids = sorted(set(self.ids) | {_id(o) for o in page if _time(o, self.ts) == self.ts})
        return fresh, not full
