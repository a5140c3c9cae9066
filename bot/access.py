"""Who may see AR numbers, and where.

Only configured finance users get answers (ARBOT_FINANCE_USERS: user ids, or user group ids
starting with S whose members are looked up with usergroups.users.list and cached for a few
minutes), and only in DMs or ARBOT_ALLOWED_CHANNELS. Everyone else gets a short refusal with
no numbers. An empty finance list answers nobody: fail closed. Each request's caller is
resolved against these rules once, by the middleware in bot.caller.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tools.settings import Settings

log = logging.getLogger(__name__)
GROUP_TTL_SECONDS = 300

NOT_FINANCE = (
    "Sorry, AR numbers are only shared with the finance team. "
    "If you need access, ask whoever runs arbot to add you to ARBOT_FINANCE_USERS."
)
WRONG_PLACE = (
    "I only answer AR questions in a direct message or in the finance channels. "
    "Send me a DM and ask there."
)


class Access:
    def __init__(self, settings: Settings, client: WebClient) -> None:
        self.users = {u for u in settings.finance_users if not u.startswith("S")}
        self.groups = [u for u in settings.finance_users if u.startswith("S")]
        self.channels = set(settings.allowed_channels)
        self.client = client
        self._members: set[str] = set()
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()
        if not settings.finance_users:
            log.warning("event=no_finance_users hint='set ARBOT_FINANCE_USERS; nobody is answered'")

    def _group_members(self) -> set[str]:
        """Members of the finance user groups, cached for a few minutes. A failed lookup
        keeps the last known members and is tried again on the next request."""
        if not self.groups:
            return set()
        with self._lock:
            if time.monotonic() - self._loaded_at < GROUP_TTL_SECONDS:
                return self._members
            members: set[str] = set()
            for group in self.groups:
                try:
                    members |= set(self.client.usergroups_users_list(usergroup=group)["users"])
                except Exception as exc:
                    error = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
                    log.warning("event=usergroup_lookup_failed group=%s error=%s", group, error)
                    return self._members
            self._members, self._loaded_at = members, time.monotonic()
            return members

    def is_finance(self, user: str | None) -> bool:
        if not user:
            return False
        return user in self.users or user in self._group_members()

    def allowed_place(self, channel: str | None, channel_type: str | None = None) -> bool:
        if not channel:
            return False
        return channel_type == "im" or channel.startswith("D") or channel in self.channels
