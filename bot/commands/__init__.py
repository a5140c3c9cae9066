"""Sub-commands of `arbot`; each module has `register(subparsers)` and sets `run`."""

from bot.commands import (
    ask_cmd,
    db_cmd,
    demo_cmd,
    import_cmd,
    jobs_cmd,
    propose_cmd,
    report_cmd,
    serve_cmd,
    stripe_cmd,
)

COMMANDS = [
    db_cmd,
    import_cmd,
    report_cmd,
    demo_cmd,
    stripe_cmd,
    propose_cmd,
    ask_cmd,
    serve_cmd,
    jobs_cmd,
]
