"""Listener modules, one per Slack surface; each has `register(app, deps)`.

`create_app` registers every module listed in LISTENERS, in order, after the middleware that
resolves each request's caller (bot.caller). Listeners import from `tools/` and `bot/` only.
"""

from __future__ import annotations

from types import ModuleType

from bot.listeners import actions, alerts, approvals, cash, questions

LISTENERS: list[ModuleType] = [questions, actions, approvals, alerts, cash]
