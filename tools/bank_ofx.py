"""OFX bank statements (OFX 1.x SGML and 2.x XML) read into bank lines, with `ofxtools`.

ofxtools parses the file and checks every element against the OFX specification; its errors
name the element but not the line, so each STMTTRN is converted on its own and a refused
one is worded at the line its `<STMTTRN>` starts on. A line is known by the bank's FITID
(a FITID repeated in one file is refused), else the stable hash. Only credits (a positive
TRNAMT) are kept, in <CURRENCY> or else CURDEF, on the day DTPOSTED names; the bank's own
credits (interest, fees) and credit-card statements are skipped with a note.
"""

from __future__ import annotations

import re
import warnings
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tools.bank_lines import ReadResult, bank_line, repeated_ids, unique_hashes
from tools.money import exponent, is_currency

_STMTTRN = re.compile(rb"<STMTTRN>", re.IGNORECASE)


def is_ofx(head: bytes) -> bool:
    return head.startswith(b"OFXHEADER") or b"<?OFX" in head.upper() or b"<OFX>" in head.upper()


def _lines_of(raw: bytes) -> list[int]:
    """The line each <STMTTRN> starts on, in file order."""
    return [raw[: m.start()].count(b"\n") + 1 for m in _STMTTRN.finditer(raw)]


def _minor(amount: Decimal, currency: str) -> int:
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"TRNAMT {amount} has more decimals than {currency} allows")
    return int(scaled)


# Transaction types of credits that are the bank's own: interest, dividends, fees and
# service charges (refunded), not a customer paying.
BANK_OWN = {"INT", "DIV", "FEE", "SRVCHG"}
_DAY = re.compile(r"\s*(\d{4})(\d{2})(\d{2})")


def _local_date(written: str, parsed: date) -> date:
    """The day as the bank wrote it: DTPOSTED "20261102 23:30 [-5:EST]" is 2 November,
    though ofxtools hands it over as 3 November UTC."""
    m = _DAY.match(written)
    if not m:
        return parsed
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return parsed


_UNKNOWN = re.compile(r"unknown tag (\w+)")


def _whole(tree: Any, raw: bytes, name: str) -> list[str]:
    """The file as a whole against the specification: an element ofxtools does not know (a
    misspelt BANKTRANLIST) would have its contents skipped, so it is refused by its line."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            tree.convert()
        except Exception as exc:
            return [f"{name}:1: OFX: {exc}"]
    out = []
    for w in seen:
        tag = _UNKNOWN.search(str(w.message))
        if tag:
            at = raw.upper().find(b"<" + tag.group(1).encode())
            line = raw[: max(at, 0)].count(b"\n") + 1
            out.append(f"{name}:{line}: OFX: unknown element {tag.group(1)}")
    return out


def read_ofx(path: Path, raw: bytes) -> ReadResult:
    from io import BytesIO

    from ofxtools.models.base import Aggregate
    from ofxtools.Parser import OFXTree

    out = ReadResult()
    name = path.name
    tree = OFXTree()
    try:
        tree.parse(BytesIO(raw))
    except Exception as exc:  # ofxtools raises its own and the XML parser's errors
        out.errors.append(f"{name}:1: OFX: {exc}")
        return out
    starts = iter(_lines_of(raw))
    root: Any = tree._root  # the parsed element tree, before conversion
    for stmtrs in root.iter():
        if stmtrs.tag == "CCSTMTRS":
            cards = len(list(stmtrs.iter("STMTTRN")))
            for _ in range(cards):
                next(starts, 1)
            out.notes.append(
                f"{name}: a credit-card statement ({cards} line(s)) skipped: card credits are "
                "no customer's payment"
            )
            continue
        if stmtrs.tag != "STMTRS":
            continue
        acct_el = stmtrs.find(".//ACCTID")
        account = (acct_el.text or "").strip() if acct_el is not None else ""
        default_currency = (stmtrs.findtext("CURDEF") or "").strip().upper()
        for el in stmtrs.iter("STMTTRN"):
            where = f"{name}:{next(starts, 1)}"
            try:
                txn: Any = Aggregate.from_etree(el)
            except InvalidOperation:
                out.errors.append(f"{where}: OFX STMTTRN: TRNAMT is not a number")
                continue
            except Exception as exc:
                out.errors.append(f"{where}: OFX STMTTRN: {exc}")
                continue
            # TRNAMT is in <CURRENCY> when the line has one, else in CURDEF; ORIGCURRENCY
            # only tells what the payer sent, not the amount booked here.
            currency = default_currency
            if txn.currency is not None:
                currency = str(txn.currency.cursym).upper()
            if not account:
                out.errors.append(f"{where}: OFX: the statement names no ACCTID")
                continue
            if not is_currency(currency):
                out.errors.append(f"{where}: unknown currency code {currency!r}")
                continue
            if txn.trnamt <= 0:
                out.debits += 1
                continue
            kind = str(txn.trntype or "").upper()
            if kind in BANK_OWN:
                out.notes.append(f"{where}: {kind} credit skipped: the bank's own, no customer's")
                continue
            try:
                amount = _minor(txn.trnamt, currency)
            except ValueError as exc:
                out.errors.append(f"{where}: {exc}")
                continue
            booked_on = _local_date(el.findtext("DTPOSTED") or "", txn.dtposted.date())
            payer = txn.name or (txn.payee.name if txn.payee is not None else "") or ""
            ref = (txn.memo or "").strip()
            out.lines.append(
                bank_line(
                    where=where,
                    statement=f"{name}:{account}",
                    account=account,
                    bank_ref=txn.fitid or "",
                    booked_on=booked_on,
                    amount_minor=amount,
                    currency=currency,
                    payer_name=str(payer).strip(),
                    reference=ref,
                )
            )
    out.errors.extend(repeated_ids(out.lines, "FITID"))
    if not out.errors:
        out.errors.extend(_whole(tree, raw, name))
    if not out.lines and not out.debits and not out.errors and not out.notes:
        out.errors.append(f"{name}:1: OFX: no bank or card statement (STMTRS) in the file")
    out.lines = unique_hashes(out.lines)
    return out
