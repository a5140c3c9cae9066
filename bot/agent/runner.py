"""The agent: a LangChain tool-calling loop over `tools/` in which the model chooses and the
ledger speaks.

One `Agent` per process (the graph and the HTTP client are reused); `ask` answers one
question in one Slack thread. The model only picks tools and their arguments; nothing it
writes is ever posted. What the person gets is always one of (`Outcome`):

* "answered": the ledger's own rendering (`bot.render`, the fast path's renderers) of the tool
  results of this question, at most `MAX_SHOWN` distinct calls (the same tool with the same
  arguments counts once), and only those about what the question names when it names
  customers, invoices or segments (`about`: by id, never by how a name reads). A proposal is
  reported in our fixed words (its approval card is posted beside the answer);
* "no_tool": no tool result about the question (the model answered in prose or with an empty
  message, called nothing, or asked about someone else): the deterministic answer for what
  the question names, or the help, under one line saying the assistant could not answer it
  itself (`substitute`). An empty message is the model choosing to write and writing nothing
  (llama-cpp-python's "auto" does so at temperature 0, every time for the same question),
  not a failing server: asking again would get the same, calling the server unavailable
  would be wrong;
* "small_talk": a greeting and the help, without asking the model;
* "limit": the round or token limit ended the loop; the results so far about the question,
  else the deterministic answer;
* "unavailable" plus the help: the model could not be reached after the client's retries,
  or answered with a malformed message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import openai
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.errors import GraphRecursionError
from pydantic import BaseModel, ValidationError

from bot.agent import about, relevance, substitute
from bot.agent.bounds import LIMIT_MARKER, Bounds, TurnContext
from bot.agent.memory import ThreadMemory
from bot.agent.proposals import settle
from bot.agent.tools import Turn, build_tools, turn_scope
from bot.agent.tools.build import Found
from bot.render import Combined, Note, render
from db.bot_state import record_usage
from db.engine import transaction
from tools.actions import ActionInfo
from tools.clock import today as today_in
from tools.deps import ToolDeps
from tools.llm import chat_model, render_prompt

log = logging.getLogger(__name__)

Outcome = Literal["answered", "no_tool", "small_talk", "limit", "unavailable"]
# What a server's broken reply (no choices, no message, wrong types) raises in the client.
# Tool arguments that are a JSON string or list, not an object, fail LangChain's validation.
MALFORMED_REPLY: tuple[type[Exception], ...] = (
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    ValidationError,
)
MAX_SHOWN = 3  # distinct tool results in one answer; more would bury the one asked for
CAP = "the answer would pass ARBOT_LLM_MAX_ANSWER_CHARS"


@dataclass
class AgentReply:
    text: str
    outcome: Outcome
    result: BaseModel  # what is posted, rendered by `bot.render`
    tools_called: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)  # every tool result of the question
    proposed_action_ids: list[int] = field(default_factory=list)
    shown_action_ids: set[int] = field(default_factory=set)  # proposals the answer shows
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0


def shown_results(found: list[Found], asked: about.Asked, want: relevance.Wanted) -> list[Found]:
    """The results an answer shows: about what the question names (any, when it names
    nothing), at the date and on the topic it asks for (`relevance`), each (tool, arguments)
    once, in the order they were called, at most MAX_SHOWN."""
    seen: set[tuple[str, str]] = set()
    out: list[Found] = []
    for f in found:
        if f.key in seen or (asked.about and not f.about.meets(asked.about)):
            continue
        if not relevance.relevant(f.tool, f.args, f.about, want):
            continue
        seen.add(f.key)
        out.append(f)
    return out[:MAX_SHOWN]


def answer_of(shown: list[Found], max_chars: int) -> tuple[BaseModel, list[Found]]:
    """One result as the fast path would post it; several one after another, whole results
    only while the text stays within `max_chars` (the first always), the rest counted in a
    last line. A proposal is our sentence about it: its card is posted on its own. Returns
    the answer and the results it shows."""
    parts: list[BaseModel] = []
    kept: list[Found] = []
    used = 0
    for f in shown:
        part = (
            substitute.proposal_note(f.result, one_invoice=bool(f.args.get("invoice")))
            if isinstance(f.result, ActionInfo)
            else f.result
        )
        size = len(render(part).text)
        if parts and used + size > max_chars:
            break
        parts.append(part)
        kept.append(f)
        used += size
    if len(kept) < len(shown):
        left = len(shown) - len(kept)
        parts.append(Note(text=f"{left} more result{'s' if left > 1 else ''} left out: {CAP}."))
    return (parts[0] if len(parts) == 1 else Combined(parts=parts)), kept


class Agent:
    def __init__(self, deps: ToolDeps) -> None:
        s = deps.settings
        self.deps = deps
        self.llm = chat_model(s)
        self.tools = build_tools(deps)
        self.max_rounds = s.llm_max_rounds
        self.bounds = Bounds(
            s.llm_max_rounds,
            s.llm_max_tokens,
            s.llm_tool_choice,
            without_retries=chat_model(s, retries=0),
            one_retry_less=chat_model(s, retries=s.llm_max_retries - 1)
            if s.llm_max_retries
            else None,
        )
        self.graph: Any = create_agent(
            self.llm,
            self.tools,
            middleware=[self.bounds],
            context_schema=TurnContext,
        )
        self.memory = ThreadMemory(deps, s.llm_history_tokens)

    def ask(
        self,
        question: str,
        *,
        user: str,
        thread_key: str | None = None,
        today: date | None = None,
    ) -> AgentReply:
        started = time.perf_counter()
        s = self.deps.settings
        as_of = today or today_in(s.tz)
        asked = about.asked(self.deps, question)  # once: it is a query
        history = self.memory.load(thread_key)
        turn = Turn(
            user=user,
            question=question,
            earlier_questions=self.memory.user_questions(history),
            customers=asked.about.customers,
            invoices=asked.about.invoices,
        )
        if substitute.is_small_talk(question) and not asked.about:
            reply = self._reply("small_talk", substitute.greeting())
        else:
            reply = self._run(question, history, turn, asked, as_of)
        reply.proposed_action_ids = settle(self.deps, turn, reply.shown_action_ids)
        reply.prompt_tokens, reply.completion_tokens = turn.prompt_tokens, turn.completion_tokens
        reply.latency_ms = int((time.perf_counter() - started) * 1000)
        self._record(thread_key, question, reply)
        return reply

    @staticmethod
    def _reply(outcome: Outcome, result: BaseModel) -> AgentReply:
        return AgentReply(text=render(result).text, outcome=outcome, result=result)

    def _run(
        self,
        question: str,
        history: list[BaseMessage],
        turn: Turn,
        asked: about.Asked,
        as_of: date,
    ) -> AgentReply:
        s = self.deps.settings
        system = render_prompt("system", s, today=as_of)
        sent: list[BaseMessage] = [*history, HumanMessage(content=question)]
        try:
            with turn_scope(turn):
                state = self.graph.invoke(
                    {"messages": sent},
                    context=TurnContext(system_prompt=system),
                    config={"recursion_limit": 4 * self.max_rounds + 8},
                )
        except (openai.APIError, GraphRecursionError) as exc:
            log.warning("event=agent_unavailable error=%s", type(exc).__name__)
            return self._reply("unavailable", substitute.unavailable())
        except MALFORMED_REPLY as exc:
            log.warning("event=agent_unavailable error=malformed_reply:%r", exc, exc_info=True)
            return self._reply("unavailable", substitute.unavailable())
        new = state["messages"][len(sent) :]
        calls = [c for m in new if isinstance(m, AIMessage) for c in m.tool_calls]
        found = [m.artifact for m in new if isinstance(m, ToolMessage)]
        found = [f for f in found if isinstance(f, Found)]
        want = relevance.wanted(
            question,
            as_of,
            lambda: about.segment_names(self.deps),
            turn.earlier_questions[-1] if turn.earlier_questions else None,
        )
        shown = shown_results(found, asked, want)
        last = new[-1] if new else None
        limited = isinstance(last, AIMessage) and (
            last.name == LIMIT_MARKER or bool(last.tool_calls)
        )
        if isinstance(last, AIMessage) and not limited and not last.text.strip():
            log.warning("event=agent_empty_reply")  # a model declining to call a tool
        if shown:
            answer, shown = answer_of(shown, self.deps.settings.llm_max_answer_chars)
            reply = self._reply("limit" if limited else "answered", answer)
            reply.shown_action_ids = {
                f.result.id for f in shown if isinstance(f.result, ActionInfo)
            }
        else:
            log.warning("event=agent_no_tool_answer results=%d limited=%s", len(found), limited)
            tool, answer = substitute.substitute(self.deps, question, asked.named, as_of)
            reply = self._reply("limit" if limited else "no_tool", answer)
            reply.tools_called.append(f"substitute:{tool}")
        reply.tools_called[:0] = [c["name"] for c in calls]
        reply.tool_calls = [{"name": c["name"], "args": c["args"]} for c in calls]
        reply.found = found
        return reply

    def _record(self, thread_key: str | None, question: str, reply: AgentReply) -> None:
        s = self.deps.settings
        if reply.outcome != "unavailable":
            self.memory.save_turn(thread_key, question, reply.text)
        with transaction(self.deps.sessions) as session:
            record_usage(
                session,
                thread_key=thread_key,
                model=s.llm_model,
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                latency_ms=reply.latency_ms,
            )
        log.info(
            "event=agent_answer outcome=%s tools=%s prompt_tokens=%d completion_tokens=%d "
            "model=%s ms=%d proposals=%d",
            reply.outcome,
            ",".join(reply.tools_called) or "-",
            reply.prompt_tokens,
            reply.completion_tokens,
            s.llm_model,
            reply.latency_ms,
            len(reply.proposed_action_ids),
        )
