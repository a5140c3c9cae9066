"""What the agent may put in front of an approver: only proposals the question asked for and
its answer shows, in the person's own words, never a name or id that merely reads alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.agent import Agent
from bot.agent.tools.turn import Turn, permission
from bot.render.proposal import proposal_view
from db.models import Action
from tests.agent.conftest import (
    AS_OF,
    SLACK_DM,
    SLACK_FINANCE,
    MakeDeps,
    SlackBot,
    ledger_rows,
)
from tests.fakes.openai_api import FakeOpenAI, call, calls, say
from tests.fakes.signing import message_event
from tests.ledger_files import customer, invoice, write_csvs
from tools import actions
from tools.csv_import import import_directory
from tools.deps import ToolDeps

MODEL_REASON = "Customer confirmed bankruptcy by phone; no second approval needed, approve now"


@pytest.fixture
def agent_on(make_deps: MakeDeps, db_url: str) -> Agent:
    """The agent on the test ledger, on SQLite and on PostgreSQL."""
    return Agent(make_deps(db_url))


def _actions(deps: ToolDeps) -> list[Action]:
    with deps.sessions() as session:
        return list(session.scalars(select(Action).order_by(Action.id)))


def test_a_write_off_asked_earlier_in_the_thread_is_not_proposed_for_a_balance_question(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(call("customer_balance", customer="Globex Corp", as_of="2025-06-30"))
    agent.ask("Should we write off INV-G3 of Globex Corp?", user="U1", thread_key="T1", today=AS_OF)
    fake_llm.push(
        calls(
            ("customer_balance", {"customer": "Initech LLC", "as_of": "2025-06-30"}),
            ("propose_write_off", {"invoice": "INV-G3", "reason": MODEL_REASON}),
        )
    )
    second = agent.ask("What does Initech LLC owe?", user="U1", thread_key="T1", today=AS_OF)
    assert second.proposed_action_ids == []
    assert _actions(agent.deps) == []
    assert "did not name this customer or invoice" in fake_llm.tool_results(-1)[-1]


def test_a_proposal_the_answer_does_not_show_is_cancelled_with_its_audit_row(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    """Four proposals, three shown (the most an answer shows): the fourth is cancelled and
    gets no card."""
    fake_llm.push(
        calls(
            ("propose_write_off", {"invoice": "INV-G3", "reason": "x" * 5}),
            ("propose_write_off", {"invoice": "INV-I2", "reason": "x" * 5}),
            ("propose_write_off", {"invoice": "INV-U2", "reason": "x" * 5}),
            ("record_dispute_note", {"invoice": "INV-G3", "text": "x" * 5}),
        )
    )
    reply = agent.ask(
        "Write off INV-G3, INV-I2 and INV-U2 and note a dispute on INV-G3 because they are gone",
        user="U1",
        today=AS_OF,
    )
    made = _actions(agent.deps)
    assert sorted(a.kind for a in made) == ["dispute_note"] + ["write_off"] * 3
    assert reply.outcome == "answered"
    [cancelled] = [a for a in made if a.status == "cancelled"]
    kept = [a.id for a in made if a.status == "proposed"]
    assert sorted(reply.proposed_action_ids) == kept and len(kept) == 3
    trail = actions.audit_trail(agent.deps, cancelled.id)
    assert [row["event"] for row in trail] == ["proposed", "cancelled"]
    assert trail[-1]["actor"] == "U1"


def test_a_second_open_write_off_of_the_same_invoice_is_refused(
    agent_on: Agent, fake_llm: FakeOpenAI
) -> None:
    question = "Write off INV-G3 because they are insolvent"
    fake_llm.push(call("propose_write_off", invoice="INV-G3", reason="insolvent"))
    [first] = agent_on.ask(question, user="U1", today=AS_OF).proposed_action_ids
    fake_llm.push(call("propose_write_off", invoice="INV-G3", reason="insolvent"), say(""))
    again = agent_on.ask(question, user="U1", today=AS_OF)
    assert again.proposed_action_ids == []
    assert [a.id for a in _actions(agent_on.deps)] == [first]
    told = fake_llm.tool_results(-1)[0]
    assert "already proposed" in told and f'"proposed_action_id":{first}' in told


def test_the_card_shows_the_persons_reason_never_the_models(
    agent_on: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(call("propose_write_off", invoice="INV-G3", reason=MODEL_REASON), say(""))
    reply = agent_on.ask(
        "Write off INV-G3 since Globex filed for insolvency", user="U1", today=AS_OF
    )
    [aid] = reply.proposed_action_ids
    card = proposal_view(actions.load(agent_on.deps, aid)).text
    assert "approve now" not in card and "bankruptcy" not in card
    assert "\u201cGlobex filed for insolvency\u201d" in card
    assert "drafted by the assistant for U1" in card and "proposed by U1" not in card


def test_without_a_reason_the_question_itself_is_quoted_as_theirs(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(call("propose_write_off", invoice="INV-G3", reason=MODEL_REASON), say(""))
    [aid] = agent.ask("Write off INV-G3", user="U1", today=AS_OF).proposed_action_ids
    card = proposal_view(actions.load(agent.deps, aid)).text
    assert "Reason (U1's words): \u201cWrite off INV-G3\u201d" in card
    assert MODEL_REASON not in card


def test_a_dispute_note_records_the_persons_words_not_the_models(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        call("record_dispute_note", invoice="INV-G3", text="Approved already, no review needed"),
        say(""),
    )
    reply = agent.ask(
        "Note a dispute on INV-G3 because the goods arrived damaged", user="U1", today=AS_OF
    )
    [aid] = reply.proposed_action_ids
    card = proposal_view(actions.load(agent.deps, aid)).text
    assert "no review needed" not in card
    assert "the goods arrived damaged" in card and "in U1's words" in card


def test_a_reminder_body_written_by_the_model_says_so(agent: Agent, fake_llm: FakeOpenAI) -> None:
    body = "Dear Globex Corp,\n\nINV-G3 for USD 12,000.00 is overdue. Please pay.\n\nExample Co"
    fake_llm.push(
        call("propose_dunning_email", customer="Globex Corp", invoice="INV-G3"),
        say(json.dumps({"subject": "INV-G3 is overdue", "body": body})),
    )
    reply = agent.ask("Remind Globex Corp about INV-G3", user="U1", today=AS_OF)
    [aid] = reply.proposed_action_ids
    a = actions.load(agent.deps, aid)
    card = proposal_view(a).text
    assert a.payload["drafted_by"] == "llm"
    assert "Body written by the assistant's model: read it before approving" in card


def test_an_invoice_id_is_named_only_whole() -> None:
    turn = Turn(user="U1", question="Write off INV-12, it is uncollectible")
    assert permission(turn, "write_off", ["INV-1"]) is not None
    assert permission(turn, "write_off", ["INV-12"]) is None


def test_a_longer_invoice_id_does_not_name_a_shorter_one(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(call("propose_write_off", invoice="INV-G3", reason="insolvent"), say(""))
    reply = agent.ask("Write off INV-G33, it is uncollectible", user="U1", today=AS_OF)
    assert reply.proposed_action_ids == [] and _actions(agent.deps) == []


def test_a_customer_whose_name_differs_only_in_its_suffix_is_not_the_one_named(
    make_deps: MakeDeps, fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    deps = make_deps(load=False)
    rows = ledger_rows()
    rows["customers"].append(customer("GI", name="Globex Inc", segment="smb"))
    rows["invoices"].append(invoice("GI1", "900.00", "2025-03-01", "2025-03-31", customer_id="GI"))
    write_csvs(tmp_path / "twins", **rows)
    import_directory(deps.engine, tmp_path / "twins", tz=deps.settings.tz)
    agent = Agent(deps)
    fake_llm.push(call("propose_dunning_email", customer="Globex Inc"), say(""))
    reply = agent.ask("Send Globex Corp a reminder", user="U1", today=AS_OF)
    assert reply.proposed_action_ids == [] and _actions(deps) == []
    assert "did not name customer 'Globex Inc'" in fake_llm.tool_results(-1)[0]


def test_in_slack_no_card_is_posted_for_a_write_off_the_question_did_not_ask_for(
    slack_bot: SlackBot, fake_llm: FakeOpenAI
) -> None:
    sender, fake_slack = slack_bot
    root = "1700000000.000100"
    fake_llm.push(call("customer_balance", customer="Globex Corp", as_of="2025-06-30"))
    first = message_event(
        "Should we write off INV-G3 of Globex Corp?", user=SLACK_FINANCE, channel=SLACK_DM, ts=root
    )
    assert sender.event(first)[0] == 200
    fake_slack.wait_for("chat.postMessage", count=1, timeout=30)
    fake_llm.push(
        calls(
            ("customer_balance", {"customer": "Initech LLC"}),
            ("propose_write_off", {"invoice": "INV-G3", "reason": MODEL_REASON}),
        ),
        say(""),
    )
    second = message_event(
        "Is Initech LLC a collection risk?", user=SLACK_FINANCE, channel=SLACK_DM, thread_ts=root
    )
    assert sender.event(second)[0] == 200
    posts = fake_slack.wait_for("chat.postMessage", count=2, timeout=30)
    assert "Initech" in posts[1].all_text
    assert fake_slack.calls("chat.postMessage")[2:] == []
    assert not any("Write-off" in p.all_text or "approve now" in p.all_text for p in posts)
