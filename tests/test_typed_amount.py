"""Amounts as people type them in questions: one reading, or a refusal that says why."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tools.money import MoneyError, TypedAmount, parse_typed_amount


@pytest.mark.parametrize(
    ("typed", "value", "currency"),
    [
        ("12.4k", "12400", None),
        ("12.4K", "12400", None),
        ("12,400", "12400", None),
        ("$12,400.00", "12400", None),
        ("EUR 12.400,00", "12400", "EUR"),
        ("12400 usd", "12400", "USD"),
        ("1,234,567.89", "1234567.89", None),
        ("1.2m", "1200000", None),
        ("£500", "500", "GBP"),
        ("12,40", "12.40", None),
        ("12.5", "12.5", None),
        ("1,200k", "1200000", None),  # 1,200 thousand, as 1,200 is twelve hundred
        ("€1,234", "1234", "EUR"),
        ("€1.234", "1234", "EUR"),  # euros have two decimals: the point groups thousands
        ("€12.400,00", "12400", "EUR"),
        ("£1,5k", "1500", "GBP"),
    ],
)
def test_amounts_read_as_meant(typed: str, value: str, currency: str | None) -> None:
    assert parse_typed_amount(typed) == TypedAmount(Decimal(value), currency)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("12.400", "could be 12.4 or 12400"),
        ("12.400k", "could be 12.4k or 12400k"),
        ("$1.234", "could be 1.234 or 1234"),
        ("12..4", "check the separators"),
        ("12,4,00", "check the separators"),
        ("twelve", "write it like 12400"),
        ("XYZ 10", "unknown currency code 'XYZ'"),
        ("GBP 10 EUR", "names two currencies"),
    ],
)
def test_unreadable_amounts_are_refused_with_the_reason(typed: str, says: str) -> None:
    with pytest.raises(MoneyError, match=says):
        parse_typed_amount(typed)
