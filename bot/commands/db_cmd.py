"""`arbot db upgrade`: apply schema migrations (every command also does this on first use).
`arbot db relink`: derive again which source's rows the figures count (every sync and import
also does it, and every command's first use after a migration or a changed
ARBOT_LEDGER_OF_RECORD)."""

from __future__ import annotations

import argparse
from typing import Any

from tools.deps import connect, open_ledger
from tools.ledger_record import relink, source_line
from tools.settings import load_settings


def register(sub: Any) -> None:
    parser = sub.add_parser("db", help="database maintenance")
    db_sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="bring the schema to the newest revision")
    up.set_defaults(run=run_upgrade)
    link = db_sub.add_parser(
        "relink",
        help="link the same invoices across sources again and count the AR of record's rows",
        description="Every sync and import also does it, and the first command after a "
        "migration or a changed ARBOT_LEDGER_OF_RECORD. Rows are never deleted: the rows of "
        "other sources are only left uncounted.",
    )
    link.set_defaults(run=run_relink)


def run_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine, applied = open_ledger(settings)
    engine.dispose()
    print("schema upgraded" if applied else "schema already up to date")
    return 0


def run_relink(args: argparse.Namespace) -> int:
    settings = load_settings()
    deps = connect(settings)
    changed = relink(deps.engine, settings)
    with deps.engine.connect() as conn:
        print(
            f"{changed} invoice rows changed between counted and not counted; {source_line(conn)}"
        )
    return 0
