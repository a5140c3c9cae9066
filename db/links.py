"""Which invoice rows stand for the same invoice across sources, and which of them count.

Rows are linked by the invoice number they carry (trimmed, same currency) when their customers
are the same customer (the caller's rule, so two customers' invoices sharing a number stay two),
in SQL over the whole ledger; the rows no number linked come back to tools.ledger_record,
which links them by customer + amount + date. A row ranked below another row of its link is
`shadowed`: it stays as its source reports it, but db.ar_sums gives it no terms and
db.open_amounts does not count it. Changing the flag goes through db.settlement, so every
dated sum moves in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, text

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


def _customer_keys(conn: Connection, same_customer: Callable[[str], str]) -> None:
    """The temporary table `link_customer` (customer id, key): customers of any source with
    one key are the same customer."""
    conn.execute(text("DROP TABLE IF EXISTS link_customer"))
    conn.execute(text("CREATE TEMPORARY TABLE link_customer (id INTEGER PRIMARY KEY, k TEXT)"))
    rows = [
        {"id": int(i), "k": same_customer(str(n))}
        for i, n in conn.execute(text("SELECT id, name FROM customers"))
    ]
    if rows:
        conn.execute(text("INSERT INTO link_customer (id, k) VALUES (:id, :k)"), rows)


def _scope(conn: Connection, seeds: Sequence[int] | None) -> str:
    """With `seeds`, the temporary table `link_scope`: every invoice of a customer with the key
    of a seed's customer. Both links join only rows of one customer key, so the links of the
    scope are whole, and only its rows need deriving again. The SQL filter on `i.id`."""
    conn.execute(text("DROP TABLE IF EXISTS link_scope"))
    if seeds is None:
        return "1 = 1"
    conn.execute(text("CREATE TEMPORARY TABLE link_scope (id INTEGER PRIMARY KEY)"))
    keys = {
        str(k)
        for k in conn.execute(
            text(
                "SELECT lc.k FROM invoices i JOIN link_customer lc ON lc.id = i.customer_id "
                "WHERE i.id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(seeds) or [-1]},
        ).scalars()
    }
    conn.execute(
        text(
            "INSERT INTO link_scope (id) SELECT i.id FROM invoices i "
            "JOIN link_customer lc ON lc.id = i.customer_id WHERE lc.k IN :keys"
        ).bindparams(bindparam("keys", expanding=True)),
        {"keys": sorted(keys) or [""]},
    )
    return "i.id IN (SELECT id FROM link_scope)"


def link_by_number(
    conn: Connection,
    ranked: Sequence[str],
    same_customer: Callable[[str], str],
    seeds: Sequence[int] | None = None,
) -> str:
    """Link rows by number and customer (`same_customer` maps a name to its key) into the
    temporary table `link_numbered` (id, rank, best rank of its link, mask of the ranks it
    holds), and mark in `link_shadow` those a row of a better-ranked source stands for. With
    `seeds` (invoice ids), only the rows that may link to them; the scope's SQL filter."""
    rank, params = _rank_case(ranked)
    one = "1 = 0" if len(ranked) < 2 else "1 = 1"  # one source: nothing to link
    for name in ("link_numbered", "link_shadow", "link_changed"):
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    _customer_keys(conn, same_customer)
    scope = _scope(conn, seeds)
    one = f"{one} AND {scope}"
    conn.execute(
        text(
            f"""
CREATE TEMPORARY TABLE link_numbered AS
WITH r AS (
    SELECT i.id, i.currency, TRIM(i.number) AS k, lc.k AS ck, {rank} AS rk
      FROM invoices i JOIN link_customer lc ON lc.id = i.customer_id
     WHERE i.number IS NOT NULL AND TRIM(i.number) <> '' AND {one}
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


def unlinked_rows(conn: Connection, ranked: Sequence[str], scope: str = "1 = 1") -> list[Unlinked]:
    """Rows outside every number link, and the best row of each number link that some source
    lacks: what the customer + amount + date rule may still link."""
    rank, params = _rank_case(ranked)
    full = (1 << len(ranked)) - 1
    rows = conn.execute(
        text(
            f"""
SELECT i.id, {rank} AS rk, 0 AS mask, i.currency, c.name, i.issued_at, i.total_minor
  FROM invoices i JOIN customers c ON c.id = i.customer_id
 WHERE NOT EXISTS (SELECT 1 FROM link_numbered n WHERE n.id = i.id) AND {scope}
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


def set_shadowed(conn: Connection, more: Iterable[int], scope: str = "1 = 1") -> tuple[int, int]:
    """Make the rows `link_by_number` marked, plus `more`, exactly the shadowed ones (of the
    scope), and re-derive the dated sums of every row whose flag changed; (how many changed,
    how many are shadowed: in the scope, how many more than before)."""
    rows = [{"id": i} for i in more]
    if rows:
        conn.execute(text("INSERT INTO link_shadow (id) VALUES (:id)"), rows)
    conn.execute(
        text(
            "CREATE TEMPORARY TABLE link_changed AS SELECT i.id FROM invoices i "
            f"WHERE {scope} AND "
            "i.shadowed <> EXISTS (SELECT 1 FROM link_shadow s WHERE s.id = i.id)"
        )
    )
    changed = int(conn.execute(text("SELECT COUNT(*) FROM link_changed")).scalar_one())
    if scope == "1 = 1":
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
    for name in ("link_numbered", "link_shadow", "link_changed", "link_customer"):
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


def bank_on_shadowed(conn: Connection) -> list[OnShadowed]:
    """Applied bank receipts (`bank` payments) whose invoice is shadowed."""
    rows = conn.execute(
        text(
            "SELECT p.id, i.id, i.currency, COALESCE(TRIM(i.number), ''), c.name, i.issued_at, "
            "i.total_minor FROM payments p JOIN invoices i ON i.id = p.invoice_id "
            "JOIN customers c ON c.id = i.customer_id WHERE p.source = 'bank' AND i.shadowed"
        ).columns(issued_at=UTCDateTime())
    )
    return [
        OnShadowed(int(a), int(b), str(c), str(d), str(e), f, int(g))
        for a, b, c, d, e, f, g in rows
    ]


class Counted(NamedTuple):
    id: int
    customer_id: int
    customer: str
    issued_at: datetime
    total_minor: int
    number: str


def counted_candidates(conn: Connection, row: OnShadowed) -> list[Counted]:
    """Counted rows of the currency that share the row's number or total: where its twin is."""
    found = conn.execute(
        text(
            "SELECT i.id, i.customer_id, c.name, i.issued_at, i.total_minor, "
            "COALESCE(TRIM(i.number), '') FROM invoices i JOIN customers c ON c.id = i.customer_id "
            "WHERE NOT i.shadowed AND i.currency = :cur "
            "AND ((:num <> '' AND TRIM(i.number) = :num) OR i.total_minor = :total)"
        ).columns(issued_at=UTCDateTime()),
        {"cur": row.currency, "num": row.number, "total": row.total_minor},
    )
    return [Counted(int(i), int(c), str(n), at, int(t), str(k)) for i, c, n, at, t, k in found]


def move_to_twin(conn: Connection, payment_id: int, old: int, new: int, customer_id: int) -> None:
    """The receipt pays the counted twin instead; both rows' settlement and sums follow."""
    conn.execute(
        text("UPDATE payments SET invoice_id = :new, customer_id = :cid WHERE id = :id"),
        {"new": new, "cid": customer_id, "id": payment_id},
    )
    refresh_settlement(conn, [old, new])
