"""Dual approval weighs write-offs in the reporting currency and a customer's write-offs of
the last 30 days together: a currency or a split never slips a loss under the threshold.

The approval settings report in USD with ARBOT_DUAL_APPROVAL_MINOR = 500,000 (USD 5,000.00).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.render.proposal import proposal_view
from db.models import Action
from tests.approvals.conftest import APPROVER, APPROVER_2, COLLECTOR
from tests.approvals.ledger import day
from tests.ledger_files import customer, invoice, write_csvs
from tools import actions
from tools.actions import Refused
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.write_off import WriteOffError, WriteOffInput, propose_write_off


@pytest.fixture
def fx_deps(ap_deps: ToolDeps, tmp_path: Path) -> ToolDeps:
    """Yen customers with a rate (USD 0.0067 per yen), a Swiss one without, and a USD customer
    with two invoices of USD 3,000.00 each."""
    write_csvs(
        tmp_path / "fx",
        customers=[
            customer("JP1", currency="JPY"),
            customer("JP2", currency="JPY"),
            customer("CH1", currency="CHF"),
            customer("SPLIT"),
        ],
        invoices=[
            invoice("J1", "600000", day(-200), day(-170), customer_id="JP1", currency="JPY"),
            invoice("J2", "1000000", day(-200), day(-170), customer_id="JP2", currency="JPY"),
            invoice("C1", "100.00", day(-200), day(-170), customer_id="CH1", currency="CHF"),
            invoice("S1", "3000.00", day(-200), day(-170), customer_id="SPLIT"),
            invoice("S2", "3000.00", day(-190), day(-160), customer_id="SPLIT"),
            invoice("S3", "3000.00", day(-180), day(-150), customer_id="SPLIT"),
        ],
        fx_rates=[{"date": day(-300), "currency": "JPY", "rate": "0.0067"}],
    )
    import_directory(ap_deps.engine, tmp_path / "fx", tz=ap_deps.settings.tz)
    return ap_deps


def write_off(deps: ToolDeps, invoice: str) -> actions.ActionInfo:
    return propose_write_off(
        deps,
        WriteOffInput(invoice=invoice, reason="customer went bankrupt", requested_by=COLLECTOR),
    )


def test_a_yen_write_off_is_weighed_in_the_reporting_currency(fx_deps: ToolDeps) -> None:
    small = write_off(fx_deps, "INV-J1")  # JPY 600,000 = USD 4,020.00: under USD 5,000.00
    assert small.approvals_needed == 1
    big = write_off(fx_deps, "INV-J2")  # JPY 1,000,000 = USD 6,700.00
    assert big.approvals_needed == 2
    card = proposal_view(big).text
    assert "Needs 2 different approvers (USD 6,700.00, at or above USD 5,000.00)" in card
    first = actions.approve(fx_deps, big.id, APPROVER)
    assert first.outcome == "first_approval" and first.action.status == "proposed"
    assert actions.approve(fx_deps, big.id, APPROVER_2).action.status == "approved"


def test_write_offs_split_within_30_days_count_together(fx_deps: ToolDeps) -> None:
    first = write_off(fx_deps, "INV-S1")
    assert first.approvals_needed == 1
    rejected = write_off(fx_deps, "INV-S3")
    assert rejected.approvals_needed == 2
    actions.reject(fx_deps, rejected.id, APPROVER, "wrong invoice")
    second = write_off(fx_deps, "INV-S2")  # USD 3,000 + the pending USD 3,000 = USD 6,000
    assert second.approvals_needed == 2
    assert (
        "(USD 3,000.00 plus USD 3,000.00 in 1 other write-off of this customer in the last "
        "30 days, at or above USD 5,000.00)" in proposal_view(second).text
    )
    assert actions.approve(fx_deps, second.id, APPROVER).outcome == "first_approval"
    with pytest.raises(Refused, match="second, different approver"):
        actions.approve(fx_deps, second.id, APPROVER)


def test_a_missing_rate_is_a_clear_refusal(fx_deps: ToolDeps) -> None:
    with pytest.raises(WriteOffError) as refused:
        write_off(fx_deps, "INV-C1")
    assert str(refused.value).startswith(
        "cannot weigh this write-off against ARBOT_DUAL_APPROVAL_MINOR (USD): no exchange rate "
        f"for CHF on or before {day(0)}"
    )


def _as_if_weighed_alone(deps: ToolDeps, action_id: int) -> None:
    """The row two write-offs proposed at the same moment leave: each was weighed before the
    other was inserted, so each asks for one approver."""
    with deps.sessions() as session, session.begin():
        row = session.get(Action, action_id)
        assert row is not None and row.payload["approvals_needed"] == 2
        dual = row.payload["dual_approval"] | {"recent_minor": 0, "recent_count": 0}
        row.payload = row.payload | {"approvals_needed": 1, "dual_approval": dual | {
            "approvals_needed": 1}}  # fmt: skip


def test_write_offs_proposed_at_once_are_weighed_again_at_approval(fx_deps: ToolDeps) -> None:
    first = write_off(fx_deps, "INV-S1")
    second = write_off(fx_deps, "INV-S2")
    _as_if_weighed_alone(fx_deps, second.id)
    assert actions.load(fx_deps, second.id).approvals_needed == 1
    decision = actions.approve(fx_deps, second.id, APPROVER)
    assert decision.outcome == "first_approval" and decision.action.status == "proposed"
    assert "now reaches the dual-approval threshold" in decision.message
    assert (
        "Needs 2 different approvers (USD 3,000.00 plus USD 3,000.00 in 1 other write-off of "
        "this customer in the last 30 days, at or above USD 5,000.00)"
        in proposal_view(decision.action).text
    )
    # the first, which a second approver now guards the other of, passes on one approval
    assert actions.approve(fx_deps, first.id, APPROVER).action.status == "approved"
    assert actions.approve(fx_deps, second.id, APPROVER_2).action.status == "approved"


def test_a_write_off_approved_lately_counts_though_proposed_long_ago(
    fx_deps: ToolDeps,
) -> None:
    slow = replace(
        fx_deps, settings=fx_deps.settings.model_copy(update={"action_expiry_hours": 40 * 24})
    )
    now = actions.now_utc()
    old = propose_write_off(
        slow,
        WriteOffInput(invoice="INV-S1", reason="customer went bankrupt", requested_by=COLLECTOR),
        now=now - timedelta(days=31),
    )
    assert actions.approve(slow, old.id, APPROVER, now=now - timedelta(days=1)).outcome == (
        "approved"
    )
    assert write_off(slow, "INV-S2").approvals_needed == 2
