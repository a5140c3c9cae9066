"""The answer to "does Stripe match QuickBooks?": the weekly job's message, with a button
for every difference as CSV."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.ids import RowsRequest
from bot.blocks.reconcile import reconcile_message
from bot.intents import Intent
from tools.reconcile import Reconciliation


def reconcile_view(r: Reconciliation, intent: Intent | None = None) -> Rendered:
    rows = RowsRequest(kind="reconcile", as_of=r.as_of, sources=r.sources)
    return reconcile_message(r, rows=None if r.in_balance else rows)
