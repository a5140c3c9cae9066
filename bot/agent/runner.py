"""The agent: a LangChain tool-calling loop over `tools/`, with memory, bounds and grounding.

One `Agent` per process (the graph and the HTTP client are reused); `ask` answers one
question in one Slack thread. What the user gets is always one of:

* the model's answer, when every figure in it came from a tool result of this turn, reduced
  to the sentences those results back (`sentences`: no advice, no talk of approvals, our own
  words about a proposal of this question), cut of repeats and to the length cap;
* the answer regenerated once, when the first one cited a figure no tool returned;
* the tools' own rendering, when the regenerated one still did, or the round/token limit hit;
* a deterministic answer for what the question names (`substitute`), when the model answered
  a question about the ledger without any tool result of it, or with tool results about none
  of the customers or segments the question names, or with nothing backed left of its words
  (else the tools' own rendering); the help for small talk that speaks of the ledger;
* "the assistant is unavailable" plus the fast-path help, when the model could not be reached
  after the client's retries (with backoff) on timeouts, 429 and 5xx, or answered with an
  empty or malformed message (tool arguments that are not a JSON object among them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import openai
from langchain.agents import create_agent
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.errors import GraphRecursionError
from pydantic import BaseModel, ValidationError

from bot.agent import checks, grounding, sentences, substitute
from bot.agent.bounds import LIMIT_MARKER, Bounds, TurnContext
from bot.agent.memory import ThreadMemory
from bot.agent.tools import Turn, build_tools, turn_scope
from bot.render import render
from db.bot_state import record_usage
from db.engine import transaction
from tools.clock import today as today_in
from tools.customer_lookup import Named
from tools.deps import ToolDeps
from tools.llm import chat_model, render_prompt

log = logging.getLogger(__name__)

Outcome = Literal["answered", "regenerated", "tool_rendering", "limit", "no_tool", "unavailable"]
# What a server's broken reply (no choices, no message, wrong types) raises in the client.
# Tool arguments that are a JSON string or list, not an object, fail LangChain's validation.
MALFORMED_REPLY: tuple[type[Exception], ...] = (
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    ValidationError,
)
UNAVAILABLE = "The assistant is unavailable right now, here is what I can answer without it:"
CORRECTION = (
    "Your answer cites figures that no tool returned in this conversation turn: {figures}. "
    "Answer again using only figures exactly as they appear in the tool results above; if a "
    "figure is not in them, say you do not have it."
)


@dataclass
class AgentReply:
    text: str
    outcome: Outcome
    tools_called: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    proposed_action_ids: list[int] = field(default_factory=list)
    unsupported_figures: list[str] = field(default_factory=list)
    withheld_advice: list[str] = field(default_factory=list)
    substitute: BaseModel | None = None  # the deterministic answer, when outcome is no_tool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0


def _usage(messages: list[BaseMessage]) -> tuple[int, int]:
    prompt = completion = 0
    for m in messages:
        if isinstance(m, AIMessage) and m.usage_metadata:
            prompt += int(m.usage_metadata.get("input_tokens", 0))
            completion += int(m.usage_metadata.get("output_tokens", 0))
    return prompt, completion


class Agent:
    def __init__(self, deps: ToolDeps, *, help_text: Callable[[], str] | None = None) -> None:
        s = deps.settings
        self.deps = deps
        self.llm = chat_model(s)
        self.tools = build_tools(deps)
        self.tool_names = [t.name for t in self.tools]
        self.max_rounds = s.llm_max_rounds
        self.bounds = Bounds(s.llm_max_rounds, s.llm_max_tokens, s.llm_tool_choice)
        self.graph: Any = create_agent(
            self.llm,
            self.tools,
            middleware=[self.bounds],
            context_schema=TurnContext,
        )
        self.memory = ThreadMemory(deps, s.llm_history_tokens)
        self.help_text = help_text or (lambda: "")

    # --- one question ------------------------------------------------------------------

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
        history = self.memory.load(thread_key)
        system = render_prompt("system", s, today=today or today_in(s.tz))
        turn = Turn(
            user=user,
            question=question,
            earlier_questions=self.memory.user_questions(history),
        )
        sent: list[BaseMessage] = [*history, HumanMessage(content=question)]
        as_of = today or today_in(s.tz)
        try:
            with turn_scope(turn):
                state = self.graph.invoke(
                    {"messages": sent},
                    context=TurnContext(system_prompt=system),
                    config={"recursion_limit": 4 * self.max_rounds + 8},
                )
            new = state["messages"][len(sent) :]
            everything = [SystemMessage(content=system), *state["messages"]]  # as the model saw
            reply = self._finish(new, everything, question, turn, as_of)
        except (openai.APIError, GraphRecursionError) as exc:
            log.warning("event=agent_unavailable error=%s", type(exc).__name__)
            reply = self._unavailable()
        except MALFORMED_REPLY as exc:
            log.warning("event=agent_unavailable error=malformed_reply:%r", exc, exc_info=True)
            reply = self._unavailable()
        reply.proposed_action_ids = list(turn.proposed_action_ids)
        reply.latency_ms = int((time.perf_counter() - started) * 1000)
        self._record(thread_key, question, reply)
        return reply

    def _unavailable(self, reply: AgentReply | None = None) -> AgentReply:
        reply = reply or AgentReply(text="", outcome="unavailable")
        reply.text, reply.outcome = f"{UNAVAILABLE}\n{self.help_text()}", "unavailable"
        return reply

    def _words(self, text: str, turn: Turn, results: list[str] | None) -> tuple[str, list[str]]:
        """The model's text as it may be posted (`sentences.keep`), no repeats, capped;
        `results` None for small talk."""
        named = substitute.names(self.deps, text)
        kept, cut = sentences.keep(
            text,
            turn.proposed,
            names=[c.name for c in named.customers] + list(named.segments),
            ground=None if results is None else sentences.Ground.of(results),
        )
        return checks.tidy(kept, self.deps.settings.llm_max_answer_chars), cut

    def _small_talk(self, reply: AgentReply, answer: str, turn: Turn, as_of: date) -> AgentReply:
        """Small talk is answered by the model only while it stays small talk: an answer
        naming a customer, segment, invoice or figure rests on no tool, so the help goes."""
        said = substitute.names(self.deps, answer)
        text, reply.withheld_advice = self._words(answer, turn, None)
        if said.customers or said.segments or grounding.figures(answer) or not text:
            log.warning("event=agent_small_talk_about_the_ledger chars=%d", len(answer))
            return self._substitute(reply, turn.question, as_of, Named([], []))
        reply.text = text
        return reply

    def _substitute(
        self, reply: AgentReply, question: str, as_of: date, named: Named
    ) -> AgentReply:
        tool, answer = substitute.substitute(self.deps, question, named, as_of)
        reply.outcome, reply.substitute = "no_tool", answer
        reply.tools_called.append(f"substitute:{tool}")
        reply.text = render(answer).text
        return reply

    def _finish(
        self,
        new: list[BaseMessage],
        everything: list[BaseMessage],  # the system prompt first: a retry is asked afresh
        question: str,
        turn: Turn,
        as_of: date,
    ) -> AgentReply:
        results = [str(m.content) for m in new if isinstance(m, ToolMessage)]
        calls = [c for m in new if isinstance(m, AIMessage) for c in m.tool_calls]
        prompt_tokens, completion_tokens = _usage(new)
        reply = AgentReply(
            text="",
            outcome="answered",
            tools_called=[c["name"] for c in calls],
            tool_calls=[{"name": c["name"], "args": c["args"]} for c in calls],
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
        named = substitute.names(self.deps, question)  # once: it is a query
        last = new[-1] if new else None
        if not isinstance(last, AIMessage) or last.name == LIMIT_MARKER or last.tool_calls:
            if self._prefer_substitute(results, named):
                return self._substitute(reply, question, as_of, named)
            reply.outcome = "limit"
            reply.text = self._tool_rendering(
                results, "I stopped before finishing (question too long for my limits)."
            )
            return reply
        answer = last.text if isinstance(last.content, list) else str(last.content or "")
        if not answer.strip():
            log.warning("event=agent_empty_reply")
            return self._unavailable(reply)  # the tokens spent are still counted
        if checks.is_raw_call(answer, self.tool_names):
            log.warning("event=agent_raw_call_as_text")
            return self._fallback_rendering(reply, results, question, as_of, named)
        if not checks.is_ledger_question(
            question, names_something=bool(named.customers or named.segments)
        ):
            return self._small_talk(reply, answer, turn, as_of)
        grounded = checks.backing(results)
        if not grounded:
            log.warning("event=agent_no_tool_answer chars=%d", len(answer))
            return self._substitute(reply, question, as_of, named)
        if not checks.results_about(grounded, named):
            log.warning("event=agent_answer_off_subject chars=%d", len(answer))
            return self._substitute(reply, question, as_of, named)
        answer, reply.withheld_advice = self._words(answer, turn, grounded)
        if reply.withheld_advice:
            log.warning("event=agent_advice_withheld sentences=%d", len(reply.withheld_advice))
        if not answer:
            return self._fallback_rendering(reply, results, question, as_of, named)
        sources = [*results, question, *turn.earlier_questions]
        bad = grounding.unsupported(answer, sources)
        if not bad:
            reply.text = answer
            return reply
        log.warning("event=agent_ungrounded figures=%d", len(bad))
        retry = self._regenerate(everything, bad)
        if retry is not None:
            reply.prompt_tokens += retry[1]
            reply.completion_tokens += retry[2]
            again, withheld = self._words(retry[0], turn, grounded)
            reply.withheld_advice += withheld
            bad_again = grounding.unsupported(again, sources)
            raw = checks.is_raw_call(retry[0], self.tool_names)
            if again and not raw and not bad_again:
                reply.text, reply.outcome = again, "regenerated"
                return reply
            bad = bad_again
        reply.unsupported_figures = bad
        reply.outcome = "tool_rendering"
        reply.text = self._tool_rendering(
            results, "I could not word this with figures I can vouch for; here is what I found."
        )
        return reply

    def _prefer_substitute(self, results: list[str], named: Named) -> bool:
        """Without the model's words, what the question names (a customer, a segment) is a
        better answer than whichever tools a confused model called; with nothing named, the
        tools' results are, when there are any."""
        if named.customers or named.segments:
            return True
        return not checks.backing(results)

    def _fallback_rendering(
        self, reply: AgentReply, results: list[str], question: str, as_of: date, named: Named
    ) -> AgentReply:
        """Nothing of the model's text may be posted: the ledger's answer for what the question
        names, else the tools' own rendering, else the help."""
        if self._prefer_substitute(results, named):
            return self._substitute(reply, question, as_of, named)
        reply.outcome = "tool_rendering"
        reply.text = self._tool_rendering(results, "Here is what I found.")
        return reply

    def _regenerate(
        self, messages: list[BaseMessage], bad: list[str]
    ) -> tuple[str, int, int] | None:
        fix = HumanMessage(content=CORRECTION.format(figures=", ".join(bad)))
        try:
            out = self.llm.invoke([*messages, fix])
        except openai.APIError as exc:
            log.warning("event=agent_regenerate_failed error=%s", type(exc).__name__)
            return None
        if not isinstance(out, AIMessage) or out.tool_calls:
            return None
        usage: dict[str, Any] = dict(out.usage_metadata or {})
        return (
            out.text,
            int(usage.get("input_tokens", 0)),
            int(usage.get("output_tokens", 0)),
        )

    def _tool_rendering(self, results: list[str], lead: str) -> str:
        blocks = []
        for text in results[-3:]:
            parsed = grounding.parse_data(text)
            if parsed is not None:
                blocks.append(grounding.render_data(*parsed))
        if not blocks:
            return f"{lead}\n{self.help_text()}".strip()
        return "\n\n".join([lead, *blocks])

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
