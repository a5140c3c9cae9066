"""The bot's own state: conversation memory per Slack thread and LLM usage."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ConversationMessage, LlmUsage


def recent_messages(session: Session, thread_key: str, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` stored messages of a thread, oldest first."""
    query = (
        select(ConversationMessage.message)
        .where(ConversationMessage.thread_key == thread_key)
        .order_by(ConversationMessage.id.desc())
        .limit(limit)
    )
    return list(reversed(list(session.execute(query).scalars())))


def append_messages(session: Session, thread_key: str, messages: list[dict[str, Any]]) -> None:
    session.add_all(ConversationMessage(thread_key=thread_key, message=m) for m in messages)


def record_usage(
    session: Session,
    *,
    thread_key: str | None,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    latency_ms: int,
) -> None:
    session.add(
        LlmUsage(
            thread_key=thread_key,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=latency_ms,
        )
    )
