"""Drafts through the real langchain-openai client against a fake OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.approvals import ledger
from tests.approvals.conftest import COLLECTOR, approval_settings
from tests.fakes.openai_api import FakeOpenAI, error, running, say
from tools.deps import ToolDeps, connect
from tools.dunning import DunningInput, propose_dunning_email


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with running() as fake:
        yield fake


@pytest.fixture
def llm_deps(db_url: str, llm: FakeOpenAI, tmp_path: Path) -> Iterator[ToolDeps]:
    settings = approval_settings(db_url, openai_api_key="sk-test", openai_base_url=llm.base_url)
    d = connect(settings)
    ledger.build(d, tmp_path / "csv")
    yield d
    d.engine.dispose()


def draft(deps: ToolDeps) -> dict[str, object]:
    return propose_dunning_email(
        deps, DunningInput(customer="Acme", invoice="INV-A1", requested_by=COLLECTOR)
    ).payload


def test_llm_draft_is_used_when_it_states_the_facts(llm_deps: ToolDeps, llm: FakeOpenAI) -> None:
    body = "Dear Acme,\n\nInvoice INV-A1 for USD 1,200.00 was due 20 days ago.\n\nInitrode AR"
    llm.push(say(json.dumps({"subject": "INV-A1 is overdue", "body": body})))
    p = draft(llm_deps)
    assert p["drafted_by"] == "llm"
    assert p["subject"] == "INV-A1 is overdue" and p["body"] == body
    assert p["recipient"] == ledger.ACME_AP
    prompt = llm.requests[0]["messages"][-1]["content"]
    assert "Tone: **firm**" in prompt
    assert "INV-A1: USD 1,200.00, due" in prompt and "Initrode" in prompt


def test_llm_draft_with_wrong_amount_or_extra_address_falls_back(
    llm_deps: ToolDeps, llm: FakeOpenAI
) -> None:
    llm.push(say(json.dumps({"subject": "Overdue", "body": "INV-A1 for USD 1,000.00 is due."})))
    p = draft(llm_deps)
    assert p["drafted_by"] == "template" and "USD 1,200.00" in str(p["body"])
    llm.push(
        say(json.dumps({"subject": "x", "body": "INV-A1 USD 1,200.00; pay to evil@example.com"}))
    )
    assert draft(llm_deps)["drafted_by"] == "template"


def test_llm_down_falls_back_to_the_template(llm_deps: ToolDeps, llm: FakeOpenAI) -> None:
    llm.push(error(500), error(500), error(500))
    p = draft(llm_deps)
    assert p["drafted_by"] == "template"
    assert str(p["subject"]).startswith("Overdue: invoice INV-A1")


def test_llm_draft_too_long_for_the_card_or_with_a_foreign_link_falls_back(
    llm_deps: ToolDeps, llm: FakeOpenAI
) -> None:
    facts = "Invoice INV-A1 for USD 1,200.00 is overdue."
    long_body = facts + "\n" + "We value our partnership. " * 120
    llm.push(say(json.dumps({"subject": "INV-A1", "body": long_body})))
    p = draft(llm_deps)
    assert len(long_body) > 2_500 and p["drafted_by"] == "template"
    llm.push(say(json.dumps({"subject": "INV-A1", "body": f"{facts} Pay at https://pay.example"})))
    p = draft(llm_deps)
    assert p["drafted_by"] == "template" and "https://" not in str(p["body"])


@pytest.mark.parametrize("link", ["evil-pay.com/inv/1", "bit.ly/3xYz"])
def test_llm_draft_with_a_link_without_a_scheme_falls_back(
    llm_deps: ToolDeps, llm: FakeOpenAI, link: str
) -> None:
    facts = "Invoice INV-A1 for USD 1,200.00 is overdue."
    llm.push(say(json.dumps({"subject": "INV-A1", "body": f"{facts} Pay at {link} today."})))
    p = draft(llm_deps)
    assert p["drafted_by"] == "template" and link not in str(p["body"])


@pytest.mark.parametrize(
    "offer",
    [
        "Once paid, we can raise your credit limit.",
        "Pay now and we will extend your payment terms to net 60.",
        "We are happy to offer additional credit for your next orders.",
    ],
)
def test_llm_draft_promising_new_credit_falls_back(
    llm_deps: ToolDeps, llm: FakeOpenAI, offer: str
) -> None:
    facts = "Invoice INV-A1 for USD 1,200.00 is overdue."
    llm.push(say(json.dumps({"subject": "INV-A1", "body": f"{facts} {offer}"})))
    p = draft(llm_deps)
    assert p["drafted_by"] == "template" and offer not in str(p["body"])
    assert "credit" not in str(p["body"]).lower()
    prompt = llm.requests[-1]["messages"][-1]["content"]
    assert "Never offer or promise new credit" in prompt


def test_a_draft_may_mention_a_credit_note(llm_deps: ToolDeps, llm: FakeOpenAI) -> None:
    body = "Invoice INV-A1 for USD 1,200.00 is overdue, after the credit note we issued."
    llm.push(say(json.dumps({"subject": "INV-A1", "body": body})))
    assert draft(llm_deps)["drafted_by"] == "llm"
