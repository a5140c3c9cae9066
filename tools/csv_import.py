"""`arbot import DIR`: accounting-system CSV exports into the ledger, all or nothing.

Each row is parsed and checked here (format rules a person can fix in the file); rows are
staged in the database, where cross-row rules (duplicates, references, over-payment) are
checked in SQL so memory stays flat on million-row files. Any error rolls the whole import
back and is reported as FILE:LINE: message.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from tqdm import tqdm

from db import ingest
from db.ingest import UpsertCounts
from tools.money import MoneyError, format_major, is_currency, parse_major

SOURCE = "csv"
BATCH_ROWS = 20_000
MAX_STORED_ERRORS = 10_000

COLUMNS: dict[str, list[str]] = {
    "customers": [
        "customer_id",
        "name",
        "email",
        "ap_email",
        "segment",
        "payment_terms_days",
        "currency",
        "credit_limit",
        "owner_slack_id",
    ],
    "invoices": [
        "invoice_id",
        "customer_id",
        "number",
        "currency",
        "total",
        "issued_on",
        "due_on",
        "voided_on",
        "written_off_on",
    ],
    "payments": [
        "payment_id",
        "customer_id",
        "invoice_id",
        "amount",
        "currency",
        "paid_on",
        "status",
        "method",
        "failure_reason",
    ],
    "credit_notes": ["credit_note_id", "invoice_id", "amount", "currency", "issued_on"],
    "disputes": [
        "dispute_id",
        "customer_id",
        "invoice_id",
        "amount",
        "currency",
        "kind",
        "reason",
        "opened_on",
        "resolved_on",
        "outcome",
    ],
    "fx_rates": ["date", "currency", "rate"],
}
ORDER = list(COLUMNS)  # parents before children


class RowError(ValueError):
    """What is wrong with one field of one row, in words for the person fixing the file."""


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


# --- field parsers -------------------------------------------------------------------------


def _required(row: dict[str, str], col: str) -> str:
    value = row[col].strip()
    if not value:
        raise RowError(f"{col} is empty")
    return value


def _optional(row: dict[str, str], col: str) -> str | None:
    return row[col].strip() or None


def _currency(row: dict[str, str], col: str = "currency") -> str:
    code = _required(row, col).upper()
    if not is_currency(code):
        raise RowError(f"{col}: unknown currency code {row[col].strip()!r}")
    return code


def _amount(row: dict[str, str], col: str, currency: str) -> int:
    try:
        return parse_major(_required(row, col), currency)
    except MoneyError as exc:
        raise RowError(f"{col}: {exc}") from None


def _date(row: dict[str, str], col: str) -> date | None:
    raw = row[col].strip()
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise RowError(f"{col}: {raw!r} is not a date (use YYYY-MM-DD)") from None


def _required_date(row: dict[str, str], col: str) -> date:
    value = _date(row, col)
    if value is None:
        raise RowError(f"{col} is empty")
    return value


def _int(row: dict[str, str], col: str) -> int | None:
    raw = row[col].strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise RowError(f"{col}: {raw!r} is not a whole number of days")
    return int(raw)


def _email(row: dict[str, str], col: str) -> str | None:
    value = _optional(row, col)
    if value is not None and ("@" not in value or " " in value):
        raise RowError(f"{col}: {value!r} is not an email address")
    return value


# --- row parsers: CSV row -> staging row ---------------------------------------------------


class _Rows:
    """Row parsers need the company time zone to turn dates into UTC instants."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def stamp(self, day: date | None) -> datetime | None:
        # A date in an export means that day in the company's time zone.
        return None if day is None else datetime.combine(day, time(), self.tz)

    def customers(self, row: dict[str, str]) -> dict[str, Any]:
        currency = _currency(row)
        limit = _optional(row, "credit_limit")
        return {
            "external_id": _required(row, "customer_id"),
            "name": _required(row, "name"),
            "email": _email(row, "email"),
            "ap_email": _email(row, "ap_email"),
            "segment": _optional(row, "segment"),
            "payment_terms_days": _int(row, "payment_terms_days"),
            "currency": currency,
            "credit_limit_minor": None if limit is None else _amount(row, "credit_limit", currency),
            "owner_slack_id": _optional(row, "owner_slack_id"),
        }

    def invoices(self, row: dict[str, str]) -> dict[str, Any]:
        currency = _currency(row)
        issued = _required_date(row, "issued_on")
        due = _required_date(row, "due_on")
        if due < issued:
            raise RowError(f"due_on {due} is before issued_on {issued}")
        voided, written_off = _date(row, "voided_on"), _date(row, "written_off_on")
        for name, day in (("voided_on", voided), ("written_off_on", written_off)):
            if day is not None and day < issued:
                raise RowError(f"{name} {day} is before issued_on {issued}")
        if voided and written_off:
            raise RowError("an invoice cannot be both voided and written off")
        return {
            "external_id": _required(row, "invoice_id"),
            "customer_ext": _required(row, "customer_id"),
            "number": _optional(row, "number"),
            "currency": currency,
            "total_minor": _amount(row, "total", currency),
            "issued_at": self.stamp(issued),
            "due_on": due,
            "voided_at": self.stamp(voided),
            "written_off_at": self.stamp(written_off),
            "payment_url": None,
        }

    def payments(self, row: dict[str, str]) -> dict[str, Any]:
        currency = _currency(row)
        status = _required(row, "status").lower()
        if status not in ("succeeded", "failed"):
            raise RowError(f"status {row['status'].strip()!r} is not 'succeeded' or 'failed'")
        return {
            "external_id": _required(row, "payment_id"),
            "customer_ext": _required(row, "customer_id"),
            "invoice_ext": _optional(row, "invoice_id"),
            "amount_minor": _amount(row, "amount", currency),
            "currency": currency,
            "paid_at": self.stamp(_required_date(row, "paid_on")),
            "status": status,
            "method": _optional(row, "method"),
            "failure_reason": _optional(row, "failure_reason"),
        }

    def credit_notes(self, row: dict[str, str]) -> dict[str, Any]:
        currency = _currency(row)
        return {
            "external_id": _required(row, "credit_note_id"),
            "invoice_ext": _required(row, "invoice_id"),
            "amount_minor": _amount(row, "amount", currency),
            "currency": currency,
            "issued_at": self.stamp(_required_date(row, "issued_on")),
        }

    def disputes(self, row: dict[str, str]) -> dict[str, Any]:
        currency = _currency(row)
        kind = _required(row, "kind").lower()
        if kind not in ("chargeback", "billing"):
            raise RowError(f"kind {row['kind'].strip()!r} is not 'chargeback' or 'billing'")
        opened, resolved = _required_date(row, "opened_on"), _date(row, "resolved_on")
        if resolved is not None and resolved < opened:
            raise RowError(f"resolved_on {resolved} is before opened_on {opened}")
        return {
            "external_id": _required(row, "dispute_id"),
            "customer_ext": _required(row, "customer_id"),
            "invoice_ext": _optional(row, "invoice_id"),
            "amount_minor": _amount(row, "amount", currency),
            "currency": currency,
            "kind": kind,
            "reason": _optional(row, "reason"),
            "opened_at": self.stamp(opened),
            "resolved_at": self.stamp(resolved),
            "outcome": _optional(row, "outcome"),
            "evidence_due_at": None,
        }

    def fx_rates(self, row: dict[str, str]) -> dict[str, Any]:
        currency = _currency(row)
        day = _required_date(row, "date")
        raw = _required(row, "rate")
        try:
            rate = Decimal(raw)
        except InvalidOperation:
            raise RowError(f"rate {raw!r} is not a number") from None
        if not rate.is_finite() or rate <= 0:
            raise RowError(f"rate {raw!r} must be a positive number")
        if -rate.as_tuple().exponent > 12 or len(rate.as_tuple().digits) > 15:  # type: ignore[operator]
            raise RowError(f"rate {raw!r} has more precision than kept (12 decimals, 15 digits)")
        return {
            "external_id": f"{currency}:{day}",
            "currency": currency,
            "rate_on": day,
            "rate": rate,
        }


# --- reading files -------------------------------------------------------------------------


def _decoded_lines(raw: Iterable[bytes], on_error: Callable[[int, str], None]) -> Iterator[str]:
    """Decode line by line so a bad byte is reported with its line number."""
    for number, chunk in enumerate(raw, start=1):
        try:
            text = chunk.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            on_error(number, f"not UTF-8 (byte 0x{chunk[exc.start]:02x} at column {exc.start + 1})")
            return
        yield text


def _read_file(
    path: Path,
    entity: str,
    parse: Callable[[dict[str, str]], dict[str, Any]],
    error: Callable[[int, str], None],
    stage: Callable[[list[dict[str, Any]]], None],
) -> None:
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
        reader = csv.reader(_decoded_lines(_counted(raw, bar), error))
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
        batch: list[dict[str, Any]] = []
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                error(line, f"has {len(fields)} fields, header has {len(header)}")
                continue
            try:
                staged = parse(dict(zip(header, fields, strict=True)))
            except RowError as exc:
                error(line, str(exc))
                continue
            staged["line"] = line
            batch.append(staged)
            if len(batch) >= BATCH_ROWS:
                stage(batch)
                batch = []
        stage(batch)


def _counted(raw: BinaryIO, bar: tqdm[Any]) -> Iterator[bytes]:
    """Feeds the progress bar with the bytes read."""
    for chunk in raw:
        bar.update(len(chunk))
        yield chunk


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

    rows = _Rows(tz)
    summary = ImportSummary()
    with engine.connect() as conn, conn.begin() as tx:
        ingest.create_stages(conn)
        for entity, path in files.items():
            _read_file(
                path,
                entity,
                getattr(rows, entity),
                partial(error, entity),
                partial(ingest.stage_rows, conn, entity),
            )
            duplicates = ingest.duplicate_lines(conn, entity)
            for line, msg in duplicates:
                error(entity, line, msg)
            ingest.discard_lines(conn, entity, [line for line, _ in duplicates])
        for entity in files:
            for line, msg in ingest.unknown_references(conn, entity, source=SOURCE):
                error(entity, line, msg)
            summary.counts[entity] = ingest.upsert(conn, entity, source=SOURCE)
        for over in ingest.refresh_touched(conn, source=SOURCE):
            entity, line = ingest.blame_line(conn, over.invoice_id)
            error(
                entity,
                line,
                f"payments and credit notes on invoice {over.external_id} add up to "
                f"{format_major(over.applied_minor, over.currency)}, more than its total "
                f"{format_major(over.total_minor, over.currency)}",
            )
        if total_errors:
            tx.rollback()
            problems.sort(key=lambda p: (ORDER.index(p[0]), p[1]))
            raise ImportErrors(
                [f"{e}.csv:{line}: {msg}" for e, line, msg in problems], total_errors
            )
        ingest.drop_stages(conn)
        ingest.analyze(conn)
    return summary
