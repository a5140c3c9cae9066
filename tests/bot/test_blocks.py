"""Block builders are pure: data in, blocks out, always within Slack's limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from slack_sdk.models.blocks import SectionBlock

from bot.blocks.common import MAX_BLOCKS, MAX_SECTION_CHARS, Rendered, fit, sections
from bot.blocks.ids import ActionId, PickCustomer, RowsRequest
from bot.commands.report_cmd import report_table
from bot.intents import Intent
from bot.render import render
from tools.buckets import BUCKETS
from tools.customer_lookup import CustomerCandidate, CustomerMatch
from tools.customers import CustomerBalance, InvoiceLine
from tools.metrics import ArMetrics
from tools.overdue import OverdueAccount, TopOverdue
from tools.settings import Settings

AS_OF = date(2025, 6, 30)


def metrics() -> ArMetrics:
    aging = dict(
        zip(BUCKETS, [410_000_00, 50_000_00, 20_000_00, 10_000_00, 10_000_00], strict=True)
    )
    ar = sum(aging.values())
    return ArMetrics(
        as_of=AS_OF, period_days=90, currency="USD", ar_total_minor=ar, aging_minor=aging,
        aging_pct={b: Decimal(v) * 100 / ar for b, v in aging.items()}, ar_start_minor=ar,
        credit_sales_minor=1_000_000_00, dso=Decimal("45.0"), best_possible_dso=Decimal("36.9"),
        average_days_delinquent=Decimal("8.1"), ar_turnover=Decimal("8.11"),
        cei_pct=Decimal("91.234"), bad_debt_pct=None, written_off_minor=0,
        weighted_days_past_due=Decimal("20"), dunning_recovery_rate_pct=None,
        failed_attempt_invoices=0, recovered_invoices=0, allowance_minor=12_345_67,
        unapplied_cash_minor=1_00,
    )  # fmt: skip


def texts(blocks: list[dict[str, object]]) -> str:
    return str(blocks)


def metrics_view(m: ArMetrics, topic: str) -> Rendered:
    return render(m, Intent(tool="ar_report", topic=topic))  # type: ignore[arg-type]


def test_aging_view_shows_each_bucket_and_asks_for_a_chart() -> None:
    view = metrics_view(metrics(), "aging")
    out = texts(view.block_dicts())
    assert "USD 410,000.00" in out and "(82.00%)" in out and "USD 10,000.00" in out
    assert view.chart is True
    button = view.block_dicts()[-1]["elements"][0]  # type: ignore[index]
    assert button["action_id"] == ActionId.SHOW_ROWS
    assert RowsRequest.model_validate_json(button["value"]) == RowsRequest(
        kind="open_invoices", as_of=AS_OF
    )


def test_metric_views_say_n_a_for_undefined_ratios() -> None:
    out = texts(metrics_view(metrics(), "bad_debt").block_dicts())
    assert "n/a" in out
    assert "91.23%" in texts(metrics_view(metrics(), "cei").block_dicts())
    assert metrics_view(metrics(), "dso").chart is False


def test_long_overdue_list_is_cut_with_and_n_more_and_csv() -> None:
    accounts = [
        OverdueAccount(customer_id=i, name=f"Customer with a rather long name number {i}" * 3,
                       overdue_minor=1_000_00 * (300 - i), oldest_days_past_due=40,
                       invoice_count=3, aging_minor=dict.fromkeys(BUCKETS, 0),
                       overdue_by_currency={"USD": 1_000_00 * (300 - i)})
        for i in range(200)
    ]  # fmt: skip
    top = TopOverdue(
        as_of=AS_OF, currency="USD", more_than_days=0, total_overdue_minor=9,
        account_count=260, accounts=accounts,
    )  # fmt: skip
    view = render(top)
    blocks = view.block_dicts()
    assert len(blocks) <= MAX_BLOCKS
    for b in blocks:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= MAX_SECTION_CHARS  # type: ignore[index]
    assert "and 235 more" in texts(blocks)
    assert view.csv == RowsRequest(kind="overdue_invoices", as_of=AS_OF, more_than_days=0)


def test_customer_view_escapes_names_and_cuts_invoices() -> None:
    invoices = [
        InvoiceLine(invoice_id=i, number=f"INV-{i}", external_id=str(i), currency="EUR",
                    total_minor=100_00, open_minor=50_00, issued_on=AS_OF, due_on=AS_OF,
                    days_past_due=0, bucket="current")
        for i in range(60)
    ]  # fmt: skip
    balance = CustomerBalance(
        customer_id=1, name="Smith & <Sons>", external_id="S1", as_of=AS_OF, currency="USD",
        balance_minor=3_240_00, past_due_minor=0, aging_minor=dict.fromkeys(BUCKETS, 0),
        balance_by_currency={"EUR": 3_000_00}, invoice_count=60, invoices=invoices,
    )  # fmt: skip
    view = render(balance)
    out = texts(view.block_dicts())
    assert "Smith &amp; &lt;Sons&gt;" in out
    assert "EUR 50.00" in out and "and 35 more" in out
    assert view.csv is not None and view.csv.customer_id == 1


def test_ambiguous_customer_offers_one_button_each() -> None:
    match = CustomerMatch(
        query="acme",
        status="ambiguous",
        candidates=[
            CustomerCandidate(customer_id=i, name=f"Acme {s}", external_id=s, score=90)
            for i, s in enumerate(["Inc", "GmbH", "Ltd"])
        ],
    )
    view = render(match, Intent(tool="customer_balance", topic="customer", as_of=AS_OF))
    [actions] = [b for b in view.block_dicts() if b["type"] == "actions"]
    buttons = actions["elements"]  # type: ignore[index]
    assert [b["text"]["text"] for b in buttons] == ["Acme Inc", "Acme GmbH", "Acme Ltd"]
    assert len({b["action_id"] for b in buttons}) == 3
    assert PickCustomer.model_validate_json(buttons[1]["value"]) == PickCustomer(
        customer_id=1, as_of=AS_OF
    )


def test_answer_text_and_blocks_carry_the_same_figures() -> None:
    m = metrics().model_copy(update={"dso": Decimal("64.6789")})
    for topic, figures in [
        ("dso", ["64.68 days", "36.90 days", "8.10 days"]),
        ("aging", ["USD 500,000.00", "USD 410,000.00", "(82.00%)", "(4.00%)"]),
        ("all", ["64.68 days", "91.23%", "8.11x", "n/a", "USD 12,345.67", "USD 1.00"]),
    ]:
        view = metrics_view(m, topic)
        for figure in figures:
            assert figure in view.text, (topic, figure)
            assert figure in texts(view.block_dicts()), (topic, figure)


def test_every_list_is_cut_at_the_same_length_in_text_and_blocks() -> None:
    accounts = [
        OverdueAccount(customer_id=i, name=f"Debtor {i:02}", overdue_minor=1_000_00,
                       oldest_days_past_due=61, invoice_count=1,
                       aging_minor=dict.fromkeys(BUCKETS, 0), overdue_by_currency={"USD": 1_000_00})
        for i in range(40)
    ]  # fmt: skip
    top = TopOverdue(
        as_of=AS_OF, currency="USD", more_than_days=60, total_overdue_minor=40_000_00,
        account_count=40, accounts=accounts,
    )  # fmt: skip
    view = render(top)
    blocks = texts(view.block_dicts())
    assert "60+ days past due" in view.text and "60+ days past due" in blocks
    for shown in ("Debtor 00", "Debtor 24"):
        assert shown in view.text and shown in blocks
    assert "Debtor 25" not in view.text and "Debtor 25" not in blocks
    assert "and 15 more" in view.text and "and 15 more" in blocks


def test_sections_and_fit_respect_limits() -> None:
    packed = sections(["x" * 1200] * 10 + ["y" * 5000])
    assert all(len(s.text.text) <= MAX_SECTION_CHARS for s in packed)  # type: ignore[union-attr]
    assert len(packed) == 6
    many = [SectionBlock(text=str(i)) for i in range(80)]
    fitted = fit(many)  # type: ignore[arg-type]
    assert len(fitted) == MAX_BLOCKS
    assert "31 more" in str(fitted[-1].to_dict())


def test_the_report_table_counts_one_invoice_as_one() -> None:
    m = metrics().model_copy(
        update={
            "failed_attempt_invoices": 1,
            "recovered_invoices": 1,
            "dunning_recovery_rate_pct": Decimal(100),
        }
    )
    table = report_table(m, Settings(database_url="sqlite://"))
    assert "(1 of 1 invoice)" in table and "invoices)" not in table
