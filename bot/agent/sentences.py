"""Which of a model's sentences may reach Slack: an allowlist, sentence by sentence.

A model's prose is believed only where the ledger backs it, so a sentence is posted when:

* it names at least one customer, segment or invoice, and every one it names appears in a
  tool result of this question whose lookup succeeded; or it names none and carries a figure
  (which `grounding` then checks against the tool results); or it is one of a few neutral
  connectives ("Here is what I found.");
* it says nothing about approvals (approve, approver, sign-off, authorise) and nothing that
  orders, advises or claims an action (write off, pay, send, mail, remind, delete, void, a
  credit note, zero out, take off the books, forgive, waive, mark paid), in any tense or
  form: tool results hold facts, never advice, and a proposal means nothing has happened
  yet. The one exception is our own fixed wording about a proposal made for this question
  (`proposal_line`), which is added when the model did not say it word for word.

A sentence ends at . ! ? ; : or a line end (a list item is a line), so advice after a colon
or a semicolon is judged on its own; what follows a kept lead-in ("Globex Corp: 91 days late")
is grounded by what the lead-in names. Everything else is cut: with nothing left, the runner
posts the ledger's own answer instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.agent import grounding
from bot.agent.tools.turn import Proposed
from tools.customer_lookup import normalize

# Talking about an approval at all: only our own wording about a real proposal may.
_APPROVAL = re.compile(
    r"\b(?:approv\w*|sign(?:s|ed|ing)?[- ]?offs?|sign(?:s|ed|ing)?\s+(?:it\s+|this\s+)?off|"
    r"authori[sz]\w*|rubber[- ]?stamp\w*|second\s+signature|four[- ]eyes|dual\s+control)\b",
    re.I,
)
# Acting on money or mail, in any form; "write" and "off" may be many words apart.
_ACTION = re.compile(
    r"\b(?:"
    r"(?:writ(?:e|es|ing|ten)|wrote|charg(?:e|es|ed|ing))\b[^.!?;:\n]*?\boff\b|write-?offs?|"
    r"(?:re)?send\w*|sent|e-?mail\w*|mail\w*|remind\w*|dun(?:s|ned|ning)?|"
    r"delet\w*|void\w*|eras\w*|purg\w*|scrap\w*|get\s+rid|cancel\w*|"
    r"credit[- ]?notes?|zero(?:s|ed|ing)?\s+(?:\S+\s+){0,3}?out|off\s+the\s+books|"
    r"forgiv\w*|forgave|forg[eo]t\w*|waiv\w*|refund\w*|wir(?:e|es|ed|ing)\b|transfer\w*|"
    r"mark(?:s|ed|ing)?\b[^.!?;:\n]*?\b(?:paid|settled|closed|resolved|uncollectible)|"
    r"collection\s+agenc\w*|debt\s+collectors?|to\s+collections"
    r")\b",
    re.I,
)
# Paying is reported by the tools ("Initech LLC paid USD 8,000.00"): it is cut when it is an
# order, a plan or a wish: opening the sentence, after "to", a modal or "please", or as a
# gerund subject ("paying them first is the priority").
_PAY = r"(?:pay|pays|paid|paying)"
_PAY_ADVICE = re.compile(
    rf"^\W*(?:(?:just|then|so|and|now|please|kindly|simply)\s+)*{_PAY}\b|"
    rf"\b(?<!days\s)(?:to|should|must|ought|could|can|will|would|please|let'?s)\s+(?:\w+\s+)?"
    rf"{_PAY}\b|"
    rf"\bpaying\b",
    re.I,
)
# Advice of any kind: the tools report facts, so a recommendation rests on none of them.
_ADVICE = re.compile(
    r"\b(?:should|must|ought|recommend\w*|suggest\w*|advis\w*|consider\w*|go\s+ahead|"
    r"please|i'?d|i\s+would|need\s+to|needs\s+to|have\s+to|has\s+to|had\s+better|"
    r"best\s+to|time\s+to|make\s+sure|let'?s|no\s+action|right\s+call)\b",
    re.I,
)
# Connectives that say nothing and may stand beside grounded sentences.
_NEUTRAL = re.compile(
    r"^\W*(?:here\s+(?:is|are)\s+(?:what\s+i\s+found|the\s+(?:details|figures|numbers|"
    r"summary|breakdown|results?))|here'?s\s+what\s+i\s+found|in\s+summary|in\s+short|"
    r"to\s+summari[sz]e|overall|in\s+detail|for\s+example|details|summary)\W*$",
    re.I,
)
# An invoice reference: letters, a separator and a digit ("INV-G3", "in_1Mx2"), or a number
# after the word invoice ("invoice 1042").
INVOICE = re.compile(r"\b[A-Za-z]+[-_#](?=[\w-]*\d)[\w-]+\b|(?<=\binvoice\s)#?\d[\w-]*", re.I)
# One sentence: up to . ! ? ; : followed by a space or the end ("USD 5.00" is one word).
_PIECE = re.compile(r"(?:[^.!?;:\n]|[.!?;:](?=\S))+[.!?;:]*\s*")
_LIST_MARK = re.compile(r"^\s*(?:[-*•·]|\d{1,3}[.)])\s+")
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")
_KIND_LABEL = {
    "write_off": "write-off",
    "promise": "promise to pay",
    "dispute_note": "dispute note",
    "dunning": "reminder",
}


def plain_text(text: str) -> str:
    """Unicode look-alikes folded (NFKC, every dash a hyphen) so no spelling slips through."""
    return unicodedata.normalize("NFKC", text).translate(_DASHES)


def proposal_line(p: Proposed) -> str:
    """Our own words about a proposal of this question: it waits for a person's approval."""
    invoices = ", ".join(p.invoices)
    if p.kind == "dunning":
        about = f" about {invoices}" if invoices and not p.every_invoice else ""
        return f"A reminder to {p.customer}{about} is waiting for approval."
    what = invoices or p.customer
    return f"The {_KIND_LABEL[p.kind]} proposal for {what} is awaiting approval."


def _key(text: str) -> str:
    """A sentence as compared with our own wording: case, punctuation and articles aside."""
    words = re.sub(r"[\W_]+", " ", plain_text(text).casefold()).split()
    return " ".join(w for w in words if w not in ("a", "an", "the"))


@dataclass(frozen=True)
class Ground:
    """What this question's tool results back: their text, normalised two ways."""

    words: str  # normalize()d, for customer and segment names
    raw: str  # casefolded, for invoice references

    @classmethod
    def of(cls, results: Sequence[str]) -> Ground:
        return cls(f" {' | '.join(normalize(r) for r in results)} ", " ".join(results).casefold())


def _is_action(sentence: str) -> bool:
    return bool(
        _APPROVAL.search(sentence)
        or _ACTION.search(sentence)
        or _PAY_ADVICE.search(sentence)
        or _ADVICE.search(sentence)
    )


def _names(sentence: str, names: Sequence[str]) -> list[str]:
    words = f" {normalize(sentence)} "
    return [n for n in names if (k := normalize(n)) and re.search(rf" {re.escape(k)}s? ", words)]


def _grounded(sentence: str, names: Sequence[str], ground: Ground | None) -> bool:
    named = _names(sentence, names)
    invoices = INVOICE.findall(sentence)
    if ground is None:  # small talk: nothing may be named or quoted at all
        return not named and not invoices and not grounding.figures(sentence)
    if named or invoices:
        return all(f" {normalize(n)}" in ground.words for n in named) and all(
            i.casefold() in ground.raw for i in invoices
        )
    return any(f.checked for f in grounding.figures(sentence)) or bool(_NEUTRAL.match(sentence))


def keep(
    answer: str,
    proposed: Sequence[Proposed],
    *,
    names: Sequence[str],
    ground: Ground | None,
) -> tuple[str, list[str]]:
    """(what may be posted, the sentences cut). `names` are the customers and segments the
    answer names; `ground` None means small talk: then any name or figure is cut too."""
    ours = {_key(proposal_line(p)): proposal_line(p) for p in proposed}
    lines: list[str] = []
    cut: list[str] = []
    for raw_line in plain_text(answer).splitlines():
        mark = _LIST_MARK.match(raw_line)
        head, body = (mark.group(0), raw_line[mark.end() :]) if mark else ("", raw_line)
        kept: list[str] = []
        pieces = [m.group(0) for m in _PIECE.finditer(body)]
        for piece in pieces:
            if not piece.strip():
                continue
            if _key(piece) in ours:
                ours.pop(_key(piece))
                kept.append(piece)
            elif _is_action(piece) or not _grounded(
                # what follows a kept "Globex Corp:" is said about Globex Corp
                kept[-1] + piece if kept and kept[-1].rstrip().endswith(":") else piece,
                names,
                ground,
            ):
                cut.append(piece.strip())
                # a lead-in ("Globex Corp's invoices:") means nothing without what it led to
                if kept and kept[-1].rstrip().endswith(":"):
                    cut.append(kept.pop().strip())
            else:
                kept.append(piece)
        if kept and kept[-1].rstrip().endswith(":"):
            cut.append(kept.pop().strip())
        if kept and kept[-1].rstrip().endswith(";"):  # what followed it was cut
            kept[-1] = kept[-1].rstrip()[:-1] + "."
        if kept:
            lines.append(head + "".join(kept).rstrip())
        elif not raw_line.strip():
            lines.append("")
    text = "\n".join(lines).strip()
    if ours:
        text = "\n\n".join(t for t in [text, " ".join(ours.values())] if t)
    return text, cut
