"""A text dump of what a sync wrote, to compare two versions of the code on the same fake data.

Rows are listed by their outside ids (ledger ids depend on the order rows were inserted),
references resolved to those ids, and sorted, so two ledgers holding the same rows give the
same file whatever path wrote them. The dated sums and terms are summed per key: they are
what the metrics read.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

_QUERIES = {
    "customers": (
        "SELECT source, external_id, name, email, ap_email, segment, payment_terms_days, "
        "currency, credit_limit_minor, owner_slack_id, do_not_dun FROM customers"
    ),
    "invoices": (
        "SELECT i.source, i.external_id, c.external_id, i.number, i.currency, i.total_minor, "
        "i.issued_at, i.due_on, i.voided_at, i.written_off_at, i.settled_at, i.applied_minor, "
        "i.payment_url, i.stripe_ref, i.shadowed "
        "FROM invoices i JOIN customers c ON c.id = i.customer_id"
    ),
    "payments": (
        "SELECT p.source, p.external_id, c.external_id, i.external_id, p.amount_minor, "
        "p.currency, p.paid_at, p.status, p.method, p.failure_reason FROM payments p "
        "JOIN customers c ON c.id = p.customer_id LEFT JOIN invoices i ON i.id = p.invoice_id"
    ),
    "credit_notes": (
        "SELECT n.source, n.external_id, i.external_id, n.amount_minor, n.currency, n.issued_at "
        "FROM credit_notes n JOIN invoices i ON i.id = n.invoice_id"
    ),
    "ar_terms": (
        "SELECT i.source, i.external_id, t.kind, t.currency, t.key_on, t.since_at, t.at, "
        "t.until_at, sum(t.amount_minor), sum(t.n) FROM ar_terms t "
        "JOIN invoices i ON i.id = t.invoice_id "
        "GROUP BY i.source, i.external_id, t.kind, t.currency, t.key_on, t.since_at, t.at, "
        "t.until_at"
    ),
    "ar_sums": (
        "SELECT kind, currency, key_on, since_at, at, until_at, amount_minor, n FROM ar_sums "
        "WHERE kind <> 'ver'"
    ),
    "books_write_offs": "SELECT * FROM books_write_offs",
    "books_pending": "SELECT source, entity, object_id FROM books_pending",
}


def dump(engine: sa.Engine, path: Path) -> None:
    with engine.connect() as conn, path.open("w") as out:
        for name, sql in _QUERIES.items():
            rows = sorted(tuple(map(str, row)) for row in conn.execute(sa.text(sql)))
            out.write(f"# {name}: {len(rows)}\n")
            out.writelines("|".join(row) + "\n" for row in rows)
