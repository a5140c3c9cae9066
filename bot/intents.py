"""What a question asks for: `match(question, today=...)` -> an `Intent`, or None.

An intent names the tool that answers and its arguments (metric, date, customer, days late,
or the action to propose for "draft a reminder to Acme"). Only confident matches become
intents; anything else is None and goes to the agent (or help). Patterns are worded the way
finance people ask ("what's our AR", "who's 60+ days late", "Acme's balance"), on the question
as `question_text` normalises it; matching is pure: no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from bot import lookahead_words as ahead
from bot import reconcile_words
from bot.dates import find_as_of
from bot.question_text import VOCAB_SET, normalize, strip_markup

Tool = Literal[
    "ar_report", "ar_cut", "cash_forecast", "dso_change", "credit_limits", "customer_balance",
    "top_overdue", "open_disputes", "unapplied_cash", "help", "propose_dunning_email",
    "propose_write_off", "find_receipts", "reconcile", "broken_promises",
]  # fmt: skip
Topic = Literal[
    "ar", "aging", "dso", "best_dso", "add", "cei", "turnover", "bad_debt", "allowance",
    "all", "forecast", "dso_change", "credit", "customer", "overdue", "disputes", "unapplied",
    "help", "proposal", "receipts", "reconcile", "promises",
]  # fmt: skip
PROPOSALS: frozenset[Tool] = frozenset({"propose_dunning_email", "propose_write_off"})


class Intent(BaseModel):
    """What the question asks: a tool, a topic within it, and the tool's arguments."""

    tool: Tool
    topic: Topic
    as_of: date | None = None
    customer: str | None = None
    customer_id: int | None = None
    limit: int = 10
    more_than_days: int | None = 0
    invoice: str | None = None
    tone: str | None = None
    reason: str | None = None
    amount: str | None = None
    by: Literal["segment", "method", "currency", "owner"] | None = None
    group: str | None = Field(None, description="one group of the cut, e.g. a segment")
    sources: list[str] | None = None

    @property
    def is_proposal(self) -> bool:
        return self.tool in PROPOSALS


# --- proposals ----------------------------------------------------------------------------
# Matched on the question as typed (names keep their case); a proposal the patterns do not
# pin down ("remind Acme about the March invoice") is left to the agent.

_POLITE = r"^(?:hey\s+|hi\s+)?(?:please\s+|can you\s+|could you\s+|pls\s+)?"
_INVOICE = r"(?:invoice\s+)?(?P<inv>(?=[\w-]*\d)[\w-]+)"
DUNNING = re.compile(
    _POLITE + r"(?:draft|write|prepare|send)\s+(?:me\s+)?(?:a\s+|an\s+)?"
    r"(?P<tone>friendly|firm|final)?\s*(?:payment\s+)?"
    r"(?:reminder|dunning\s+email|dunning\s+notice|collection\s+email|notice)(?:\s+email)?"
    r"\s+(?:to|for)\s+(?P<who>.+?)"
    r"(?:\s+(?:about|for|re|regarding)\s+" + _INVOICE + r")?\s*[.!?]*$",
    re.IGNORECASE,
)
REMIND = re.compile(
    _POLITE + r"remind\s+(?P<who>.+?)\s+(?:about|of|re)\s+" + _INVOICE + r"\s*[.!?]*$",
    re.IGNORECASE,
)
WRITE_OFF = re.compile(
    _POLITE + r"write[- ]?off\s+" + _INVOICE + r"\s*"
    r"(?:because|since|as|reason:?|:|-|—)\s*(?P<reason>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_VAGUE_WHO = re.compile(r"\b(about|regarding|re|for|invoices?)\b", re.IGNORECASE)


def match_proposal(question: str) -> Intent | None:
    """A reminder or write-off to propose, when the question pins it down."""
    text = strip_markup(question)
    if m := WRITE_OFF.match(text):
        return Intent(
            tool="propose_write_off", topic="proposal", invoice=m["inv"], reason=m["reason"]
        )
    m = DUNNING.match(text) or REMIND.match(text)
    if m is None:
        return None
    groups = m.groupdict()
    who: str | None = groups["who"].strip(" ,'\"")
    if _VAGUE_WHO.search(who or ""):
        return None
    if groups.get("inv") and (who or "").lower() in ("them", "the customer"):
        who = None  # "remind them about INV-1": the invoice names the customer
    return Intent(
        tool="propose_dunning_email",
        topic="proposal",
        customer=who,
        invoice=groups.get("inv"),
        tone=groups.get("tone"),
    )


# --- questions ----------------------------------------------------------------------------
def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


HELP = _re(
    r"^(help|\?|hi|hello|hey|commands|usage|what can (you|i) (do|ask)( you)?|"
    r"how (do i|does this|to) (use|work)( this| you| arbot)?|what do you (do|know))$"
)
DISPUTES = _re(r"\b(disputes?|disputed|chargebacks?|charge backs?)\b")
BROKEN_PROMISES = _re(
    r"\b(broken|broke|missed|unkept|not kept)\b.*\bpromis|\bpromis.*\b(broken|missed)\b"
)
ACTION_VERB = _re(
    r"^(please |can you |could you )?(record|log|add|file|note|mark|draft|send|write off|"
    r"propose|remind|email|dun)\s+\S"
)
# "match the 12,400 wire from Acme", "apply the payment of eur 12.400,00 from Globex": the
# amount is passed on as typed, and read by the one rule for typed amounts
# (tools.money.parse_typed_amount), which refuses what it cannot read.
_TYPED_AMOUNT = (
    r"(?:(?:usd|eur|gbp|jpy|chf|cad|aud)\s?|[$€£¥])?\d[\d.,]*(?:\s?[km]\b)?"
    r"(?:\s(?:usd|eur|gbp|jpy|chf|cad|aud|dollars?)\b)?"
)
RECEIPT = _re(
    r"^(please |can you |could you )?(match|apply|find|allocate|reconcile)\s+(the\s+|a\s+|this\s+)?"
    rf"((?P<amount>{_TYPED_AMOUNT})\s+)?"
    r"(wire|payment|receipt|transfer|deposit|credit|remittance|ach)s?"
    rf"(\s+(of|for)\s+(?P<amount2>{_TYPED_AMOUNT}))?"
    r"(\s+(from|by)\s+(?P<payer>.+?))?\s*[?.!]?$"
)
UNAPPLIED = _re(
    r"\b(unapplied|unallocated|unmatched|unreconciled)\b|\bcash on account\b|"
    r"\bpayments? (not|without) (applied|matched|an invoice)|\bon[- ]account (cash|payments?)\b"
)
BEST_DSO = _re(r"\bbest[- ]?(possible )?dso\b|\bbpdso\b")
DSO = _re(
    r"\bdso\b|\bdays (of )?sales outstanding\b|\bdays to (collect|get paid)\b|"
    r"\bhow long (does it take |do customers take |are we taking )?to (collect|get paid)\b"
)
ADD = _re(r"\badd\b|\baverage days (delinquent|late|past due)\b|\bdays delinquent\b")
CEI = _re(r"\bcei\b|\bcollections? effectiveness\b|\bcollections? efficiency\b")
TURNOVER = _re(r"\bturnover\b|\bturn over\b|\bturns\b")
BAD_DEBT = _re(r"\bbad debts?\b|\bwrite[- ]?offs?\b|\bwritten[- ]off\b|\bwrote off\b|\bwrite off\b")
ALLOWANCE = _re(r"\ballowance\b|\bdoubtful\b|\breserves?\b")
ALL_METRICS = _re(r"\b(kpis?|metrics|ar report|full report|report|dashboard|summary|scorecard)\b")
AGING = _re(
    r"\bag(e)?ing\b|\baged\b|\bbuckets?\b|\bhow old\b|\bage breakdown\b|"
    r"\b(past[- ]due|overdue) breakdown\b|\bbreakdown by age\b|\b90\+ bucket\b"
)
TOP = _re(r"\b(top|biggest|largest|worst|highest|main)\b")
DEBTORS = _re(
    r"\b(overdue|late|past[- ]due|delinquent|debtors|behind|slow payers|owe|owes|owing|"
    r"accounts|customers|chase|collect from)\b"
)
WHO_LATE = _re(
    r"\bwho\b.*\b(late|overdue|past[- ]due|owes?|owing|chase|behind|hasn't paid|has not paid|"
    r"haven't paid|have not paid|delinquent)\b|"
    r"\b(chase|call|follow up with|dun)\b.*\b(today|first|this week|next)\b|"
    r"\b(overdue|late|past[- ]due|delinquent) (accounts|customers|clients|list)\b|"
    r"\bhow much is (overdue|past[- ]due|late)\b|\btotal (overdue|past[- ]due)\b"
)
OWES_MOST = _re(r"\bowes?\b.*\b(most|largest|biggest)\b|\b(biggest|largest|top) balances?\b")
AR = _re(
    r"\b(ar|a/r|a r|receivables?|accounts receivable|outstanding|owed to us|owe us|are we owed|"
    r"is owed|open balance|total owed|uncollected|open invoices total|money owed)\b|"
    r"^(open|unpaid) invoices( total)?$"
)
# "60+ days", "over 60 days", "older than 60 days": more than 60; "at least 60 days": 59.
DAYS = _re(
    r"(?:(?P<lead>over|more than|above|at least|beyond|older than|past)\s*)?(?P<n>\d{1,3})\s*"
    r"\+?\s*(?:days?|d)\b(?:\s*(?P<tail>\+|or more|or older|plus))?"
)
TOP_N = _re(
    r"\b(?:top|biggest|largest|worst|first)\s+(\d{1,3})\b|\b(\d{1,3})\s+(?:biggest|largest|worst)\b"
)

# Customer phrasing. Each captures the name; the name is then cleaned and checked.
_CUST_NOUNS = (
    r"(?:balance|open invoices|unpaid invoices|overdue invoices|outstanding invoices|invoices|"
    r"statement|account|ar|a/r|aging|ageing|receivables?|outstanding balance|open balance|"
    r"open items)"
)
CUSTOMER_PATTERNS = [
    _re(r"(?:how much|what) (?:does|do|did|is|are) (?P<name>.+?) (?:owe|owes|owing|still owe)\b"),
    _re(r"(?:how much|what) is (?:owed|outstanding|open|due) (?:by|from|for) (?P<name>.+)$"),
    _re(r"\b" + _CUST_NOUNS + r" (?:for|of|from|on|with|by) (?P<name>.+)$"),
    _re(r"^(?:(?:what's|whats|what is|what are|show me|show|get|give me|list|check|pull up|"
        r"pull) )?(?:the )?(?P<name>.+?)(?:'s?)? " + _CUST_NOUNS + r"\b"),
    _re(r"^(?:balance|invoices|statement|account)[: ]+(?P<name>.+)$"),
    _re(r"^(?:is|has|did) (?P<name>.+?) (?:paid|pay|overdue|late|behind)\b"),
    _re(r"^(?:does|do|did) (?P<name>.+?) (?:still )?(?:owe|owes)\b"),
]  # fmt: skip
GENERIC_NAMES = {
    "our", "us", "we", "my", "total", "all", "the", "the total", "company", "the company",
    "customer", "customers", "each customer", "all customers", "everyone", "everybody", "it",
    "today", "now", "current", "this", "that", "our total", "overall", "your", "their", "a",
    "aging", "ar", "open", "overdue", "outstanding", "past due", "late", "unpaid", "who",
    "anyone", "anybody", "someone", "somebody", "any customer", "any customers", "they",
}  # fmt: skip
STOPWORDS = {
    "what", "whats", "what's", "was", "is", "are", "were", "our", "the", "us", "we", "how",
    "much", "many", "do", "does", "did", "total", "current", "all", "my", "me", "a", "an",
    "of", "for", "and", "right", "now", "so", "far", "in", "to", "show", "tell", "old", "aged",
    "age", "big", "top", "net", "gross", "money", "amount", "anything", "still",
}  # fmt: skip
_NAME_TRIM = re.compile(
    r"^(?:(?:what|how much|how|who|when|where|why|show|tell|give|get|list|check|pull up|"
    r"pull|find|is|are|was|were|the|customer|client|account|me|us|our|about) )+|"
    r"\b(?:right now|today|currently|please|pls|thanks|again|now)\b|"
    r"(?:\s+(?:owe|owes|owing|balance|invoices?|account))+$"
)


def _clean_name(raw: str) -> str | None:
    name = raw.strip(" '\"?.,")
    for _ in range(3):
        name = _NAME_TRIM.sub(" ", name).strip(" '\"?.,")
    name = re.sub(r"'s$", "", name).strip()
    if not name or name in GENERIC_NAMES or len(name) < 2 or name.isdigit():
        return None
    if all(word in STOPWORDS or word in VOCAB_SET for word in name.split()):
        return None
    if AR.fullmatch(name) or DSO.search(name):
        return None
    return name


def find_customer_name(text: str) -> str | None:
    for pattern in CUSTOMER_PATTERNS:
        m = pattern.search(text)
        if m:
            name = _clean_name(m.group("name"))
            if name:
                return name
    return None


def _metric_topic(text: str) -> Topic | None:
    for pattern, topic in (
        (BEST_DSO, "best_dso"),
        (DSO, "dso"),
        (ADD, "add"),
        (CEI, "cei"),
        (TURNOVER, "turnover"),
        (ALLOWANCE, "allowance"),
        (BAD_DEBT, "bad_debt"),
    ):
        if pattern.search(text):
            return topic  # type: ignore[return-value]
    if AGING.search(text):
        return None
    if ALL_METRICS.search(text) and not WHO_LATE.search(text):
        return "all"
    return None


def _metric_for_someone(text: str) -> bool:
    m = re.search(r"\b(?:for|of|at|by) (?P<name>[a-z0-9][\w' &.-]*)$", text)
    return bool(m and _clean_name(m.group("name")) and not DAYS.search(m.group("name")))


def more_than_days(text: str) -> int | None:
    """The "more than N days past due" a phrase asks for, or None when it names no days."""
    m = DAYS.search(text)
    if m is None:
        return None
    days = int(m["n"])
    inclusive = m["lead"] == "at least" or m["tail"] in ("or more", "or older")
    return max(days - 1, 0) if inclusive else days


def _top_n(text: str) -> int | None:
    m = TOP_N.search(text)
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def _overdue(text: str, as_of: date | None) -> Intent | None:
    """Who is late (and how late), or who owes the most; None when it is not that question."""
    days = more_than_days(text)
    owes_most = OWES_MOST.search(text) is not None
    if not (
        WHO_LATE.search(text)
        or owes_most
        or (TOP.search(text) and DEBTORS.search(text))
        or (days is not None and DEBTORS.search(text))
    ):
        return None
    more = days if days is not None else (None if owes_most else 0)
    limit = min(_top_n(text) or 10, 200)
    return Intent(
        tool="top_overdue", topic="overdue", as_of=as_of, limit=limit, more_than_days=more
    )


def _cut(text: str, as_of: date | None, segment: str | None) -> Intent | None:
    """A report per group ("DSO by segment"), or one segment's ("aging for enterprise",
    "who owes most in mid-market"); None when the question names no cut."""
    by = ahead.cut_by(text)
    if (by is None and segment is None) or ahead.OVER_TIME.search(text):
        return None
    if segment is not None and by is None:
        overdue = _overdue(text, as_of)
        if overdue is not None:
            return overdue.model_copy(update={"by": "segment", "group": segment})
    topic = _metric_topic(text) or ("aging" if AGING.search(text) else None)
    if topic is None and (by is not None or AR.search(text)):
        topic = "ar"
    if topic is None:
        return None
    return Intent(
        tool="ar_cut",
        topic=topic,
        as_of=as_of,
        by=by or "segment",
        group=segment if by is None else None,
    )


def match(
    question: str,
    *,
    today: date,
    segments: Callable[[], Collection[str]] | None = None,
) -> Intent | None:
    """The intent of a question, or None when the fast path is not confident; `segments`
    names the segments on record (read only when the question could name one)."""
    proposal = match_proposal(question)
    if proposal is not None:
        return proposal
    text = normalize(question)
    if not text or HELP.match(text):
        return Intent(tool="help", topic="help")
    receipt = RECEIPT.search(text)
    if receipt is not None:
        amount = receipt["amount"] or receipt["amount2"]
        payer = receipt["payer"]
        return Intent(tool="find_receipts", topic="receipts", amount=amount, customer=payer)
    if ACTION_VERB.search(text):
        return None
    as_of, rest = find_as_of(text, today)
    if not rest:
        return None
    reconciling, sources = reconcile_words.compared(rest)
    if reconciling:
        return Intent(tool="reconcile", topic="reconcile", as_of=as_of, sources=sources)
    if DISPUTES.search(rest):
        return Intent(tool="open_disputes", topic="disputes", as_of=as_of)
    if BROKEN_PROMISES.search(rest):
        return Intent(tool="broken_promises", topic="promises", as_of=as_of)
    credit, forecast = ahead.CREDIT_LIMIT.search(rest), ahead.FORECAST.search(rest)
    if (credit or forecast) and any(map(_clean_name, ahead.customers_asked(rest, segments))):
        return None  # one customer's limit or forecast: the agent's, not the company list
    if credit:
        return Intent(tool="credit_limits", topic="credit", as_of=as_of)
    if ahead.OVER_TIME.search(rest) and _metric_topic(rest):
        return None  # "our DSO trend": a series over time is the agent's
    if ahead.DSO_MOVED.search(rest):
        return Intent(tool="dso_change", topic="dso_change", as_of=as_of)
    if forecast:
        return Intent(tool="cash_forecast", topic="forecast", as_of=as_of)
    if UNAPPLIED.search(rest):
        return Intent(tool="unapplied_cash", topic="unapplied", as_of=as_of)
    cut = _cut(rest, as_of, ahead.segment_named(rest, segments))
    if cut is not None:
        return cut
    topic = _metric_topic(rest)
    customer = find_customer_name(rest)
    if topic not in (None, "all") and (customer or _metric_for_someone(rest)):
        return None  # "DSO for Acme": per-customer metrics are the agent's job
    if customer:
        return Intent(tool="customer_balance", topic="customer", customer=customer, as_of=as_of)
    if topic:
        return Intent(tool="ar_report", topic=topic, as_of=as_of)
    overdue = _overdue(rest, as_of)
    if overdue is not None:
        return overdue
    if AGING.search(rest):
        return Intent(tool="ar_report", topic="aging", as_of=as_of)
    if AR.search(rest):
        return Intent(tool="ar_report", topic="ar", as_of=as_of)
    return None
