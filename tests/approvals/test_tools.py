"""The approval rules and the outbox, through the tool functions (no Slack)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from db.models import ActionStatus
from tests.approvals import ledger
from tests.approvals.conftest import APPROVER, APPROVER_2, COLLECTOR, OUTSIDER
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.stripe_api import FakeStripe
from tools import actions
from tools.actions import AlreadyDecided, Refused
from tools.deps import ToolDeps
from tools.dunning import DunningError, DunningInput, edit_draft, propose_dunning_email
from tools.outbox import Outbox
from tools.promises import PromiseInput, record_promise
from tools.write_off import WriteOffInput, propose_write_off


def remind(deps: ToolDeps, customer: str = "Acme", **kw: object) -> actions.ActionInfo:
    return propose_dunning_email(
        deps, DunningInput(customer=customer, requested_by=COLLECTOR, **kw)
    )  # type: ignore[arg-type]


def outbox(deps: ToolDeps, **kw: object) -> Outbox:
    return Outbox(deps, backoff_seconds=0, **kw)  # type: ignore[arg-type]


def test_draft_states_exact_open_invoices_to_the_ap_contact(ap_deps: ToolDeps) -> None:
    a = remind(ap_deps)
    p = a.payload
    assert a.status == "proposed"
    assert p["recipient"] == ledger.ACME_AP
    assert [i["label"] for i in p["invoices"]] == ["INV-A2", "INV-A1"]  # A3 is not due yet
    assert "INV-A1" in p["body"] and "USD 1,200.00" in p["body"]
    assert "INV-A2" in p["body"] and "USD 800.50" in p["body"]
    assert "Total open: USD 2,000.50" in p["body"]
    assert p["tone"] == "final notice"  # 40 days late reaches the last stage (30)
    assert p["subject"].startswith("Final notice")


def test_tone_follows_the_stage_and_billing_email_is_the_fallback(ap_deps: ToolDeps) -> None:
    one = remind(ap_deps, invoice="INV-A1")
    assert one.payload["tone"] == "firm"  # 20 days late: stage 15
    assert one.payload["subject"].startswith("Overdue: invoice INV-A1 (USD 1,200.00)")
    globex = remind(ap_deps, customer="Globex")
    assert globex.payload["recipient"] == ledger.GLOBEX_BILLING
    friendly = remind(ap_deps, invoice="INV-A1", tone="friendly")
    assert friendly.payload["subject"].startswith("Reminder")


def test_do_not_dun_disputed_and_promised_are_never_dunned(ap_deps: ToolDeps) -> None:
    with pytest.raises(DunningError, match="do-not-dun"):
        remind(ap_deps, customer="Initech")
    ledger.open_dispute(ap_deps, "INV-A1")
    with pytest.raises(DunningError, match="INV-A1 is disputed"):
        remind(ap_deps, invoice="INV-A1")
    a = remind(ap_deps)  # the customer-level reminder leaves the disputed invoice out
    assert [i["label"] for i in a.payload["invoices"]] == ["INV-A2"]
    assert "INV-A1" not in a.payload["body"]
    today = actions.now_utc().date()
    record_promise(
        ap_deps,
        PromiseInput(
            invoice="INV-A2", promised_on=today + timedelta(days=5), recorded_by=COLLECTOR
        ),
    )
    with pytest.raises(DunningError, match="promise to pay"):
        remind(ap_deps)


def test_customer_is_found_by_the_shared_lookup_and_must_agree_with_the_invoice(
    ap_deps: ToolDeps,
) -> None:
    assert remind(ap_deps, customer="acme corp.").payload["customer_name"] == "Acme Corp"
    assert remind(ap_deps, customer="Acme", invoice="INV-A1").payload["invoices"][0]["label"] == (
        "INV-A1"
    )
    with pytest.raises(DunningError, match="invoice INV-A1 belongs to Acme Corp"):
        remind(ap_deps, customer="Globex", invoice="INV-A1")
    with pytest.raises(DunningError, match="no customer matches 'Zenith'"):
        remind(ap_deps, customer="Zenith")


def test_invalid_input_gets_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="name a customer or an invoice"):
        DunningInput(requested_by=COLLECTOR)
    with pytest.raises(ValidationError, match="tone must be one of"):
        DunningInput(customer="Acme", tone="angry", requested_by=COLLECTOR)
    with pytest.raises(ValidationError, match="reason"):
        WriteOffInput(invoice="INV-G1", reason="", requested_by=COLLECTOR)


def test_approval_rules(ap_deps: ToolDeps) -> None:
    a = remind(ap_deps)
    with pytest.raises(Refused, match="Only configured approvers"):
        actions.approve(ap_deps, a.id, OUTSIDER)
    with pytest.raises(Refused, match="proposed or edited"):
        actions.approve(ap_deps, a.id, COLLECTOR)
    decision = actions.approve(ap_deps, a.id, APPROVER)
    assert decision.action.status == "approved" and decision.action.decided_by == APPROVER
    with pytest.raises(AlreadyDecided, match=f"approved by <@{APPROVER}>"):
        actions.approve(ap_deps, a.id, APPROVER_2)
    trail = actions.audit_trail(ap_deps, a.id)
    assert [(t["actor"], t["event"]) for t in trail] == [
        (COLLECTOR, "proposed"),
        (APPROVER, "approved"),
    ]
    assert trail[1]["before"]["status"] == "proposed" and trail[1]["after"]["status"] == "approved"


def test_expired_proposal_cannot_be_approved(ap_deps: ToolDeps) -> None:
    a = remind(ap_deps)
    later = actions.now_utc() + timedelta(hours=ap_deps.settings.action_expiry_hours + 1)
    with pytest.raises(Refused, match="expired"):
        actions.approve(ap_deps, a.id, APPROVER, now=later)
    assert actions.load(ap_deps, a.id).status == "expired"


def test_write_off_shows_its_effect_and_needs_two_approvers(
    ap_deps: ToolDeps, smtp: FakeSmtp
) -> None:
    a = propose_write_off(
        ap_deps,
        WriteOffInput(invoice="INV-G1", reason="customer went bankrupt", requested_by=COLLECTOR),
    )
    e = a.payload["effect"]
    assert a.payload["invoice"]["open_minor"] == 900_000
    assert e["amount_minor"] == 900_000
    assert a.approvals_needed == 2
    assert e["bad_debt_pct_before"] is None or Decimal(e["bad_debt_pct_before"]) == 0
    assert Decimal(e["dso_after"]) < Decimal(e["dso_before"])
    assert e["allowance_used_minor"] + e["allowance_shortfall_minor"] == 900_000
    first = actions.approve(ap_deps, a.id, APPROVER)
    assert first.outcome == "first_approval" and first.action.status == "proposed"
    with pytest.raises(Refused, match="second, different approver"):
        actions.approve(ap_deps, a.id, APPROVER)
    second = actions.approve(ap_deps, a.id, APPROVER_2)
    assert second.action.status == "approved"
    assert second.action.approved_by == [APPROVER, APPROVER_2]
    outbox(ap_deps).run_once()
    assert actions.load(ap_deps, a.id).status == "done"
    from tools.metrics import MetricsInput
    from tools.report import ar_report

    after = ar_report(ap_deps, MetricsInput())
    assert after.written_off_minor == 900_000
    assert after.bad_debt_pct is not None and after.bad_debt_pct > 0


def test_email_goes_out_once_with_stable_message_id(ap_deps: ToolDeps, smtp: FakeSmtp) -> None:
    a = remind(ap_deps)
    actions.approve(ap_deps, a.id, APPROVER)
    box = outbox(ap_deps)
    assert box.run_once() == [a.id]
    assert box.run_once() == []
    [msg] = smtp.wait_for(1)
    assert msg.rcpt_tos == [ledger.ACME_AP]
    assert msg["Subject"] == a.payload["subject"]
    assert msg["Message-ID"] == f"<arbot-action-{a.id}@initrode.example.com>"
    assert "USD 1,200.00" in msg.body
    done = actions.load(ap_deps, a.id)
    assert done.status == "done"
    events = [t["event"] for t in actions.audit_trail(ap_deps, a.id)]
    assert events == ["proposed", "approved", "executing", "done"]


def test_paid_meanwhile_cancels_with_a_note(ap_deps: ToolDeps, smtp: FakeSmtp) -> None:
    a = remind(ap_deps)
    actions.approve(ap_deps, a.id, APPROVER)
    ledger.pay_in_full(ap_deps, "INV-A1")
    outbox(ap_deps).run_once()
    after = actions.load(ap_deps, a.id)
    assert after.status == "cancelled"
    assert "INV-A1 was paid since the draft" in (after.decision_note or "")
    assert smtp.messages == []


def test_crash_after_send_before_mark_never_sends_twice(ap_deps: ToolDeps, smtp: FakeSmtp) -> None:
    a = remind(ap_deps)
    actions.approve(ap_deps, a.id, APPROVER)

    class Crash(BaseException):
        pass

    box = outbox(ap_deps, lease_seconds=0)
    real_finish = box._finish

    def crash_on_done(action: actions.ActionInfo, to: str, *args: object, **kw: object) -> bool:
        if to == ActionStatus.DONE:
            raise Crash  # the process dies right after SMTP accepted the message
        return real_finish(action, to, *args, **kw)  # type: ignore[arg-type]

    box._finish = crash_on_done  # type: ignore[method-assign]
    with pytest.raises(Crash):
        box.run_once()
    assert len(smtp.wait_for(1)) == 1
    assert actions.load(ap_deps, a.id).status == "executing"
    outbox(ap_deps).run_once()  # a fresh worker after restart; the lease has run out
    after = actions.load(ap_deps, a.id)
    assert after.status == "done"
    assert (after.last_error or "").startswith("delivery unknown: check the outbox")
    assert len(smtp.messages) == 1


def test_smtp_down_then_up_sends_once(ap_deps: ToolDeps, smtp: FakeSmtp) -> None:
    a = remind(ap_deps)
    actions.approve(ap_deps, a.id, APPROVER)
    smtp.stop()
    box = outbox(ap_deps)
    box.run_once()
    waiting = actions.load(ap_deps, a.id)
    assert waiting.status == "approved" and waiting.attempts == 1
    assert "email not sent" in (waiting.last_error or "")
    smtp.start()
    box.run_once()
    assert actions.load(ap_deps, a.id).status == "done"
    box.run_once()
    assert len(smtp.wait_for(1)) == 1


def test_smtp_keeps_failing_ends_failed_with_the_error(ap_deps: ToolDeps, smtp: FakeSmtp) -> None:
    a = remind(ap_deps)
    actions.approve(ap_deps, a.id, APPROVER)
    smtp.stop()
    box = outbox(ap_deps, max_attempts=3)
    for _ in range(4):
        box.run_once()
    failed = actions.load(ap_deps, a.id)
    assert failed.status == "failed" and failed.attempts == 3
    assert "email not sent" in (failed.last_error or "")
    smtp.start()


def test_stripe_500_then_success_marks_once_with_one_key(
    ap_deps: ToolDeps, fake_stripe: FakeStripe
) -> None:
    cus = fake_stripe.add_customer(name="Globex")
    inv = fake_stripe.add_invoice(cus["id"], 900_000)
    ledger.make_stripe_invoice(ap_deps, "INV-G1", inv["id"])
    a = propose_write_off(
        ap_deps, WriteOffInput(invoice="INV-G1", reason="bankrupt", requested_by=COLLECTOR)
    )
    actions.approve(ap_deps, a.id, APPROVER)
    actions.approve(ap_deps, a.id, APPROVER_2)
    fake_stripe.fail(500, times=1, path=f"/v1/invoices/{inv['id']}/mark_uncollectible")
    box = outbox(ap_deps)
    box.run_once()
    assert actions.load(ap_deps, a.id).status == "approved"
    box.run_once()
    assert actions.load(ap_deps, a.id).status == "done"
    posts = [
        r
        for r in fake_stripe.requests
        if r.method == "POST" and r.path.endswith("/mark_uncollectible")
    ]
    assert len(posts) == 2
    keys = {r.headers.get("idempotency-key") for r in posts}
    assert keys == {f"arbot-write-off-action-{a.id}"}
    assert fake_stripe.get("invoice", inv["id"])["status"] == "uncollectible"
    assert len(fake_stripe.idempotency_keys) == 1  # only one call got past the 500


def test_edit_is_rechecked_and_needs_reapproval(ap_deps: ToolDeps) -> None:
    a = remind(ap_deps, invoice="INV-A1")
    with pytest.raises(DunningError, match=r"must state INV-A1's open amount USD 1,200\.00"):
        edit_draft(ap_deps, a.id, COLLECTOR, "Hi", "Please pay INV-A1 soon.")
    with pytest.raises(DunningError, match="other email addresses"):
        edit_draft(
            ap_deps, a.id, COLLECTOR, "Hi", "INV-A1 USD 1,200.00, reply to boss@evil.example.com"
        )
    edited = edit_draft(
        ap_deps, a.id, COLLECTOR, "Quick note on INV-A1", "Hello, INV-A1 (USD 1,200.00) is open."
    )
    assert edited.payload["subject"] == "Quick note on INV-A1"
    assert edited.payload["recipient"] == ledger.ACME_AP
    assert actions.approve(ap_deps, a.id, APPROVER).action.status == "approved"
