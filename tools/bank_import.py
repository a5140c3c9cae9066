"""`arbot bank import FILE...`: bank statements into bank lines, all or nothing.

The format is told from the content (an OFX header or `<OFX>`, MT940's `:20:`, camt.053
XML, BAI2's `01,` header, else the CSV header), so a file named .txt or .dat reads the
same. Every file is read and checked before anything is written; any problem refuses the
whole import. A line the ledger already has (same account and bank reference, else the same
hash) is counted as known and left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.orm import Session
from tqdm import tqdm

from db import bank as bank_db
from db.bank_models import BankTxnStatus
from db.engine import transaction
from tools.bank_camt import read_camt
from tools.bank_lines import BankLine, ReadResult, read_bai2, read_csv, stable_id
from tools.bank_mt940 import is_mt940, read_mt940
from tools.bank_ofx import is_ofx, read_ofx
from tools.deps import ToolDeps

WRITE_BATCH = 1000


@dataclass
class BankImportErrors(Exception):
    errors: list[str]

    def __str__(self) -> str:
        return "\n".join(self.errors)


@dataclass
class FileSummary:
    name: str
    fmt: str
    new: int = 0
    known: int = 0
    debits: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return "\n".join(
            [
                f"{self.name} ({self.fmt}): {self.new} new, {self.known} already known, "
                f"{self.debits} skipped (debits, reversals, pending)",
                *(f"  {note}" for note in self.notes),
            ]
        )


@dataclass
class BankImportSummary:
    files: list[FileSummary] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f.line() for f in self.files]


def detect(raw: bytes) -> str | None:
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if is_ofx(head):
        return "OFX"
    if is_mt940(head):
        return "MT940"
    if head.startswith(b"<"):
        return "camt.053"
    if head.startswith(b"01,"):
        return "BAI2"
    if b"txn_id" in head.split(b"\n", 1)[0]:
        return "CSV"
    return None


READERS = {
    "camt.053": read_camt,
    "BAI2": read_bai2,
    "CSV": read_csv,
    "OFX": read_ofx,
    "MT940": read_mt940,
}


def read_files(paths: Sequence[Path]) -> list[tuple[FileSummary, ReadResult]]:
    """Every file read and checked; BankImportErrors lists every problem of every file."""
    errors: list[str] = []
    results = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            errors.append(f"{path.name}:0: cannot read ({exc.strerror})")
            continue
        fmt = detect(raw)
        if fmt is None:
            errors.append(
                f"{path.name}:1: not a bank statement arbot reads (camt.053 XML, BAI2, OFX, "
                "MT940, or CSV with the header "
                "txn_id,account,booked_on,amount,currency,payer_name,reference)"
            )
            continue
        result = READERS[fmt](path, raw)
        errors.extend(result.errors)
        errors.extend(_too_long(result.lines))
        summary = FileSummary(path.name, fmt, debits=result.debits, notes=result.notes)
        results.append((summary, result))
    if errors:
        raise BankImportErrors(errors)
    return results


# The columns the ids are stored in (db/bank_models.py).
ID_LIMITS = {"account": 100, "external_id": 255}


def _too_long(lines: Sequence[BankLine]) -> list[str]:
    """Ids longer than their column: refused by name rather than by the database (SQLite
    would keep them whole, PostgreSQL would fail the whole import with a driver error)."""
    out = []
    for line in lines:
        for column, limit in ID_LIMITS.items():
            size = len(getattr(line, column))
            if size > limit:
                what = "txn_id" if column == "external_id" else column
                out.append(f"{line.where}: {what} is {size} characters long; at most {limit}")
    return out


def import_statements(
    deps: ToolDeps, paths: Sequence[Path], *, progress: bool | None = None
) -> BankImportSummary:
    results = read_files(paths)
    summary = BankImportSummary()
    total = sum(len(r.lines) for _, r in results)
    # tqdm's disable=None: a bar on a terminal, silence in logs and tests.
    with (
        tqdm(
            total=total,
            desc="bank lines",
            unit=" line",
            disable=None if progress is None else not progress,
            leave=False,
        ) as bar,
        transaction(deps.sessions) as session,
    ):
        taken: set[tuple[str, str]] = set()
        for file_summary, result in results:
            for start in range(0, len(result.lines), WRITE_BATCH):
                batch = _reused_ids(session, result.lines[start : start + WRITE_BATCH])
                keys = [(line.account, line.external_id) for line in batch]
                known = bank_db.known_keys(session, keys) | taken
                fresh = []
                for line in batch:
                    key = (line.account, line.external_id)
                    if key not in known:
                        fresh.append(line)
                        known.add(key)
                taken.update((line.account, line.external_id) for line in fresh)
                bank_db.insert_txns(session, [_row(line) for line in fresh])
                file_summary.new += len(fresh)
                file_summary.known += len(batch) - len(fresh)
                bar.update(len(batch))
            summary.files.append(file_summary)
        summary.new_ids = bank_db.ids_for(session, sorted(taken))
    return summary


def _reused_ids(session: Session, lines: list[BankLine]) -> list[BankLine]:
    """A bank reference the ledger already holds for a line of another day or amount is
    the bank reusing it (MT940 batch references do): that line is known by its stable hash
    instead, so a new credit is never taken for one already imported."""
    held = bank_db.known_lines(session, [(line.account, line.external_id) for line in lines])
    out = []
    for line in lines:
        was = held.get((line.account, line.external_id))
        if was is not None and was != (line.booked_on, line.amount_minor, line.currency):
            hashed = stable_id(
                line.account, line.booked_on, line.amount_minor, line.currency, line.reference
            )
            line = replace(line, external_id=f"{hashed}~{line.external_id}"[:255])
        out.append(line)
    return out


def _row(line: BankLine) -> dict[str, object]:
    return {
        "account": line.account,
        "external_id": line.external_id,
        "statement": line.statement[:255],
        "booked_on": line.booked_on,
        "amount_minor": line.amount_minor,
        "currency": line.currency,
        "payer_name": line.payer_name[:500],
        "reference": line.reference[:1000],
        "status": BankTxnStatus.UNAPPLIED,
    }
