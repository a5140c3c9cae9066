"""One CSV row -> one staging row: the format rules a person can fix in the file.

The column lists are the import's contract (README); each parser turns text into typed
values (money in minor units, dates as UTC instants of the company's day) or raises a
RowError saying what is wrong with which field.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from tools.mailer import header_problem
from tools.money import MoneyError, is_currency, parse_major
from tools.slack_ids import slack_user_id_problem

SOURCE = "csv"

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


def _slack_user(row: dict[str, str], col: str) -> str | None:
    value = _optional(row, col)
    if value is not None and (problem := slack_user_id_problem(value)) is not None:
        raise RowError(f"{col}: {problem}")
    return value


def _email(row: dict[str, str], col: str) -> str | None:
    value = _optional(row, col)
    if value is None:
        return None
    # The address becomes an email's To header: the mailer's header rule applies here too.
    if (problem := header_problem("address", value)) is not None:
        raise RowError(f"{col}: {problem}")
    if "@" not in value or " " in value:
        raise RowError(f"{col}: {value!r} is not an email address")
    return value


# --- row parsers: CSV row -> staging row ---------------------------------------------------


class Rows:
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
            "owner_slack_id": _slack_user(row, "owner_slack_id"),
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
            "stripe_ref": None,
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
