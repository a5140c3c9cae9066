"""The digest's cash application line: cash received in the week, applied automatically and
by hand in the week, and what is still waiting."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field

from db import bank as bank_db
from tools.clock import day_cut
from tools.deps import ToolDeps


class CashWeek(BaseModel):
    received: dict[str, int] = Field(description="currency -> minor units booked in the week")
    applied_auto: dict[str, int]
    applied_by_hand: dict[str, int]
    still_unapplied: dict[str, int]

    @property
    def empty(self) -> bool:
        return not (
            self.received or self.applied_auto or self.applied_by_hand or self.still_unapplied
        )


def cash_week(deps: ToolDeps, week_start: date, as_of: date) -> CashWeek:
    tz = deps.settings.tz
    with deps.sessions() as session:
        sums = bank_db.cash_week(
            session,
            week_start,
            as_of,
            day_cut(week_start - timedelta(days=1), tz),
            day_cut(as_of, tz),
        )
    return CashWeek(
        received=sums["received"],
        applied_auto=sums["auto"],
        applied_by_hand=sums["hand"],
        still_unapplied=sums["unapplied"],
    )
