"""What the agent posts when the model's tools did not answer the question: fixed words of
ours and the ledger's own answers, never the model's.

* small talk ("hi", "thanks", "what can you do") gets a fixed greeting and the help, without
  asking the model;
* a question whose tools gave nothing about what it names gets, under one plain line saying
  the assistant could not answer it itself, the best answer the tools give for what it names:
  the customer's balance and open invoices for "Is Zorg LLC a risk?", the segment's payment
  speed for "enterprise customers", each segment's for "segments", else the help;
* a proposal made for the question is reported in our own words: it waits for approval.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel

from bot.render import Combined, Help, Note
from tools.action_model import RECORD_KINDS
from tools.actions import ActionInfo
from tools.customer_lookup import CustomerCandidate, CustomerMatch, Named
from tools.customers import CustomerBalanceInput, customer_balance
from tools.deps import ToolDeps
from tools.payment_history import PaymentHistoryInput, payment_history

LEAD = "The assistant could not answer this from the ledger itself, so its words are not shown."
GREETING = "Hello! I answer questions about receivables from the ledger."
UNAVAILABLE = "The assistant is unavailable right now, here is what I can answer without it:"

SEGMENTS = re.compile(r"\bsegments?\b", re.I)
# What small talk is: a greeting, thanks, or a question about the assistant itself, and
# nothing more. Anything else may be about the ledger ("why?", "what about INV-42?").
_SMALL_TALK = re.compile(
    r"^\W*(?:(?:hi|hello|hey|yo|hiya|howdy|good\s+(?:morning|afternoon|evening|day)|"
    r"thanks?|thank\s+you|thx|ty|cheers|ok(?:ay)?|great|cool|nice|bye|goodbye|"
    r"how\s+are\s+you|who\s+are\s+you|what\s+are\s+you|what\s+can\s+you\s+do|"
    r"what\s+do\s+you\s+do|help)(?:\s+(?:there|all|everyone|arbot|again|so\s+much|a\s+lot))?"
    r"\W*)+$",
    re.I,
)
_KIND_LABEL = {"write_off": "write-off", "promise_to_pay": "promise to pay"}


def is_small_talk(question: str) -> bool:
    return bool(_SMALL_TALK.match(question))


def greeting() -> Combined:
    return Combined(lead=GREETING, parts=[Help()])


def unavailable() -> Combined:
    return Combined(lead=UNAVAILABLE, parts=[Help()])


def proposal_note(a: ActionInfo, *, one_invoice: bool = True) -> Note:
    """Our own words about a proposal of this question: it waits for a person (a reminder of
    every overdue invoice, `one_invoice` False, names none)."""
    items = a.payload.get("invoices") or [a.payload.get("invoice") or {}]
    labels = ", ".join(str(i["label"]) for i in items if isinstance(i, dict) and i.get("label"))
    customer = str(a.payload.get("customer_name") or "the customer")
    waiting = "confirmation" if a.kind in RECORD_KINDS else "approval"
    if a.kind == "dunning_email":
        about = f" about {labels}" if labels and one_invoice else ""
        return Note(text=f"A reminder to {customer}{about} is waiting for {waiting}.")
    kind = _KIND_LABEL.get(a.kind, a.kind.replace("_", " "))
    return Note(text=f"The {kind} proposal for {labels or customer} is awaiting {waiting}.")


def substitute(deps: ToolDeps, question: str, named: Named, as_of: date) -> tuple[str, Combined]:
    """(tool, answer) for what the question names; the help when it names nothing known."""
    inner: BaseModel
    if len(named.customers) == 1:
        tool, what = "customer_balance", "Here is the customer it names:"
        c = named.customers[0]
        inner = customer_balance(deps, CustomerBalanceInput(customer_id=c.id, as_of=as_of))
    elif named.customers:
        tool, what = "customer_balance", "It names several customers; pick one:"
        inner = CustomerMatch(
            query=question[:200],
            status="ambiguous",
            candidates=[
                CustomerCandidate(
                    customer_id=c.id, name=c.name, external_id=c.external_id, score=100
                )
                for c in named.customers[:5]
            ],
        )
    elif named.segments:
        segment = named.segments[0]
        tool, what = "payment_history", f"Here is how the {segment} segment pays:"
        inner = payment_history(deps, PaymentHistoryInput(segment=segment, as_of=as_of))
    elif SEGMENTS.search(question):
        tool, what = "payment_history", "Here is how each segment pays:"
        inner = payment_history(deps, PaymentHistoryInput(group_by="segment", as_of=as_of))
    else:
        tool, what = "help", "Here is what I can answer:"
        inner = Help()
    return tool, Combined(lead=f"{LEAD} {what}", parts=[inner])
