"""Sub-commands of `arbot`; each module has `register(subparsers)` and sets `run`."""

from bot.commands import db_cmd, demo_cmd, import_cmd, propose_cmd, report_cmd, stripe_cmd

COMMANDS = [db_cmd, import_cmd, report_cmd, demo_cmd, stripe_cmd, propose_cmd]
