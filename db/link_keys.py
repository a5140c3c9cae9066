"""Each customer's same-customer key (tools.ledger_record.same_customer), kept beside the
customer with the name it was computed from.

Linking joins only rows of one key. Keeping the keys lets a relink of a few invoices find the
customers of their keys by an index probe, and a relink of everything compute keys only for
customers that are new or renamed since, instead of reading every name each time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Integer, Text, bindparam, text
from sqlalchemy.orm import Mapped, mapped_column

from db.ar_sums import driven_join
from db.models import Base


class LinkPending(Base):
    """Invoices written since links were last derived: the seeds of the next relink of the
    syncs, which then derives only their customers' links."""

    __tablename__ = "link_pending"

    invoice_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


EVERYTHING = 0  # no invoice has this id: marked, the next relink derives every link


def mark_pending(conn: Connection, source: str, *, everything: bool = False) -> None:
    """The staged invoices of `source`, just upserted, wait for their links (a writer at the
    same time marking one of them too is no conflict); `everything`: a load too large to
    list, after which every link is derived again."""
    if everything:
        conn.execute(
            text("INSERT INTO link_pending (invoice_id) VALUES (:i) ON CONFLICT DO NOTHING"),
            {"i": EVERYTHING},
        )
        return
    conn.execute(
        text(
            "INSERT INTO link_pending (invoice_id) SELECT i.id FROM stage_invoices s "
            f"{driven_join(conn.dialect.name)} invoices i "
            "ON i.source = :source AND i.external_id = s.external_id "
            "WHERE true ON CONFLICT (invoice_id) DO NOTHING"
        ),
        {"source": source},
    )


def take_pending(conn: Connection) -> list[int]:
    """The invoices waiting for their links; they wait no more once this transaction ends."""
    ids = [int(i) for i in conn.execute(text("SELECT invoice_id FROM link_pending")).scalars()]
    drop_pending(conn, ids)
    return ids


def drop_pending(conn: Connection, ids: Sequence[int] | None) -> None:
    """These invoices' links are derived (None: every invoice's)."""
    if ids is None:
        conn.execute(text("DELETE FROM link_pending"))
        return
    gone = text("DELETE FROM link_pending WHERE invoice_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for part in chunks(sorted(set(ids))):
        conn.execute(gone, {"ids": list(part)})


class CustomerLinkKey(Base):
    __tablename__ = "customer_link_keys"

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)  # the name `k` was computed from
    k: Mapped[str] = mapped_column(Text, index=True)


def refresh_keys(conn: Connection, same_customer: Callable[[str], str]) -> set[str]:
    """Bring every customer's key up to date; the keys that gained or lost a customer (both
    keys of a renamed customer), whose links may have changed."""
    stale = conn.execute(
        text(
            "SELECT c.id, c.name, k.k FROM customers c "
            "LEFT JOIN customer_link_keys k ON k.customer_id = c.id "
            "WHERE k.customer_id IS NULL OR k.name <> c.name"
        )
    ).all()
    if not stale:
        return set()
    rows = [{"id": int(i), "name": str(n), "k": same_customer(str(n))} for i, n, _ in stale]
    touched = {str(r["k"]) for r in rows} | {str(old) for _, _, old in stale if old is not None}
    gone = text("DELETE FROM customer_link_keys WHERE customer_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for part in chunks([r["id"] for r in rows]):
        conn.execute(gone, {"ids": part})
    conn.execute(
        text("INSERT INTO customer_link_keys (customer_id, name, k) VALUES (:id, :name, :k)"),
        rows,
    )
    return touched


def chunks(items: Sequence[Any], size: int = 5000) -> list[Sequence[Any]]:
    """Bound lists in pieces SQLite's parameter limit takes."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def keys_of_invoices(conn: Connection, ids: Iterable[int]) -> set[str]:
    """The keys of the customers of these invoices."""
    query = text(
        "SELECT DISTINCT k.k FROM invoices i "
        "JOIN customer_link_keys k ON k.customer_id = i.customer_id WHERE i.id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    found: set[str] = set()
    for part in chunks(sorted(set(ids))):
        found.update(str(k) for k in conn.execute(query, {"ids": list(part)}).scalars())
    return found


def scope_of_keys(conn: Connection, keys: Iterable[str]) -> None:
    """The temporary table `link_scope`: every invoice of a customer of one of the keys."""
    conn.execute(text("DROP TABLE IF EXISTS link_scope"))
    conn.execute(text("CREATE TEMPORARY TABLE link_scope (id INTEGER PRIMARY KEY)"))
    fill = text(
        "INSERT INTO link_scope (id) SELECT i.id FROM customer_link_keys lc "
        "JOIN invoices i ON i.customer_id = lc.customer_id WHERE lc.k IN :keys"
    ).bindparams(bindparam("keys", expanding=True))
    for part in chunks(sorted(set(keys))):
        conn.execute(fill, {"keys": list(part)})
    if conn.dialect.name == "postgresql":  # a temporary table has no statistics until told
        conn.execute(text("ANALYZE link_scope"))
