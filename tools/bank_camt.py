"""ISO 20022 camt.053 (bank-to-customer statement) read with the standard library's XML parser.

Read against the schema's element names, namespace-agnostic so versions .001.02 to .001.13
all read: Document/BkToCstmrStmt/Stmt (Acct/Id/IBAN or Othr/Id, Acct/Ccy) and its Ntry
(Amt@Ccy, CdtDbtInd, RvslInd, Sts, BookgDt/Dt|DtTm, AcctSvcrRef, NtryRef) with
NtryDtls/TxDtls (Refs/AcctSvcrRef|EndToEndId, Amt, RltdPties/Dbtr[/Pty]/Nm,
RmtInf/Ustrd | Strd/CdtrRefInf/Ref). A batch entry with several TxDtls is one line per
TxDtls. Problems are worded FILE:element path, e.g. `stmt.xml:Stmt[1]/Ntry[3]/Amt`.

Only booked entries (Sts BOOK) are read: a pending credit may still be returned, and has no
booking date yet. Reversals (RvslInd true) are read past like debits. A line's id is the
bank's AcctSvcrRef, else the statement's Id with the NtryRef (unique only per statement at
many banks), else a hash of its content. A batch whose TxDtls amounts do not add up to the
entry's is refused.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

from tools.bank_lines import BankLine, ReadResult, bank_line, unique_hashes
from tools.money import MoneyError, format_major, is_currency, parse_major

Element = ET.Element


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kids(el: Element, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name]


def _kid(el: Element | None, *path: str) -> Element | None:
    for name in path:
        if el is None:
            return None
        found = _kids(el, name)
        el = found[0] if found else None
    return el


def _text(el: Element | None, *path: str) -> str:
    found = _kid(el, *path)
    return (found.text or "").strip() if found is not None else ""


class _Bad(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path, self.problem = path, problem


def read_camt(path: Path, raw: bytes) -> ReadResult:
    out = ReadResult()
    name = path.name
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else 1
        out.errors.append(f"{name}:{line}: not well-formed XML ({exc})")
        return out
    doc = _kid(root, "BkToCstmrStmt") if _local(root.tag) == "Document" else None
    if doc is None:
        out.errors.append(f"{name}:{_local(root.tag)}: not a camt.053 Document/BkToCstmrStmt")
        return out
    for s_no, stmt in enumerate(_kids(doc, "Stmt"), start=1):
        where = f"Stmt[{s_no}]"
        account = _text(stmt, "Acct", "Id", "IBAN") or _text(stmt, "Acct", "Id", "Othr", "Id")
        if not account:
            out.errors.append(f"{name}:{where}/Acct/Id: no IBAN or Othr/Id")
            continue
        stmt_id = _text(stmt, "Id")
        statement = f"{name}:{stmt_id or account}"
        for e_no, entry in enumerate(_kids(stmt, "Ntry"), start=1):
            e_where = f"{where}/Ntry[{e_no}]"
            try:
                found = _entry(entry, e_where, name, (statement, stmt_id), account)
            except _Bad as bad:
                out.errors.append(f"{name}:{bad.path}: {bad.problem}")
                continue
            if found is None:
                out.debits += 1
            else:
                out.lines.extend(found)
    out.lines = unique_hashes(out.lines)
    return out


def _amount(el: Element | None, where: str) -> tuple[int, str]:
    if el is None:
        raise _Bad(where, "missing")
    currency = (el.get("Ccy") or "").strip().upper()
    if not is_currency(currency):
        raise _Bad(where, f"unknown currency code {el.get('Ccy')!r} in Ccy")
    try:
        return parse_major(el.text or "", currency), currency
    except MoneyError as exc:
        raise _Bad(where, str(exc)) from None


def _booked_on(entry: Element, where: str) -> date:
    raw = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10]
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _Bad(f"{where}/BookgDt", f"{raw!r} is not a date") from None


def _entry(
    entry: Element, where: str, name: str, statement: tuple[str, str], account: str
) -> list[BankLine] | None:
    """The entry's credit lines; None for an entry read past (debit, reversal, pending)."""
    amount, currency = _amount(_kid(entry, "Amt"), f"{where}/Amt")
    side = _text(entry, "CdtDbtInd")
    if side not in ("CRDT", "DBIT"):
        raise _Bad(f"{where}/CdtDbtInd", f"{side!r} is neither CRDT nor DBIT")
    status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
    if status not in ("BOOK", ""):
        return None  # pending or informational: no booking date yet, read once booked
    booked_on = _booked_on(entry, where)
    if side == "DBIT" or _text(entry, "RvslInd").lower() == "true":
        return None
    # AcctSvcrRef is the bank's own id for the entry; NtryRef is unique only within one
    # statement at many banks (often a counter from 1), so it is kept with the statement's id.
    ntry_ref, stmt_id = _text(entry, "NtryRef"), statement[1]
    entry_ref = _text(entry, "AcctSvcrRef") or (
        f"{stmt_id}/{ntry_ref}" if stmt_id and ntry_ref else ""
    )
    details = [
        (f"{where}/NtryDtls[{d}]/TxDtls[{t}]", tx)
        for d, dtls in enumerate(_kids(entry, "NtryDtls"), start=1)
        for t, tx in enumerate(_kids(dtls, "TxDtls"), start=1)
    ]
    batch = len(details) > 1
    if batch:
        parts = [_amount(_kid(tx, "Amt"), f"{tx_where}/Amt") for tx_where, tx in details]
        if sum(a for a, _ in parts) != amount:
            total = format_major(sum(a for a, _ in parts), currency)
            raise _Bad(
                f"{where}/NtryDtls",
                f"the TxDtls amounts add up to {total}, the entry's Amt is "
                f"{format_major(amount, currency)}",
            )
    if not details:
        details = [(where, entry)]
    lines = []
    for n, (tx_where, tx) in enumerate(details, start=1):
        if batch:
            amount, tx_currency = _amount(_kid(tx, "Amt"), f"{tx_where}/Amt")
            if tx_currency != currency:
                raise _Bad(f"{tx_where}/Amt", "currency differs from the entry's")
        remittance = _kid(tx, "RmtInf")
        unstructured = [] if remittance is None else _kids(remittance, "Ustrd")
        ref = " ".join(
            [_text(u) for u in unstructured] + [_text(tx, "RmtInf", "Strd", "CdtrRefInf", "Ref")]
        ).strip() or _text(entry, "AddtlNtryInf")
        payer = _text(tx, "RltdPties", "Dbtr", "Nm") or _text(tx, "RltdPties", "Dbtr", "Pty", "Nm")
        own_ref = _text(tx, "Refs", "AcctSvcrRef")
        ext = own_ref or (f"{entry_ref}/{n}" if batch and entry_ref else entry_ref)
        lines.append(
            bank_line(
                where=f"{name}:{tx_where}",
                statement=statement[0],
                account=account,
                bank_ref=ext,
                booked_on=booked_on,
                amount_minor=amount,
                currency=currency,
                payer_name=payer,
                reference=ref,
            )
        )
    return lines
