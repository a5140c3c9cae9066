"""Encrypting the connectors' refresh tokens at rest, with the key from ARBOT_TOKEN_KEY.

A refresh token opens the company's books for months; a copy of the database alone must not.
Fernet (AES-CBC + HMAC) authenticates as well as encrypts, so a token encrypted under another
key is refused with a message instead of being sent to the provider as garbage.
"""

from __future__ import annotations

import hashlib
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


class TokenRefused(SettingsError):
    """Every refresh token was refused: a person must connect again. A write waiting in the
    outbox keeps waiting for that instead of failing."""


class RefreshRefused(Exception):
    """The provider refused the refresh token itself (OAuth `invalid_grant`): dead or revoked.
    Only this is a settings problem; anything else is retried."""


def rotate_refresh_token(
    settings: Settings,
    engine: Engine,
    provider: str,
    tenant_id: str,
    setting: str | None,
    refresh: Callable[[str], str],
    *,
    reconnect: str,
) -> None:
    """Refresh with the newest stored token and store the one the provider returns, holding
    the token row throughout: the provider voids a refresh token once used, so two processes
    refreshing at once must take turns, the second with the token the first stored, or one of
    them would store a token that is already dead.

    `setting` (the token in the settings) wins over the stored one when it differs from the
    setting last used: that is how a person reconnects (a new token from the consent flow).
    A digest of it is kept beside the token to tell. When the first token tried is refused
    (`refresh` raises RefreshRefused) the other one is tried once. `reconnect` is the
    SettingsError message when every token is refused."""
    box = _fernet(settings)
    seed = None if not setting else hashlib.sha256(setting.encode()).hexdigest()
    with engine.begin() as conn:
        initial = None if not setting else box.encrypt(setting.encode()).decode()
        stored = oauth_tokens.lock_token(conn, provider, tenant_id, initial)
        if stored is None:
            raise TokenRefused(reconnect)
        newest = _decrypt(settings, provider, stored[1])
        last_seed = oauth_tokens.stored_token(conn, _seed_row(provider))
        tries = [newest]
        if setting and seed != (last_seed[1] if last_seed else None):
            tries = [setting, newest]  # a setting changed since last time: a reconnect
        rotated = None
        for token in dict.fromkeys(tries):
            try:
                rotated = refresh(token)
                break
            except RefreshRefused:
                continue
        if rotated is None:
            raise TokenRefused(reconnect)
        encrypted = box.encrypt(rotated.encode()).decode()
        oauth_tokens.save_token(conn, provider, tenant_id, encrypted)
        if seed is not None:
            oauth_tokens.save_token(conn, _seed_row(provider), tenant_id, seed)


def _seed_row(provider: str) -> str:
    """The row holding the digest of the settings token last used for `provider`."""
    return f"{provider}:seed"


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


def store_connected_token(
    settings: Settings,
    engine: Engine,
    provider: str,
    tenant_id: str,
    token: str,
    setting: str | None,
) -> None:
    """Keep the token a consent just issued, and mark the settings token (if any) as seen, so
    the next refresh starts from this consent's token, not an older one left in the settings."""
    box = _fernet(settings)
    with engine.begin() as conn:
        oauth_tokens.save_token(conn, provider, tenant_id, box.encrypt(token.encode()).decode())
        if setting:
            seed = hashlib.sha256(setting.encode()).hexdigest()
            oauth_tokens.save_token(conn, _seed_row(provider), tenant_id, seed)
