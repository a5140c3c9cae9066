"""Bank statement files read into lines: CSV and BAI2 here, camt.053 in tools.bank_camt.

Every reader returns the credits it found and the problems, each worded FILE:LINE (or
FILE:element path for XML), so the import can refuse the whole statement with all of them.
Debits are read past: only money coming in can be applied to invoices.

BAI2 is read by the `bai2` package (record types 01/02/03/16/49/98/99, continuation 88, and
the file's control totals); lines it refuses are located by how far it had read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from tools.money import MoneyError, is_currency, parse_major

CSV_COLUMNS = ("txn_id", "account", "booked_on", "amount", "currency", "payer_name", "reference")


@dataclass(frozen=True)
class BankLine:
    where: str  # FILE:LINE or FILE:element path, for messages
    statement: str  # groups the lines of one statement (one Slack card)
    account: str
    external_id: str
    booked_on: date
    amount_minor: int
    currency: str
    payer_name: str
    reference: str


@dataclass
class ReadResult:
    lines: list[BankLine] = field(default_factory=list)
    debits: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # credits skipped, and why


def repeated_ids(lines: list[BankLine], what: str) -> list[str]:
    """A bank id given twice in one file names two different lines as one: refused at the
    second, naming the first (a line without an id is hashed, and its repeats numbered)."""
    first: dict[tuple[str, str], str] = {}
    out = []
    for line in lines:
        key = (line.account, line.external_id)
        if line.external_id.startswith("h:"):
            continue
        if key in first:
            out.append(
                f"{line.where}: {what} {line.external_id} is given again (first at "
                f"{first[key]}); every line needs its own"
            )
        first.setdefault(key, line.where)
    return out


def stable_id(account: str, booked_on: date, amount_minor: int, currency: str, ref: str) -> str:
    """The id of a line the bank gave no reference for: the same line in an overlapping
    statement hashes the same."""
    key = "|".join((account, booked_on.isoformat(), str(amount_minor), currency, ref.strip()))
    return "h:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def bank_line(
    *,
    where: str,
    statement: str,
    account: str,
    bank_ref: str,
    booked_on: date,
    amount_minor: int,
    currency: str,
    payer_name: str,
    reference: str,
) -> BankLine:
    """A statement line whose id is the bank's own entry reference, else `stable_id`, so
    re-importing it (or an overlapping statement) finds it known."""
    own = bank_ref.strip()
    return BankLine(
        where=where,
        statement=statement,
        account=account,
        external_id=own or stable_id(account, booked_on, amount_minor, currency, reference),
        booked_on=booked_on,
        amount_minor=amount_minor,
        currency=currency,
        payer_name=payer_name,
        reference=reference,
    )


def _line_of(raw: bytes, offset: int) -> int:
    return raw[:offset].count(b"\n") + 1


def _signed_major(text: str, currency: str) -> int:
    raw = text.strip()
    negative = raw.startswith("-")
    minor = parse_major(raw.lstrip("-+") if raw[:1] in "-+" else raw, currency)
    return -minor if negative else minor


def read_csv(path: Path, raw: bytes) -> ReadResult:
    out = ReadResult()
    name = path.name
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        out.errors.append(f"{name}:{_line_of(raw, exc.start)}: not UTF-8 text")
        return out
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        out.errors.append(f"{name}:1: missing column(s) {', '.join(missing)}")
        return out
    seen: dict[str, int] = {}
    for row in reader:
        where = f"{name}:{reader.line_num}"
        problem, line = _csv_row(row, where, name)
        if problem:
            out.errors.append(f"{where}: {problem}")
        elif line is None:
            out.debits += 1
        elif line.external_id in seen and row["txn_id"].strip():
            first = seen[line.external_id]
            out.errors.append(f"{where}: txn_id {row['txn_id']!r} repeats line {first}")
        else:
            seen[line.external_id] = reader.line_num
            out.lines.append(line)
    return ReadResult(unique_hashes(out.lines), out.debits, out.errors)


def unique_hashes(lines: list[BankLine]) -> list[BankLine]:
    """Two identical lines without a bank reference (two equal wires on one day) are two
    receipts: the second gets "~2" after its hash, the same on every import of the file."""
    count: dict[str, int] = {}
    out = []
    for line in lines:
        n = count[line.external_id] = count.get(line.external_id, 0) + 1
        if n > 1 and line.external_id.startswith("h:"):
            line = replace(line, external_id=f"{line.external_id}~{n}")
        out.append(line)
    return out


def _csv_row(row: dict[str, str], where: str, name: str) -> tuple[str | None, BankLine | None]:
    if None in row or any(v is None for v in row.values()):
        return "wrong number of fields", None
    account = row["account"].strip()
    if not account:
        return "account is empty", None
    currency = row["currency"].strip().upper()
    if not is_currency(currency):
        return f"unknown currency code {row['currency']!r}", None
    try:
        booked_on = date.fromisoformat(row["booked_on"].strip())
    except ValueError:
        return f"booked_on {row['booked_on']!r} is not a YYYY-MM-DD date", None
    try:
        amount = _signed_major(row["amount"], currency)
    except MoneyError as exc:
        return str(exc), None
    if amount <= 0:
        return None, None
    ref = row["reference"].strip()
    return None, bank_line(
        where=where,
        statement=f"{name}:{account}",
        account=account,
        bank_ref=row["txn_id"],
        booked_on=booked_on,
        amount_minor=amount,
        currency=currency,
        payer_name=row["payer_name"].strip(),
        reference=ref,
    )


# Where BAI2 text fields usually carry the payer ("ORIG CO NAME:ACME INC", "B/O ACME").
_PAYER = re.compile(
    r"(?:ORIG(?:INATOR)?(?: CO)?(?: NAME)?|B/O|BY ORDER OF|FROM)\s*[:=]?\s*"
    r"([^/;:]+?)\s*(?:$|[/;]|\b[A-Z]{2,}:)",
    re.I,
)


def read_bai2(path: Path, raw: bytes) -> ReadResult:
    from bai2 import bai2 as bai2_api
    from bai2.constants import TypeCodeTransaction
    from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException

    out = ReadResult()
    name = path.name
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        out.errors.append(f"{name}:{_line_of(raw, exc.start)}: not UTF-8 text")
        return out
    numbered = [(n, s.strip()) for n, s in enumerate(text.splitlines(), start=1) if s.strip()]
    read = [0]

    def feed() -> object:
        for n, line in numbered:
            read[0] = n
            yield line

    try:
        parsed = bai2_api.parse_from_lines(feed())
    except (ParsingException, IntegrityException, NotSupportedYetException, ValueError,
            KeyError, IndexError, StopIteration) as exc:  # fmt: skip
        out.errors.append(f"{name}:{_refused_line(numbered, read[0], str(exc))}: BAI2: {exc}")
        return out
    # Each 16 record in file order, with its line, to word later problems.
    detail_lines = iter(n for n, s in numbered if s.startswith("16,"))
    for group in parsed.children:
        booked_on = group.header.as_of_date
        for account in group.children:
            acct = str(account.header.customer_account_number)
            currency = (account.header.currency or group.header.currency or "USD").upper()
            for txn in account.children:
                line_no = next(detail_lines, 0)
                where = f"{name}:{line_no}"
                if not is_currency(currency):
                    out.errors.append(f"{where}: unknown currency code {currency!r}")
                    continue
                if txn.type_code.transaction != TypeCodeTransaction.credit:
                    out.debits += 1
                    continue
                # BAI2 amounts carry no decimal point: the currency's minor units.
                amount = int(txn.amount)  # implied decimals: the currency's minor units
                text_field = (txn.text or "").strip()
                ref = " ".join(p for p in ((txn.customer_reference or "").strip(), text_field) if p)
                payer = _PAYER.search(text_field)
                out.lines.append(
                    bank_line(
                        where=where,
                        statement=f"{name}:{acct}",
                        account=acct,
                        bank_ref=txn.bank_reference or "",
                        booked_on=booked_on,
                        amount_minor=amount,
                        currency=currency,
                        payer_name=payer.group(1).strip() if payer else "",
                        reference=ref,
                    )
                )
    out.lines = unique_hashes(out.lines)
    return out


# A control total or count is checked once the section's trailer is read: the trailer is
# the record to fix.
_TRAILERS = {"for Account": "49,", "for Group": "98,", "for Bai2File": "99,"}


def _refused_line(numbered: list[tuple[int, str]], last: int, message: str) -> int:
    """The line of the record the parser refused. It reads one record ahead (to join 88
    continuations), so that is the record before the last line it took, or a trailer."""
    seen = [(n, s) for n, s in numbered if n <= last]
    if not seen:
        return 1
    for words, code in _TRAILERS.items():
        if words in message:
            return next((n for n, s in reversed(seen) if s.startswith(code)), seen[-1][0])
    at_end = last == numbered[-1][0]
    records = [n for n, s in seen if not s.startswith("88,")]
    if at_end or len(records) < 2:
        return records[-1] if records else last
    return records[-2]
