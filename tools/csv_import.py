"""`arbot import DIR`: accounting-system CSV exports into the ledger, all or nothing.

Each row is parsed and checked here (format rules a person can fix in the file); rows are
staged in the database, where cross-row rules (duplicates, references, over-payment) are
checked in SQL so memory stays flat on million-row files. Any error rolls the whole import
back and is reported as FILE:LINE: message.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from tqdm import tqdm

from db import bulk, ingest, table_stats, upserts
from db.upserts import UpsertCounts
from tools.csv_fast import as_tuple, fast_parser
from tools.csv_rows import COLUMNS, ORDER, SOURCE, RowError, Rows
from tools.money import format_major

BATCH_ROWS = 20_000
MAX_STORED_ERRORS = 10_000


@dataclass
class ImportErrors(Exception):
    errors: list[str]
    total: int

    def __str__(self) -> str:
        return "\n".join(self.errors)


@dataclass
class ImportSummary:
    counts: dict[str, UpsertCounts] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"{name}.csv: {c.new} new, {c.changed} changed, {c.unchanged} unchanged"
            for name, c in self.counts.items()
        ]


# --- reading files -------------------------------------------------------------------------


def _lines(raw: BinaryIO) -> Iterator[str]:
    """The file's lines as text, split at b"\\n" only (as the line numbers count them) and
    decoded in C: a bad byte raises UnicodeDecodeError, which `_read_file` reports."""
    first = raw.readline()
    return itertools.chain(map(_utf8_sig, [first]), map(_utf8, raw))


_utf8 = partial(bytes.decode, encoding="utf-8")
_utf8_sig = partial(bytes.decode, encoding="utf-8-sig")


def _read_file(
    path: Path,
    entity: str,
    rows: Rows,
    error: Callable[[int, str], None],
    stage: Callable[[list[tuple[Any, ...]]], None],
) -> None:
    parse: Callable[[dict[str, str]], dict[str, Any]] = getattr(rows, entity)
    with (
        path.open("rb") as raw,
        tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc=path.name,
            disable=None,
            leave=False,
        ) as bar,
    ):
        reader = csv.reader(_lines(raw))
        batch: list[tuple[Any, ...]] = []
        try:
            header = next(reader, None)
            if header is None:
                error(1, "file is empty (expected a header line)")
                return
            header = [h.strip() for h in header]
            missing = [c for c in COLUMNS[entity] if c not in header]
            if missing:
                error(
                    1,
                    f"missing column {', '.join(missing)} "
                    f"(header must have {','.join(COLUMNS[entity])})",
                )
                return
            fast = fast_parser(rows, entity, header)
            width = len(header)
            for fields in reader:
                line = reader.line_num
                staged = fast(fields, line) if fast is not None and len(fields) == width else None
                if staged is None:
                    if not any(f.strip() for f in fields):
                        continue
                    if len(fields) != width:
                        error(line, f"has {len(fields)} fields, header has {width}")
                        continue
                    try:
                        full = parse(dict(zip(header, fields, strict=True)))
                    except RowError as exc:
                        error(line, str(exc))
                        continue
                    full["line"] = line
                    staged = as_tuple(entity, full)
                batch.append(staged)
                if len(batch) >= BATCH_ROWS:
                    stage(batch)
                    batch = []
                    bar.update(raw.tell() - bar.n)
        except UnicodeDecodeError as exc:
            # The reader had read every line before this one, and not this one.
            bad = exc.object[exc.start]
            error(reader.line_num + 1, f"not UTF-8 (byte 0x{bad:02x} at column {exc.start + 1})")
        stage(batch)


# --- the import ----------------------------------------------------------------------------


def import_directory(engine: Engine, directory: Path, *, tz: ZoneInfo) -> ImportSummary:
    """Import every known CSV in `directory`; raise ImportErrors and write nothing on any error."""
    files = {e: directory / f"{e}.csv" for e in ORDER if (directory / f"{e}.csv").exists()}
    if not files:
        raise ImportErrors(
            [
                f"{directory}: no import files found (expected any of "
                f"{', '.join(f'{e}.csv' for e in ORDER)})"
            ],
            1,
        )
    problems: list[tuple[str, int, str]] = []
    total_errors = 0

    def error(entity: str, line: int, message: str) -> None:
        nonlocal total_errors
        total_errors += 1
        if len(problems) < MAX_STORED_ERRORS:
            problems.append((entity, line, message))

    rows = Rows(tz)
    summary = ImportSummary()
    with engine.connect() as conn, conn.begin() as tx:
        ingest.create_stages(conn)
        for entity, path in files.items():
            _read_file(
                path,
                entity,
                rows,
                partial(error, entity),
                partial(ingest.stage_tuples, conn, entity),
            )
            ingest.index_stage(conn, entity)
            duplicates = ingest.duplicate_lines(conn, entity)
            for line, msg in duplicates:
                error(entity, line, msg)
            ingest.discard_lines(conn, entity, [line for line, _ in duplicates])
        deferred = ingest.defer_indexes(conn)
        for entity in files:
            for line, msg in ingest.unknown_references(conn, entity, source=SOURCE):
                error(entity, line, msg)
            alone = bool(deferred) and entity in ingest.BULK_TABLES
            summary.counts[entity] = upserts.upsert(
                conn, entity, source=SOURCE, settle=True, alone=alone
            )
            if deferred:
                ingest.analyze_written(conn, entity)
        settled = "invoices" in files  # upserted with their settlement
        for over in ingest.refresh_touched(conn, source=SOURCE, settled=settled):
            entity, line = ingest.blame_line(conn, over.invoice_id)
            error(
                entity,
                line,
                f"payments and credit notes on invoice {over.external_id} add up to "
                f"{format_major(over.applied_minor, over.currency)}, more than its total "
                f"{format_major(over.total_minor, over.currency)}",
            )
        bulk.restore(conn, deferred)
        if total_errors:
            tx.rollback()
            problems.sort(key=lambda p: (ORDER.index(p[0]), p[1]))
            raise ImportErrors(
                [f"{e}.csv:{line}: {msg}" for e, line, msg in problems], total_errors
            )
        ingest.drop_stages(conn)
        table_stats.analyze_changed(conn, {e: c.new + c.changed for e, c in summary.counts.items()})
    return summary
