"""Words of the questions that look past today's report: the report cut by a group ("by
segment", "per payment method", "for enterprise"), the cash forecast, why DSO moved, and
who is over their credit limit.
Pure pattern matching; the segments on record come from the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

CUT_BY = re.compile(
    r"\b(?:by|per|for each|split by|broken down by|across|in each)\s+(?:customer\s+|account\s+)?"
    r"(?P<by>segments?|plan tiers?|tiers?|payment methods?|methods?|currenc(?:y|ies)|"
    r"owners?|reps?|account managers?)\b"
)
_CUT_WORDS = {"segment": "segment", "tier": "segment", "plan": "segment", "payment": "method"}
_CUT_WORDS |= {"method": "method", "currenc": "currency", "owner": "owner", "rep": "owner"}
_CUT_WORDS |= {"account": "owner"}
SEGMENT_AFTER = r"\b(?:for|in|of|among|within)\s+(?:the\s+|our\s+)?(?P<seg>{})(?:\s+segment)?\b"


# A cut answers with one date's figures; a trend or a comparison over time is the agent's.
OVER_TIME = re.compile(r"\b(trends?|trending|over time|history|historical|each (week|month))\b")


def cut_by(text: str) -> str | None:
    m = CUT_BY.search(text)
    if m is None:
        return None
    return next(v for k, v in _CUT_WORDS.items() if m["by"].startswith(k))


def segment_named(text: str, segments: Callable[[], Collection[str]] | None) -> str | None:
    """A segment on record named after "for", "in" or "of" ("aging for enterprise")."""
    if segments is None or not re.search(r"\b(?:for|in|of|among|within) \S", text):
        return None
    names = sorted((n.lower() for n in segments() if n), key=len, reverse=True)
    if not names:
        return None
    m = re.search(SEGMENT_AFTER.format("|".join(map(re.escape, names))), text)
    return None if m is None else m["seg"]


FORECAST = re.compile(
    r"\b(cash )?forecast(ing)?\b|\bexpected (cash|collections|receipts)\b|"
    r"\bcash (coming in|comes in|will come in|projection|outlook|expected)\b|"
    r"\bhow much (cash )?will we collect\b"
)
DSO_MOVED = re.compile(
    r"\b(why|what|explain|how come)\b.*\b(dso|days sales outstanding)\b.*\b(up|down|rise|rose|"
    r"risen|increase[sd]?|drop(ped)?|fell|fallen|change[sd]?|move[sd]?|jump(ed)?|worse|better|"
    r"higher|lower)\b|\b(explain|drivers? of|what drove|what moved)\b.*\bdso\b"
)
CREDIT_LIMIT = re.compile(
    r"\bcredit[- ]limits?\b|\bover (?:their|its|the|our) limits?\b|\bcredit exposure\b|"
    r"\bexposure (?:vs|against|over) (?:the )?limits?\b"
)

# One customer's credit limit or forecast ("Acme's credit limit", "forecast for Acme", "is
# Acme over its limit"): not the company-wide list, so the caller hands it to the agent.
_ABOUT = r"(?:credit limits?|credit exposure|(?:cash )?forecast(?:ing)?)"
_NAMED = [
    re.compile(
        r"^(?:(?:what's|whats|what is|what are|show me|show|check|get|give me) )?(?:the )?"
        r"(?P<name>.+?)(?:'s?)? " + _ABOUT + r"\b"
    ),
    re.compile(r"\b" + _ABOUT + r"\s+(?:for|of|on|with)\s+(?P<name>.+)$"),
    re.compile(
        r"^(?:is|has|did) (?P<name>.+?) (?:gone |went |got )?(?:over|near|under|above|within|"
        r"at|exceeding|exceeded|hit|reached|past) (?:its|their|the|his|her) (?:credit )?limits?\b"
    ),
]
_NOT_A_NAME = re.compile(
    r"\b(?:who|which|any|anyone|anybody|everyone|accounts?|customers?|clients?|next|coming|"
    r"this|rest|days?|weeks?|months?|quarters?|years?|company|total|overall)\b|^\d+$"
)


def customers_asked(text: str, segments: Callable[[], Collection[str]] | None) -> list[str]:
    """The names (uncleaned) a credit-limit or forecast question may ask about: those that
    are not a time span, a group of customers or a segment on record."""
    names = [m["name"].strip() for p in _NAMED if (m := p.search(text))]
    known = {n.lower() for n in segments() if n} if segments is not None and names else set()
    return [n for n in names if not _NOT_A_NAME.search(n) and n not in known]
