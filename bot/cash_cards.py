"""Cash application cards in Slack: posted per statement in chunks, redrawn in place.

Each bank line remembers the message it is on, so a decision (a click, the CLI, the rule)
redraws that message from the database; the redraw runs under a per-message lock so a slow
update never paints an older state over a newer one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from slack_sdk import WebClient

from bot.blocks.cash import MAX_LINES_PER_CARD, statement_card
from bot.blocks.common import escape
from db import bank as bank_db
from db.engine import transaction
from tools.cash_lines import shown_lines
from tools.deps import ToolDeps

_LOCKS = [threading.Lock() for _ in range(64)]


def post_cash_cards(
    client: WebClient, deps: ToolDeps, channel: str, txn_ids: Sequence[int]
) -> list[str]:
    """One message per statement chunk; returns the messages' ts."""
    lines = shown_lines(deps, txn_ids)
    by_statement: dict[str, list[int]] = {}
    for line in lines:
        by_statement.setdefault(line.statement, []).append(line.txn_id)
    posted = []
    for statement, ids in by_statement.items():
        for start in range(0, len(ids), MAX_LINES_PER_CARD):
            chunk = [
                ln for ln in lines if ln.txn_id in set(ids[start : start + MAX_LINES_PER_CARD])
            ]
            blocks, text = statement_card(statement, chunk)
            response = client.chat_postMessage(
                channel=channel,
                text=escape(text),
                blocks=[b.to_dict() for b in blocks],
                unfurl_links=False,
            )
            ts = str(response["ts"])
            with transaction(deps.sessions) as session:
                bank_db.set_txn_card(
                    session,
                    [ln.txn_id for ln in chunk],
                    str(response.get("channel") or channel),
                    ts,
                )
            posted.append(ts)
    return posted


def refresh_cash_card(client: WebClient, deps: ToolDeps, txn_id: int) -> None:
    """Redraw the message the line is on (no-op when it was never posted)."""
    with deps.sessions() as session:
        txn = bank_db.get_txn(session, txn_id)
        channel, ts = (txn.slack_channel, txn.slack_ts) if txn else (None, None)
        if channel is None or ts is None:
            return
        ids = bank_db.txn_ids_on_card(session, channel, ts)
    with _LOCKS[hash(ts) % len(_LOCKS)]:
        lines = shown_lines(deps, ids)
        blocks, text = statement_card(lines[0].statement, lines)
        client.chat_update(
            channel=channel, ts=ts, text=escape(text), blocks=[b.to_dict() for b in blocks]
        )
