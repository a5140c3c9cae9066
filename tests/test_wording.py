"""Counts, payment speed and money at risk as a controller reads them."""

from __future__ import annotations

from decimal import Decimal

from tools.format import format_lateness, format_pay_speed, plural
from tools.risk_money import expected_loss_minor, min_balance_minor
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


def test_the_minimum_balance_is_in_minor_units_of_the_reporting_currency() -> None:
    assert min_balance_minor(Settings(database_url="sqlite://")) == 50_000  # USD 500.00
    jpy = Settings(database_url="sqlite://", reporting_currency="JPY", risk_min_balance="75000")
    assert min_balance_minor(jpy) == 75_000
