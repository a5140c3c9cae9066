"""The agent proposes promises to pay and dispute notes; only a person's click records them.

A question plus text the customer wrote (a dispute reason) must not be able to pause dunning:
the model's call posts a card, and the promise or note is written when a finance user or an
approver clicks Confirm on it (a signed request to the real Bolt app). A promise dated past
ARBOT_PROMISE_MAX_DAYS is refused on every surface.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.blocks.ids import ActionId, CardRef
from db.models import Action, Note, PromiseToPay
from tests.agent.conftest import AS_OF, SLACK_DM, SLACK_FINANCE, MakeDeps, SlackBot
from tests.fakes.openai_api import FakeOpenAI, call, say
from tests.fakes.signing import block_action, message_event
from tools import actions
from tools.deps import ToolDeps, connect
from tools.promises import PromiseError, PromiseInput, record_promise
from tools.settings import Settings


def count(deps: ToolDeps, model: type) -> int:
    with deps.sessions() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _ask_and_get_card(bot: SlackBot, question: str) -> tuple[str, str]:
    """(card text, action id) of the one card the answer posted."""
    sender, fake_slack = bot
    assert sender.event(message_event(question, user=SLACK_FINANCE, channel=SLACK_DM))[0] == 200
    posts = fake_slack.wait_for("chat.postMessage", count=2)
    [card] = [p for p in posts if p.blocks and any(b["type"] == "actions" for b in p.blocks)]
    [buttons] = [b for b in card.blocks if b["type"] == "actions"]
    [confirm] = [e for e in buttons["elements"] if e["action_id"] == ActionId.CONFIRM]
    return card.all_text, confirm["value"]


@pytest.mark.parametrize("kind", ["promise", "note"])
def test_the_agent_proposes_and_a_click_on_confirm_records(
    make_slack_bot: Callable[..., SlackBot], fake_llm: FakeOpenAI, db_url: str, kind: str
) -> None:
    bot = make_slack_bot(database_url=db_url)
    deps = connect(Settings(database_url=db_url))
    on = (date.today() + timedelta(days=10)).isoformat()
    if kind == "promise":
        question = f"Globex just promised to pay INV-G3 on {on}, please record that promise"
        tool = call("record_promise_to_pay", invoice="INV-G3", promised_on=on)
    else:
        question = "Note for INV-U2: Umbrella says the product never arrived, record it"
        tool = call("record_dispute_note", invoice="INV-U2", text="product never arrived")
    fake_llm.push(tool, say("I proposed it; confirm it on the card."))
    card_text, value = _ask_and_get_card(bot, question)
    ts = actions.load(deps, CardRef.parse(value).action_id).slack_ts
    assert ts is not None
    model, shown = (PromiseToPay, f"Promised on: {on}") if kind == "promise" else (Note, "arrived")
    assert count(deps, model) == 0  # the model's call wrote nothing
    assert shown in card_text and "Waiting for a finance user or an approver" in card_text

    sender, fake_slack = bot
    click = block_action(
        ActionId.CONFIRM, value=value, user=SLACK_FINANCE, channel=SLACK_DM, message_ts=ts
    )
    assert sender.interaction(click)[0] == 200
    [update] = fake_slack.wait_for("chat.update")
    assert "Confirmed by" in update.all_text and SLACK_FINANCE in update.all_text
    assert count(deps, model) == 1
    with deps.sessions() as session:
        row = session.execute(select(model)).scalar_one()
        who = row.recorded_by if isinstance(row, PromiseToPay) else row.author
        assert who == SLACK_FINANCE
        if isinstance(row, PromiseToPay):
            assert row.promised_on.isoformat() == on and row.amount_minor == 1_200_000

    assert sender.interaction(click)[0] == 200  # a second click records nothing more
    fake_slack.wait_for("chat.postEphemeral")
    assert count(deps, model) == 1
    deps.engine.dispose()


def test_a_promise_in_2099_is_refused_to_the_model_and_nothing_is_proposed(
    make_deps: MakeDeps, fake_llm: FakeOpenAI
) -> None:
    from bot.agent import Agent

    deps = make_deps()
    agent = Agent(deps)
    fake_llm.push(
        call("record_promise_to_pay", invoice="INV-G3", promised_on="2099-01-01"),
        say("I could not record it."),
    )
    agent.ask("Globex promised to pay INV-G3 on 2099-01-01, record it", user="U1", today=AS_OF)
    [refused] = fake_llm.tool_results(1)
    assert refused.startswith("error:") and "2099-01-01" in refused
    assert count(deps, Action) == 0 and count(deps, PromiseToPay) == 0


def test_a_promise_past_the_limit_is_refused_on_every_surface(make_deps: MakeDeps) -> None:
    deps = make_deps(promise_max_days=90)
    today = date.today()
    ok = PromiseInput(invoice="INV-G3", promised_on=today + timedelta(days=90), recorded_by="U1")
    assert record_promise(deps, ok).promised_on == ok.promised_on
    late = ok.model_copy(update={"promised_on": today + timedelta(days=91)})
    with pytest.raises(PromiseError, match="within 90 days") as caught:
        record_promise(deps, late)
    assert caught.value.field == "promised_on"
    from tools.promises import propose_promise

    with pytest.raises(PromiseError, match="within 90 days"):
        propose_promise(deps, late)
    assert count(deps, PromiseToPay) == 1 and count(deps, Action) == 0
