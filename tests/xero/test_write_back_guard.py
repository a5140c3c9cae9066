"""Writing a write-off back when Xero moved on: a payment after approval cancels it with the
reason on the card; an allocation Xero refuses leaves no bad-debt credit behind; the
idempotency keys come from a random id kept with the action, not from its number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from bot.render.proposal import status_line
from tests.approvals.conftest import APPROVER, COLLECTOR
from tests.fakes.xero_api import FakeXero
from tests.xero.conftest import build_world, sync
from tests.xero.test_sync import ar, due
from tests.xero.test_write_back import with_approvals
from tools import actions
from tools.deps import ToolDeps
from tools.outbox import Outbox
from tools.write_off import WriteOffInput, propose_write_off


class RacedXero(FakeXero):
    """A payment lands between arbot's look at the invoice and its allocation."""

    race: Any = None

    def _allocate(self, did: str, got: dict[str, Any]) -> tuple[int, Any]:
        if self.race is not None:
            hook, self.race = self.race, None
            hook()
        return super()._allocate(did, got)


@pytest.fixture
def fake() -> Iterator[FakeXero]:
    with RacedXero() as f:
        yield f


def _approved(deps: ToolDeps) -> int:
    proposed = propose_write_off(
        deps, WriteOffInput(invoice="INV-1005", reason="liquidation", requested_by=COLLECTOR)
    )
    actions.approve(deps, proposed.id, APPROVER)
    return proposed.id


def _our_notes(fake: FakeXero, known: str) -> list[dict[str, Any]]:
    return [n for n in fake.objects["CreditNotes"].values() if n["CreditNoteID"] != known]


def test_payment_after_approval_cancels_with_the_reason_on_the_card(
    xdeps: ToolDeps, fake: RacedXero
) -> None:
    w = build_world(fake)
    sync(xdeps)
    deps = with_approvals(xdeps)
    cash = ar(deps)[1]
    action_id = _approved(deps)
    fake.add_payment(w.open_, "500.00", on=date(2026, 1, 27))  # the liquidator pays a dividend
    Outbox(deps, backoff_seconds=0).run_once()
    got = actions.load(deps, action_id)
    assert got.status == "cancelled"
    card = "".join(str(part) for part in status_line(got)) + (got.decision_note or "")
    assert "Xero shows 4000.10 USD due on INV-1005" in card
    assert _our_notes(fake, w.note) == []  # nothing posted
    sync(deps)
    assert ar(deps) == (due(fake, w.paid, w.part, w.credited, w.open_), cash)


def test_refused_allocation_voids_the_note(xdeps: ToolDeps, fake: RacedXero) -> None:
    w = build_world(fake)
    sync(xdeps)
    deps = with_approvals(xdeps)
    cash = ar(deps)[1]
    action_id = _approved(deps)
    fake.race = lambda: fake.add_payment(w.open_, "500.00", on=date(2026, 1, 27))
    Outbox(deps, backoff_seconds=0).run_once()
    got = actions.load(deps, action_id)
    assert got.status == "failed"
    assert "was voided in Xero" in (got.last_error or "")
    notes = _our_notes(fake, w.note)
    assert [(n["Status"], n["Allocations"]) for n in notes] == [("VOIDED", [])]
    sync(deps)
    # The invoice is owed as Xero says; the voided note is nobody's cash.
    assert ar(deps) == (due(fake, w.paid, w.part, w.credited, w.open_), cash)


def test_idempotency_keys_come_from_a_random_id_kept_with_the_action(
    xdeps: ToolDeps, fake: RacedXero
) -> None:
    build_world(fake)
    sync(xdeps)
    deps = with_approvals(xdeps)
    action_id = _approved(deps)
    request_id = actions.load(deps, action_id).payload["request_id"]
    assert len(request_id) == 32 and str(action_id) != request_id
    Outbox(deps, backoff_seconds=0).run_once()
    assert actions.load(deps, action_id).status == "done"
    keys = {r.headers["idempotency-key"] for r in fake.requests if r.method == "PUT"}
    assert keys == {f"arbot-write-off-{request_id}-note", f"arbot-write-off-{request_id}-allocate"}


def test_lost_allocation_answer_is_done_on_the_retry(xdeps: ToolDeps, fake: RacedXero) -> None:
    w = build_world(fake)
    sync(xdeps)
    deps = with_approvals(xdeps)
    action_id = _approved(deps)
    fake.race = lambda: setattr(fake, "lose_answers", 1)  # Xero allocates; the answer is lost
    box = Outbox(deps, backoff_seconds=0)
    box.run_once()
    assert actions.load(deps, action_id).status == "approved"
    box.run_once()  # Xero now shows 0.00 due: the first try's allocation, not a change
    assert actions.load(deps, action_id).status == "done"
    notes = _our_notes(fake, w.note)
    assert [(n["Status"], len(n["Allocations"])) for n in notes] == [("PAID", 1)]
