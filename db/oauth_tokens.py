"""OAuth 2 refresh tokens of the accounting connectors, stored encrypted.

Intuit and Xero rotate the refresh token on every use and the previous one stops working
soon after, so the newest one must outlive the process that received it: it is written here
in the same breath as it arrives. The value is ciphertext (tools.token_box); this module never
sees a key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, String, Text, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow


class OAuthToken(Base):
    __tablename__ = "oauth_tokens"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    # The tenant the token opens: QuickBooks' realm id, Xero's tenant id.
    tenant_id: Mapped[str] = mapped_column(String(100))
    refresh_token_encrypted: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def stored_token(conn: Connection, provider: str) -> tuple[str, str] | None:
    """(tenant id, encrypted refresh token) of `provider`, or None before the first connect."""
    row = conn.execute(
        select(OAuthToken.tenant_id, OAuthToken.refresh_token_encrypted).where(
            OAuthToken.provider == provider
        )
    ).first()
    return None if row is None else (str(row[0]), str(row[1]))


def save_token(conn: Connection, provider: str, tenant_id: str, encrypted: str) -> None:
    values = {"tenant_id": tenant_id, "refresh_token_encrypted": encrypted, "updated_at": utcnow()}
    done = conn.execute(update(OAuthToken).where(OAuthToken.provider == provider).values(values))
    if done.rowcount == 0:
        conn.execute(insert(OAuthToken).values(provider=provider, **values))


def lock_token(
    conn: Connection, provider: str, tenant_id: str, first: str | None
) -> tuple[str, str] | None:
    """Take `provider`'s token row until this transaction ends, then read it: a second process
    refreshing at the same moment waits here and reads the token the first one stored.
    `first` (encrypted) is stored when no row exists yet, so there is a row to lock
    (SELECT ... FOR UPDATE; PostgreSQL)."""
    if first is not None:
        values = {"provider": provider, "tenant_id": tenant_id, "refresh_token_encrypted": first,
                  "updated_at": utcnow()}  # fmt: skip
        conn.execute(pg_insert(OAuthToken).values(values).on_conflict_do_nothing())
    row = conn.execute(
        select(OAuthToken.tenant_id, OAuthToken.refresh_token_encrypted)
        .where(OAuthToken.provider == provider)
        .with_for_update()
    ).first()
    return None if row is None else (str(row[0]), str(row[1]))
