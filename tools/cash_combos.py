"""Which sets of one customer's open invoices a payment covers: the bounded searches
behind "a combination of invoices" (at most MAX_COMBINATION invoices among the
COMBINATION_POOL oldest, so a customer with hundreds of open invoices stays fast)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.cash_book import OpenInv

MAX_COMBINATION = 4  # invoices in one payment, searched among...
COMBINATION_POOL = 16  # ...the customer's oldest open invoices


def combinations(pool: Sequence[OpenInv], amount: int, slack: int = 0) -> list[tuple[OpenInv, ...]]:
    """Sets of 2..MAX_COMBINATION of the oldest open invoices whose open total is `amount`,
    or up to `slack` more (bank fees)."""
    oldest = [i for i in pool if 0 < i.open_minor < amount + slack][:COMBINATION_POOL]
    found: list[tuple[OpenInv, ...]] = []
    for size in range(2, MAX_COMBINATION + 1):
        for combo in itertools.combinations(oldest, size):
            if amount <= sum(i.open_minor for i in combo) <= amount + slack:
                found.append(combo)
                if len(found) > 1:
                    return found
    return found


def with_named(
    named: Sequence[OpenInv], pool: Sequence[OpenInv], amount: int
) -> list[tuple[OpenInv, ...]]:
    """Sets of the named invoices plus up to MAX_COMBINATION others of the customer's that
    the amount pays exactly (a reference that names only some of what is paid)."""
    need = amount - sum(i.open_minor for i in named)
    others = [i for i in pool if i not in named and 0 < i.open_minor <= need][:COMBINATION_POOL]
    found: list[tuple[OpenInv, ...]] = []
    for size in range(1, MAX_COMBINATION + 1 - len(named)):
        for combo in itertools.combinations(others, size):
            if sum(i.open_minor for i in combo) == need:
                found.append((*named, *combo))
                if len(found) > 1:
                    return found
    return found
