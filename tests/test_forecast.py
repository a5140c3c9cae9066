"""The cash forecast on a small ledger worked out by hand; promises and disputes move it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from db.models import PromiseToPay
from db.promises import insert_promise
from tests.cli_helpers import arbot
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.deps import ToolDeps
from tools.settings import Settings

D = "2026-06-30"
AMOUNTS = {"h1": "100.00", "h2": "100.00", "o5": "200.00"}  # disputed: the whole invoice


def _dispute(
    did: str, inv: str, opened: str, resolved: str | None, outcome: str | None, cid: str
) -> dict[str, object]:
    return {
        "dispute_id": did, "customer_id": cid, "invoice_id": inv, "amount": AMOUNTS[inv],
        "currency": "USD", "kind": "billing", "reason": "seats", "opened_on": opened,
        "resolved_on": resolved, "outcome": outcome,
    }  # fmt: skip


def _ledger(tmp_path: Path) -> Path:
    k, n = {"customer_id": "K"}, {"customer_id": "N"}
    return write_csvs(
        tmp_path / "ledger",
        customers=[
            customer("K", segment="mid-market", payment_terms_days=30),
            customer("N", payment_terms_days=15),
        ],
        invoices=[
            # K's history (due 90-365 days before D): 10, 20 and 30 days late; one never paid.
            invoice("h1", "100.00", "2026-01-01", "2026-01-31", **k),
            invoice("h2", "100.00", "2026-01-29", "2026-02-28", **k),
            invoice("h3", "100.00", "2026-03-01", "2026-03-31", **k),
            invoice("h4", "500.00", "2026-01-30", "2026-03-01", **k),
            # K's open invoices
            invoice("o1", "1200.00", "2026-05-26", "2026-06-25", **k),
            invoice("o2", "900.00", "2026-05-16", "2026-06-15", **k),
            invoice("o3", "400.00", "2026-06-10", "2026-07-10", **k),
            # N: no history of its own and no segment
            invoice("o4", "100.00", "2026-06-20", "2026-07-05", **n),
            invoice("o5", "200.00", "2026-06-01", "2026-06-16", **n),
            invoice("o6", "300.00", "2026-06-01", "2026-06-10", **n),
            invoice("o7", "100.00", "2026-05-01", "2026-05-10", **n),
        ],
        payments=[
            payment("p1", "h1", "100.00", "2026-02-10", **k),
            payment("p2", "h2", "100.00", "2026-03-20", **k),
            payment("p3", "h3", "100.00", "2026-04-30", **k),
            payment("f6", "o6", "300.00", "2026-06-10", status="failed", method="card", **n),
            payment("f7", "o7", "100.00", "2026-05-10", status="failed", method="card", **n),
            payment("p7", "o7", "100.00", "2026-05-14", method="card", **n),
        ],
        disputes=[
            _dispute("d1", "h1", "2026-02-01", "2026-02-21", "won", "K"),
            _dispute("d2", "h2", "2026-03-01", "2026-03-11", "lost", "K"),
            _dispute("d5", "o5", "2026-06-20", None, None, "N"),
        ],
    )


def _forecast(capsys: pytest.CaptureFixture[str]) -> dict:
    run = arbot(capsys, "forecast", "--as-of", D, "--json")
    assert run.code == 0, run.err
    return run.json()


def test_forecast_by_hand(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0

    f = _forecast(capsys)

    # o1 (5 days late): of K's outcomes 10, 20, 30, never -> 300 each on Jul 5, 15, 25.
    # o2 (15 days late): 20, 30, never -> 300 each on Jul 5 and 15.
    # o3 (due Jul 10): 10, 20, 30, never -> 100 each on Jul 20, 30, Aug 9.
    # o4 (due Jul 5): N has no history and no segment: every customer's (K's) outcomes,
    #     10, 20, 30, never -> 25 each on Jul 15, 25, Aug 4.
    # o5: 200 under dispute; 1 of 2 disputes won, closed in 15 days on average -> 100, Jul 15.
    # o6: last attempt failed; 1 of 2 failed invoices recovered, 4 days after failing -> 150
    #     on Jun 14, so tomorrow. h4 is later than K ever paid: not expected.
    assert set(f) == {"as_of", "currency", "weeks", "totals"}
    assert (f["as_of"], f["currency"]) == (D, "USD")
    weeks = {w["week_start"]: w["expected"] for w in f["weeks"]}
    assert len(weeks) == 13
    assert list(weeks.items())[:6] == [
        ("2026-07-01", "750.00"),  # 150 + 300 + 300
        ("2026-07-08", "0.00"),
        ("2026-07-15", "825.00"),  # 300 + 300 + 100 + 100 (o3, Jul 20) + 25 (o4)
        ("2026-07-22", "325.00"),
        ("2026-07-29", "125.00"),
        ("2026-08-05", "100.00"),
    ]
    assert all(v == "0.00" for v in list(weeks.values())[6:])
    assert f["totals"] == {"30": "2000.00", "60": "2125.00", "90": "2125.00"}


def test_promises_and_disputes_move_the_forecast(
    settings: Settings, deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0
    before = _forecast(capsys)
    with deps.sessions() as session, session.begin():
        customer_id, invoice_id = session.execute(
            text("SELECT customer_id, id FROM invoices WHERE external_id = 'o3'")
        ).one()
        insert_promise(
            session,
            PromiseToPay(
                customer_id=customer_id, invoice_id=invoice_id, amount_minor=25_000,
                currency="USD", promised_on=date(2026, 7, 20), status="open",
                recorded_by="UFIN000001", created_at=datetime(2026, 6, 25, tzinfo=UTC),
            ),
        )  # fmt: skip

    after = _forecast(capsys)

    weeks = {w["week_start"]: w["expected"] for w in after["weeks"]}
    # o3: 250 promised for Jul 20; the other 150 over 10, 20, 30 days late: 37.50 each.
    assert weeks["2026-07-15"] == "1012.50"  # 725 + 250 + 37.50
    assert weeks["2026-07-29"] == "62.50"  # 37.50 + o4's 25
    assert weeks["2026-08-05"] == "37.50"
    assert after["totals"]["30"] == "2125.00"
    assert before["totals"]["30"] == "2000.00"
    # The dispute, resolved as lost after D, changes nothing at D: the forecast reads the past.
    with deps.sessions() as session, session.begin():
        session.execute(
            text(
                "UPDATE disputes SET resolved_at = '2026-08-01 00:00:00', outcome = 'lost' "
                "WHERE external_id = 'd5'"
            )
        )
    assert _forecast(capsys)["totals"] == after["totals"]


def test_an_account_promise_takes_the_oldest_invoices_first(
    settings: Settings, deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0
    with deps.sessions() as session, session.begin():
        customer_id = session.execute(text("SELECT id FROM customers WHERE external_id = 'K'"))
        insert_promise(
            session,
            PromiseToPay(
                customer_id=customer_id.scalar_one(), invoice_id=None, amount_minor=100_000,
                currency="USD", promised_on=date(2026, 7, 10), status="open",
                recorded_by="UFIN000001", created_at=datetime(2026, 6, 25, tzinfo=UTC),
            ),
        )  # fmt: skip

    f = _forecast(capsys)

    # 1,000 for Jul 10, oldest due first: h4 (due Mar 1) all 500, then 500 of o2 (due Jun 15),
    # whose other 400 goes over 20 and 30 days late and never: 133.33 on Jul 5 and Jul 15.
    # Week of Jul 1: o6 150 + o1 300 + o2 133.33; week of Jul 15: o1 300 + o2 133.33
    # + o5 100 + o3 100 + o4 25.
    weeks = [w["expected"] for w in f["weeks"]]
    assert weeks[:5] == ["583.33", "1000.00", "658.33", "325.00", "125.00"]
    assert f["totals"]["30"] == "2666.67"  # 2,666.666..., rounded once


def test_long_overdue_without_history_is_not_expected_tomorrow(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = {"customer_id": "N"}
    directory = write_csvs(
        tmp_path / "alone",
        customers=[customer("N", payment_terms_days=30)],
        invoices=[
            # 364 days past its terms, and nothing paid anywhere to learn from
            invoice("old", "1000.00", "2025-06-01", "2025-07-01", **n),
            invoice("new", "200.00", "2026-06-20", "2026-07-20", **n),
        ],
    )
    assert arbot(capsys, "import", str(directory)).code == 0

    f = _forecast(capsys)

    weeks = {w["week_start"]: w["expected"] for w in f["weeks"]}
    assert weeks["2026-07-01"] == "0.00"  # not the old invoice's 1,000 tomorrow
    assert weeks["2026-07-15"] == "200.00"  # the new one on its terms, Jul 20
    assert f["totals"] == {"30": "200.00", "60": "200.00", "90": "200.00"}


def _promise(
    deps: ToolDeps, invoice: str | None, amount_minor: int, on: date, recorded: datetime
) -> None:
    with deps.sessions() as session, session.begin():
        customer_id = session.execute(text("SELECT id FROM customers WHERE external_id = 'P'"))
        invoice_id = session.execute(
            text("SELECT id FROM invoices WHERE external_id = :n"), {"n": invoice}
        ).scalar()
        insert_promise(
            session,
            PromiseToPay(
                customer_id=customer_id.scalar_one(), invoice_id=invoice_id,
                amount_minor=amount_minor, currency="USD", promised_on=on, status="open",
                recorded_by="UFIN000001", created_at=recorded,
            ),
        )  # fmt: skip


def _promise_ledger(tmp_path: Path, *, paid: bool) -> Path:
    p = {"customer_id": "P"}
    return write_csvs(
        tmp_path / "promises",
        customers=[customer("P", payment_terms_days=30)],
        invoices=[
            invoice("a", "1000.00", "2026-05-01", "2026-05-31", **p),
            invoice("b", "1000.00", "2026-06-20", "2026-07-20", **p),
        ],
        payments=[payment("pa", "a", "1000.00", "2026-06-28", **p)] if paid else [],
    )


def test_a_promise_kept_before_the_date_is_not_expected_again(
    settings: Settings, deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_promise_ledger(tmp_path, paid=True))).code == 0
    # 1,000 promised on Jun 25 for Jul 10; 1,000 paid on Jun 28: the promise is kept
    _promise(deps, None, 100_000, date(2026, 7, 10), datetime(2026, 6, 25, tzinfo=UTC))

    weeks = {w["week_start"]: w["expected"] for w in _forecast(capsys)["weeks"]}

    assert weeks["2026-07-08"] == "0.00"  # not b's 1,000 on the promised Jul 10
    assert weeks["2026-07-15"] == "1000.00"  # b on its terms, Jul 20


def test_a_payment_booked_on_the_day_a_promise_was_made_keeps_it(
    settings: Settings, deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_promise_ledger(tmp_path, paid=True))).code == 0
    # promised in the afternoon of Jun 28; the bank books a's 1,000 that day at midnight
    _promise(deps, None, 100_000, date(2026, 7, 10), datetime(2026, 6, 28, 15, tzinfo=UTC))

    weeks = {w["week_start"]: w["expected"] for w in _forecast(capsys)["weeks"]}

    assert weeks["2026-07-08"] == "0.00"  # kept: not 1,000 on the promised Jul 10
    assert weeks["2026-07-15"] == "1000.00"  # b on its terms, Jul 20


def test_a_renewed_promise_replaces_the_old_one(
    settings: Settings, deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_promise_ledger(tmp_path, paid=True))).code == 0
    _promise(deps, "b", 100_000, date(2026, 7, 5), datetime(2026, 6, 21, tzinfo=UTC))
    _promise(deps, "b", 100_000, date(2026, 7, 25), datetime(2026, 6, 26, tzinfo=UTC))

    weeks = {w["week_start"]: w["expected"] for w in _forecast(capsys)["weeks"]}

    assert weeks["2026-07-01"] == "0.00"  # the Jul 5 promise was replaced
    assert weeks["2026-07-22"] == "1000.00"  # by the one for Jul 25


def test_bad_horizons_are_refused(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    bad = arbot(capsys, "forecast", "--days", "0,400")
    assert bad.code == 2 and "--days" in bad.err and bad.out == ""
