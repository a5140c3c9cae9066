"""`arbot db upgrade`: apply schema migrations (every command also does this on first use)."""

from __future__ import annotations

import argparse
from typing import Any

from tools.deps import open_ledger
from tools.settings import load_settings


def register(sub: Any) -> None:
    parser = sub.add_parser("db", help="database maintenance")
    db_sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="bring the schema to the newest revision")
    up.set_defaults(run=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine, applied = open_ledger(settings)
    engine.dispose()
    print("schema upgraded" if applied else "schema already up to date")
    return 0
