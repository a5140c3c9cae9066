"""The common case of tools.csv_rows at several times its speed: rows that are plainly valid.

A million-row import spends most of its Python time in the per-field parsers. These parsers
accept only the obvious form of each field (a known code as written, digits with at most the
currency's decimals, a date seen before or in ISO form) and return None on anything else;
the caller then runs the row through tools.csv_rows, which either accepts it or says what is
wrong. So the rules and the messages live in one place, and a fast row is exactly the row
the full parser would have produced (tests/test_import_fast.py checks both agree).

Rows come out as tuples in db.ingest's staging column order, `line` first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from db.stages import STAGES
from tools.csv_rows import COLUMNS, Rows
from tools.money import currency_exponents
from tools.slack_ids import slack_user_id_problem

FastParser = Callable[[list[str], int], tuple[Any, ...] | None]

_EXP = currency_exponents()
_STATUSES = frozenset({"succeeded", "failed"})
_SCALE: list[int] = [10**n for n in range(max(_EXP.values()) + 1)]


def _minor(raw: str, exp: int) -> int | None:
    """ "1234.50" -> 123450 at exponent 2; None unless ASCII digits with at most `exp`
    decimals and a digit on each side of the point (anything else goes to parse_major)."""
    dot = raw.find(".")
    if dot < 0:
        digits, places = raw, 0
    else:
        digits, places = raw[:dot] + raw[dot + 1 :], len(raw) - dot - 1
        if dot == 0 or places == 0 or places > exp:
            return None
    if not (digits.isdigit() and digits.isascii()):
        return None
    return int(digits) * _SCALE[exp - places]


class _Days:
    """Raw date text -> (date, the company's midnight as a UTC instant), remembered: a ledger
    has a few hundred distinct days and millions of dated fields."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.seen: dict[str, tuple[date, datetime]] = {}

    def get(self, raw: str) -> tuple[date, datetime] | None:
        found = self.seen.get(raw)
        if found is None:
            text = raw.strip()
            if len(text) != 10:
                return None
            try:
                day = date.fromisoformat(text)
            except ValueError:
                return None
            found = self.seen[raw] = (day, datetime.combine(day, time(), self.rows.tz))
        return found


def fast_parser(rows: Rows, entity: str, header: list[str]) -> FastParser | None:
    """A fast parser for this file's column order, or None when the entity has none."""
    build = _BUILDERS.get(entity)
    if build is None:
        return None
    last = {name: i for i, name in enumerate(header)}  # as dict(zip(header, fields)) picks
    at = {name: last[name] for name in COLUMNS[entity]}
    return build(_Days(rows), at)


def _customers(days: _Days, at: dict[str, int]) -> FastParser:
    i_id, i_name, i_email, i_ap, i_seg, i_terms, i_cur, i_limit, i_owner = at.values()

    def parse(f: list[str], line: int) -> tuple[Any, ...] | None:
        ext, name, cur = f[i_id].strip(), f[i_name].strip(), f[i_cur]
        exp = _EXP.get(cur)
        if not ext or not name or exp is None:
            return None
        email, ap = f[i_email].strip() or None, f[i_ap].strip() or None
        for value in (email, ap):
            if value is not None and (
                "@" not in value or " " in value or not (value.isascii() and value.isprintable())
            ):
                return None
        terms_raw = f[i_terms].strip()
        terms = None
        if terms_raw:
            if not (terms_raw.isascii() and terms_raw.isdigit()):
                return None
            terms = int(terms_raw)
        limit_raw = f[i_limit].strip()
        limit = None
        if limit_raw:
            limit = _minor(limit_raw, exp)
            if limit is None:
                return None
        seg, owner = f[i_seg].strip() or None, f[i_owner].strip() or None
        if owner is not None and slack_user_id_problem(owner) is not None:
            return None
        return (line, ext, name, email, ap, seg, terms, cur, limit, owner)

    return parse


def _invoices(days: _Days, at: dict[str, int]) -> FastParser:
    i_id, i_cust, i_num, i_cur, i_total, i_issued, i_due, i_void, i_wo = at.values()

    def parse(f: list[str], line: int) -> tuple[Any, ...] | None:
        ext, cust, cur = f[i_id].strip(), f[i_cust].strip(), f[i_cur]
        exp = _EXP.get(cur)
        issued, due = days.get(f[i_issued]), days.get(f[i_due])
        if not ext or not cust or exp is None or issued is None or due is None:
            return None
        if due[0] < issued[0]:
            return None
        total = _minor(f[i_total], exp)
        if total is None:
            return None
        void_raw, wo_raw = f[i_void], f[i_wo]
        voided = written_off = None
        if void_raw:
            got = days.get(void_raw)
            if got is None or got[0] < issued[0]:
                return None
            voided = got[1]
        if wo_raw:
            got = days.get(wo_raw)
            if got is None or got[0] < issued[0] or voided is not None:
                return None
            written_off = got[1]
        number = f[i_num].strip() or None
        url = stripe_ref = None
        return (
            line,
            ext,
            cust,
            number,
            cur,
            total,
            issued[1],
            due[0],
            voided,
            written_off,
            url,
            stripe_ref,
        )

    return parse


def _payments(days: _Days, at: dict[str, int]) -> FastParser:
    i_id, i_cust, i_inv, i_amount, i_cur, i_paid, i_status, i_method, i_fail = at.values()

    def parse(f: list[str], line: int) -> tuple[Any, ...] | None:
        ext, cust, cur, status = f[i_id].strip(), f[i_cust].strip(), f[i_cur], f[i_status]
        exp = _EXP.get(cur)
        paid = days.get(f[i_paid])
        if not ext or not cust or exp is None or paid is None or status not in _STATUSES:
            return None
        amount = _minor(f[i_amount], exp)
        if amount is None:
            return None
        invoice = f[i_inv].strip() or None
        method, failure = f[i_method].strip() or None, f[i_fail].strip() or None
        return (line, ext, cust, invoice, amount, cur, paid[1], status, method, failure)

    return parse


def _credit_notes(days: _Days, at: dict[str, int]) -> FastParser:
    i_id, i_inv, i_amount, i_cur, i_issued = at.values()

    def parse(f: list[str], line: int) -> tuple[Any, ...] | None:
        ext, invoice, cur = f[i_id].strip(), f[i_inv].strip(), f[i_cur]
        exp = _EXP.get(cur)
        issued = days.get(f[i_issued])
        if not ext or not invoice or exp is None or issued is None:
            return None
        amount = _minor(f[i_amount], exp)
        if amount is None:
            return None
        return (line, ext, invoice, amount, cur, issued[1])

    return parse


_BUILDERS: dict[str, Callable[[_Days, dict[str, int]], FastParser]] = {
    "customers": _customers,
    "invoices": _invoices,
    "payments": _payments,
    "credit_notes": _credit_notes,
}


def as_tuple(entity: str, staged: dict[str, Any]) -> tuple[Any, ...]:
    """A row from tools.csv_rows in the same staging column order as the fast parsers."""
    return tuple(staged[c.name] for c in STAGES[entity].columns)
