"""SWIFT MT940 statements read into bank lines, with the `mt-940` package.

The file is split into statements at each `:20:`; each is parsed by `mt-940` and then held
to what the package does not check itself: every field tag is one MT940 has (a misspelt tag
would drop its entry silently), every `:61:` became an entry, and the opening balance plus
the entries is the closing balance. A refused entry is worded at its `:61:` line. A line is
known by the bank's reference (after `//` in `:61:`), else the stable hash; a reference
repeated within the file is refused at its line. Only money in (`C`, and `RD`, a debit
reversed) is kept, dated by its entry date; debits and reversed credits are counted and
skipped, the bank's own credits (interest, charges) skipped with a note. The payer and the
remittance come from `:86:` where it is structured (`/NAME/`, `/REMI/`, or `?32`/`?20` subfields),
else the whole `:86:` is the reference.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from tools.bank_lines import ReadResult, bank_line, repeated_ids, unique_hashes
from tools.money import exponent, is_currency

_TAG = re.compile(r"^:(\w{2,3}):")
_TAGS = {"20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65",
         "13", "13D", "34F", "90D", "90C", "NS"}  # fmt: skip


def is_mt940(head: bytes) -> bool:
    text = head.lstrip()
    return (text.startswith(b":20:") or text.startswith(b"{1:")) and b":20:" in head


def _field(details: str, key: str) -> str:
    m = re.search(rf"/{key}/+([^/]*)", details)
    return m.group(1).strip() if m else ""


def _subfields(details: str, keys: range) -> str:
    parts = re.findall(r"\?(\d\d)([^?]*)", details)
    return "".join(v for k, v in parts if int(k) in keys).strip()


def payer_and_reference(details: str) -> tuple[str, str]:
    """(payer, remittance) from a `:86:` field, structured or free text."""
    flat = details.replace("\n", "")
    if "?" in flat and re.search(r"\?\d\d", flat):
        return _subfields(flat, range(32, 34)), _subfields(flat, range(20, 30))
    if re.search(r"/(NAME|REMI)/", flat):
        return _field(flat, "NAME"), _field(flat, "REMI") or _field(flat, "USTD")
    return "", " ".join(details.split())


def _statements(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of each statement, split at `:20:`."""
    out: list[tuple[int, list[str]]] = []
    for n, line in enumerate(lines, start=1):
        if line.startswith(":20:") or not out:
            out.append((n, []))
        out[-1][1].append(line)
    return out


def read_mt940(path: Path, raw: bytes) -> ReadResult:
    out = ReadResult()
    name = path.name
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
            out.errors.append(f"{name}:1: not text")
            return out
    lines = text.splitlines()
    for n, line in enumerate(lines, start=1):
        tag = _TAG.match(line)
        if tag and tag.group(1) not in _TAGS:
            out.errors.append(f"{name}:{n}: MT940: unknown field :{tag.group(1)}:")
    for first, block in _statements(lines):
        if any(line.startswith(":20:") for line in block):
            _statement(name, first, block, out)
    if not out.lines and not out.debits and not out.errors:
        out.errors.append(f"{name}:1: MT940: no statement (:20: ... :62F:) in the file")
    out.errors.extend(repeated_ids(out.lines, "bank reference"))
    out.lines = unique_hashes(out.lines)
    return out


def _parse(text: str) -> Any:
    import mt940

    found = mt940.models.Transactions()
    found.parse(text)
    return found


def _statement(name: str, first: int, block: list[str], out: ReadResult) -> None:
    entries = [first + i for i, line in enumerate(block) if line.startswith(":61:")]
    try:
        parsed = _parse("\n".join(block))
    except Exception as exc:
        out.errors.append(f"{name}:{_refused(block, first, exc)}: MT940: {exc}")
        return
    data = parsed.data
    account = str(data.get("account_identification") or "").strip()
    opening, closing = data.get("final_opening_balance"), data.get("final_closing_balance")
    where0 = f"{name}:{first}"
    if not account:
        out.errors.append(f"{where0}: MT940: the statement has no account (:25:)")
        return
    if opening is None or closing is None:
        out.errors.append(f"{where0}: MT940: the statement needs :60F: and :62F: balances")
        return
    if len(parsed.transactions) != len(entries):
        out.errors.append(
            f"{where0}: MT940: {len(entries)} :61: entries but {len(parsed.transactions)} read"
        )
        return
    total = sum((_signed(t.data) for t in parsed.transactions), Decimal(0))
    if Decimal(opening.amount.amount) + total != Decimal(closing.amount.amount):
        closing_line = next(
            (first + i for i, line in enumerate(block) if line.startswith(":62")), first
        )
        out.errors.append(
            f"{name}:{closing_line}: MT940: closing balance {closing.amount.amount} is not the "
            f"opening balance {opening.amount.amount} plus the entries ({total})"
        )
        return
    for line_no, txn in zip(entries, parsed.transactions, strict=True):
        _entry(name, line_no, account, txn.data, out)


# Money in: a credit, and the reversal of a debit (the bank giving back what it took).
MONEY_IN = ("C", "RD")
# Transaction type codes (the `N...` of `:61:`) of the bank's own credits: interest,
# dividends, charges and commission are no customer's payment.
BANK_OWN = {"INT": "interest", "DIV": "dividends", "CHG": "charges", "COM": "commission"}


def _signed(d: dict[str, Any]) -> Decimal:
    amount = abs(Decimal(d["amount"].amount))
    return amount if d.get("status") in MONEY_IN else -amount


def _entry(name: str, line_no: int, account: str, d: dict[str, Any], out: ReadResult) -> None:
    where = f"{name}:{line_no}"
    currency = str(d.get("currency") or "").upper()
    if not is_currency(currency):
        out.errors.append(f"{where}: unknown currency code {currency!r}")
        return
    if d.get("status") not in MONEY_IN:
        out.debits += 1
        return
    own = BANK_OWN.get(str(d.get("id") or "")[1:].upper())
    if own:
        out.notes.append(f"{where}: the bank's own credit ({own}) skipped: no customer paid it")
        return
    amount = abs(Decimal(d["amount"].amount)).scaleb(exponent(currency))
    if amount != amount.to_integral_value():
        out.errors.append(f"{where}: amount has more decimals than {currency} allows")
        return
    minor = int(amount)
    # The entry (booking) date, when the statement gives one; `date` is the value date.
    on = d.get("entry_date") or d["date"]
    booked = date(on.year, on.month, on.day)
    payer, ref = payer_and_reference(str(d.get("transaction_details") or ""))
    if not ref:
        customer = str(d.get("customer_reference") or "").strip()
        ref = "" if customer.upper() == "NONREF" else customer
    out.lines.append(
        bank_line(
            where=where,
            statement=f"{name}:{account}",
            account=account,
            bank_ref=str(d.get("bank_reference") or ""),
            booked_on=booked,
            amount_minor=minor,
            currency=currency,
            payer_name=payer,
            reference=ref,
        )
    )


def _refused(block: list[str], first: int, exc: Exception) -> int:
    """The line of the entry the package refused: each `:61:` parsed alone finds it."""
    head = [line for line in block if line[:4] in (":20:", ":25:")]
    for i, line in enumerate(block):
        if line.startswith(":61:"):
            try:
                _parse("\n".join([*head, line]))
            except Exception:
                return first + i
    return first
