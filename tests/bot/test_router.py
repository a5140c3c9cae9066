"""The fast path understands questions as finance people type them, typos included.

Pure matching (no database): each phrasing maps to the tool, topic, date and customer a
person would expect; a request for a draft is a proposal; anything not confidently
understood is None (agent or help).
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.intents import match

TODAY = date(2025, 5, 15)  # a Thursday in Q2
LAST_Q = date(2025, 3, 31)

# (question, tool, topic, as_of, customer)
PHRASINGS = [
    ("what's our AR right now?", "ar_report", "ar", None, None),
    ("whats our ar", "ar_report", "ar", None, None),
    ("How much are we owed?", "ar_report", "ar", None, None),
    ("total receivables", "ar_report", "ar", None, None),
    ("total recievables", "ar_report", "ar", None, None),
    ("receivables pls", "ar_report", "ar", None, None),
    ("accounts receivable", "ar_report", "ar", None, None),
    ("A/R?", "ar_report", "ar", None, None),
    ("how much money is outstanding", "ar_report", "ar", None, None),
    ("What was AR on June 30?", "ar_report", "ar", date(2024, 6, 30), None),
    ("recievables as of june 30th", "ar_report", "ar", date(2024, 6, 30), None),
    ("AR on 2024-12-31", "ar_report", "ar", date(2024, 12, 31), None),
    ("A/R as of 3/31", "ar_report", "ar", date(2025, 3, 31), None),
    ("accounts receivable at end of last quarter", "ar_report", "ar", LAST_Q, None),
    ("AR at month end", "ar_report", "ar", date(2025, 4, 30), None),
    ("what was our AR yesterday", "ar_report", "ar", date(2025, 5, 14), None),
    ("receivables 31 december 2024", "ar_report", "ar", date(2024, 12, 31), None),
    ("aging", "ar_report", "aging", None, None),
    ("ageing report", "ar_report", "aging", None, None),
    ("show me the aging report", "ar_report", "aging", None, None),
    ("agign buckets", "ar_report", "aging", None, None),
    ("AR aging as of end of Q1", "ar_report", "aging", LAST_Q, None),
    ("how old is our AR", "ar_report", "aging", None, None),
    ("aged receivables end of last month", "ar_report", "aging", date(2025, 4, 30), None),
    ("DSO", "ar_report", "dso", None, None),
    ("what's our DSO last quarter", "ar_report", "dso", LAST_Q, None),
    ("days sales outstanding", "ar_report", "dso", None, None),
    ("how long does it take to get paid", "ar_report", "dso", None, None),
    ("best possible DSO", "ar_report", "best_dso", None, None),
    ("average days delinquent", "ar_report", "add", None, None),
    ("ADD?", "ar_report", "add", None, None),
    ("CEI", "ar_report", "cei", None, None),
    ("collection effectiveness index last month", "ar_report", "cei", date(2025, 4, 30), None),
    ("collections efficiency", "ar_report", "cei", None, None),
    ("AR turnover", "ar_report", "turnover", None, None),
    ("receivables turnover ratio", "ar_report", "turnover", None, None),
    ("bad debt %", "ar_report", "bad_debt", None, None),
    ("how much did we write off last quarter", "ar_report", "bad_debt", LAST_Q, None),
    ("allowance for doubtful accounts", "ar_report", "allowance", None, None),
    ("KPIs", "ar_report", "all", None, None),
    ("AR report as of 2024-03-31", "ar_report", "all", date(2024, 3, 31), None),
    ("what's Acme's balance?", "customer_balance", "customer", None, "acme"),
    ("whats acmes balance", "customer_balance", "customer", None, "acmes"),
    ("how much does Globex owe", "customer_balance", "customer", None, "globex"),
    ("how much does Globex owe us as of June 30", "customer_balance", "customer",
     date(2024, 6, 30), "globex"),
    ("open invoices for Initech", "customer_balance", "customer", None, "initech"),
    ("balance for acme inc", "customer_balance", "customer", None, "acme inc"),
    ("Umbrella balance", "customer_balance", "customer", None, "umbrella"),
    ("show me Stark's invoices", "customer_balance", "customer", None, "stark"),
    ("does acme owe us anything", "customer_balance", "customer", None, "acme"),
    ("is Wayne overdue?", "customer_balance", "customer", None, "wayne"),
    ("AR for Hooli", "customer_balance", "customer", None, "hooli"),
    ("top 5 overdue accounts", "top_overdue", "overdue", None, None),
    ("who is 60+ days late?", "top_overdue", "overdue", None, None),
    ("who do I chase today", "top_overdue", "overdue", None, None),
    ("who owes us the most", "top_overdue", "overdue", None, None),
    ("biggest late payers", "top_overdue", "overdue", None, None),
    ("customers more than 90 days past due", "top_overdue", "overdue", None, None),
    ("how much is overdue", "top_overdue", "overdue", None, None),
    ("who hasn't paid", "top_overdue", "overdue", None, None),
    ("open disputes", "open_disputes", "disputes", None, None),
    ("any chargebacks?", "open_disputes", "disputes", None, None),
    ("disputed invoices as of last month", "open_disputes", "disputes", date(2025, 4, 30), None),
    ("unapplied cash", "unapplied_cash", "unapplied", None, None),
    ("unaplied cash", "unapplied_cash", "unapplied", None, None),
    ("payments not applied", "unapplied_cash", "unapplied", None, None),
    ("cash on account", "unapplied_cash", "unapplied", None, None),
    ("help", "help", "help", None, None),
    ("what can you do?", "help", "help", None, None),
]  # fmt: skip

NOT_CONFIDENT = [
    "what's the weather",
    "tell me a joke",
    "how is the team doing",
    "record a dispute for Globex: wrong amount",
    "DSO for Acme",
    "compare Acme and Globex payment habits",
]


@pytest.mark.parametrize(("question", "tool", "topic", "as_of", "customer"), PHRASINGS)
def test_phrasing(
    question: str, tool: str, topic: str, as_of: date | None, customer: str | None
) -> None:
    intent = match(question, today=TODAY)
    assert intent is not None, question
    assert (intent.tool, intent.topic, intent.as_of, intent.customer) == (
        tool,
        topic,
        as_of,
        customer,
    )


@pytest.mark.parametrize("question", NOT_CONFIDENT)
def test_not_confident_goes_elsewhere(question: str) -> None:
    assert match(question, today=TODAY) is None


@pytest.mark.parametrize(
    ("question", "limit", "more_than_days"),
    [
        ("top 5 overdue accounts", 5, 0),
        ("who is 60+ days late?", 10, 60),
        ("customers more than 90 days past due", 10, 90),
        ("top 20 accounts over 30 days", 20, 30),
        ("who owes us the most", 10, None),
        ("who is over 60 days late", 10, 60),
        ("who is more than 60 days overdue", 10, 60),
        ("customers older than 60 days", 10, 60),
        ("who is at least 60 days late", 10, 59),
        ("customers 60 days or more past due", 10, 59),
        ("who is late?", 10, 0),
        ("who is overdue", 10, 0),
        ("biggest balances", 10, None),
    ],
)
def test_overdue_arguments(question: str, limit: int, more_than_days: int | None) -> None:
    intent = match(question, today=TODAY)
    assert intent is not None
    assert (intent.limit, intent.more_than_days) == (limit, more_than_days)


def test_slack_markup_is_ignored() -> None:
    intent = match("<@UBOT000001> what's our *AR* right now?", today=TODAY)
    assert intent is not None and intent.topic == "ar"


@pytest.mark.parametrize(
    ("question", "tool", "customer", "invoice", "tone"),
    [
        ("draft a reminder to Acme", "propose_dunning_email", "Acme", None, None),
        ("<@UBOT000001> please draft a firm reminder to Acme Corp about INV-A1",
         "propose_dunning_email", "Acme Corp", "INV-A1", "firm"),
        ("remind them about INV-G1", "propose_dunning_email", None, "INV-G1", None),
        ("write off INV-1 because they went bankrupt", "propose_write_off", None, "INV-1", None),
    ],
)  # fmt: skip
def test_drafts_are_proposals(
    question: str, tool: str, customer: str | None, invoice: str | None, tone: str | None
) -> None:
    intent = match(question, today=TODAY)
    assert intent is not None and intent.is_proposal
    assert (intent.tool, intent.customer, intent.invoice, intent.tone) == (
        tool,
        customer,
        invoice,
        tone,
    )


# The words a report is cut by survive the typo fixer ("currency" is not "currently").
CUTS = [
    ("DSO by currency", "dso", "currency"),
    ("AR by currencies", "ar", "currency"),
    ("aging per payment method", "aging", "method"),
    ("aging by payment methods", "aging", "method"),
    ("AR by owner", "ar", "owner"),
    ("DSO per owners", "dso", "owner"),
    ("DSO by segment", "dso", "segment"),
    ("aging by segments", "aging", "segment"),
]


@pytest.mark.parametrize(("question", "topic", "by"), CUTS)
def test_cut_by_group(question: str, topic: str, by: str) -> None:
    intent = match(question, today=TODAY)
    assert intent is not None, question
    assert (intent.tool, intent.topic, intent.by) == ("ar_cut", topic, by)


# One customer's credit limit or forecast, or a metric's trend, is not the company-wide
# answer the fast path has: the agent answers it.
FOR_THE_AGENT = [
    "what is Acme Inc credit limit?",
    "what is the credit limit of Acme Inc",
    "is Acme over its credit limit?",
    "forecast for Acme",
    "Acme cash forecast",
    "what is our DSO trend",
    "how is our DSO trending",
]


@pytest.mark.parametrize("question", FOR_THE_AGENT)
def test_customer_or_trend_questions_go_to_the_agent(question: str) -> None:
    assert match(question, today=TODAY, segments=lambda: ["enterprise"]) is None


COMPANY_WIDE = [
    ("who is over their credit limit?", "credit_limits"),
    ("whats our credit exposure", "credit_limits"),
    ("cash forecast for the next 8 weeks", "cash_forecast"),
    ("what is the forecast for this month", "cash_forecast"),
    ("forecast for enterprise", "cash_forecast"),
    ("why did DSO go up", "dso_change"),
]


@pytest.mark.parametrize(("question", "tool"), COMPANY_WIDE)
def test_company_wide_look_ahead(question: str, tool: str) -> None:
    intent = match(question, today=TODAY, segments=lambda: ["enterprise"])
    assert intent is not None and intent.tool == tool and intent.customer is None
