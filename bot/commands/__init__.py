"""Sub-commands of `arbot`; each module has `register(subparsers)` and sets `run`.

Modules are imported only for the command being run: the Slack, LLM and Stripe libraries
take over a second to import, which `arbot report` in a script should not pay.
"""

from importlib import import_module
from types import ModuleType

# command word -> module that registers it
COMMANDS: dict[str, str] = {
    "db": "db_cmd",
    "import": "import_cmd",
    "report": "report_cmd",
    "forecast": "forecast_cmd",
    "demo": "demo_cmd",
    "stripe": "stripe_cmd",
    "quickbooks": "quickbooks_cmd",
    "xero": "xero_cmd",
    "reconcile": "reconcile_cmd",
    "propose": "propose_cmd",
    "ask": "ask_cmd",
    "serve": "serve_cmd",
    "jobs": "jobs_cmd",
    "bank": "bank_cmd",
    "cash": "cash_cmd",
    "worker": "jobs_cmd",
    "outbox": "outbox_cmd",
}


def modules_for(command: str | None) -> list[ModuleType]:
    """The module of `command`, or every module (for help) when it is not a known command."""
    names = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    return [import_module(f"bot.commands.{name}") for name in names]
