"""Which invoice rows stand for the same invoice across sources, and which of them count.

Rows link when their currencies are the same and either a books row carries the Stripe invoice
id of the other (the id is authoritative: it links whatever either system calls the customer,
"Acme Corp" in Stripe and "ACME Corporation Ltd" in the books), or their customers are the same
customer (the caller's rule, kept per customer by db.link_keys, so two customers' invoices
sharing a number stay two) and they carry the same invoice number (trimmed); in SQL. The rows
no id or number linked come back to tools.ledger_record, which links them by customer + amount
+ date. A row ranked below another row of its link is `shadowed`: it stays as its source
reports it, but db.ar_sums gives it no terms and db.open_amounts does not count it. Changing
the flag goes through db.settlement, so every dated sum moves in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, text

from db.link_keys import keys_of_invoices, refresh_keys, scope_of_keys
from db.settlement import refresh_selected, refresh_settlement
from db.types import UTCDateTime


class Unlinked(NamedTuple):
    """A row no number linked to every source (or the best row of a number link that misses
    some source); `mask` has bit r set for each source rank the row already stands for."""

    id: int
    rank: int
    mask: int
    currency: str
    customer: str
    issued_at: datetime
    total_minor: int


def _rank_case(ranked: Sequence[str]) -> tuple[str, dict[str, object]]:
    if not ranked:  # an empty ledger
        return "0", {}
    whens = " ".join(f"WHEN :s{k} THEN {k}" for k in range(len(ranked)))
    return f"CASE i.source {whens} ELSE {len(ranked)} END", {
        f"s{k}": s for k, s in enumerate(ranked)
    }


ALL = "invoices i"  # the scope of a full relink: every invoice, as `i`
# The scope's few rows drive the join: SQLite, with statistics on invoices and none on the
# temporary table, would otherwise scan the ledger (CROSS JOIN keeps its order).
_SCOPED = {
    "sqlite": "link_scope sc CROSS JOIN invoices i ON i.id = sc.id",
    "postgresql": "link_scope sc JOIN invoices i ON i.id = sc.id",
}


def link_by_number(
    conn: Connection,
    ranked: Sequence[str],
    same_customer: Callable[[str], str],
    seeds: Sequence[int] | None = None,
) -> str:
    """Link rows into the temporary table `link_numbered` (id, rank, best rank of its link,
    mask of the ranks it holds), and mark in `link_shadow` those a row of a better-ranked
    source stands for. A books row carrying the Stripe invoice id of a Stripe row of its
    currency links to it, whatever their customers' keys: it joins that Stripe row's link
    (that row's customer key, and its number, or id when it has none). Other rows of one
    customer key (`same_customer`) and currency link by number. A Stripe id of another
    currency links nothing. With `seeds` (invoice ids just written), only the rows of their
    customers' keys (and of customers new, renamed or left by a moved invoice since), closed
    over the keys a Stripe id reaches (db.link_keys.scope_of_keys), so the scope's links are
    whole. Returns the scope: the FROM clause naming its invoices `i`."""
    rank, params = _rank_case(ranked)
    one = "1 = 0" if len(ranked) < 2 else "1 = 1"  # one source: nothing to link
    for name in ("link_numbered", "link_shadow", "link_changed", "link_scope"):
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    touched = refresh_keys(conn, same_customer)
    scope = ALL
    if seeds is not None:
        scope_of_keys(conn, touched | keys_of_invoices(conn, seeds))
        scope = _SCOPED.get(conn.dialect.name, _SCOPED["postgresql"])
    conn.execute(
        text(
            f"""
CREATE TEMPORARY TABLE link_numbered AS
WITH r0 AS (
    SELECT i.id, i.currency, COALESCE(sk.k, lc.k) AS ck, {rank} AS rk,
           CASE WHEN sk.k IS NOT NULL THEN COALESCE(NULLIF(TRIM(s.number), ''), s.external_id)
                WHEN i.source = 'stripe' THEN COALESCE(NULLIF(TRIM(i.number), ''), i.external_id)
                ELSE TRIM(i.number) END AS k
      FROM {scope} JOIN customer_link_keys lc ON lc.customer_id = i.customer_id
      LEFT JOIN invoices s
        ON i.stripe_ref IS NOT NULL AND s.source = 'stripe' AND s.external_id = i.stripe_ref
       AND s.currency = i.currency
      LEFT JOIN customer_link_keys sk ON sk.customer_id = s.customer_id
     WHERE {one}
), r AS (
    SELECT * FROM r0 WHERE k IS NOT NULL AND k <> ''
), g AS (
    SELECT currency, k, ck, MIN(rk) AS best, SUM(1 << rk) AS mask
      FROM (SELECT DISTINCT currency, k, ck, rk FROM r) d
     GROUP BY currency, k, ck HAVING MIN(rk) < MAX(rk)
)
SELECT r.id, r.rk, g.best, g.mask
  FROM r JOIN g ON g.currency = r.currency AND g.k = r.k AND g.ck = r.ck
"""
        ),
        params,
    )
    # Looked up by id for every invoice (`unlinked_rows`): without an index SQLite scans it
    # once per invoice.
    conn.execute(text("CREATE INDEX link_numbered_id ON link_numbered (id)"))
    conn.execute(text("CREATE TEMPORARY TABLE link_shadow (id INTEGER PRIMARY KEY)"))
    conn.execute(text("INSERT INTO link_shadow (id) SELECT id FROM link_numbered WHERE rk > best"))
    return scope


def unlinked_rows(conn: Connection, ranked: Sequence[str], scope: str = ALL) -> list[Unlinked]:
    """Rows outside every number link, and the best row of each number link that some source
    lacks: what the customer + amount + date rule may still link."""
    rank, params = _rank_case(ranked)
    full = (1 << len(ranked)) - 1
    rows = conn.execute(
        text(
            f"""
SELECT i.id, {rank} AS rk, 0 AS mask, i.currency, c.name, i.issued_at, i.total_minor
  FROM {scope} JOIN customers c ON c.id = i.customer_id
 WHERE NOT EXISTS (SELECT 1 FROM link_numbered n WHERE n.id = i.id)
UNION ALL
SELECT i.id, n.rk, n.mask, i.currency, c.name, i.issued_at, i.total_minor
  FROM link_numbered n JOIN invoices i ON i.id = n.id JOIN customers c ON c.id = i.customer_id
 WHERE n.rk = n.best AND n.mask <> :full
"""
        ).columns(issued_at=UTCDateTime()),
        {**params, "full": full},
    )
    return [
        Unlinked(int(a), int(b), int(m) | (1 << int(b)), str(cur), str(name), at, int(t))
        for a, b, m, cur, name, at, t in rows
    ]


def set_shadowed(conn: Connection, more: Iterable[int], scope: str = ALL) -> tuple[int, int]:
    """Make the rows `link_by_number` marked, plus `more`, exactly the shadowed ones (of the
    scope), and re-derive the dated sums of every row whose flag changed; (how many changed,
    how many are shadowed: in the scope, how many more than before)."""
    rows = [{"id": i} for i in more]
    if rows:
        conn.execute(text("INSERT INTO link_shadow (id) VALUES (:id)"), rows)
    conn.execute(
        text(
            f"CREATE TEMPORARY TABLE link_changed AS SELECT i.id FROM {scope} "
            "WHERE i.shadowed <> EXISTS (SELECT 1 FROM link_shadow s WHERE s.id = i.id)"
        )
    )
    changed = int(conn.execute(text("SELECT COUNT(*) FROM link_changed")).scalar_one())
    if scope == ALL:
        shadowed = int(conn.execute(text("SELECT COUNT(*) FROM link_shadow")).scalar_one())
    else:
        shadowed = int(
            conn.execute(
                text(
                    "SELECT COALESCE(SUM(CASE WHEN shadowed THEN -1 ELSE 1 END), 0) "
                    "FROM invoices WHERE id IN (SELECT id FROM link_changed)"
                )
            ).scalar_one()
        )
    if changed:
        conn.execute(
            text(
                "UPDATE invoices SET shadowed = NOT shadowed "
                "WHERE id IN (SELECT id FROM link_changed)"
            )
        )
        refresh_selected(conn, "SELECT id FROM link_changed", {})
    for name in ("link_numbered", "link_shadow", "link_changed"):
        conn.execute(text(f"DROP TABLE {name}"))
    conn.execute(text("DROP TABLE IF EXISTS link_scope"))
    return changed, shadowed


def counted_sources(conn: Connection) -> list[str]:
    """Sources with at least one invoice the figures count."""
    rows = conn.execute(text("SELECT DISTINCT source FROM invoices WHERE NOT shadowed"))
    return sorted(str(s) for (s,) in rows)


class OnShadowed(NamedTuple):
    """A bank receipt applied to a shadowed row, with that row's link facts."""

    payment_id: int
    invoice_id: int
    currency: str
    number: str
    customer: str
    issued_at: datetime
    total_minor: int
    ref: str  # the Stripe invoice id it is or names ('' for none)


def bank_on_shadowed(conn: Connection) -> list[OnShadowed]:
    """Applied bank receipts (`bank` payments) whose invoice is shadowed."""
    rows = conn.execute(
        text(
            "SELECT p.id, i.id, i.currency, COALESCE(TRIM(i.number), ''), c.name, i.issued_at, "
            "i.total_minor, CASE WHEN i.source = 'stripe' THEN i.external_id "
            "ELSE COALESCE(i.stripe_ref, '') END "
            "FROM payments p JOIN invoices i ON i.id = p.invoice_id "
            "JOIN customers c ON c.id = i.customer_id WHERE p.source = 'bank' AND i.shadowed"
        ).columns(issued_at=UTCDateTime())
    )
    return [
        OnShadowed(int(a), int(b), str(c), str(d), str(e), f, int(g), str(h))
        for a, b, c, d, e, f, g, h in rows
    ]


class Counted(NamedTuple):
    id: int
    customer_id: int
    customer: str
    issued_at: datetime
    total_minor: int
    number: str
    ref: str  # as OnShadowed.ref


def counted_candidates(conn: Connection, row: OnShadowed) -> list[Counted]:
    """Counted rows of the currency that share the row's Stripe invoice id, number or total:
    where its twin is."""
    found = conn.execute(
        text(
            "SELECT i.id, i.customer_id, c.name, i.issued_at, i.total_minor, "
            "COALESCE(TRIM(i.number), ''), CASE WHEN i.source = 'stripe' THEN i.external_id "
            "ELSE COALESCE(i.stripe_ref, '') END "
            "FROM invoices i JOIN customers c ON c.id = i.customer_id "
            "WHERE NOT i.shadowed AND i.currency = :cur "
            "AND ((:num <> '' AND TRIM(i.number) = :num) OR i.total_minor = :total "
            "OR (:ref <> '' AND (i.stripe_ref = :ref "
            "OR (i.source = 'stripe' AND i.external_id = :ref))))"
        ).columns(issued_at=UTCDateTime()),
        {"cur": row.currency, "num": row.number, "total": row.total_minor, "ref": row.ref},
    )
    return [
        Counted(int(i), int(c), str(n), at, int(t), str(k), str(r))
        for i, c, n, at, t, k, r in found
    ]


def move_to_twin(conn: Connection, payment_id: int, old: int, new: int, customer_id: int) -> None:
    """The receipt pays the counted twin instead; both rows' settlement and sums follow."""
    conn.execute(
        text("UPDATE payments SET invoice_id = :new, customer_id = :cid WHERE id = :id"),
        {"new": new, "cid": customer_id, "id": payment_id},
    )
    refresh_settlement(conn, [old, new])
