"""The report cut by segment, payment method, currency and owner, on a hand-computed ledger:
each group's amounts add up to the whole report's, each group's ratios are its own."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli_helpers import arbot
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.settings import Settings

D = "2026-06-30"
AMOUNTS = ("ar_total", "credit_sales", "allowance", "unapplied_cash")


def _ledger(tmp_path: Path) -> Path:
    return write_csvs(
        tmp_path / "ledger",
        customers=[
            customer("C1", segment="enterprise", owner_slack_id="U0000000001"),
            customer("C2", segment="mid-market", owner_slack_id="U0000000002"),
            customer("C3", segment="enterprise"),
            customer("EU", "EUR", segment="mid-market"),
        ],
        invoices=[
            invoice("A", "1000.00", "2026-03-01", "2026-03-31"),
            invoice("C", "300.00", "2026-06-01", "2026-07-01"),
            invoice("B", "500.00", "2026-05-01", "2026-05-31", customer_id="C2"),
            invoice("G", "150.00", "2026-05-20", "2026-06-19", customer_id="C2"),
            invoice(
                "F",
                "250.00",
                "2026-02-01",
                "2026-03-03",
                customer_id="C3",
                written_off_on="2026-06-15",
            ),
            invoice("e", "100.00", "2026-06-01", "2026-07-01", customer_id="EU", currency="EUR"),
        ],
        payments=[
            payment("p1", "A", "400.00", "2026-03-15", method="card"),
            payment(
                "p3",
                "B",
                "500.00",
                "2026-05-31",
                customer_id="C2",
                status="failed",
                method="card",
                failure_reason="card_declined",
            ),
            payment("p4", "B", "500.00", "2026-06-10", customer_id="C2", method="ach_debit"),
            payment("p7", None, "70.00", "2026-06-20", customer_id="C2", method="wire"),
            payment("p5", "F", "50.00", "2026-03-10", customer_id="C3", method="check"),
        ],
        fx_rates=[{"date": "2026-06-01", "currency": "EUR", "rate": "1.1"}],
    )


def _report(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    run = arbot(capsys, "report", "--as-of", D, "--period-days", "90", "--json", *extra)
    assert run.code == 0, run.err
    return run.json()


def _sum(groups: dict, key: str) -> Decimal:
    return sum((Decimal(g[key]) for g in groups.values()), Decimal(0))


def test_segments_hand_computed_and_summing_to_the_whole(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0

    whole = _report(capsys)
    cut = _report(capsys, "--by", "segment")

    assert set(cut) == {"as_of", "period_days", "currency", "groups"}
    assert (cut["as_of"], cut["period_days"], cut["currency"]) == (D, 90, "USD")
    ent, mid = cut["groups"]["enterprise"], cut["groups"]["mid-market"]
    assert set(cut["groups"]) == {"enterprise", "mid-market"}
    assert set(ent) == set(whole)  # each group has the report's keys
    # enterprise: A 600 (91 days late) + C 300 current; F written off (200 open at the time).
    # At D-P (Apr 1): A 600 + F 200. Sales in W: C 300.
    assert ent["ar_total"] == "900.00"
    assert ent["aging"]["90+"] == "600.00"
    assert ent["credit_sales"] == "300.00"
    assert ent["dso"] == 270.0  # 900 / 300 x 90
    assert ent["aging_pct"]["current"] == 33.33
    assert ent["cei_pct"] == 25.0  # (800 + 300 - 900) / (800 + 300 - 300)
    assert ent["bad_debt_pct"] == 66.67  # 200 / 300
    assert ent["dunning_recovery_rate_pct"] is None
    # mid-market: G 150 (11 days late) + e EUR 100 x 1.1 = 110 current; B paid after a
    # failed card attempt; 70 unapplied. Sales: B 500 + G 150 + e 110 = 760.
    assert mid["ar_total"] == "260.00"
    assert mid["aging"] == {
        "current": "110.00",
        "1-30": "150.00",
        "31-60": "0.00",
        "61-90": "0.00",
        "90+": "0.00",
    }
    assert mid["credit_sales"] == "760.00"
    assert mid["dso"] == 30.79  # 260 / 760 x 90
    assert mid["cei_pct"] == 76.92  # (0 + 760 - 260) / (0 + 760 - 110)
    assert mid["dunning_recovery_rate_pct"] == 100.0
    assert mid["unapplied_cash"] == "70.00"
    for key in AMOUNTS:
        assert _sum(cut["groups"], key) == Decimal(whole[key]), key
    for bucket in whole["aging"]:
        assert _sum({k: g["aging"] for k, g in cut["groups"].items()}, bucket) == Decimal(
            whole["aging"][bucket]
        )
    assert whole["dso"] == 98.49  # 1160 / 1060 x 90: not an average of the groups'


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("currency", {"USD": "1050.00", "EUR": "110.00"}),
        ("method", {"card": "900.00", "wire": "150.00", "check": "0.00", "no payments": "110.00"}),
        ("owner", {"U0000000001": "900.00", "U0000000002": "150.00", "no owner": "110.00"}),
    ],
)
def test_other_cuts_sum_to_the_whole(
    by: str,
    expected: dict[str, str],
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0

    whole = _report(capsys)
    groups = _report(capsys, "--by", by)["groups"]

    assert {name: g["ar_total"] for name, g in groups.items()} == expected
    for key in AMOUNTS:
        assert _sum(groups, key) == Decimal(whole[key]), key


def test_conversion_rounding_still_sums_to_the_whole(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each 0.01 EUR at 1.5 is 0.015 USD, which rounds to 0.02 on its own; together 0.03.
    directory = write_csvs(
        tmp_path / "in",
        customers=[customer("E1", "EUR", segment="a"), customer("E2", "EUR", segment="b")],
        invoices=[
            invoice("x", "0.01", "2026-06-01", "2026-07-01", customer_id="E1", currency="EUR"),
            invoice("y", "0.01", "2026-06-01", "2026-07-01", customer_id="E2", currency="EUR"),
        ],
        fx_rates=[{"date": "2026-06-01", "currency": "EUR", "rate": "1.5"}],
    )
    assert arbot(capsys, "import", str(directory)).code == 0

    whole = _report(capsys)
    groups = _report(capsys, "--by", "segment")["groups"]

    assert whole["ar_total"] == "0.03"
    assert sorted(g["ar_total"] for g in groups.values()) == ["0.01", "0.02"]


def test_table_and_bad_option(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0

    table = arbot(capsys, "report", "--as-of", D, "--by", "segment")
    assert table.code == 0
    lines = table.out.splitlines()
    assert lines[0].startswith("AR report by segment as of 2026-06-30")
    assert any(line.split()[0] == "enterprise" and "USD 900.00" in line for line in lines)
    assert any(line.split()[0] == "total" and "USD 1,160.00" in line for line in lines)

    bad = arbot(capsys, "report", "--by", "segment", "--currency", "EUR")
    assert bad.code == 2
    assert "--by" in bad.err and bad.out == ""
