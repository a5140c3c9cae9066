"""What a model's words must pass before they reach Slack, besides their figures (`grounding`).

Real models, small ones most, skip tools, ramble, loop and give advice. Each rule here is one
function the runner applies to every answer:

* `is_ledger_question`: anything but small talk is answered from tool results of that
  question, or not by the model at all;
* `unbacked_advice`: a sentence with a write-off, pay, send, delete, forgive or mark-as-paid
  verb is cut unless a proposal of this question covers it (kind, customer, invoices) or it
  only reports what the tool results say; a sentence suggesting to skip, get around or
  self-approve an approval is always cut;
* `results_about`: prose stands on tool results about what the question names, not on
  results about something else;
* `tidy`: paragraphs and sentences said twice are said once, and the answer is cut to the
  length Slack readers read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.agent.tools.turn import Proposed
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


# A reply that is a tool call written out as text (small models do this when offered no tools):
# "functions.customer_balance: {}", or a bare JSON object.
_RAW_CALL = re.compile(r"^\s*(?:functions\.\w+\s*:|\{[\s\S]*\}\s*$|\[\s*\{)")


def is_raw_call(answer: str) -> bool:
    """True when the model's text is a tool call it wrote out, not an answer for a person."""
    return bool(_RAW_CALL.match(answer))


# --- advice ------------------------------------------------------------------------------------

# Action verb families, any inflection, with the proposal kinds that can back them (none: no
# proposal can). Mark-as-paid comes before pay, so "mark it as paid" is read as the former.
_MARK = r"mark(?:s|ed|ing)?(?:\s+\S+){0,4}?\s+(?:as\s+)?"
_FAMILIES: list[tuple[str, frozenset[str]]] = [
    (_MARK + "uncollectible", frozenset({"write_off"})),
    (_MARK + "(?:paid|settled|closed|resolved)", frozenset()),
    (
        r"(?:writ(?:e|es|ing|ten)|wrote)(?:\s+\S+){0,4}?\s+off|write[- ]?offs?",
        frozenset({"write_off"}),
    ),
    (
        r"(?:re)?send(?:s|ing)?|sent|e-?mail(?:ed|ing)|e-?mail(?=\s+(?:them|him|her|it|the|"
        r"a|an|their|all|every)\b)|remind\w*|chas(?:e|es|ed|ing)|nudg\w*|dun(?:s|ned|ning)?|"
        r"follow(?:s|ed|ing)?[- ]up",
        frozenset({"dunning"}),
    ),
    (
        r"(?:re)?pa(?:y|ys|id|ying)|refund\w*|transfer\w*|wir(?:e|es|ed|ing)",
        frozenset({"dunning", "promise"}),
    ),
    (r"delet\w*|remov\w*|eras\w*|void\w*|cancel\w*|purg\w*", frozenset()),
    (r"forgiv\w*|forgave|waiv\w*|let\s+(?:it|them|the\s+\w+)\s+go", frozenset()),
]
_ACTION = re.compile("|".join(rf"\b(?:{p})\b" for p, _ in _FAMILIES), re.I)
# Words that make a sentence advice, a wish or a plan rather than a report.
_ADVISORY = re.compile(
    r"\b(?:should|must|ought|need(?:s|ed)?|have to|has to|had better|can|could|may|might|"
    r"would|will|shall|recommend\w*|suggest\w*|advis\w*|consider\w*|go ahead|please|let'?s|"
    r"time to|best to|i'?d|make sure|don'?t|do not|urge\w*|tell|ask|want\w*|try|able to|"
    r"to be|if|let|you|yourself|now|today|immediately|asap|next|step)\b",
    re.I,
)
# "... is to pay", "asks them to pay": an infinitive that is a plan ("days to pay" is a figure).
_PLAN = re.compile(
    r"\b(?:is|are|be|was|were|them|him|her|it|us|customers?|clients?|debtors?|way|plan|"
    r"option|idea|ready|fine|okay|ok|safe|wise)\s+to\s+$",
    re.I,
)
_IMPERATIVE_START = re.compile(r"^\W*(?:(?:just|then|so|and|now|please|kindly|simply)\s+)*", re.I)
# Getting around an approval, in either order, or approving one's own request: never posted.
_GATE = (
    r"(?:approv\w*|sign[- ]?offs?|sign(?:ed|ing)?\s+off|authori[sz]\w*|second\s+signature|"
    r"four[- ]eyes|review\w*|dual\s+control)"
)
_AROUND = (
    r"(?:bypass\w*|by-pass\w*|skip\w*|circumvent\w*|get(?:ting)?\s+around|go(?:ing)?\s+around|"
    r"overrid\w*|work(?:ing)?\s+around|avoid\w*|ignor\w*|waiv\w*|dispens\w*\s+with|"
    r"without|no\s+need|not\s+(?:\w+\s+)?(?:needed|necessary|required)|unnecessary|"
    r"needn'?t|(?:do|does|did)(?:n'?t|\s+not)\s+need)"
)
_BYPASS = re.compile(
    rf"\b{_AROUND}\b[^.!?\n]{{0,60}}?\b{_GATE}"
    rf"|\b{_GATE}[^.!?\n]{{0,60}}?\b(?:is|are|isn'?t|aren'?t)?\s*(?:not\s+(?:needed|necessary|"
    r"required)|unnecessary|optional|skipp\w*|bypass\w*)"
    rf"|\bno\s+(?:\w+\s+){{0,2}}{_GATE}"
    rf"|\bself[- ]?(?:approv\w*|sign\w*|authori[sz]\w*)"
    rf"|\b(?:approv\w*|sign\w*\s+off|authori[sz]\w*)\b[^.!?\n]{{0,40}}?"
    r"\b(?:yourself|your\s+own|on\s+your\s+own|by\s+yourself|alone)\b",
    re.I,
)
# Saying what the tools said is not getting around anything: "nothing is sent without approval".
_STATES_THE_RULE = re.compile(r"\b(?:nothing|never|no\s+one|not)\b[^.!?\n]*\bwithout\b", re.I)
_EVERY = re.compile(
    r"\b(?:all|every|each|entire|whole)\b(?:\s+\S+){0,3}?\s+(?:invoices?|balances?|debts?|"
    r"accounts?|receivables?|customers?)\b|\beverything\b|\ball\s+of\s+(?:it|them)\b",
    re.I,
)
# An invoice reference: letters, a separator and a digit ("INV-G3", "in_1Mx2"), or a number
# after the word invoice ("invoice 1042").
_INVOICE = re.compile(r"\b[A-Za-z]+[-_#](?=[\w-]*\d)[\w-]+\b|(?<=\binvoice\s)#?\d[\w-]*", re.I)
# A sentence ends at . ! or ? followed by a space or the end ("USD 5.00" is one word).
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=[^\s.!?]))+[.!?]*[^\S\n]*|\n")


def _norm(text: str) -> str:
    return f" {normalize(text)} "


def _kinds_of(term: str) -> frozenset[str]:
    for pattern, kinds in _FAMILIES:
        if re.fullmatch(rf"(?:{pattern})", term, re.I):
            return kinds
    return frozenset()


def names_an_action(text: str) -> bool:
    """True when some sentence of `text` holds an action verb or mentions an approval."""
    return bool(_ACTION.search(text) or _BYPASS.search(text))


def is_bypass(sentence: str) -> bool:
    """True when a sentence suggests skipping, getting around or self-approving an approval."""
    found = _BYPASS.search(sentence)
    if found is None:
        return False
    only_without = re.fullmatch(r"(?is).*\bwithout\b.*", found.group(0)) and not re.search(
        r"(?i)\b(?:bypass|skip|circumvent|around|overrid|avoid|ignor|yourself|self)", sentence
    )
    return not (only_without and _STATES_THE_RULE.search(sentence))


def _covers(p: Proposed, kinds: frozenset[str], customers: list[str], invoices: list[str],
            every: bool) -> bool:  # fmt: skip
    own = {i.casefold() for i in p.invoices}
    return (
        p.kind in kinds
        and all(_norm(c) == _norm(p.customer) for c in customers)
        and all(i.casefold() in own for i in invoices)
        and (not every or p.every_invoice)
    )


def _is_report(sentence: str, terms: list[re.Match[str]]) -> bool:
    """A statement of what is or was ("Zorg LLC paid USD 1,200 on 3 March", "enterprise
    customers pay slowly"), not advice: no modal or advising word, no verb opening the
    sentence (an order) or after "to" (a plan)."""
    lead = _IMPERATIVE_START.match(sentence)
    opens = lead.end() if lead else 0
    return not _ADVISORY.search(sentence) and not any(
        t.start() == opens
        or _PLAN.search(sentence[: t.start()])
        or re.fullmatch(r"write[- ]?offs?", t.group(0), re.I)  # "a write-off" is a plan
        for t in terms
    )


def _cut(
    sentence: str, proposed: Sequence[Proposed], customers: Sequence[str], results: Sequence[str]
) -> bool:
    if is_bypass(sentence):
        return True
    terms = list(_ACTION.finditer(sentence))
    if not terms:
        return False
    named = [c for c in customers if _norm(c) in _norm(sentence)]
    invoices = _INVOICE.findall(sentence)
    every = bool(_EVERY.search(sentence))
    if all(
        any(_covers(p, _kinds_of(t.group(0)), named, invoices, every) for p in proposed)
        for t in terms
    ):
        return False
    said = [_norm(r) for r in results]
    return not (
        _is_report(sentence, terms)
        and said
        and all(any(_norm(c) in r for r in said) for c in named)
    )


def unbacked_advice(
    answer: str,
    proposed: Sequence[Proposed],
    *,
    customers: Sequence[str] = (),
    results: Sequence[str] = (),
) -> tuple[str, list[str]]:
    """The answer without the sentences that could move money or mail unbacked, and those
    sentences (for the log).

    A sentence holding an action verb (write off, pay, send, delete, forgive, mark as paid)
    stays when a proposal of this question covers it: the same kind, no other customer among
    `customers` (those the answer names), no other invoice, and "all invoices" only when the
    proposal was for all of them. It also stays when it reports, in the past tense, what the
    tool `results` of this question say about the customers it names. A sentence suggesting
    to get around an approval never stays.
    """
    kept: list[str] = []
    cut: list[str] = []
    for m in _SENTENCE.finditer(answer):
        sentence = m.group(0)
        if _cut(sentence, proposed, customers, results):
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


# --- subject -----------------------------------------------------------------------------------


def results_about(results: Sequence[str], named: Named) -> bool:
    """True when some tool result is about a customer or segment the question names (or it
    names none): figure-free prose next to a result about something else rests on nothing."""
    wanted = [c.name for c in named.customers] + list(named.segments)
    if not wanted:
        return True
    said = [_norm(r) for r in results]
    return any(_norm(w) in r for w in wanted for r in said)
