"""Which of a question's proposals get an approval card: only those its answer shows.

A proposal made while answering is kept only when the answer posted shows it (so the person
reads, in our words, what is waiting for approval); any other is cancelled at once, with its
audit row, and gets no card: nobody is asked to approve what the answer never mentioned.
"""

from __future__ import annotations

import logging

from bot.agent.tools import Turn
from tools.action_withdraw import withdraw
from tools.deps import ToolDeps

log = logging.getLogger(__name__)


def settle(deps: ToolDeps, turn: Turn, shown: set[int]) -> list[int]:
    """The proposals to post cards for; the others of the turn are withdrawn."""
    kept = [i for i in turn.proposed_action_ids if i in shown]
    for action_id in turn.proposed_action_ids:
        if action_id not in shown and withdraw(deps, action_id, turn.user):
            log.warning("event=agent_proposal_withdrawn action=%s", action_id)
    return kept
