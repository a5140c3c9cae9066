"""What a model's words must pass before they reach Slack, besides their figures (`grounding`).

Real models, small ones most, skip tools, ramble, loop and write tool calls out as text.
Each rule here is one function the runner applies to every answer (which sentences may be
posted at all is `sentences`):

* `is_ledger_question`: anything but small talk is answered from tool results of that
  question, or not by the model at all;
* `is_raw_call`: a reply holding tool-call markup is never posted;
* `backing`: only data blocks of lookups that succeeded back an answer;
* `results_about`: prose stands on tool results about what the question names, not on
  results about something else;
* `tidy`: paragraphs and sentences said twice (whatever their numbering) are said once, and
  the answer is cut to the length Slack readers read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.agent import grounding
from bot.blocks.common import shorten
from tools.customer_lookup import Named, normalize

# What small talk is: a greeting, thanks, or a question about the assistant itself, and
# nothing more. Anything else may be about the ledger ("why?", "what about INV-42?", "who is
# the worst?"), and a model without tool results must not answer that from memory.
_SMALL_TALK = re.compile(
    r"^\W*(?:(?:hi|hello|hey|yo|hiya|howdy|good\s+(?:morning|afternoon|evening|day)|"
    r"thanks?|thank\s+you|thx|ty|cheers|ok(?:ay)?|great|cool|nice|bye|goodbye|"
    r"how\s+are\s+you|who\s+are\s+you|what\s+are\s+you|what\s+can\s+you\s+do|"
    r"what\s+do\s+you\s+do|help)(?:\s+(?:there|all|everyone|arbot|again|so\s+much|a\s+lot))?"
    r"\W*)+$",
    re.I,
)


def is_ledger_question(question: str, *, names_something: bool) -> bool:
    """True unless the question is only small talk ("hi", "thanks", "who are you?") and names
    no customer or segment (`names_something`)."""
    return names_something or not _SMALL_TALK.match(question)


# A tool call written out as text (small models do this when offered no tools, or in their
# own chat format): never an answer for a person, wherever it stands in the reply.
_MARKUP = re.compile(
    r"</?tool_call>|\[/?TOOL_CALLS\]|<\|?(?:python_tag|tool_calls?)\|?>|```\s*(?:json)?\s*[\[{]|"
    r"\bfunctions\.\w+\s*[:(]|[{,]\s*\"(?:name|arguments|function|tool|parameters)\"\s*:|"
    r"^\s*\[\s*\{|^\s*\{[\s\S]*\}\s*$",
    re.I,
)


def is_raw_call(answer: str, tool_names: Sequence[str] = ()) -> bool:
    """True when the model's text holds a tool call it wrote out: markup such as
    `<tool_call>`, `[TOOL_CALLS]`, a fenced or bare JSON call, or `name(arg=...)` of a tool."""
    if _MARKUP.search(answer):
        return True
    known = "|".join(re.escape(n) for n in tool_names)
    return bool(known and re.search(rf"\b(?:{known})\s*\(", answer))


# --- repetition and length ---------------------------------------------------------------------

# "Point 3:", "2)", "- ", "Step 4 -": a list marker or number opening a sentence, which makes
# no sentence new (numbers inside it do: "INV-G3 is late" and "INV-G4 is late" are two).
_MARKER = re.compile(r"^[\W_]*(?:(?:point|step|item|note|reason|tip|no)\.?\s*)?\d*[\W_]*", re.I)
# A sentence ends at . ! or ? followed by a space or the end ("USD 5.00" is one word); a list
# number opening a line ("2. ") belongs to the sentence after it.
_SENTENCE = re.compile(
    r"(?:(?<![^\n])[^\S\n]*\d{1,3}[.)][^\S\n]+)?(?:[^.!?\n]|[.!?](?=[^\s.!?]))+[.!?]*[^\S\n]*|\n"
)


def _key(text: str) -> str:
    """What a sentence says, whatever number or marker opens it."""
    return " ".join(re.sub(r"[\W_]+", " ", _MARKER.sub("", text.casefold())).split())


def _dedupe_sentences(paragraph: str, seen: set[str]) -> str:
    out: list[str] = []
    for m in _SENTENCE.finditer(paragraph):
        sentence = m.group(0)
        key = _key(sentence)
        if len(key) >= 12 and key in seen:
            continue
        seen.add(key)
        out.append(sentence)
    return "".join(out).rstrip()


def tidy(answer: str, max_chars: int) -> str:
    """Each paragraph and sentence once, at most `max_chars`, cut at a sentence or line end."""
    seen_paragraphs: set[str] = set()
    seen_sentences: set[str] = set()
    paragraphs: list[str] = []
    for paragraph in re.split(r"\n\s*\n", answer.strip()):
        key = _key(paragraph)
        if not key or key in seen_paragraphs:
            continue
        seen_paragraphs.add(key)
        kept = _dedupe_sentences(paragraph, seen_sentences)
        if kept.strip():
            paragraphs.append(kept)
    return shorten("\n\n".join(paragraphs), max_chars, at_sentence=True)


# --- subject -----------------------------------------------------------------------------------


def results_about(results: Sequence[str], named: Named) -> bool:
    """True when some tool result is about a customer or segment the question names (or it
    names none): figure-free prose next to a result about something else rests on nothing."""
    wanted = [c.name for c in named.customers] + list(named.segments)
    if not wanted:
        return True
    said = [_norm(r) for r in results]
    return any(_norm(w) in r for w in wanted for r in said)


def _norm(text: str) -> str:
    return f" {normalize(text)} "


def lookup_failed(data: Any) -> bool:
    """A customer lookup that found no one, or several: its names back no sentence."""
    return isinstance(data, dict) and data.get("status") in ("none", "ambiguous")


def backing(results: Sequence[str]) -> list[str]:
    """The tool results that can back the answer: data blocks, lookups that succeeded."""
    out = []
    for r in results:
        parsed = grounding.parse_data(r)
        if parsed is not None and not lookup_failed(parsed[1]):
            out.append(r)
    return out
