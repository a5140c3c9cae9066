"""The bot's own state: conversation memory per Slack thread, LLM usage, seen event ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from db.models import ConversationMessage, LlmUsage, ProcessedEvent


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


def record_seen_events(session: Session, source: str, keys: list[str]) -> None:
    """Add these event ids; the unique constraint raises IntegrityError at flush on a repeat."""
    session.add_all(ProcessedEvent(source=source, event_id=k) for k in keys)


def prune_bot_state(conn: Connection, before: datetime) -> dict[str, int]:
    """Delete thread memory, LLM usage and seen event ids older than `before`; counts."""
    out = {}
    for name, table, column in (
        ("conversation_messages", ConversationMessage, ConversationMessage.created_at),
        ("llm_usage", LlmUsage, LlmUsage.created_at),
        ("processed_events", ProcessedEvent, ProcessedEvent.received_at),
    ):
        out[name] = int(conn.execute(delete(table).where(column < before)).rowcount or 0)
    return out
