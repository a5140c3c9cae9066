"""The pipeline's fallback for what the fast path cannot answer: the LLM agent when present.

Resolved at start-up by `arbot ask` and `arbot serve`; None without an LLM configured (the
bot then answers the fast path and shows help for the rest).
"""

from __future__ import annotations

import logging

from bot.answer import Fallback
from tools.deps import ToolDeps

log = logging.getLogger(__name__)


def load_fallback(deps: ToolDeps) -> Fallback | None:
    try:
        from bot.agent import agent_fallback
    except ImportError as exc:  # the agent's optional packages are missing
        log.warning("event=agent_unavailable error=%s", exc)
        return None
    return agent_fallback(deps)
