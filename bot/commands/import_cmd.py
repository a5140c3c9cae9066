"""`arbot import DIR`: load CSV exports, all or nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tools.csv_import import ImportErrors, import_directory
from tools.csv_rows import ORDER
from tools.deps import connect
from tools.ledger_record import relink, source_line
from tools.settings import load_settings

MAX_PRINTED_ERRORS = 50


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "import",
        help="import CSV exports from a directory",
        description="Reads whichever of these exist in DIR: "
        + ", ".join(f"{e}.csv" for e in ORDER)
        + ". Any bad row means nothing is written; errors are printed as FILE:LINE: problem "
        "and the exit status is 2. Re-importing the same files changes nothing.",
    )
    parser.add_argument("directory", type=Path, metavar="DIR")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    deps = connect(settings)
    try:
        summary = import_directory(deps.engine, args.directory, tz=settings.tz)
    except ImportErrors as exc:
        print_errors(exc)
        return 2
    relink(deps.engine, settings)
    for line in summary.lines():
        print(line)
    with deps.engine.connect() as conn:
        print(source_line(conn))
    return 0


def print_errors(exc: ImportErrors) -> None:
    for line in exc.errors[:MAX_PRINTED_ERRORS]:
        print(line, file=sys.stderr)
    if exc.total > MAX_PRINTED_ERRORS:
        print(f"... and {exc.total - MAX_PRINTED_ERRORS} more errors", file=sys.stderr)
    print(f"import refused: {exc.total} errors, nothing was written", file=sys.stderr)
