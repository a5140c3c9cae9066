"""Encrypting the connectors' refresh tokens at rest, with the key from ARBOT_TOKEN_KEY.

A refresh token opens the company's books for months; a copy of the database alone must not.
Fernet (AES-CBC + HMAC) authenticates as well as encrypts, so a token encrypted under another
key is refused with a message instead of being sent to the provider as garbage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine

from db import oauth_tokens
from tools.settings import Settings, SettingsError, env_name


def _fernet(settings: Settings) -> Fernet:
    key = settings.token_key
    if key is None or not key.get_secret_value():
        raise SettingsError(
            f"setting {env_name('token_key')}: required to keep OAuth tokens; make one with "
            '`python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`'
        )
    try:
        return Fernet(key.get_secret_value().encode())
    except ValueError as exc:
        raise SettingsError(
            f"setting {env_name('token_key')}: not a Fernet key (32 url-safe base64 bytes)"
        ) from exc


def load_refresh_token(settings: Settings, engine: Engine, provider: str) -> str | None:
    """The newest refresh token stored for `provider`, decrypted; None if none is stored."""
    with engine.connect() as conn:
        stored = oauth_tokens.stored_token(conn, provider)
    return None if stored is None else _decrypt(settings, provider, stored[1])


def rotate_refresh_token(
    settings: Settings,
    engine: Engine,
    provider: str,
    tenant_id: str,
    first: str | None,
    refresh: Callable[[str], str],
) -> None:
    """Refresh with the newest stored token (`first` before any is stored) and store the one
    the provider returns, holding the token row throughout: the provider voids a refresh
    token once used, so two syncs refreshing at once must take turns, the second with the
    token the first stored, or one of them would store a token that is already dead."""
    box = _fernet(settings)
    if engine.dialect.name == "sqlite":
        # Holding SQLite's write lock through the HTTP call would fail the sync's own page
        # writes (a reader that must upgrade to a writer is refused at once, not queued), so
        # refreshes take turns within the process, the one an embedded database serves.
        with _turn(str(engine.url), provider):
            token = load_refresh_token(settings, engine, provider) or first
            if token is None:
                raise SettingsError(f"no {provider} refresh token stored or set: connect first")
            store_refresh_token(settings, engine, provider, tenant_id, refresh(token))
        return
    with engine.begin() as conn:
        initial = None if first is None else box.encrypt(first.encode()).decode()
        stored = oauth_tokens.lock_token(conn, provider, tenant_id, initial)
        if stored is None:
            raise SettingsError(f"no {provider} refresh token stored or set: connect first")
        rotated = refresh(_decrypt(settings, provider, stored[1]))
        encrypted = box.encrypt(rotated.encode()).decode()
        oauth_tokens.save_token(conn, provider, tenant_id, encrypted)


_turns: dict[tuple[str, str], threading.Lock] = {}
_turns_guard = threading.Lock()


def _turn(url: str, provider: str) -> threading.Lock:
    with _turns_guard:
        return _turns.setdefault((url, provider), threading.Lock())


def _decrypt(settings: Settings, provider: str, encrypted: str) -> str:
    try:
        return _fernet(settings).decrypt(encrypted.encode()).decode()
    except InvalidToken as exc:
        raise SettingsError(
            f"setting {env_name('token_key')}: the stored {provider} token was encrypted with "
            "another key; set the key it was stored with, or connect again with a new token"
        ) from exc


def store_refresh_token(
    settings: Settings, engine: Engine, provider: str, tenant_id: str, token: str
) -> None:
    """Keep the token the provider just issued; committed at once, since the old one dies."""
    encrypted = _fernet(settings).encrypt(token.encode()).decode()
    with engine.begin() as conn:
        oauth_tokens.save_token(conn, provider, tenant_id, encrypted)
