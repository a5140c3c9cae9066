"""A sync's relink derives only the links of what it wrote, and lands exactly where deriving every
link lands: on random ledgers of three sources (numbers shared or not, Stripe ids carried,
currencies and customers' spellings that differ), then random writes (invoices renumbered,
re-amounted, re-dated, given a Stripe id, moved to another customer, new invoices, customers
renamed) through the upsert every sync writes with. SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from db import ingest, upserts
from tools.deps import ToolDeps
from tools.ledger_record import relink

SOURCES = ("stripe", "quickbooks", "csv")
NAMES = ("Acme Corp", "ACME corp.", "Beta LLC", "Gamma")
_run = itertools.count()

invoice_st = st.fixed_dictionaries(
    {
        "source": st.sampled_from(SOURCES),
        "customer": st.integers(0, len(NAMES) - 1),
        "number": st.sampled_from(["1", "2", "3", None]),
        "currency": st.sampled_from(["USD", "USD", "EUR"]),
        "total": st.sampled_from([100, 200]),
        "day": st.integers(1, 2),
        "ref": st.one_of(st.none(), st.integers(0, 9)),
    }
)
change_st = st.tuples(
    st.integers(0, 30),
    st.sampled_from(["number", "total", "day", "ref", "currency", "customer"]),
    st.sampled_from(["1", "2", "4", None]),
    st.integers(0, 9),
)


def _write(
    deps: ToolDeps,
    tag: str,
    invoices: list[dict[str, Any]],
    names: list[str],
    only: set[int] | None = None,
) -> None:
    """Customers and invoices as a sync writes them: staged, then upserted, per source;
    `only`: the invoices an incremental sync reads (those changed)."""
    with deps.engine.begin() as conn:
        for source in SOURCES:
            ingest.create_stages(conn)
            customers = [
                {"line": n, "external_id": f"{tag}c{k}", "name": f"{tag} {name}",
                 "currency": "USD"}
                for n, (k, name) in enumerate(enumerate(names), 1)
            ]  # fmt: skip
            ingest.stage_rows(conn, "customers", customers)
            upserts.write(conn, "customers", source=source)
            mine = [
                (k, inv)
                for k, inv in enumerate(invoices)
                if inv["source"] == source and (only is None or k in only)
            ]
            if not mine:
                continue
            stripe_ids = [k for k, inv in enumerate(invoices) if inv["source"] == "stripe"]
            rows = []
            for n, (k, inv) in enumerate(mine, 1):
                issued = datetime(2026, 1, inv["day"], tzinfo=UTC)
                ref = inv["ref"]
                rows.append({
                    "line": n, "external_id": f"{tag}i{k}",
                    "customer_ext": f"{tag}c{inv['customer']}",
                    "number": inv["number"], "currency": inv["currency"],
                    "total_minor": inv["total"], "issued_at": issued,
                    "due_on": date(2026, 2, inv["day"]), "voided_at": None,
                    "written_off_at": None, "payment_url": None,
                    "stripe_ref": f"{tag}i{stripe_ids[ref % len(stripe_ids)]}"
                    if ref is not None and stripe_ids and source != "stripe" else None,
                })  # fmt: skip
            ingest.stage_rows(conn, "invoices", rows)
            upserts.write(conn, "invoices", source=source)
        ingest.drop_stages(conn)


def _shadowed(deps: ToolDeps, tag: str) -> dict[str, bool]:
    with deps.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT external_id, shadowed FROM invoices WHERE external_id LIKE :t"),
            {"t": f"{tag}i%"},
        )
        return {str(e): bool(s) for e, s in rows}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(invoice_st, min_size=2, max_size=14),
    changes=st.lists(change_st, max_size=6),
    added=st.lists(invoice_st, max_size=4),
    renamed=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(NAMES)), max_size=2),
)
@example(  # a Stripe invoice that a books invoice of another spelling names by id changes
    first=[
        {"source": "stripe", "customer": 2, "number": "1", "currency": "USD", "total": 100,
         "day": 1, "ref": None},
        {"source": "quickbooks", "customer": 3, "number": "9", "currency": "USD", "total": 200,
         "day": 2, "ref": 0},
    ],
    changes=[(0, "total", None, 0)],
    added=[],
    renamed=[],
)  # fmt: skip
@example(  # a books invoice names another Stripe invoice than the one it stood for
    first=[
        {"source": "stripe", "customer": 2, "number": "1", "currency": "USD", "total": 100,
         "day": 1, "ref": None},
        {"source": "quickbooks", "customer": 3, "number": "9", "currency": "USD", "total": 200,
         "day": 2, "ref": 0},
        {"source": "stripe", "customer": 0, "number": "2", "currency": "USD", "total": 300,
         "day": 1, "ref": None},
    ],
    changes=[(1, "ref", None, 1)],
    added=[],
    renamed=[],
)  # fmt: skip
@example(  # the books' invoice that stood for Stripe's moves to another customer
    first=[
        {"source": "stripe", "customer": 2, "number": "1", "currency": "USD", "total": 100,
         "day": 1, "ref": None},
        {"source": "quickbooks", "customer": 2, "number": "1", "currency": "USD", "total": 100,
         "day": 1, "ref": None},
    ],
    changes=[(1, "customer", None, 3)],
    added=[],
    renamed=[],
)  # fmt: skip
def test_a_syncs_relink_equals_relinking_everything(
    deps: ToolDeps,
    first: list[dict[str, Any]],
    changes: list[tuple[int, str, str | None, int]],
    added: list[dict[str, Any]],
    renamed: list[tuple[int, str]],
) -> None:
    tag = f"r{next(_run)}"  # each example its own customers: links never reach another's
    names = list(NAMES)
    _write(deps, tag, first, names)
    relink(deps.engine, deps.settings)

    later = [dict(inv) for inv in first]
    touched = set(range(len(first), len(first) + len(added)))
    for k, field, number, other in changes:
        touched.add(k % len(later))
        inv = later[k % len(later)]
        inv[field] = {
            "number": number,
            "total": 300 - inv["total"],
            "day": 3 - inv["day"],
            "ref": other,
            "currency": "EUR" if inv["currency"] == "USD" else "USD",
            "customer": other % len(NAMES),  # moved to another customer in its source
        }[field]
    for k, name in renamed:
        names[k] = name
    _write(deps, tag, later + added, names, touched)
    relink(deps.engine, deps.settings, written=True)
    incremental = _shadowed(deps, tag)

    assert relink(deps.engine, deps.settings) == 0  # deriving every link changes nothing more
    assert _shadowed(deps, tag) == incremental
