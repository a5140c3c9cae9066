"""Bank statement lines and learned payer names: the SQL of cash application."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from db.bank_models import BankTxn, BankTxnStatus, PayerAlias
from db.models import Customer, Invoice, Payment
from db.settlement import OverApplied, refresh_settlement


def known_keys(session: Session, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (account, external_id) pairs are already stored."""
    found: set[tuple[str, str]] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        query = select(BankTxn.account, BankTxn.external_id).where(
            tuple_(BankTxn.account, BankTxn.external_id).in_(chunk)
        )
        found.update((str(a), str(e)) for a, e in session.execute(query))
    return found


def known_lines(
    session: Session, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[date, int, str]]:
    """(booked on, amount, currency) of the stored lines with these (account, external_id)."""
    found: dict[tuple[str, str], tuple[date, int, str]] = {}
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        query = select(
            BankTxn.account,
            BankTxn.external_id,
            BankTxn.booked_on,
            BankTxn.amount_minor,
            BankTxn.currency,
        ).where(tuple_(BankTxn.account, BankTxn.external_id).in_(chunk))
        for a, e, on, amount, currency in session.execute(query):
            found[(str(a), str(e))] = (on, int(amount), str(currency))
    return found


def insert_txns(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(BankTxn), rows)


def get_txn(session: Session, txn_id: int) -> BankTxn | None:
    return session.get(BankTxn, txn_id)


def txns_by_ref(session: Session, ref: str, account: str | None = None) -> list[BankTxn]:
    """The lines the bank identifies by `ref` (one per account that used it)."""
    query = select(BankTxn).where(BankTxn.external_id == ref).order_by(BankTxn.id)
    if account is not None:
        query = query.where(BankTxn.account == account)
    return list(session.execute(query).scalars())


def txns(
    session: Session,
    *,
    booked_before: date | None = None,
    status: str | Sequence[str] | None = None,
    ids: Sequence[int] | None = None,
) -> list[BankTxn]:
    query = select(BankTxn).order_by(BankTxn.booked_on, BankTxn.id)
    if booked_before is not None:
        query = query.where(BankTxn.booked_on < booked_before)
    if isinstance(status, str):
        query = query.where(BankTxn.status == status)
    elif status is not None:
        query = query.where(BankTxn.status.in_(list(status)))
    if ids is not None:
        query = query.where(BankTxn.id.in_(list(ids)))
    return list(session.execute(query).scalars())


def uncarded_txn_ids(session: Session, ids: Sequence[int] | None = None) -> list[int]:
    """Lines waiting for a decision that no card shows yet, oldest first."""
    query = select(BankTxn.id).where(
        BankTxn.status == BankTxnStatus.UNAPPLIED, BankTxn.slack_ts.is_(None)
    )
    if ids is not None:
        query = query.where(BankTxn.id.in_(list(ids)))
    return [int(i) for i in session.scalars(query.order_by(BankTxn.booked_on, BankTxn.id))]


def decide_if_unapplied(
    session: Session,
    txn_id: int,
    *,
    from_status: Sequence[str] = (BankTxnStatus.UNAPPLIED,),
    status: str,
    by: str,
    at: datetime,
    how: str | None,
    customer_id: int | None,
) -> bool:
    """Move a line out of `from_status` once: of two concurrent deciders exactly one wins."""
    result = session.execute(
        update(BankTxn)
        .where(BankTxn.id == txn_id, BankTxn.status.in_(list(from_status)))
        .values(
            status=status, decided_by=by, decided_at=at, applied_how=how, customer_id=customer_id
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def set_txn_card(session: Session, ids: Sequence[int], channel: str, ts: str) -> None:
    session.execute(
        update(BankTxn)
        .where(BankTxn.id.in_(list(ids)))
        .values(slack_channel=channel, slack_ts=ts)
        .execution_options(synchronize_session=False)
    )


def aliases(session: Session) -> dict[str, int]:
    return {
        str(k): int(c)
        for k, c in session.execute(select(PayerAlias.payer_key, PayerAlias.customer_id))
    }


def learn_alias(session: Session, key: str, customer_id: int, txn_id: int, at: datetime) -> None:
    """The newest approved match wins: a payer name that moved to another customer follows."""
    row = session.get(PayerAlias, key)
    if row is None:
        session.add(
            PayerAlias(payer_key=key, customer_id=customer_id, learned_from=txn_id, learned_at=at)
        )
    else:
        row.customer_id, row.learned_from, row.learned_at = customer_id, txn_id, at
    session.flush()


def customer_refs(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Import id and name of each customer."""
    query = select(Customer.id, Customer.external_id, Customer.name).where(
        Customer.id.in_(list(ids))
    )
    return {int(i): (str(e), str(n)) for i, e, n in session.execute(query)}


def bank_payments_exist(session: Session, external_ids: Sequence[str]) -> bool:
    query = select(func.count()).where(
        Payment.source == "bank", Payment.external_id.in_(list(external_ids))
    )
    return bool(session.execute(query).scalar_one())


def cash_week(
    session: Session, first_day: date, last_day: date, start: datetime, end: datetime
) -> dict[str, dict[str, int]]:
    """Per currency: credits booked in [first_day, last_day], lines applied automatically and
    by hand in [start, end), and lines still unapplied booked by last_day (a line a person
    left unapplied too: the money came in and sits on no invoice)."""
    amount = func.sum(BankTxn.amount_minor)
    out: dict[str, dict[str, int]] = {"received": {}, "auto": {}, "hand": {}, "unapplied": {}}
    queries = {
        "received": select(BankTxn.currency, amount).where(
            BankTxn.booked_on >= first_day, BankTxn.booked_on <= last_day
        ),
        "auto": select(BankTxn.currency, amount).where(
            BankTxn.applied_how == "auto", BankTxn.decided_at >= start, BankTxn.decided_at < end
        ),
        "hand": select(BankTxn.currency, amount).where(
            BankTxn.applied_how == "hand", BankTxn.decided_at >= start, BankTxn.decided_at < end
        ),
        "unapplied": select(BankTxn.currency, amount).where(
            BankTxn.status.in_([BankTxnStatus.UNAPPLIED, BankTxnStatus.LEFT]),
            BankTxn.booked_on <= last_day,
        ),
    }
    for key, query in queries.items():
        for cur, total in session.execute(query.group_by(BankTxn.currency)):
            out[key][str(cur)] = int(total)
    return out


def ids_for(session: Session, keys: Sequence[tuple[str, str]]) -> list[int]:
    out: list[int] = []
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        query = select(BankTxn.id).where(tuple_(BankTxn.account, BankTxn.external_id).in_(chunk))
        out.extend(int(i) for i in session.execute(query).scalars())
    return sorted(out)


def invoice_refs(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Import id of each invoice."""
    query = select(Invoice.id, Invoice.external_id).where(Invoice.id.in_(list(ids)))
    return {int(i): str(e) for i, e in session.execute(query)}


def lock_invoices(session: Session, ids: Sequence[int]) -> None:
    """Hold the invoices' rows until commit, in id order so two writers never deadlock:
    a second payment on the same invoice waits and then sees the first one's amounts.
    SQLite serialises writers already and has no row locks."""
    if ids:
        query = select(Invoice.id).where(Invoice.id.in_(sorted(set(ids)))).order_by(Invoice.id)
        session.execute(query.with_for_update()).all()


def write_payments(session: Session, rows: list[Payment]) -> list[OverApplied]:
    """Insert bank payments and refresh their invoices' settlement and dated sums in the
    same transaction, the path every payment write ends in; returns over-applied invoices."""
    for row in rows:
        session.add(row)
    session.flush()
    return refresh_settlement(
        session.connection(), [r.invoice_id for r in rows if r.invoice_id is not None]
    )


def invoice_numbers(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The number people know each invoice by (its import id when it has none)."""
    query = select(Invoice.id, Invoice.number, Invoice.external_id).where(Invoice.id.in_(list(ids)))
    return {int(i): str(n or e) for i, n, e in session.execute(query)}


def txn_ids_on_card(session: Session, channel: str, ts: str) -> list[int]:
    query = (
        select(BankTxn.id)
        .where(BankTxn.slack_channel == channel, BankTxn.slack_ts == ts)
        .order_by(BankTxn.booked_on, BankTxn.id)
    )
    return [int(i) for i in session.execute(query).scalars()]
