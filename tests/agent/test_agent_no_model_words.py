"""No word of the model is ever posted: the answer is the ledger's rendering of the tool
results of the question, or the ledger's answer for what it names under our own line.

Each model reply below is a way a model slipped advice, a made-up claim or markup past a
sentence filter (advice in other languages, look-alike letters, zero-width characters, a
payment link, bank details, two customers' figures swapped, a paragraph repeated). Whatever
it says and wherever it says it (alone, beside its tool call, after a failed call, beside a
call about another customer), what reaches Slack is compared with the fast path's answer for
the same customer, character for character, and searched for every sentence of the model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.agent import Agent
from bot.blocks.common import escape
from tests.agent.conftest import (
    AS_OF,
    MakeDeps,
    SlackBot,
    agent_lead,
    fast_path,
    load_ledger,
    posted_answer,
    slack_ledger,
)
from tests.fakes.openai_api import FakeOpenAI, Reply, call, say

QUESTION = "Is Globex Corp a collection risk, and what should we do?"
GLOBEX_CALL = ("customer_balance", {"customer": "Globex Corp", "as_of": "2025-06-30"})
INITECH_CALL = ("customer_balance", {"customer": "Initech LLC", "as_of": "2025-06-30"})

MODEL_WORDS = [
    "Please go ahead and write off all of your invoices now.",
    "Ecrivez la facture INV-G3 en perte des aujourd'hui, sans attendre.",
    "Schreiben Sie die Rechnung INV-G3 sofort ab und loeschen Sie sie.",
    "Cancelen la factura INV-G3 hoy mismo, no hace falta aprobarla.",
    "Wr\u0456te \u043eff INV-G3 r\u0456ght n\u043ew.",  # Cyrillic look-alikes
    "Write\u200b off\u200b INV-G3 at\u200b once.",  # zero-width spaces
    "Globex Corp can settle at https://pay.example.com/globex-settle today.",
    "Wire the balance to IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX.",
    "Initech LLC owes USD 12,000.00 and Globex Corp owes USD 4,000.00.",
    "Globex Corp is perfectly healthy and pays on time. " * 30,
    "Approval isn't needed for this one; click Approve on your own card.",
    "<!channel> Globex Corp has filed for bankruptcy.",
    'functions.customer_balance: {"customer": "Globex"}',
    "Globex Corp is a low risk account with no overdue balance at all.",
]


def _plain(text: str) -> str:
    """Text as a reader sees it: look-alikes folded, invisible characters gone, spaces one."""
    text = unicodedata.normalize("NFKC", text).translate({0x200B: None, 0x200C: None})
    text = text.translate(str.maketrans("\u0456\u043e", "io"))
    return " ".join(text.casefold().split())


def sentences(model_text: str) -> list[str]:
    """The model's sentences (or lines) long enough to tell: 3 words or 15 characters."""
    pieces = re.split(r"(?<=[.!?;:])\s+|\n", model_text)
    return [p for p in pieces if len(p.split()) >= 3 or len(p.strip()) >= 15]


def leaked(model_text: str, posted: str) -> list[str]:
    """Every sentence of the model's found in `posted`, as a reader would read them."""
    seen = _plain(posted)
    return [p for p in sentences(model_text) if _plain(p) in seen]


def test_the_leak_check_catches_a_single_sentence() -> None:
    posted = "Globex Corp · balance\nGlobex Corp owes USD 12,000.00 as of 2025-06-30."
    for words in MODEL_WORDS:
        one = sentences(words)[0]
        assert leaked(words, f"{posted}\n{one}"), words
        assert leaked(words, f"{posted}\n{_plain(one).upper()}"), words
        assert not leaked(words, posted), words


@pytest.fixture
def slack(make_slack_bot: Callable[..., SlackBot], tmp_path: Path) -> SlackBot:
    return make_slack_bot()


@pytest.mark.parametrize("words", MODEL_WORDS)
def test_words_beside_the_tool_call_are_not_posted_the_ledgers_rendering_is(
    slack: SlackBot, fake_llm: FakeOpenAI, tmp_path: Path, words: str
) -> None:
    # In Slack the day is today's: the question asks for no other.
    fake_llm.push(Reply(content=words, tool_calls=[("customer_balance", {"customer": "Globex"})]))
    post = posted_answer(slack, QUESTION)
    expected = fast_path(slack_ledger(tmp_path), "Globex Corp balance")
    assert post.params["text"] == escape(expected.text)
    assert post.params["blocks"] == expected.view.block_dicts()
    assert leaked(words, post.all_text) == []
    assert len(fake_llm.requests) == 1  # nothing more was asked of the model


@pytest.mark.parametrize("words", MODEL_WORDS)
def test_words_without_a_tool_are_not_posted_the_named_customer_is(
    slack: SlackBot, fake_llm: FakeOpenAI, tmp_path: Path, words: str
) -> None:
    fake_llm.push(say(words))
    post = posted_answer(slack, QUESTION)
    expected = fast_path(slack_ledger(tmp_path), "Globex Corp balance")
    assert post.params["text"] == escape(agent_lead(expected.text))
    assert leaked(words, post.all_text) == []


@pytest.mark.parametrize("words", MODEL_WORDS)
def test_words_beside_a_tool_about_another_customer_are_not_posted(
    agent: Agent, fake_llm: FakeOpenAI, words: str
) -> None:
    fake_llm.push(Reply(content=words, tool_calls=[INITECH_CALL]))
    reply = agent.ask(QUESTION, user="U1", today=AS_OF)
    expected = fast_path(agent.deps, "Globex Corp balance as of 2025-06-30")
    assert (reply.outcome, reply.text) == ("no_tool", agent_lead(expected.text))
    assert "Initech" not in reply.text
    assert leaked(words, reply.text) == []


@pytest.mark.parametrize("words", MODEL_WORDS)
def test_words_after_a_failed_call_are_not_posted(
    agent: Agent, fake_llm: FakeOpenAI, words: str
) -> None:
    fake_llm.push(call("customer_balance", customer="Nobody Ltd"), say(words))
    reply = agent.ask(QUESTION, user="U1", today=AS_OF)
    expected = fast_path(agent.deps, "Globex Corp balance as of 2025-06-30")
    assert (reply.outcome, reply.text) == ("no_tool", agent_lead(expected.text))
    assert leaked(words, reply.text) == []


def test_two_customers_named_get_each_their_own_rendering(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(
        Reply(
            content="Initech LLC owes USD 12,000.00 and Globex Corp owes USD 4,000.00.",
            tool_calls=[GLOBEX_CALL, INITECH_CALL, GLOBEX_CALL],
        )
    )
    reply = agent.ask("Compare Globex Corp with Initech LLC", user="U1", today=AS_OF)
    globex = fast_path(agent.deps, "Globex Corp balance as of 2025-06-30").text
    initech = fast_path(agent.deps, "Initech LLC balance as of 2025-06-30").text
    assert reply.outcome == "answered"
    assert reply.text == f"{globex}\n\n{initech}"  # the repeated call shown once


def test_a_name_inside_a_longer_name_is_not_the_customer_asked_about(
    make_deps: MakeDeps, fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    """Only "Umbrella Ltd Holdings" is named: a result about "Umbrella Ltd" is not about it."""
    deps = make_deps(load=False)
    load_ledger(deps, tmp_path / "holdings", globex_name="Umbrella Ltd Holdings")
    agent = Agent(deps)
    fake_llm.push(call("customer_balance", customer="Umbrella Ltd", as_of="2025-06-30"))
    reply = agent.ask("Is Umbrella Ltd Holdings a risk?", user="U1", today=AS_OF)
    expected = fast_path(deps, "Umbrella Ltd Holdings balance as of 2025-06-30")
    assert "Umbrella Ltd Holdings owes USD 12,000.00" in expected.text
    assert (reply.outcome, reply.text) == ("no_tool", agent_lead(expected.text))


def test_of_names_alike_but_for_the_suffix_the_one_spelt_out_is_asked_about(
    make_deps: MakeDeps, fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    deps = make_deps(load=False)
    load_ledger(deps, tmp_path / "gmbh", globex_name="Umbrella GmbH")
    agent = Agent(deps)
    fake_llm.push(say("Umbrella is fine."), say("Umbrella is fine."))
    one = agent.ask("Is Umbrella GmbH a risk?", user="U1", today=AS_OF)
    expected = fast_path(deps, "Umbrella GmbH balance as of 2025-06-30")
    assert one.text == agent_lead(expected.text)
    both = agent.ask("Is Umbrella a risk?", user="U1", today=AS_OF)
    assert "It names several customers; pick one:" in both.text


def test_an_invoice_is_told_from_one_whose_number_starts_alike(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    """INV-G3 names Globex Corp's invoice: a result about INV-G (no such invoice) or about
    another customer is not posted for it."""
    fake_llm.push(
        Reply(tool_calls=[INITECH_CALL]), call("aging", customer="Globex Corp", as_of="2025-06-30")
    )
    first = agent.ask("what is going on with INV-G3?", user="U1", today=AS_OF)
    expected = fast_path(agent.deps, "Globex Corp balance as of 2025-06-30")
    assert (first.outcome, first.text) == ("no_tool", agent_lead(expected.text))
    second = agent.ask("and how old is INV-G3?", user="U1", today=AS_OF)
    assert second.outcome == "answered"
    assert second.text.startswith("Aging of customer Globex Corp as of 2025-06-30")


@pytest.mark.parametrize("question", ["hi there", "thanks!", "what can you do?"])
def test_small_talk_gets_a_fixed_greeting_and_the_help_without_the_model(
    agent: Agent, fake_llm: FakeOpenAI, question: str
) -> None:
    fake_llm.push(say("Hello! Globex Corp should be written off."))
    reply = agent.ask(question, user="U1", today=AS_OF)
    assert reply.outcome == "small_talk"
    assert reply.text.startswith("Hello! I answer questions about receivables from the ledger.")
    assert "Here is what I can answer right away:" in reply.text
    assert fake_llm.requests == []


@pytest.mark.parametrize("question", ["why?", "what about it?", "who should I call first?"])
def test_a_question_naming_nothing_answered_without_a_tool_gets_the_help_under_our_line(
    agent: Agent, fake_llm: FakeOpenAI, question: str
) -> None:
    fake_llm.push(say("Put them on credit hold and stop shipping today."))
    reply = agent.ask(question, user="U1", today=AS_OF)
    assert reply.outcome == "no_tool"
    assert reply.text.startswith(
        "The assistant could not answer this from the ledger itself, so its words are not "
        "shown. Here is what I can answer:"
    )
    assert "Here is what I can answer right away:" in reply.text
    assert "credit hold" not in reply.text


def test_tool_arguments_that_are_not_an_object_fall_back_like_a_server_error(
    agent: Agent, fake_llm: FakeOpenAI
) -> None:
    fake_llm.push(call("aging", '"2025-06-30"'))
    reply = agent.ask("aging?", user="U1", today=AS_OF)
    assert reply.outcome == "unavailable"
    assert reply.text.startswith("The assistant is unavailable right now")
