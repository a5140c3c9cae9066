"""The fast path: common AR questions answered deterministically, with no LLM.

`match(question, today=...)` turns a question into an `Intent` (which tool, which as-of date,
which customer) or None when it is not confident. `answer(deps, question)` runs the tool and
returns a `RouteResult`; a None match goes to the optional `fallback` (the LLM agent) and,
without one or when it declines, to the help message. The same result serves Slack, `arbot
ask` and the agent, so a number is computed in one place (the tools).

Patterns are worded the way finance people ask ("what's our AR", "receivables as of June 30",
"who's 60+ days late", "Acme's balance"); a light typo fixer maps misspelt keywords
("recievables", "agign") onto the vocabulary before matching.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from bot.dates import find_as_of
from bot.singleflight import SingleFlight
from bot.text import answer_text, help_text
from tools.cash import UnappliedCash, UnappliedCashInput, unapplied_cash
from tools.clock import today as today_in
from tools.customer_lookup import CustomerMatch
from tools.customers import CustomerBalance, CustomerBalanceInput, customer_balance
from tools.deps import ToolDeps
from tools.disputes import OpenDisputes, OpenDisputesInput, open_disputes
from tools.metrics import ArMetrics, MetricsError, MetricsInput
from tools.overdue import TopOverdue, TopOverdueInput, top_overdue
from tools.report import ar_report, report_json

Tool = Literal[
    "ar_report", "customer_balance", "top_overdue", "open_disputes", "unapplied_cash", "help"
]
Topic = Literal[
    "ar", "aging", "dso", "best_dso", "add", "cei", "turnover", "bad_debt", "allowance",
    "all", "customer", "overdue", "disputes", "unapplied", "help",
]  # fmt: skip


class Intent(BaseModel):
    """What the router understood: a tool, a topic within it, and its arguments."""

    tool: Tool
    topic: Topic
    as_of: date | None = None
    customer: str | None = None
    customer_id: int | None = None
    limit: int = 10
    more_than_days: int | None = 0


class AskContext(BaseModel):
    """Where a question came from; the agent uses it for per-thread memory."""

    user: str | None = None
    channel: str | None = None
    thread_ts: str | None = None

    @property
    def thread_key(self) -> str | None:
        return f"{self.channel}:{self.thread_ts}" if self.channel and self.thread_ts else None


class RouteResult(BaseModel):
    """An answer: who answered, with which tool, the tool's data, and a plain-text summary.

    `result` is the tool's pydantic return value (for Block Kit rendering); `to_json()` is the
    shape `arbot ask --json` prints.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    answered_by: Literal["router", "agent", "help"]
    tool: str | None
    data: dict[str, Any] = Field(default_factory=dict)
    text: str
    topic: str | None = None
    intent: Intent | None = None
    result: Any = Field(default=None, exclude=True)
    blocks: list[dict[str, Any]] | None = Field(
        default=None, description="ready-made Block Kit blocks (e.g. from the agent)"
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "answered_by": self.answered_by,
            "tool": self.tool,
            "data": self.data,
            "text": self.text,
        }


# question, context -> an answer, or None to fall through to the help message.
Fallback = Callable[[str, AskContext], RouteResult | None]

# --- normalising --------------------------------------------------------------------------

VOCABULARY = (
    "receivable receivables outstanding aging ageing overdue balance balances invoices invoice "
    "disputes dispute disputed chargeback chargebacks unapplied unallocated cash payments "
    "turnover delinquent delinquency collection collections effectiveness index debt written "
    "quarter month year yesterday customers customer accounts account breakdown buckets "
    "metrics average possible owed owing open right show what help late chase biggest largest "
    "report summary allowance doubtful statement currently write wrote collect collected "
    "receive received whats where which there these those about today their"
).split()
_VOCAB_SET = set(VOCABULARY)
_SLACK_MARKUP = re.compile(r"<[@#!][^>]*>|<https?://[^>]*>")


def _fix_word(word: str) -> str:
    if len(word) < 5 or word in _VOCAB_SET or not word.isalpha():
        return word
    best = process.extractOne(word, VOCABULARY, scorer=fuzz.ratio, score_cutoff=80)
    return best[0] if best else word


def normalize(question: str) -> str:
    text = _SLACK_MARKUP.sub(" ", question).replace("’", "'").replace("‘", "'").lower()
    text = re.sub(r"[^\w\s'/+.,:$-]", " ", text)
    words = [_fix_word(w) for w in re.split(r"\s+", text) if w]
    text = " ".join(words)
    text = re.sub(r"[?!.,:]+(\s|$)", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# --- patterns -----------------------------------------------------------------------------


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


HELP = _re(
    r"^(help|\?|hi|hello|hey|commands|usage|what can (you|i) (do|ask)( you)?|"
    r"how (do i|does this|to) (use|work)( this| you| arbot)?|what do you (do|know))$"
)
DISPUTES = _re(r"\b(disputes?|disputed|chargebacks?|charge backs?)\b")
ACTION_VERB = _re(
    r"^(please |can you |could you )?(record|log|add|file|note|mark|draft|send|write off|"
    r"propose|remind|email|dun)\s+\S"
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
AR = _re(
    r"\b(ar|a/r|a r|receivables?|accounts receivable|outstanding|owed to us|owe us|are we owed|"
    r"is owed|open balance|total owed|uncollected|open invoices total|money owed)\b|"
    r"^(open|unpaid) invoices( total)?$"
)
DAYS = _re(
    r"(?:(?:over|more than|above|at least|beyond|older than|past|>)\s*)?(\d{1,3})\s*\+?\s*"
    r"(?:days?|d)\b(?:\s*(?:\+|or more|plus))?"
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
    if all(word in STOPWORDS or word in _VOCAB_SET for word in name.split()):
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


def _days(text: str) -> int | None:
    m = DAYS.search(text)
    return int(m.group(1)) if m else None


def _top_n(text: str) -> int | None:
    m = TOP_N.search(text)
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def match(question: str, *, today: date) -> Intent | None:
    """The intent of a question, or None when the fast path is not confident."""
    text = normalize(question)
    if not text or HELP.match(text):
        return Intent(tool="help", topic="help")
    if ACTION_VERB.search(text):
        return None
    as_of, rest = find_as_of(text, today)
    if not rest:
        return None

    if DISPUTES.search(rest):
        return Intent(tool="open_disputes", topic="disputes", as_of=as_of)
    if UNAPPLIED.search(rest):
        return Intent(tool="unapplied_cash", topic="unapplied", as_of=as_of)

    topic = _metric_topic(rest)
    customer = find_customer_name(rest)
    if topic not in (None, "all") and (customer or _metric_for_someone(rest)):
        return None  # "DSO for Acme": per-customer metrics are the agent's job
    if customer:
        return Intent(tool="customer_balance", topic="customer", customer=customer, as_of=as_of)
    if topic:
        return Intent(tool="ar_report", topic=topic, as_of=as_of)

    days = _days(rest)
    top_n = _top_n(rest)
    if (
        WHO_LATE.search(rest)
        or (TOP.search(rest) and DEBTORS.search(rest))
        or (days is not None and DEBTORS.search(rest))
    ):
        owes_most = re.search(
            r"\bowes?\b.*\b(most|largest|biggest)\b|\b(biggest|largest) balances?\b", rest
        )
        more_than = days if days is not None else (None if owes_most else 0)
        return Intent(
            tool="top_overdue",
            topic="overdue",
            as_of=as_of,
            limit=min(top_n or 10, 200),
            more_than_days=more_than,
        )
    if AGING.search(rest):
        return Intent(tool="ar_report", topic="aging", as_of=as_of)
    if AR.search(rest):
        return Intent(tool="ar_report", topic="ar", as_of=as_of)
    return None


# --- answering ----------------------------------------------------------------------------


_FLIGHTS = SingleFlight()


def run(deps: ToolDeps, intent: Intent) -> RouteResult:
    """Run the intent's tool; identical questions in flight at once share one computation."""
    if intent.tool == "help":
        return help_result()
    key = (id(deps.engine), intent.model_dump_json(exclude={"topic"}), today_in(deps.settings.tz))
    shared = _FLIGHTS.run(key, lambda: _run(deps, intent))
    return shared.model_copy(
        update={"topic": intent.topic, "intent": intent, "text": _text(shared, intent.topic)}
    )


def _text(result: RouteResult, topic: str) -> str:
    return result.text if result.result is None else answer_text(result.result, topic)


def _run(deps: ToolDeps, intent: Intent) -> RouteResult:
    """Run the intent's tool and wrap its result; a tool error becomes a plain answer."""
    s = deps.settings
    result: Any
    data: dict[str, Any]
    try:
        if intent.tool == "ar_report":
            result = ar_report(deps, MetricsInput(as_of=intent.as_of, period_days=s.period_days))
            data = report_json(result)
        elif intent.tool == "customer_balance":
            result = customer_balance(
                deps,
                CustomerBalanceInput(
                    customer=intent.customer, customer_id=intent.customer_id, as_of=intent.as_of
                ),
            )
            data = result.model_dump(mode="json")
        elif intent.tool == "top_overdue":
            result = top_overdue(
                deps,
                TopOverdueInput(
                    limit=intent.limit,
                    more_than_days=intent.more_than_days,
                    as_of=intent.as_of,
                ),
            )
            data = result.model_dump(mode="json")
        elif intent.tool == "open_disputes":
            result = open_disputes(deps, OpenDisputesInput(as_of=intent.as_of))
            data = result.model_dump(mode="json")
        else:
            result = unapplied_cash(deps, UnappliedCashInput(as_of=intent.as_of))
            data = result.model_dump(mode="json")
    except MetricsError as exc:
        return RouteResult(
            answered_by="router",
            tool=intent.tool,
            data={"error": str(exc)},
            text=f"I can't answer that exactly: {exc}",
            topic=intent.topic,
            intent=intent,
        )
    return RouteResult(
        answered_by="router",
        tool=intent.tool,
        data=data,
        text=answer_text(result, intent.topic),
        topic=intent.topic,
        intent=intent,
        result=result,
    )


def help_result() -> RouteResult:
    return RouteResult(answered_by="help", tool="help", data={}, text=help_text(), topic="help")


def answer(
    deps: ToolDeps,
    question: str,
    *,
    fallback: Fallback | None = None,
    context: AskContext | None = None,
    today: date | None = None,
) -> RouteResult:
    """Fast path first; then the fallback (agent); then help."""
    from bot.proposal_route import proposal_answer  # "draft a reminder to Acme", "write off"

    proposed = proposal_answer(deps, question, context or AskContext())
    if proposed is not None:
        return proposed
    intent = match(question, today=today or today_in(deps.settings.tz))
    if intent is not None:
        return run(deps, intent)
    if fallback is not None:
        found = fallback(question, context or AskContext())
        if found is not None:
            return found
    return help_result()


__all__ = [
    "ArMetrics",
    "AskContext",
    "CustomerBalance",
    "CustomerMatch",
    "Fallback",
    "Intent",
    "OpenDisputes",
    "RouteResult",
    "TopOverdue",
    "UnappliedCash",
    "answer",
    "match",
    "run",
]
