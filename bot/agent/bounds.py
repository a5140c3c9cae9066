"""Per-question limits on the agent loop, and the system prompt of the turn.

The model only chooses tools; what is posted is the ledger's rendering of their results. So
the loop ends as soon as every call of a round worked: a further model call could only add
words nobody will read. A call that failed (a bad argument, a name matching no one) goes back
to the model for another round. A model that keeps calling tools, or a long turn, must not
run up cost: the loop also ends after `max_rounds` tool rounds or once `max_tokens` have been
spent, whichever comes first. The last allowed model call is made without tools; one that
still asks for tools is stopped there, its calls not run.

`tool_choice` is always sent with the tools: some OpenAI-compatible servers (llama-cpp-python)
read a request without it as "none" and drop the tools from the prompt. The first call of a
question asks for "required" (a tool call, so the answer rests on the ledger); a server that
refuses "required" (a 400 or 422, or an error naming tool_choice) gets "auto" (`FirstChoice`
says for how long), for this agent (one model at one URL). A bare 500 says nothing about
tool_choice: that question is asked again with "auto", the next ones with "required".
Questions run in parallel threads, so what was learnt is kept under a lock. The "required"
call is made without the client's own retries: a server that refuses it with a 500 is asked
again with "auto" at once, instead of after the client's backoff retries of a request that
cannot succeed (which, with a short timeout or a retry budget spent, ended the turn).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse, hook_config
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, SystemMessage, ToolMessage

from bot.agent.tools.turn import current_turn

log = logging.getLogger(__name__)
LIMIT_MARKER = "arbot_limit"
# Statuses with which servers refuse a tool_choice they do not know (llama-cpp-python's
# chatml-function-calling fails "required" with a 500 naming it).
_REFUSED_CHOICE = frozenset({400, 422, 500})
_SCHEMA_REFUSAL = frozenset({400, 422})
# How long "auto" is kept after a 500 naming tool_choice on "required" that "auto" then got
# past.
RETRY_REQUIRED_AFTER_SECONDS = 600.0


@dataclass(frozen=True)
class TurnContext:
    """Handed to the graph per question (`context=`): the rendered system prompt."""

    system_prompt: str


def _spent(messages: list[Any]) -> tuple[int, int]:
    """(model calls, tokens) of this run: only fresh model output carries usage metadata."""
    calls = tokens = 0
    for m in messages:
        if isinstance(m, AIMessage) and m.usage_metadata:
            calls += 1
            tokens += int(m.usage_metadata.get("total_tokens", 0))
    return calls, tokens


class FirstChoice:
    """The tool_choice of a question's first call, as learnt from the server, shared by the
    threads answering questions at once.

    A 400 or 422 on "required" is a schema refusal: "auto" from then on. A 500 naming
    tool_choice may be a refusal (llama-cpp-python) or a failing server: "auto" is tried at
    once, and when it works it is kept for `retry_after` seconds, then "required" is asked
    again, so a server that was only failing for a while gets its tool calls asked for once it
    recovers. When "auto" fails too and never worked, the next question asks for "required"
    again. Once "auto" has worked, another thread's failure cannot undo it.
    """

    def __init__(
        self,
        initial: str,
        *,
        retry_after: float = RETRY_REQUIRED_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._initial = self._choice = initial
        self._auto_worked = False
        self._for_good = False  # a schema refusal: never ask for "required" again
        self._until: float | None = None
        self.retry_after, self.clock = retry_after, clock

    def get(self) -> str:
        with self._lock:
            if self._until is not None and self.clock() >= self._until:
                self._choice, self._auto_worked, self._until = self._initial, False, None
            return self._choice

    def refused(self, status: int) -> None:
        with self._lock:
            self._choice = "auto"
            self._for_good = self._for_good or status in _SCHEMA_REFUSAL

    def answered(self, choice: str) -> None:
        """A first call sent with `choice` was answered: "auto" after a refusal now stays,
        for good after a schema refusal, else for `retry_after` seconds."""
        if choice != "auto" or self._initial == "auto":
            return
        with self._lock:
            self._auto_worked, self._choice = True, "auto"
            if not self._for_good and self._until is None:
                self._until = self.clock() + self.retry_after

    def auto_failed(self) -> None:
        with self._lock:
            if not self._auto_worked and not self._for_good:
                self._choice = self._initial


def _call_keys(message: AIMessage) -> set[str]:
    return {
        json.dumps([c["name"], c["args"]], sort_keys=True, default=str) for c in message.tool_calls
    }


def _repeated(messages: list[Any]) -> bool:
    """True when every call of the last model reply was made before in this conversation."""
    *earlier, last = messages
    before = set().union(*(_call_keys(m) for m in earlier if isinstance(m, AIMessage)))
    return _call_keys(last) <= before


def round_worked(messages: list[Any]) -> bool:
    """True when the last round of tool calls all came back with a result (not an error)."""
    tail = []
    for m in reversed(messages):
        if not isinstance(m, ToolMessage):
            break
        tail.append(m)
    return bool(tail) and all(m.artifact is not None for m in tail)


def _counted(response: ModelResponse) -> ModelResponse:
    """The reply's token usage goes on the turn at once, so a turn that ends in an error or
    an empty reply still counts what it spent."""
    turn = current_turn()
    if turn is not None:
        for m in response.result:
            if isinstance(m, AIMessage):
                turn.count_usage(m.usage_metadata)
    return response


def limit_message(reason: str) -> AIMessage:
    return AIMessage(content="", name=LIMIT_MARKER, additional_kwargs={"limit": reason})


class Bounds(AgentMiddleware):
    def __init__(
        self,
        max_rounds: int,
        max_tokens: int,
        first_choice: str = "required",
        *,
        without_retries: BaseChatModel | None = None,
        one_retry_less: BaseChatModel | None = None,
    ) -> None:
        super().__init__()
        self.max_rounds, self.max_tokens = max_rounds, max_tokens
        self.first_choice = FirstChoice(first_choice)
        self.without_retries = without_retries  # the same model, for the "required" call
        # The same model with one client retry less, for asking a failed "required" again: the
        # call is tried as often as any other. None when the client makes no retries.
        self.one_retry_less = one_retry_less

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        if round_worked(state["messages"]):
            return {"jump_to": "end"}
        _calls, tokens = _spent(state["messages"])
        if tokens >= self.max_tokens:
            return {"jump_to": "end", "messages": [limit_message("tokens")]}
        return None

    @hook_config(can_jump_to=["end", "model"])
    def after_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        calls, _tokens = _spent(state["messages"])
        last = state["messages"][-1]
        if not isinstance(last, AIMessage):
            return None
        if calls > self.max_rounds and (last.tool_calls or last.invalid_tool_calls):
            return {"jump_to": "end", "messages": [limit_message("rounds")]}
        if last.tool_calls and _repeated(state["messages"]):
            # The same calls again after they failed: another round would only fail again.
            return {"jump_to": "end", "messages": [limit_message("repeated")]}
        if last.invalid_tool_calls and not last.tool_calls:
            # Calls whose arguments were not JSON: the model is asked again, the errors
            # (added by the agent before the next model call) in front of it.
            log.warning("event=agent_invalid_tool_calls count=%d", len(last.invalid_tool_calls))
            return {"jump_to": "model"}
        return None

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        context = request.runtime.context if request.runtime is not None else None
        overrides: dict[str, Any] = {}
        if isinstance(context, TurnContext):
            overrides["system_message"] = SystemMessage(content=context.system_prompt)
        calls, _tokens = _spent(request.messages)
        if calls >= self.max_rounds:
            overrides["tools"] = []
        elif request.tools:
            overrides["tool_choice"] = self.first_choice.get() if calls == 0 else "auto"
            if overrides["tool_choice"] == "required" and self.without_retries is not None:
                overrides["model"] = self.without_retries
        try:
            response = handler(request.override(**overrides) if overrides else request)
        except (openai.APIStatusError, openai.APIConnectionError) as exc:
            if overrides.get("tool_choice") != "required":
                raise
            return self._after_required_failed(request, overrides, exc, handler)
        if calls == 0 and "tool_choice" in overrides:
            self.first_choice.answered(overrides["tool_choice"])
        return _counted(response)

    def _after_required_failed(
        self,
        request: ModelRequest,
        overrides: dict[str, Any],
        exc: openai.APIStatusError | openai.APIConnectionError,
        handler: Callable[[ModelRequest], ModelResponse],
    ) -> ModelResponse:
        """The "required" call failed, with no retry yet: a refusal (400/422/500) is asked
        again with "auto" at once; anything else (429, a timeout) is asked again as it was,
        with the client's retries left (none: the error stands)."""
        overrides.pop("model", None)
        status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
        if status not in _REFUSED_CHOICE:
            if self.without_retries is None or self.one_retry_less is None:
                raise exc
            overrides["model"] = self.one_retry_less
            return _counted(handler(request.override(**overrides)))
        # Learnt only from a refusal: a bare 500 may be any failure, so only this question is
        # asked again with "auto". Switched before the retry: a slow "auto" answer that times
        # out still tells us "required" was refused. A server error on "auto" too means the
        # server is failing.
        learnt = status in _SCHEMA_REFUSAL or "tool_choice" in str(exc.message)
        log.warning(
            "event=llm_tool_choice_required_failed status=%s refusal=%s using=auto", status, learnt
        )
        if learnt:
            self.first_choice.refused(status or 500)
        overrides["tool_choice"] = "auto"
        try:
            response = handler(request.override(**overrides))
        except openai.APIStatusError:
            if learnt:
                self.first_choice.auto_failed()
            raise
        if learnt:
            self.first_choice.answered("auto")
        return _counted(response)
