"""Signals that make a match sure when the payer name alone does not: a treasury paying for a
customer, an invoice paid a second time, a part of a customer's only open invoice, a number
misspelt on an amount no other invoice has, sister firms told apart by the legal suffix.
Each beside the near miss that must stay below 0.9 for a person to look at."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.cash.ledger import ledger_files
from tests.cash.statements import Line, csv_text
from tests.cash.test_cash_match import _match
from tests.cli_helpers import arbot
from tests.ledger_files import customer, invoice, payment
from tools.deps import ToolDeps

D = date(2026, 11, 2)


def _ledger(
    *extra: dict[str, Any],
    customers: list[dict[str, Any]] | None = None,
    payments: list[dict[str, Any]] | None = None,
) -> Any:
    files = ledger_files()
    return {
        "customers": files["customers"] + (customers or []),
        "invoices": files["invoices"] + list(extra),
        "payments": payments or [],
    }


def _by_line(out: dict[str, Any]) -> dict[str, Any]:
    """Each line's suggestion by its bank id, None when nothing is suggested."""
    return {t["bank_txn_id"]: t["suggestion"] for t in out["transactions"]}


def _sure(s: dict[str, Any] | None) -> tuple[str, list[str]] | None:
    """(customer, invoices) a suggestion names at 0.9 or above, else None."""
    if s is None or s["confidence"] < 0.9:
        return None
    return s["customer_id"], [a["invoice_id"] for a in s["allocations"]]


def test_a_number_shared_with_a_customer_name_does_not_make_the_payer_that_customer(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "CONTOSO TREASURY 784" shares only the number with "Initech Ltd 784": it is no name
    # we know, and the amount, non-round and no other invoice's, names Globex's invoice.
    # The same treasury named after Initech is Initech's payer: Globex is not guessed.
    numbered = [customer("C784", name="Initech Ltd 784")]
    odd = invoice("004417", "487.13", "2026-10-01", "2026-10-31", customer_id="C2")
    lines = [
        Line("W1", D, "487.13", payer="CONTOSO TREASURY 784"),
        Line("W2", D, "487.13", payer="INITECH LTD 784"),
    ]
    out = _by_line(_match(tmp_path, capsys, lines, **_ledger(odd, customers=numbered)))
    assert _sure(out["W1"]) == ("C2", ["004417"])
    assert out["W1"]["reasons"][0] == (
        "payer not recognised, but no stray credit is likely to hit this amount"
    )
    assert _sure(out["W2"]) is None, out["W2"]


def test_a_payer_we_do_not_know_paying_part_of_the_invoice_its_reference_names(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A treasury pays 3,000.00 of Acme's INV-001234 (8,000.00): sure. 2,500.00 under the same
    # number is exactly Globex's open INV-002001: the number or the amount is a slip.
    lines = [
        Line("W1", D, "3000.00", payer="NORTHWIND TREASURY", remittance="INV-001234"),
        Line("W2", D, "2500.00", payer="NORTHWIND TREASURY", remittance="INV-001234"),
    ]
    out = _by_line(_match(tmp_path, capsys, lines, **_ledger()))
    assert _sure(out["W1"]) == ("C1", ["001234"])
    assert out["W1"]["allocations"] == [{"invoice_id": "001234", "amount": "3000.00"}]
    assert _sure(out["W2"]) is None, out["W2"]


def test_an_invoice_paid_lately_paid_again_is_the_customers_unapplied_cash(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Acme paid INV-004410 (617.45) in October and pays it again, with and without its
    # number: Acme's money, on no invoice. Globex paid INV-004420 (250.00) and has a new
    # INV-004421 of 250.00 open: paying that one under last month's number is as likely.
    paid = invoice("004410", "617.45", "2026-09-01", "2026-10-01", customer_id="C1")
    monthly = invoice("004420", "250.00", "2026-09-01", "2026-10-01", customer_id="C2")
    again = invoice("004421", "250.00", "2026-10-01", "2026-11-01", customer_id="C2")
    done = [
        payment("P1", "004410", "617.45", "2026-10-20", customer_id="C1"),
        payment("P2", "004420", "250.00", "2026-10-20", customer_id="C2"),
    ]
    lines = [
        Line("W1", D, "617.45", payer="Acme Corporation", remittance="INV-004410"),
        Line("W2", D, "617.45", payer="Acme Corporation"),
        Line("W3", D, "617.45", payer="FABRIKAM TREASURY", remittance="INV-004410"),
        Line("W4", D, "250.00", payer="Globex Industries", remittance="INV-004420"),
    ]
    ledger = _ledger(paid, monthly, again, payments=done)
    out = _by_line(_match(tmp_path, capsys, lines, **ledger))
    for ref in ("W1", "W2", "W3"):
        assert _sure(out[ref]) == ("C1", []), out[ref]
        assert out[ref]["reasons"][-1] == "paid twice: USD 617.45 stays unapplied cash"
    assert out["W1"]["confidence"] == 0.95
    assert out["W4"]["customer_id"] == "C2"
    assert out["W4"]["allocations"] == [{"invoice_id": "004421", "amount": "250.00"}]


def test_a_part_of_the_customers_only_open_invoice(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Initech (one open invoice, EUR 900.00) pays EUR 400.00 without a number: a part of it.
    # Acme (three open invoices) pays 500.00 without a number: which one is a person's call.
    lines = [
        Line("W1", D, "400.00", currency="EUR", payer="Initech GmbH"),
        Line("W2", D, "500.00", payer="Acme Corporation"),
    ]
    out = _by_line(_match(tmp_path, capsys, lines, **_ledger()))
    assert _sure(out["W1"]) == ("C3", ["003001"])
    assert out["W1"]["reasons"][-1] == (
        "partial payment of their only open invoice INV-003001: EUR 500.00 stays open"
    )
    assert _sure(out["W2"]) is None, out["W2"]


def test_a_misspelt_number_on_an_amount_no_other_invoice_has(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A treasury writes INV-C000237-023 for Globex's INV-C000237-013 and pays its exact,
    # unique amount: sure. Acme writing the same slip is Acme paying: a person looks.
    odd = invoice("C000237-013", "30668.51", "2026-10-01", "2026-10-31", customer_id="C2")
    slip = "INV-C000237-023"
    lines = [
        Line("W1", D, "30668.51", payer="NORTHWIND TREASURY 854", remittance=slip),
        Line("W2", D, "30668.51", payer="Acme Corporation", remittance=slip),
    ]
    out = _by_line(_match(tmp_path, capsys, lines, **_ledger(odd)))
    assert _sure(out["W1"]) == ("C2", ["C000237-013"])
    assert out["W1"]["reasons"][0] == "reference is its number misspelt"
    assert _sure(out["W2"]) is None, out["W2"]


def test_sister_firms_are_told_apart_by_the_legal_suffix_and_the_whole_name(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Massive Inc and Massive BV each have 1,200.00 open. A person applying Massive Inc's
    # payment teaches its name (without the suffix) as Massive Inc's; Massive BV paying by
    # its whole name is still Massive BV, and "Massiev BV" 15.00 short (a fee) is too.
    # "MASSIEV" 15.00 short could be either: a person looks.
    sisters = [customer("C4", name="Massive Inc"), customer("C5", name="Massive BV")]
    invoices = [
        invoice("005001", "1200.00", "2026-09-01", "2026-10-01", customer_id="C4"),
        invoice("005002", "1200.00", "2026-10-01", "2026-11-01", customer_id="C4"),
        invoice("005101", "1200.00", "2026-10-01", "2026-11-01", customer_id="C5"),
    ]
    first = [Line("T0", D, "1200.00", payer="Massive Inc", remittance="INV-005001")]
    _match(tmp_path, capsys, first, **_ledger(*invoices, customers=sisters))
    assert arbot(capsys, "cash", "apply", "--txn", "T0").code == 0
    path = tmp_path / "second.csv"
    path.write_text(
        csv_text(
            [
                Line("T1", D, "1200.00", payer="Massive BV"),
                Line("T2", D, "1185.00", payer="Massiev BV"),
                Line("T3", D, "1185.00", payer="MASSIEV"),
            ]
        )
    )
    assert arbot(capsys, "bank", "import", str(path)).code == 0
    run = arbot(capsys, "cash", "match", "--as-of", "2026-11-30", "--json")
    out = _by_line(run.json())
    assert _sure(out["T1"]) == ("C5", ["005101"])
    assert _sure(out["T2"]) == ("C5", ["005101"])
    assert _sure(out["T3"]) is None, out["T3"]


def test_an_invoice_another_customer_paid_lately_does_not_make_a_fee_short_payment_doubtful(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Acme pays 980.00, 20.00 short of its open 1,000.00 (a fee); Globex paid an invoice of
    # 980.00 in October, which says nothing about Acme's money: sure. Globex paying 2,480.00,
    # 20.00 short of its 2,500.00 and exactly its own invoice paid in October, may be paying
    # that one twice: a person looks.
    paid = [
        invoice("004410", "980.00", "2026-09-01", "2026-10-01", customer_id="C2"),
        invoice("004411", "2480.00", "2026-09-01", "2026-10-01", customer_id="C2"),
    ]
    done = [
        payment("P1", "004410", "980.00", "2026-10-20", customer_id="C2"),
        payment("P2", "004411", "2480.00", "2026-10-20", customer_id="C2"),
    ]
    lines = [
        Line("W1", D, "980.00", payer="Acme Corporation"),
        Line("W2", D, "2480.00", payer="Globex Industries"),
    ]
    out = _by_line(_match(tmp_path, capsys, lines, **_ledger(*paid, payments=done)))
    assert _sure(out["W1"]) == ("C1", ["001236"])
    assert out["W1"]["allocations"] == [{"invoice_id": "001236", "amount": "980.00"}]
    assert _sure(out["W2"]) is None, out["W2"]


def test_a_bank_fee_is_a_whole_amount(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Globex pays 2,480.00: 20.00 short of INV-002001 (2,500.00) or 32.37 short of
    # INV-002004: banks charge whole amounts, so INV-002001. Acme pays 985.00: 15.00 short of
    # INV-001236 or 25.00 short of INV-001237, both whole: a person looks. Acme pays 617.45,
    # exactly INV-004410 paid in October, and 12.55 short of INV-001238: odd cents are no
    # fee, so it paid INV-004410 twice; its unapplied cash. Globex paying 3,735.00, 15.00
    # short of INV-002002, is sure; 3,736.45, 13.55 short of it, may as well be a part of
    # another of Globex's invoices: a person looks.
    extra = [
        invoice("002004", "2512.37", "2026-10-01", "2026-10-31", customer_id="C2"),
        invoice("001237", "1010.00", "2026-10-01", "2026-10-31", customer_id="C1"),
        invoice("001238", "630.00", "2026-10-01", "2026-10-31", customer_id="C1"),
        invoice("004410", "617.45", "2026-09-01", "2026-10-01", customer_id="C1"),
    ]
    done = [payment("P1", "004410", "617.45", "2026-10-20", customer_id="C1")]
    lines = [
        Line("W1", D, "2480.00", payer="Globex Industries"),
        Line("W2", D, "985.00", payer="Acme Corporation"),
        Line("W3", D, "617.45", payer="Acme Corporation"),
        Line("W4", D, "3735.00", payer="Globex Industries"),
        Line("W5", D, "3736.45", payer="Globex Industries"),
    ]
    out = _by_line(_match(tmp_path, capsys, lines, **_ledger(*extra, payments=done)))
    assert _sure(out["W1"]) == ("C2", ["002001"])
    assert "only whole shortfall" in out["W1"]["reasons"][-1]
    assert _sure(out["W2"]) is None, out["W2"]
    assert _sure(out["W3"]) == ("C1", [])
    assert out["W3"]["reasons"][-1] == "paid twice: USD 617.45 stays unapplied cash"
    assert _sure(out["W4"]) == ("C2", ["002002"])
    assert _sure(out["W5"]) is None, out["W5"]


def test_a_cut_off_or_misspelt_reference_names_the_few_invoices_it_can_stand_for(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "INV-C005120" (cut off) starts only Globex's INV-C005120-013 and -014: a treasury
    # paying their total pays both. "INV-C00512" also starts Acme's INV-C005129-002, and
    # 600.00 pays none in full: a person looks. "INV-C005120-019" is one slip from -013 and
    # -014, and 1,189.95 is -014's (Acme has an invoice of 1,189.95 too, so the amount alone
    # says nothing): sure from a treasury, not with no payer name behind it.
    extra = [
        invoice("C005120-013", "1210.40", "2026-10-01", "2026-10-31", customer_id="C2"),
        invoice("C005120-014", "1189.95", "2026-10-15", "2026-11-14", customer_id="C2"),
        invoice("C005129-002", "700.00", "2026-10-01", "2026-10-31", customer_id="C1"),
        invoice("001240", "1189.95", "2026-10-01", "2026-10-31", customer_id="C1"),
    ]
    payer = "NORTHWIND TREASURY 512"
    lines = [
        Line("W1", D, "2400.35", payer=payer, remittance="INV-C005120"),
        Line("W2", D, "600.00", payer=payer, remittance="INV-C00512"),
        Line("W3", D, "1189.95", payer=payer, remittance="INV-C005120-019"),
        Line("W4", D, "1189.95", payer="", remittance="INV-C005120-019"),
    ]
    out = _by_line(_match(tmp_path, capsys, lines, **_ledger(*extra)))
    assert _sure(out["W1"]) == ("C2", ["C005120-013", "C005120-014"])
    assert out["W1"]["reasons"][0] == "reference is the start of their numbers (cut off)"
    assert _sure(out["W2"]) is None, out["W2"]
    assert _sure(out["W3"]) == ("C2", ["C005120-014"])
    assert out["W3"]["reasons"][0] == "reference is one of their numbers misspelt"
    assert _sure(out["W4"]) is None, out["W4"]


def test_a_treasury_learned_for_one_customer_still_pays_for_others(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # NORTHWIND TREASURY 77 paid Acme's INV-001234 and a person applied it: its name is
    # learned as Acme's. It then pays 1,111.11 of Globex's INV-002002, named in full: a
    # treasury pays for several customers, so it is sure as from a name never seen. A name
    # learned that reads like Acme's ("ACME CORP TREASURY") is Acme paying: a person looks.
    first = [
        Line("T0", D, "8000.00", payer="NORTHWIND TREASURY 77", remittance="INV-001234"),
        Line("T1", D, "4400.00", payer="ACME CORP TREASURY", remittance="INV-001235"),
    ]
    _match(tmp_path, capsys, first, **_ledger())
    for txn in ("T0", "T1"):
        assert arbot(capsys, "cash", "apply", "--txn", txn).code == 0
    path = tmp_path / "second.csv"
    path.write_text(
        csv_text(
            [
                Line("T2", D, "1111.11", payer="NORTHWIND TREASURY 77", remittance="INV-002002"),
                Line("T3", D, "1111.11", payer="ACME CORP TREASURY", remittance="INV-002002"),
            ]
        )
    )
    assert arbot(capsys, "bank", "import", str(path)).code == 0
    out = _by_line(arbot(capsys, "cash", "match", "--as-of", "2026-11-30", "--json").json())
    assert _sure(out["T2"]) == ("C2", ["002002"])
    assert out["T2"]["allocations"] == [{"invoice_id": "002002", "amount": "1111.11"}]
    assert _sure(out["T3"]) is None, out["T3"]


def test_a_reference_cut_short_names_an_amount_rare_among_the_invoices_it_starts(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "INV-C0077" starts 208 of Globex's numbers. 1.23 is one of them, and no other of them
    # lies near it: sure, though Acme has an invoice of 1.23 too and its 1.10, 1.30 and 1.40
    # make 1.23 no rare amount in the whole ledger. 2.15 is one of them too (and Acme's),
    # beside their 2.10 and 2.20: a person looks.
    many = [
        invoice(f"C0077-{k:03d}", f"{1000 + k}.00", "2026-10-01", "2026-10-31", customer_id="C2")
        for k in range(1, 205)
    ]
    small = [
        invoice(f"C0077-{k}", amount, "2026-10-01", "2026-10-31", customer_id="C2")
        for k, amount in ((301, "1.23"), (302, "2.10"), (303, "2.15"), (304, "2.20"))
    ]
    near = [
        invoice(f"0090{k}", amount, "2026-10-01", "2026-10-31", customer_id="C1")
        for k, amount in ((1, "1.10"), (2, "1.30"), (3, "1.40"), (4, "1.23"), (5, "2.15"))
    ]
    lines = [
        Line("W1", D, "1.23", payer="NORTHWIND TREASURY 9", remittance="INV-C0077"),
        Line("W2", D, "2.15", payer="NORTHWIND TREASURY 9", remittance="INV-C0077"),
    ]
    out = _by_line(_match(tmp_path, capsys, lines, **_ledger(*many, *small, *near)))
    assert _sure(out["W1"]) == ("C2", ["C0077-301"])
    assert out["W1"]["reasons"][-1].endswith(", and no stray credit is likely to hit it")
    assert _sure(out["W2"]) is None, out["W2"]


def test_a_cut_off_reference_outweighs_a_payer_name_misspelt_into_another_customers(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "Tyrell BV 63431" is Tyrell BV 36431's name with two digits swapped, which the lookup
    # gives to Tyrell Ltd 63431; the cut-off reference starts Tyrell BV 36431's number and
    # 1,485.25 is its invoice less a 15.00 fee: sure. Tyrell Ltd 63431 writing its own whole
    # name with the same reference is that firm paying: a person looks.
    tyrells = [
        customer("C7", name="Tyrell Ltd 63431"),
        customer("C8", name="Tyrell BV 36431"),
    ]
    owed = invoice("C036431-011", "1500.25", "2026-10-01", "2026-10-31", customer_id="C8")
    lines = [
        Line("W1", D, "1485.25", payer="Tyrell BV 63431", remittance="INV-C036431"),
        Line("W2", D, "1485.25", payer="Tyrell Ltd 63431", remittance="INV-C036431"),
    ]
    out = _by_line(_match(tmp_path, capsys, lines, **_ledger(owed, customers=tyrells)))
    assert _sure(out["W1"]) == ("C8", ["C036431-011"])
    assert _sure(out["W2"]) is None, out["W2"]
