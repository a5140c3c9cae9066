"""What a model's words must pass before they reach Slack, besides their figures (`grounding`).

Real models, small ones most, skip tools, ramble, loop and give advice. Each rule here is one
function the runner applies to every answer:

* `is_ledger_question`: anything but small talk is answered from tool results of that
  question, or not by the model at all;
* `unbacked_advice`: a sentence telling the user to write off, pay, send or delete something
  is cut unless the matching action was proposed through the tools for this question, and a
  sentence suggesting to get around an approval is always cut;
* `tidy`: paragraphs and sentences said twice are said once, and the answer is cut to the
  length Slack readers read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


# A reply that is a tool call written out as text (small models do this when offered no tools):
# "functions.customer_balance: {}", or a bare JSON object.
_RAW_CALL = re.compile(r"^\s*(?:functions\.\w+\s*:|\{[\s\S]*\}\s*$|\[\s*\{)")


def is_raw_call(answer: str) -> bool:
    """True when the model's text is a tool call it wrote out, not an answer for a person."""
    return bool(_RAW_CALL.match(answer))


# --- advice ------------------------------------------------------------------------------------

# Verb phrases of the actions, by the proposal kind that backs them (None: nothing can).
_ACTIONS: dict[str, str | None] = {
    r"writ\w*(?:\s+\S+){0,4}?\s+off|write[- ]?offs?|mark\w*(?:\s+\S+){0,4}?\s+uncollectible": (
        "write_off"
    ),
    r"send\w*|email\w*|e-mail\w*|remind\w*|chas\w*|dun\b|dunning|nudg\w*": "dunning",
    r"pay|transfer|refund|wire": None,
    r"delet\w*|remov\w*|eras\w*|void\w*|cancel\w*|purg\w*": None,
}
_ACTION = re.compile("|".join(rf"(?:\b(?:{p})\b)" for p in _ACTIONS), re.I)
# Words that turn a sentence holding an action verb into advice to the reader.
_ADVISING = re.compile(
    r"\b(?:should|must|need(?:s)? to|have to|had better|recommend\w*|suggest\w*|advis\w*|"
    r"consider\w*|go ahead|please|let'?s|you can|you could|you may|you might|best to|"
    r"i'?d|make sure|don'?t forget|urge)\b",
    re.I,
)
_IMPERATIVE_START = re.compile(r"^\W*(?:(?:just|then|so|and|now|please|kindly|simply)\s+)*", re.I)
_BYPASS = re.compile(
    r"\b(?:bypass\w*|skip\w*|circumvent\w*|get around|override\w*|work around|without)\b"
    r"[^.!?\n]{0,60}\bapprov\w*",
    re.I,
)
# A sentence ends at . ! or ? followed by a space or the end ("USD 5.00" is one word).
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=[^\s.!?]))+[.!?]*[^\S\n]*|\n")


def _kind_of(verb: str) -> str | None:
    for pattern, kind in _ACTIONS.items():
        if re.fullmatch(rf"(?:{pattern})", verb, re.I):
            return kind
    return None


def _advice_kinds(sentence: str) -> list[str | None] | None:
    """The action kinds a sentence advises (None in the list: one no proposal can back),
    or None when it advises nothing."""
    if _BYPASS.search(sentence):
        return [None]
    found = list(_ACTION.finditer(sentence))
    if not found:
        return None
    lead = _IMPERATIVE_START.match(sentence)
    starts_with_verb = any(m.start() == (lead.end() if lead else 0) for m in found)
    if not starts_with_verb and not _ADVISING.search(sentence):
        return None
    return [_kind_of(m.group(0)) for m in found]


def unbacked_advice(answer: str, proposed_kinds: Iterable[str]) -> tuple[str, list[str]]:
    """The answer without the sentences that advise an action no proposal of this question
    backs, and those sentences (for the log)."""
    backed = set(proposed_kinds)
    kept: list[str] = []
    cut: list[str] = []
    for m in _SENTENCE.finditer(answer):
        sentence = m.group(0)
        kinds = _advice_kinds(sentence)
        if kinds is not None and any(k is None or k not in backed for k in kinds):
            cut.append(sentence.strip())
        else:
            kept.append(sentence)
    return "".join(kept).strip(), cut


# --- repetition and length ---------------------------------------------------------------------


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


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
    text = "\n\n".join(paragraphs)
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    end = max(cut.rfind(". "), cut.rfind("\n"), cut.rfind("! "), cut.rfind("? "))
    if end > max_chars // 2:
        cut = cut[: end + 1]
    return cut.rstrip() + " …"
