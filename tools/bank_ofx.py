"""OFX bank statements (OFX 1.x SGML and 2.x XML) read into bank lines, with `ofxtools`.

ofxtools parses the file and checks every element against the OFX specification; its errors
name the element but not the line, so each STMTTRN is converted on its own and a refused
one is worded at the line its `<STMTTRN>` starts on. A line is known by the bank's FITID
(unique per account), else the stable hash. Only credits (a positive TRNAMT) are kept.
"""

from __future__ import annotations

import re
import warnings
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tools.bank_lines import BankLine, ReadResult, stable_id, unique_hashes
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
        if stmtrs.tag not in ("STMTRS", "CCSTMTRS"):
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
            currency = default_currency
            for sub in (txn.currency, txn.origcurrency):
                if sub is not None:
                    currency = str(sub.cursym).upper()
            if not account:
                out.errors.append(f"{where}: OFX: the statement names no ACCTID")
                continue
            if not is_currency(currency):
                out.errors.append(f"{where}: unknown currency code {currency!r}")
                continue
            if txn.trnamt <= 0:
                out.debits += 1
                continue
            try:
                amount = _minor(txn.trnamt, currency)
            except ValueError as exc:
                out.errors.append(f"{where}: {exc}")
                continue
            booked_on = txn.dtposted.date()
            payer = txn.name or (txn.payee.name if txn.payee is not None else "") or ""
            ref = (txn.memo or "").strip()
            fitid = (txn.fitid or "").strip()
            out.lines.append(
                BankLine(
                    where=where,
                    statement=f"{name}:{account}",
                    account=account,
                    external_id=fitid or stable_id(account, booked_on, amount, currency, ref),
                    booked_on=booked_on,
                    amount_minor=amount,
                    currency=currency,
                    payer_name=str(payer).strip(),
                    reference=ref,
                )
            )
    if not out.errors:
        out.errors.extend(_whole(tree, raw, name))
    if not out.lines and not out.debits and not out.errors:
        out.errors.append(f"{name}:1: OFX: no bank or card statement (STMTRS) in the file")
    out.lines = unique_hashes(out.lines)
    return out
