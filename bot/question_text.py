"""A question as the fast path reads it: Slack markup dropped, lower case, and words within a
letter or two of the AR vocabulary spelled right, so "recievables" finds its pattern."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

VOCABULARY = (
    "receivable receivables outstanding aging ageing overdue balance balances invoices invoice "
    "disputes dispute disputed chargeback chargebacks unapplied unallocated cash payments "
    "turnover delinquent delinquency collection collections effectiveness index debt written "
    "quarter month year yesterday customers customer accounts account breakdown buckets "
    "metrics average possible owed owing open right show what help late chase biggest largest "
    "report summary allowance doubtful statement currently write wrote collect collected "
    "receive received whats where which there these those about today their "
    # the groups a report is cut by, so "currency" is not spelled into "currently"
    "currency currencies payment method methods owner owners segment segments"
).split()
VOCAB_SET = set(VOCABULARY)
SLACK_MARKUP = re.compile(r"<[@#!][^>]*>|<https?://[^>]*>")


def _fix_word(word: str) -> str:
    if len(word) < 5 or word in VOCAB_SET or not word.isalpha():
        return word
    best = process.extractOne(word, VOCABULARY, scorer=fuzz.ratio, score_cutoff=80)
    return best[0] if best else word


def normalize(question: str) -> str:
    text = SLACK_MARKUP.sub(" ", question).replace("’", "'").replace("‘", "'").lower()
    text = re.sub(r"[^\w\s'/+.,:$€£¥-]", " ", text)
    words = [_fix_word(w) for w in re.split(r"\s+", text) if w]
    text = " ".join(words)
    text = re.sub(r"[?!.,:]+(\s|$)", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def strip_markup(question: str) -> str:
    """The question as typed, without Slack's mention and link markup, spaces collapsed."""
    return " ".join(SLACK_MARKUP.sub(" ", question).split())
