"""The one place a Slack Web API client is made: base URL from settings, 429s retried.

Tests and air-gapped installs point ARBOT_SLACK_API_URL at another server; the client honours
Slack's Retry-After on HTTP 429 (slack_sdk's RateLimitErrorRetryHandler) and retries a
dropped connection once.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from tools.settings import Settings, SettingsError


def bot_token(settings: Settings) -> str:
    if settings.slack_bot_token is None:
        raise SettingsError("setting SLACK_BOT_TOKEN: required to talk to Slack (xoxb-...)")
    return settings.slack_bot_token.get_secret_value()


def make_web_client(
    settings: Settings, *, token: str | None = None, timeout: int = 30
) -> WebClient:
    base_url = settings.slack_api_url
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(
        token=token or bot_token(settings),
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )
