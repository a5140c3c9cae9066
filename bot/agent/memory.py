"""Conversation memory per Slack thread, in the database so it survives a restart.

Only what the people saw is kept: the question and the answer posted. Tool calls and raw
tool results stay out of memory on purpose: a follow-up ("and last quarter?") re-asks the
tools, so an old figure is never carried over unchecked. History is trimmed to a token
budget with `count_tokens_approximately` (no tokenizer download), newest turns kept.
"""

from __future__ import annotations

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    messages_from_dict,
    messages_to_dict,
)
from langchain_core.messages.utils import count_tokens_approximately, trim_messages

from db.bot_state import append_messages, recent_messages
from db.engine import transaction
from tools.deps import ToolDeps

MAX_ROWS = 40  # read at most this many rows before trimming by tokens


class ThreadMemory:
    def __init__(self, deps: ToolDeps, max_tokens: int) -> None:
        self.deps, self.max_tokens = deps, max_tokens

    def load(self, thread_key: str | None) -> list[BaseMessage]:
        if not thread_key or self.max_tokens <= 0:
            return []
        with self.deps.sessions() as session:
            rows = recent_messages(session, thread_key, MAX_ROWS)
        history = messages_from_dict(rows)
        if not history:
            return []
        trimmed = trim_messages(
            history,
            max_tokens=self.max_tokens,
            token_counter=count_tokens_approximately,
            strategy="last",
            start_on="human",
            allow_partial=False,
        )
        return list(trimmed)

    def save_turn(self, thread_key: str | None, question: str, answer: str) -> None:
        if not thread_key:
            return
        turn = messages_to_dict([HumanMessage(content=question), AIMessage(content=answer)])
        with transaction(self.deps.sessions) as session:
            append_messages(session, thread_key, turn)

    @staticmethod
    def user_questions(history: list[BaseMessage]) -> list[str]:
        return [str(m.content) for m in history if isinstance(m, HumanMessage)]
