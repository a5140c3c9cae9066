"""Counts, payment speed and money at risk as a controller reads them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from tools.format import format_lateness, format_pay_speed, plural
from tools.risk_money import expected_loss_minor
from tools.settings import Settings


def test_counts_and_days_read_as_english() -> None:
    assert [plural(n, "invoice") for n in (0, 1, 4)] == ["0 invoices", "1 invoice", "4 invoices"]
    assert format_lateness(1) == "1 day overdue" and format_lateness(12) == "12 days overdue"


def test_payment_speed_says_early_or_late_never_a_negative_lateness() -> None:
    assert format_pay_speed(Decimal("16")) == "16.00 days late"
    assert format_pay_speed(Decimal("-4")) == "4.00 days early"
    assert format_pay_speed(Decimal("-0.004")) == "on time"  # zero as shown
    assert format_pay_speed(None) == "n/a"


def test_expected_loss_is_the_converted_balance_times_the_score_half_up() -> None:
    assert expected_loss_minor(11_060_923, 50) == 5_530_462  # 55,304.615 -> 55,304.62
    assert expected_loss_minor(30_000, 65) == 19_500
    assert expected_loss_minor(-5_000, 80) == 0  # a credit balance loses nothing


def test_the_minimum_balance_defaults_to_usd_500() -> None:
    s = Settings(database_url="sqlite://", reporting_currency="EUR")
    assert (s.risk_min_balance, s.risk_min_balance_currency) == (Decimal(500), "USD")


def test_a_minimum_balance_its_currency_cannot_hold_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match=r"ARBOT_RISK_MIN_BALANCE: amount '500\.005' has 3"):
        Settings(database_url="sqlite://", risk_min_balance="500.005")
    with pytest.raises(ValidationError, match="unknown currency code 'XYZ'"):
        Settings(database_url="sqlite://", risk_min_balance_currency="XYZ")
