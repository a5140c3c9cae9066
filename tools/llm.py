"""The one home of the LLM: prompts from `prompts/` by name, and the chat model.

Prompts are files, rendered at call time (not import time) so "today" stays right in a process
that runs for weeks, with the company name, currency and time zone of the settings in force.
Everything that talks to a model (the agent, the dunning drafter) builds it with `chat_model`,
so the model name, base URL, key, timeout and retries are read from the settings in one place
and a local OpenAI-compatible server works for every caller at once.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.settings import Settings

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"


class LlmNotConfigured(RuntimeError):
    """A model was asked for with no OPENAI_API_KEY set; callers check the key first."""


@lru_cache(maxsize=16)
def _template(name: str) -> str:
    path = PROMPTS / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"prompt {name!r} not found: expected {path}")
    return path.read_text(encoding="utf-8")


def render_prompt(name: str, settings: Settings, *, today: date, **values: str) -> str:
    """The prompt `name` with today's date, company name, currency, time zone and `values`."""
    return _template(name).format(
        today=today.isoformat(),
        company_name=settings.company_name,
        currency=settings.reporting_currency,
        timezone=settings.timezone,
        **values,
    )


@lru_cache(maxsize=1)
def _compatible_chat_class() -> type[ChatOpenAI]:
    """ChatOpenAI that sends what every OpenAI-compatible server accepts.

    langchain-openai sends `"content": null` beside an assistant message's `tool_calls`;
    OpenAI takes it, but servers with a stricter schema (llama-cpp-python's among them)
    refuse the whole request with 422/500, so the second round of every tool-using answer
    fails. An empty string means the same to OpenAI and passes everywhere.
    """
    from langchain_openai import ChatOpenAI

    class CompatibleChatOpenAI(ChatOpenAI):
        def _get_request_payload(
            self, input_: Any, *, stop: Any = None, **kwargs: Any
        ) -> dict[str, Any]:
            payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
            for message in payload.get("messages", []):
                if message.get("role") == "assistant" and message.get("content") is None:
                    message["content"] = ""
            # OpenAI's newer name for the reply cap is unknown to most compatible servers,
            # which then generate until their context is full.
            if self.openai_api_base and "max_completion_tokens" in payload:
                payload["max_tokens"] = payload.pop("max_completion_tokens")
            return payload

    return CompatibleChatOpenAI


def chat_model(
    settings: Settings, *, temperature: float = 0, retries: int | None = None
) -> ChatOpenAI:
    """The configured chat model; the client retries timeouts, 429 and 5xx with backoff
    (`retries` times instead of ARBOT_LLM_MAX_RETRIES when given).

    ARBOT_LLM_MAX_TOKENS is not sent as the reply cap: it is the budget of a whole agent turn
    (several calls), enforced by the agent's bounds; a reply cap that large would be refused
    by models whose output limit is smaller. ARBOT_LLM_MAX_REPLY_TOKENS caps each reply, so a
    model that rambles or loops stops in seconds, not when its context is full.
    """
    # Imported here: langchain takes about a second to import, which commands that never
    # reach a model (`arbot report`, `arbot propose` without a key) should not pay.
    if settings.openai_api_key is None:
        raise LlmNotConfigured("setting OPENAI_API_KEY: required to talk to a model")
    return _compatible_chat_class()(
        model=settings.llm_model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries if retries is None else retries,
        temperature=temperature,
        max_tokens=settings.llm_max_reply_tokens or None,
    )
