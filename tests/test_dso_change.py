"""Why DSO moved, on a ledger worked out by hand: terms and lateness add up to the move, and
so do the customers and the segments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.intents import match
from tests.cli_helpers import arbot
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.deps import ToolDeps
from tools.dso_change import DsoChange, DsoChangeInput, dso_change
from tools.settings import Settings


def _ledger(tmp_path: Path) -> Path:
    x, y = {"customer_id": "X"}, {"customer_id": "Y"}
    return write_csvs(
        tmp_path / "ledger",
        customers=[
            customer("X", name="Xenon Corp", segment="enterprise"),
            customer("Y", name="Yarrow Ltd", segment="smb"),
        ],
        invoices=[
            invoice("X1", "900.00", "2026-05-01", "2026-06-25", **x),
            invoice("X2", "300.00", "2026-06-25", "2026-07-25", **x),
            invoice("Y1", "900.00", "2026-05-01", "2026-06-10", **y),
            invoice("Y2", "600.00", "2026-06-01", "2026-07-15", **y),
        ],
        payments=[payment("p1", "Y1", "900.00", "2026-06-27", **y)],
    )


def test_split_and_movers_add_up_to_the_move(
    settings: Settings, deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0

    c = dso_change(deps, DsoChangeInput(as_of=date(2026, 6, 30)))

    # Jun 23: AR 2,400 (current X1 900 + Y2 600), sales 2,400: DSO 90, best 56.25, ADD 33.75.
    # Jun 30: AR 1,800 (current Y2 600 + X2 300), sales 2,700: DSO 60, best 30, ADD 30.
    assert (c.since, c.dso_before, c.dso_after) == (date(2026, 6, 23), 90, 60)
    assert c.change == Decimal(-30)
    assert c.terms_change == Decimal("-26.25")
    assert c.lateness_change == Decimal("-3.75")
    assert c.terms_change + c.lateness_change == c.change
    # X: 900/2400 x 90 = 33.75 -> 1200/2700 x 90 = 40; Y: 1500/2400 x 90 = 56.25 -> 20.
    assert [(m.name, m.change.quantize(Decimal("0.01"))) for m in c.movers] == [
        ("Yarrow Ltd", Decimal("-36.25")),
        ("Xenon Corp", Decimal("6.25")),
    ]
    assert sum(m.change for m in c.movers).quantize(Decimal("0.0001")) == c.change
    assert {k: v.quantize(Decimal("0.01")) for k, v in c.by_segment.items()} == {
        "smb": Decimal("-36.25"),
        "enterprise": Decimal("6.25"),
    }


def test_why_did_dso_move_answered(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(_ledger(tmp_path))).code == 0

    run = arbot(capsys, "ask", "why did DSO go down as of 2026-06-30?")

    assert run.code == 0, run.err
    assert "DSO down 30.00 days: 90.00 days on 2026-06-23 → 60.00 days on 2026-06-30" in run.out
    assert "Terms (best possible DSO) -26.25 days · lateness (average days delinquent) -3.75" in (
        run.out
    )
    assert "Yarrow Ltd: -36.25 days (AR USD 1,500.00 → USD 600.00)" in run.out
    assert "Xenon Corp: +6.25 days (AR USD 900.00 → USD 1,200.00)" in run.out
    assert "By segment: smb -36.25 days · enterprise +6.25 days" in run.out


def test_rounded_parts_still_add_up() -> None:
    c = DsoChange(
        since=date(2026, 1, 1), as_of=date(2026, 1, 8), period_days=90, currency="USD",
        dso_before=Decimal(40), dso_after=Decimal("40.01"), change=Decimal("0.01"),
        terms_change=Decimal("0.005"), lateness_change=Decimal("0.005"), movers=[],
        by_segment={},
    )  # fmt: skip
    move, terms, lateness = c.shown() or (None, None, None)
    assert (move, terms, lateness) == (Decimal("0.01"), Decimal("0.01"), Decimal("0.00"))


@pytest.mark.parametrize(
    ("question", "tool"),
    [
        ("why did DSO go up?", "dso_change"),
        ("what drove DSO this week", "dso_change"),
        ("explain the DSO change", "dso_change"),
        ("what's our DSO", "ar_report"),
        ("cash forecast", "cash_forecast"),
        ("DSO by segment", "ar_cut"),
        ("DSO trend by segment", None),  # over time: the agent's
    ],
)
def test_router_sends_the_question_to_its_tool(question: str, tool: str | None) -> None:
    intent = match(question, today=date(2026, 6, 30))
    assert (intent.tool if intent else None) == tool
