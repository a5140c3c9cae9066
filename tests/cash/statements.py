"""Bank statements built by the tests in each format a bank exports.

camt.053 follows the ISO 20022 schema's element names (camt.053.001.08); BAI2 uses record
types 01/02/03/16/49/98/99 (and 88 continuations) with correct control totals.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Line:
    ref: str  # the bank's entry reference ("" for none)
    booked_on: date
    amount: str  # major units; negative for a debit
    currency: str = "USD"
    payer: str = ""
    remittance: str = ""


def csv_text(lines: list[Line], account: str = "ACC-1") -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["txn_id", "account", "booked_on", "amount", "currency", "payer_name", "reference"])
    for ln in lines:
        w.writerow([ln.ref, account, ln.booked_on, ln.amount, ln.currency, ln.payer, ln.remittance])
    return out.getvalue()


def camt_text(
    lines: list[Line], iban: str = "DE89370400440532013000", stmt_id: str = "STMT-1"
) -> str:
    entries = []
    for ln in lines:
        amount = Decimal(ln.amount)
        side = "DBIT" if amount < 0 else "CRDT"
        party = "Cdtr" if amount < 0 else "Dbtr"
        ref = f"<AcctSvcrRef>{escape(ln.ref)}</AcctSvcrRef>" if ln.ref else ""
        entries.append(
            f"""<Ntry><Amt Ccy="{ln.currency}">{abs(amount)}</Amt><CdtDbtInd>{side}</CdtDbtInd>
<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{ln.booked_on}</Dt></BookgDt>
<ValDt><Dt>{ln.booked_on}</Dt></ValDt>{ref}
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
<Amt Ccy="{ln.currency}">{abs(amount)}</Amt>
<RltdPties><{party}><Pty><Nm>{escape(ln.payer)}</Nm></Pty></{party}></RltdPties>
<RmtInf><Ustrd>{escape(ln.remittance)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
<BkToCstmrStmt><GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-11-30T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>{stmt_id}</Id><CreDtTm>2026-11-30T18:00:00</CreDtTm>
<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>USD</Ccy></Acct>
{"".join(entries)}
</Stmt></BkToCstmrStmt></Document>
"""


def bai2_text(lines: list[Line], account: str = "1234567890", currency: str = "USD") -> str:
    """One group per booking date, one account each."""
    days = sorted({ln.booked_on for ln in lines})
    records = ["01,BANKID,ARBOT,261201,0600,1,,,2/"]
    file_total = 0
    n_records = 1
    for day in days:
        body = []
        total = 0
        for ln in (x for x in lines if x.booked_on == day):
            minor = int(Decimal(ln.amount).scaleb(2))
            code = "195" if minor > 0 else "495"
            total += abs(minor)
            text = f"ORIG CO NAME:{ln.payer}/{ln.remittance}" if ln.payer else ln.remittance
            body.append(f"16,{code},{abs(minor)},Z,{ln.ref},,{text}")
        group = [
            f"02,ARBOT,BANKID,1,{day:%y%m%d},2400,{currency},2/",
            f"03,{account},{currency},/",
            *body,
            f"49,{total},{len(body) + 2}/",
        ]
        group.append(f"98,{total},1,{len(group) + 1}/")
        records.extend(group)
        file_total += total
        n_records += len(group)
    records.append(f"99,{file_total},{len(days)},{n_records + 1}/")
    return "\n".join(records) + "\n"


def ofx_text(lines: list[Line], account: str = "12345678", currency: str = "USD") -> str:
    """An OFX 1.02 (SGML) bank statement, the form most banks still export."""
    txns = []
    for n, ln in enumerate(lines, start=1):
        kind = "DEBIT" if Decimal(ln.amount) < 0 else "CREDIT"
        # FITID is required in OFX: a bank without its own reference numbers the line
        fitid = f"<FITID>{escape(ln.ref or f'{ln.booked_on:%Y%m%d}-{n}')}"
        name = f"<NAME>{escape(ln.payer)}" if ln.payer else ""
        memo = f"<MEMO>{escape(ln.remittance)}" if ln.remittance else ""
        cur = (
            f"<CURRENCY><CURRATE>1<CURSYM>{ln.currency}</CURRENCY>"
            if ln.currency != currency
            else ""
        )
        txns.append(
            f"<STMTTRN><TRNTYPE>{kind}<DTPOSTED>{ln.booked_on:%Y%m%d}<TRNAMT>{ln.amount}"
            f"{fitid}{name}{memo}{cur}</STMTTRN>"
        )
    body = "\n".join(txns)
    return f"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>
<DTSERVER>20261130180000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>{currency}
<BANKACCTFROM><BANKID>121000248<ACCTID>{account}<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20261101<DTEND>20261130
{body}
</BANKTRANLIST>
<LEDGERBAL><BALAMT>0.00<DTASOF>20261130</LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def mt940_text(
    lines: list[Line], account: str = "NL91ABNA0417164300", currency: str = "EUR"
) -> str:
    """An MT940 statement: :61: entries with /NAME/ and /REMI/ in :86:, balances that add up."""

    def amount(value: Decimal) -> str:
        return f"{abs(value):.2f}".replace(".", ",")

    opening = Decimal("1000.00")
    total = sum((Decimal(ln.amount) for ln in lines), Decimal(0))
    first = min((ln.booked_on for ln in lines), default=date(2026, 11, 1))
    last = max((ln.booked_on for ln in lines), default=first)
    out = [
        ":20:STMT-1",
        f":25:{account}",
        ":28C:1/1",
        f":60F:C{first:%y%m%d}{currency}{amount(opening)}",
    ]
    for ln in lines:
        value = Decimal(ln.amount)
        side = "D" if value < 0 else "C"
        bank_ref = f"//{ln.ref}" if ln.ref else ""
        out.append(
            f":61:{ln.booked_on:%y%m%d}{ln.booked_on:%m%d}{side}{amount(value)}NTRFNONREF{bank_ref}"
        )
        out.append(f":86:/NAME/{ln.payer}/REMI/{ln.remittance}")
    closing = opening + total
    out.append(f":62F:{'C' if closing >= 0 else 'D'}{last:%y%m%d}{currency}{amount(closing)}")
    return "\n".join(out) + "\n"
