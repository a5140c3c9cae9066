"""Listener modules, one per kind of Slack input; each has `register(app, deps)`.

`create_app` registers every module listed in LISTENERS, in order. To add listeners (e.g.
approval buttons), write a module with `register(app: App, deps: BotDeps)` and append it.
"""

from __future__ import annotations

from types import ModuleType

from bot.listeners import actions, alerts, approvals, commands, mentions, messages

LISTENERS: list[ModuleType] = [messages, mentions, commands, actions, approvals, alerts]
