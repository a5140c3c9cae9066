"""Whether a tool result answers the question by its date and its topic, read the way the
fast path reads the question; what it is about (customers, invoices, segments) is `about`.

* Dates: a result is shown only at the date the question asks for, read by the fast path's
  one date reader (`bot.dates.find_as_of`: "end of last quarter", "as of June 30", "last
  month"), else at today. A result computed at another day (a date the model made up, or
  today when the question asked for the quarter's end) answers a question nobody asked.
* Topic: each read tool answers the fast path's topics (`bot.intents.Topic`). When the fast
  path finds a topic in the question, only tools answering it count. When it finds none, a
  result about one customer, invoice or segment counts (those the question names are checked
  by `about`; one it does not name is the thread's: "their oldest invoice"), and a
  ledger-wide one only when the question has one of that tool's words (the fast path's
  patterns). A forecast is no answer to
  "broken promises": no tool's words are in it, so the ledger's own answer is posted.

Proposals are exempt: they are checked against the question's words when proposed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot import intents as fp
from bot import lookahead_words as ahead
from bot import reconcile_words
from bot.agent.about import About
from bot.agent.substitute import SEGMENTS
from bot.dates import find_as_of
from bot.intents import Topic, match
from bot.question_text import normalize
from tools.clock import AsOfError

_METRICS: frozenset[Topic] = frozenset(
    {"ar", "aging", "dso", "best_dso", "add", "cei", "turnover", "bad_debt", "allowance", "all"}
)
_METRIC_WORDS = (
    fp.AR, fp.AGING, fp.DSO, fp.BEST_DSO, fp.ADD, fp.CEI, fp.TURNOVER, fp.BAD_DEBT,
    fp.ALLOWANCE, fp.ALL_METRICS,
)  # fmt: skip
# The one topic the fast path has no words for: accounts at risk of not paying.
AT_RISK = re.compile(r"\bat[- ]risk\b|\brisk(s|y|ier|iest)?\b")


@dataclass(frozen=True)
class Answers:
    """The fast-path topics a tool answers, and the words that make it plausible when the
    question has no topic the fast path knows."""

    topics: frozenset[Topic]
    words: tuple[re.Pattern[str], ...] = ()


def _t(*topics: Topic) -> frozenset[Topic]:
    return frozenset(topics)


TOOL_TOPICS: dict[str, Answers] = {
    "ar_metrics": Answers(_METRICS | {"unapplied"}, _METRIC_WORDS),
    "ar_report_by": Answers(_METRICS, (*_METRIC_WORDS, ahead.CUT_BY, SEGMENTS)),
    "cash_forecast": Answers(_t("forecast"), (ahead.FORECAST,)),
    "dso_change": Answers(_t("dso_change", "dso"), (ahead.DSO_MOVED, fp.DSO)),
    "credit_limits": Answers(_t("credit"), (ahead.CREDIT_LIMIT,)),
    "aging": Answers(_t("aging", "ar", "overdue", "customer"), (fp.AGING, fp.AR)),
    "customer_detail": Answers(
        _t("customer", "disputes", "credit", "overdue", "ar", "aging", "unapplied")
    ),
    "payment_history": Answers(_t("dso", "add"), (fp.DSO, fp.ADD, SEGMENTS)),
    "at_risk_accounts": Answers(_t(), (AT_RISK,)),
    "customer_balance": Answers(_t("customer", "ar", "overdue", "aging")),
    "top_overdue": Answers(_t("overdue", "ar"), (fp.WHO_LATE, fp.OWES_MOST)),
    "open_disputes": Answers(_t("disputes"), (fp.DISPUTES,)),
    "broken_promises": Answers(_t("promises"), (fp.BROKEN_PROMISES,)),
    "unapplied_cash": Answers(_t("unapplied", "receipts"), (fp.UNAPPLIED,)),
    "find_bank_receipts": Answers(_t("receipts", "unapplied"), (fp.RECEIPT, fp.UNAPPLIED)),
    "reconcile": Answers(_t("reconcile"), (reconcile_words.RECONCILE,)),
}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FOLLOW_UP_WORDS = 3
Segments = Callable[[], Collection[str]] | None


@dataclass(frozen=True)
class Wanted:
    """What the question asks for besides names: its topic and its day (None: today)."""

    text: str  # as the fast path reads it
    topic: Topic | None
    day: date | None
    today: date
    day_unread: bool = False  # a date phrase no one could read: no dated result answers it


def _topic(question: str, today: date, segments: Segments) -> Topic | None:
    try:
        intent = match(question, today=today, segments=segments)
    except AsOfError:
        return None
    return None if intent is None or intent.topic == "help" else intent.topic


def wanted(
    question: str, today: date, segments: Segments = None, earlier: str | None = None
) -> Wanted:
    """What `question` asks for at `today`. A bare follow-up in a thread ("and last
    quarter?": a few words once its date is out) asks the thread's `earlier` question's topic
    at its own date."""
    text = normalize(question)
    try:
        day, rest = find_as_of(text, today)
    except AsOfError:
        return Wanted(text, None, None, today, day_unread=True)
    topic = _topic(question, today, segments)
    if topic is None and earlier and len(rest.split()) <= FOLLOW_UP_WORDS:
        topic = _topic(earlier, today, segments)
        text = f"{normalize(earlier)} {text}"
    return Wanted(text, topic, day, today)


def _days_run(args: dict[str, Any], today: date) -> tuple[date, set[date]]:
    """(the as-of a call ran at, every other day it was given)."""
    days = {
        date.fromisoformat(v)
        for k, v in args.items()
        if k != "as_of" and isinstance(v, str) and _ISO_DAY.match(v)
    }
    as_of = args.get("as_of")
    return (date.fromisoformat(as_of) if isinstance(as_of, str) else today), days


def at_asked_date(tool: str, args: dict[str, Any], want: Wanted) -> bool:
    """Whether a read tool ran at the day the question asks for (today when it names none);
    any other day it was given (DSO's `since`) must be that day or today."""
    if tool not in TOOL_TOPICS:
        return True
    if want.day_unread:
        return False
    asked = want.day or want.today
    as_of, others = _days_run(args, want.today)
    if not others <= {asked, want.today}:
        return False
    return as_of == asked or (asked in others and as_of == want.today)


def on_topic(tool: str, about: About, want: Wanted) -> bool:
    """Whether a read tool answers what the question is about (see the module's rule)."""
    answers = TOOL_TOPICS.get(tool)
    if answers is None:
        return True
    if want.topic is not None:
        return want.topic in answers.topics
    if about:  # one customer, invoice or segment: named ones were checked by `about`
        return True
    return any(p.search(want.text) for p in answers.words)


def relevant(tool: str, args: dict[str, Any], about: About, want: Wanted) -> bool:
    """The one test the runner applies to a result besides names: its date and its topic."""
    return at_asked_date(tool, args, want) and on_topic(tool, about, want)
