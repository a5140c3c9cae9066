"""The `arbot` command: the one place that wires settings, database and the rest together.

Each sub-command lives in its own module under bot/commands and registers itself, so adding
a command never means editing a long dispatch function.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.commands import modules_for
from tools.redact import RedactingFormatter
from tools.settings import SettingsError

EXIT_USAGE = 2


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arbot",
        description="Accounts receivable assistant: ledger, reports and the Slack bot.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in modules_for(command):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[stderr])
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.run(args) or 0)
    except SettingsError as exc:
        print(f"arbot: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
