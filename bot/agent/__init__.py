"""The LLM agent behind the fast path: what the router cannot answer goes here."""

from bot.agent.fallback import agent_fallback
from bot.agent.runner import Agent, AgentReply

__all__ = ["Agent", "AgentReply", "agent_fallback"]
