"""Each customer's same-customer key (tools.ledger_record.same_customer), kept beside the
customer with the name it was computed from.

Linking by number joins only rows of one key; a Stripe id links across keys, and a relink of a
few invoices follows those ids to the keys they reach. Keeping the keys lets such a relink
find the customers of their keys by an index probe, and a relink of everything compute keys
only for customers that are new or renamed since, instead of reading every name each time. A
customer without a key row is new to linking: forgetting a key (`forget_moved`) is how a
write says that customer's links may have changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Index, Integer, Text, bindparam, text
from sqlalchemy.orm import Mapped, mapped_column

from db.ar_sums import driven_join
from db.models import Base, Invoice


class LinkPending(Base):
    """Invoices written since links were last derived: the seeds of the next relink of the
    syncs, which then derives only their customers' links."""

    __tablename__ = "link_pending"

    invoice_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


EVERYTHING = 0  # no invoice has this id: marked, the next relink derives every link

# The books' invoices naming a Stripe invoice (only those: most rows carry none), for a relink
# of a few Stripe invoices (`linked_keys`).
Index(
    "ix_invoices_stripe_ref",
    Invoice.stripe_ref,
    sqlite_where=Invoice.stripe_ref.is_not(None),
    postgresql_where=Invoice.stripe_ref.is_not(None),
)


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


# Keys whose invoices a Stripe id joins to invoices of the given keys, either way: a books row
# of these keys naming a Stripe invoice, or a books row naming a Stripe invoice of these keys.
# Any currency: a row whose currency changed may have left a link through its id. CROSS JOIN
# keeps SQLite's order (the keys' few customers first, then index probes) whatever its
# statistics say; PostgreSQL plans it as the inner join it is.
_REF_KEYS = (
    "SELECT sk.k FROM customer_link_keys lc CROSS JOIN invoices i CROSS JOIN invoices s "
    "CROSS JOIN customer_link_keys sk "
    "WHERE lc.k IN :keys AND i.customer_id = lc.customer_id AND i.stripe_ref IS NOT NULL "
    "AND s.source = 'stripe' AND s.external_id = i.stripe_ref "
    "AND sk.customer_id = s.customer_id "
    "UNION "
    "SELECT bk.k FROM customer_link_keys lc CROSS JOIN invoices s CROSS JOIN invoices b "
    "CROSS JOIN customer_link_keys bk "
    "WHERE lc.k IN :keys AND s.customer_id = lc.customer_id AND s.source = 'stripe' "
    "AND b.stripe_ref = s.external_id AND b.stripe_ref IS NOT NULL "
    "AND bk.customer_id = b.customer_id"
)


def linked_keys(conn: Connection, keys: Iterable[str]) -> set[str]:
    """The keys, and every key a chain of Stripe ids reaches from them: a link by id crosses
    customer keys, so a scope of whole links holds them all. Each round reads the invoices of
    the keys found in the round before (the index on invoices.stripe_ref answers the way back);
    nearly always one round finds nothing new."""
    query = text(_REF_KEYS).bindparams(bindparam("keys", expanding=True))
    found = set(keys)
    frontier = set(found)
    while frontier:
        more: set[str] = set()
        for part in chunks(sorted(frontier)):
            more.update(str(k) for k in conn.execute(query, {"keys": list(part)}).scalars())
        frontier = more - found
        found |= frontier
    return found


def forget_moved(conn: Connection, source: str) -> None:
    """Before the staged invoices of `source` are upserted: the customers a staged invoice
    leaves (its customer changed in the source) and the Stripe invoices' customers a staged
    invoice stops naming (its Stripe id changed) lose their keys, so the next relink computes
    them again and derives their keys' links (`refresh_keys`): the links the invoice left are
    derived again, not only those it joins."""
    # One probe per staged row, the customer and the Stripe invoice looked up by correlated
    # subqueries: joined instead, SQLite builds a Bloom filter over the ledger's invoices for
    # each page (tens of milliseconds at 200,000 invoices).
    left = conn.execute(
        text(
            "SELECT CASE WHEN i.customer_id IS DISTINCT FROM (SELECT c.id FROM customers c "
            "WHERE c.source = :source AND c.external_id = s.customer_ext) "
            "THEN i.customer_id END, "
            "CASE WHEN i.stripe_ref IS NOT NULL AND i.stripe_ref IS DISTINCT FROM s.stripe_ref "
            "THEN (SELECT r.customer_id FROM invoices r "
            "WHERE r.source = 'stripe' AND r.external_id = i.stripe_ref) END "
            "FROM stage_invoices s CROSS JOIN invoices i "
            "WHERE i.source = :source AND i.external_id = s.external_id"
        ),
        {"source": source},
    )
    customers = sorted({int(c) for row in left for c in row if c is not None})
    gone = text("DELETE FROM customer_link_keys WHERE customer_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for part in chunks(customers):
        conn.execute(gone, {"ids": list(part)})


def scope_of_keys(conn: Connection, keys: Iterable[str]) -> None:
    """The temporary table `link_scope`: every invoice of a customer of one of the keys, or of
    a key a Stripe id links to them (`linked_keys`)."""
    keys = linked_keys(conn, keys)
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
