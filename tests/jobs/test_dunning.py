"""Dunning stages: exactly the expected drafts, excluded invoices skipped, one stage at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from slack_sdk import WebClient

from db.models import ActionStatus
from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger
from tests.jobs.conftest import APPROVALS, APPROVER
from tests.jobs.ledger import MONDAY
from tools import actions
from tools.deps import ToolDeps
from tools.dunning import DunningError, DunningInput, propose_dunning_email


def _cards(fake: FakeSlack) -> list[str]:
    return [c.all_text for c in fake.calls("chat.postMessage") if c.params["channel"] == APPROVALS]


def _proposed(deps: ToolDeps, ids: list[int]) -> dict[str, int]:
    by_id = {v: k for k, v in ledger.ids(deps).items()}
    out = {}
    for action_id in ids:
        a = actions.load(deps, action_id)
        assert a.status == ActionStatus.PROPOSED and a.proposed_by == actions.SYSTEM
        out[by_id[a.invoice_id]] = int(a.payload["stage"])
    return out


def test_stages_propose_expected_drafts_and_skip_excluded(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    first = run_job(jdeps, "dunning", now=MONDAY, client=client)
    # D1 is 3 days before due (stage 0), D2 one day late (stage 1); R1 and G-invoices:
    # R1 is 110 days late (last stage). D3 disputed, D4 paid, D5 promised, D6 not yet due,
    # N1 do-not-dun: none of them.
    assert _proposed(jdeps, first) == {"INV-D1": 0, "INV-D2": 1, "INV-R1": 4}
    cards = _cards(fake_slack)
    assert len(cards) == 3
    assert any("INV-D2" in c and "Approve" in c for c in cards)
    # nothing sends by itself and a re-run proposes nothing
    assert run_job(jdeps, "dunning", now=MONDAY + timedelta(hours=1), client=client) == []


def test_next_stage_waits_until_the_previous_is_decided(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    patient = replace(
        jdeps, settings=jdeps.settings.model_copy(update={"action_expiry_hours": 240})
    )
    first = run_job(patient, "dunning", now=MONDAY, client=client)
    # Sunday: D2 reached +7 and D1 reached +1, but their reminders are undecided: they wait
    sunday = MONDAY + timedelta(days=6)
    assert run_job(patient, "dunning", now=sunday, client=client) == []
    d2 = ledger.ids(jdeps)["INV-D2"]
    d2_action = next(i for i in first if actions.load(jdeps, i).invoice_id == d2)
    actions.reject(patient, d2_action, APPROVER, "called them instead", now=sunday)
    nxt = run_job(patient, "dunning", now=sunday + timedelta(hours=1), client=client)
    assert _proposed(jdeps, nxt) == {"INV-D2": 2}
    assert len(_cards(fake_slack)) == 4


def test_an_expired_reminder_counts_as_decided(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    run_job(jdeps, "dunning", now=MONDAY, client=client)  # proposals expire after 72 hours
    sunday = MONDAY + timedelta(days=6)
    assert _proposed(jdeps, run_job(jdeps, "dunning", now=sunday, client=client)) == {
        "INV-D1": 1,
        "INV-D2": 2,
    }


@pytest.mark.parametrize(
    ("invoice", "reason"),
    [
        ("INV-D3", "INV-D3 is disputed"),
        ("INV-N1", "Nodun plc is marked do-not-dun"),
        ("INV-D5", "INV-D5 has a promise to pay by 2026-12-03"),
    ],
)
@pytest.mark.parametrize("path", ["dunning job", "a person's request"])
def test_the_job_and_a_person_refuse_the_same_invoices(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, path: str, invoice: str, reason: str
) -> None:
    if path == "dunning job":
        run_job(jdeps, "dunning", now=MONDAY, client=client)
        cards = _cards(fake_slack)
        assert len(cards) == 3  # the job ran and drafted the eligible ones
        assert not any(invoice in c for c in cards)
    else:
        with pytest.raises(DunningError, match=reason):
            propose_dunning_email(
                jdeps, DunningInput(invoice=invoice, requested_by=APPROVER), now=MONDAY
            )
