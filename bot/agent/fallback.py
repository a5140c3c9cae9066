"""Plugs the agent into the answer pipeline as its fallback, or says once that it is off.

Without OPENAI_API_KEY the bot keeps working (fast path and help) and logs that the LLM is
off a single time per process, at start-up, not on every question.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.agent.runner import Agent
from bot.answer import Answer, AskContext, Fallback
from bot.cards import post_card
from tools import actions
from tools.deps import ToolDeps

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger(__name__)
_said_off = False


def agent_fallback(deps: ToolDeps) -> Fallback | None:
    """The pipeline's fallback that asks the agent; None (and one log line) with no LLM set up."""
    global _said_off
    if deps.settings.openai_api_key is None:
        if not _said_off:
            log.info("event=llm_off reason=no OPENAI_API_KEY: fast path and help only")
            _said_off = True
        return None
    agent = Agent(deps)
    log.info("event=llm_on model=%s", deps.settings.llm_model)

    def ask(question: str, context: AskContext) -> Answer:
        reply = agent.ask(
            question,
            user=context.user or actions.cli_proposer(),
            thread_key=context.thread_key,
        )
        return Answer.of(
            "agent",
            "agent",
            reply.result,
            data={
                "outcome": reply.outcome,
                "tools": reply.tool_calls,
                "proposed_action_ids": reply.proposed_action_ids,
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
            },
        )

    return ask


def slack_agent_fallback(deps: ToolDeps, client: WebClient) -> Fallback | None:
    """The agent for the Slack app: proposals it made get their approval card in the thread."""
    inner = agent_fallback(deps)
    if inner is None:
        return None

    def ask(question: str, context: AskContext) -> Answer | None:
        result = inner(question, context)
        if result is not None and context.channel:
            for action_id in result.proposed_action_ids:
                post_card(
                    client,
                    deps,
                    actions.load(deps, action_id),
                    channel=context.channel,
                    thread_ts=context.thread_ts,
                )
        return result

    return ask
