"""The answer posted when the model answered a ledger question without asking the ledger.

Its words rest on nothing, so they are not posted; instead the person gets the best answer
the tools give for what the question names, with a plain line saying the assistant could not
answer it itself: the customer's balance and open invoices for "Is Zorg LLC a risk?", the
segment's payment speed for "enterprise customers", else the help.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel

from bot.agent import grounding
from bot.agent.tools.present import present
from bot.render import AgentText, Help, WithLead
from tools.customer_lookup import CustomerCandidate, CustomerMatch, Named, named_in
from tools.customers import CustomerBalanceInput, customer_balance
from tools.deps import ToolDeps
from tools.payment_history import PaymentHistoryInput, payment_history

LEAD = (
    "The assistant could not answer this from the ledger itself, so its words are not shown. {what}"
)

_SEGMENTS = re.compile(r"\bsegments?\b", re.I)


def names(deps: ToolDeps, question: str) -> Named:
    with deps.sessions() as session:
        return named_in(session, question)


def substitute(deps: ToolDeps, question: str, named: Named, as_of: date) -> tuple[str, WithLead]:
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
        found = payment_history(deps, PaymentHistoryInput(segment=segment, as_of=as_of))
        inner = AgentText(text=grounding.render_data("payment_history", present(found)))
    elif _SEGMENTS.search(question):
        tool, what = "payment_history", "Here is how each segment pays:"
        by_segment = PaymentHistoryInput(group_by="segment", as_of=as_of)
        found = payment_history(deps, by_segment)
        inner = AgentText(text=grounding.render_data("payment_history", present(found)))
    else:
        tool, what = "help", "Here is what I can answer:"
        inner = Help()
    return tool, WithLead(lead=LEAD.format(what=what), inner=inner)
