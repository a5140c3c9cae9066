"""Hand-computed ledgers: every metric of DESIGN section 4 and every bucket boundary."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import arbot
from tests.ledger_files import credit_note, customer, invoice, payment, write_csvs
from tools.settings import Settings

D = "2026-06-30"


def _import(capsys: pytest.CaptureFixture[str], directory: Path) -> None:
    run = arbot(capsys, "import", str(directory))
    assert run.code == 0, run.err


def test_bucket_boundaries(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    due_days_back = {
        "2026-06-30": 0,
        "2026-06-29": 1,
        "2026-05-31": 30,
        "2026-05-30": 31,
        "2026-05-01": 60,
        "2026-04-30": 61,
        "2026-04-01": 90,
        "2026-03-31": 91,
    }
    rows = [invoice(f"I{k}", f"{k + 1}.00", "2026-01-01", due) for due, k in due_days_back.items()]
    _import(capsys, write_csvs(tmp_path / "in", customers=[customer()], invoices=rows))

    report = arbot(capsys, "report", "--as-of", D, "--json").json()

    # amounts are k+1 so each boundary invoice is identifiable in its bucket
    assert report["aging"] == {
        "current": "1.00",  # 0 days past due
        "1-30": "33.00",  # 1 and 30 days: 2 + 31
        "31-60": "93.00",  # 31 and 60 days: 32 + 61
        "61-90": "153.00",  # 61 and 90 days: 62 + 91
        "90+": "92.00",  # 91 days
    }
    assert report["ar_total"] == "372.00"


def _full_ledger(tmp_path: Path) -> Path:
    return write_csvs(
        tmp_path / "ledger",
        customers=[customer("C1")],
        invoices=[
            invoice("A", "1000.00", "2026-03-01", "2026-03-31"),
            invoice("B", "500.00", "2026-05-01", "2026-05-31"),
            invoice("C", "300.00", "2026-06-01", "2026-07-01"),
            invoice("E", "200.00", "2026-04-15", "2026-05-15", voided_on="2026-04-20"),
            invoice("F", "250.00", "2026-02-01", "2026-03-03", written_off_on="2026-06-15"),
            invoice("G", "150.00", "2026-05-20", "2026-06-19"),
            invoice("H", "80.00", "2026-07-02", "2026-08-01"),
        ],
        payments=[
            payment("p1", "A", "400.00", "2026-03-15"),
            payment("p2", "A", "600.00", "2026-07-05"),
            payment(
                "p3",
                "B",
                "400.00",
                "2026-05-31",
                status="failed",
                method="card",
                failure_reason="card_declined",
            ),
            payment("p4", "B", "400.00", "2026-06-10"),
            payment("p5", "F", "50.00", "2026-03-10"),
            payment("p6", "G", "150.00", "2026-06-19", status="failed"),
            payment("p7", None, "70.00", "2026-06-20", method="wire"),
        ],
        credit_notes=[credit_note("cn1", "B", "100.00", "2026-05-10")],
    )


def test_every_metric_on_a_hand_computed_ledger(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(capsys, _full_ledger(tmp_path))

    report = arbot(capsys, "report", "--as-of", D, "--period-days", "90", "--json").json()

    # AR(D): A 600 (91 days late), C 300 (current), G 150 (11 days late); B covered, E void,
    # F written off, H not issued yet. AR(D-P) = A 600 + F 200 = 800.
    # CS(W) = B 500 + C 300 + G 150 - credit 100 = 850 (E voided, A and F before W).
    assert report == {
        "as_of": D,
        "period_days": 90,
        "currency": "USD",
        "ar_total": "1050.00",
        "aging": {
            "current": "300.00",
            "1-30": "150.00",
            "31-60": "0.00",
            "61-90": "0.00",
            "90+": "600.00",
        },
        "aging_pct": {"current": 28.57, "1-30": 14.29, "31-60": 0.0, "61-90": 0.0, "90+": 57.14},
        "credit_sales": "850.00",
        "dso": 111.18,  # 1050 / 850 x 90
        "best_possible_dso": 31.76,  # 300 / 850 x 90
        "average_days_delinquent": 79.41,  # 111.176... - 31.764...
        "ar_turnover": 3.73,  # 850 x 365/90 / ((800 + 1050) / 2)
        "cei_pct": 44.44,  # (800 + 850 - 1050) / (800 + 850 - 300)
        "bad_debt_pct": 23.53,  # F: 250 - 50 paid before write-off = 200 / 850
        "weighted_days_past_due": 75.0,  # (600 x 91 + 150 x 11) / 750
        "dunning_recovery_rate_pct": 50.0,  # B recovered, G not
        "allowance": "310.50",  # 300 x 1% + 150 x 5% + 600 x 50%
        "unapplied_cash": "70.00",
    }


def test_as_of_a_past_date_ignores_later_rows(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(capsys, _full_ledger(tmp_path))

    report = arbot(
        capsys, "report", "--as-of", "2026-05-15", "--period-days", "30", "--json"
    ).json()

    # A 600 (45 days late), B 500 - credit 100 (current; its payment comes later),
    # F 200 (73 days late; written off only in June); E void since April.
    assert report["aging"] == {
        "current": "400.00",
        "1-30": "0.00",
        "31-60": "600.00",
        "61-90": "200.00",
        "90+": "0.00",
    }
    assert report["ar_total"] == "1200.00"
    assert report["credit_sales"] == "400.00"  # B 500 - credit 100, in (Apr 15, May 15]
    assert report["dunning_recovery_rate_pct"] is None  # no failed attempt yet: n/a
    assert report["bad_debt_pct"] == 0.0


def test_design_worked_dso_example(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # AR 410,000 with trailing-12-month credit sales 5,000,000 and P = 365 gives 29.9 days.
    directory = write_csvs(
        tmp_path / "in",
        customers=[customer()],
        invoices=[invoice("X", "5000000.00", "2026-03-22", "2026-04-21")],
        payments=[payment("px", "X", "4590000.00", "2026-04-20")],
    )
    _import(capsys, directory)

    report = arbot(capsys, "report", "--as-of", D, "--period-days", "365", "--json").json()

    assert report["ar_total"] == "410000.00"
    assert report["credit_sales"] == "5000000.00"
    assert report["dso"] == 29.93
    assert report["best_possible_dso"] == 0.0


def test_zero_denominators_are_null(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    report = arbot(capsys, "report", "--as-of", D, "--json").json()

    assert report["ar_total"] == "0.00"
    for key in (
        "dso",
        "best_possible_dso",
        "average_days_delinquent",
        "ar_turnover",
        "cei_pct",
        "bad_debt_pct",
        "weighted_days_past_due",
        "dunning_recovery_rate_pct",
    ):
        assert report[key] is None, key
    assert report["aging_pct"]["current"] is None


def test_currencies_convert_at_the_rate_on_or_before_the_date(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = write_csvs(
        tmp_path / "in",
        customers=[
            customer("US"),
            customer("EU", "EUR"),
            customer("JP", "JPY"),
            customer("KW", "KWD"),
        ],
        invoices=[
            invoice("u", "100.00", "2026-06-01", "2026-07-01", customer_id="US"),
            invoice("e", "100.00", "2026-06-01", "2026-07-01", customer_id="EU", currency="EUR"),
            invoice("j", "10000", "2026-06-01", "2026-07-01", customer_id="JP", currency="JPY"),
            invoice("k", "1.005", "2026-06-01", "2026-07-01", customer_id="KW", currency="KWD"),
        ],
        fx_rates=[
            {"date": "2026-06-01", "currency": "EUR", "rate": "1.1"},
            {"date": "2026-06-29", "currency": "EUR", "rate": "1.2"},
            {"date": "2026-07-01", "currency": "EUR", "rate": "9.9"},  # after D: not used
            {"date": "2026-06-01", "currency": "JPY", "rate": "0.0067"},
            {"date": "2026-06-01", "currency": "KWD", "rate": "3.25"},
        ],
    )
    _import(capsys, directory)

    report = arbot(capsys, "report", "--as-of", D, "--json").json()
    # 100 + 100 x 1.2 + 10000 x 0.0067 + 1.005 x 3.25 = 100 + 120 + 67 + 3.26625 -> 290.27
    assert report["ar_total"] == "290.27"

    alone = arbot(capsys, "report", "--as-of", D, "--currency", "JPY", "--json").json()
    assert alone["currency"] == "JPY"
    assert alone["ar_total"] == "10000"
    kwd = arbot(capsys, "report", "--as-of", D, "--currency", "kwd", "--json").json()
    assert kwd["ar_total"] == "1.005"

    early = arbot(capsys, "report", "--as-of", "2026-05-31", "--period-days", "30", "--json")
    assert early.code == 0  # nothing open yet, so no rate is needed


def test_missing_rate_is_an_error_naming_currency_and_date(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = write_csvs(
        tmp_path / "in",
        customers=[customer("EU", "EUR")],
        invoices=[
            invoice("e", "100.00", "2026-06-01", "2026-07-01", customer_id="EU", currency="EUR")
        ],
    )
    _import(capsys, directory)

    run = arbot(capsys, "report", "--as-of", D, "--json")

    assert run.code == 2
    assert "no exchange rate for EUR on or before 2026-06-30" in run.err
    assert run.out == ""


def test_table_output_for_people(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(capsys, _full_ledger(tmp_path))

    run = arbot(capsys, "report", "--as-of", D)

    assert run.code == 0
    assert "USD 1,050.00" in run.out
    assert "111.18 days" in run.out
    assert "1 of 2 invoices" in run.out


def test_trend_points_and_many_reports_equal_one_report_per_date(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import date, timedelta

    from tools.deps import connect
    from tools.metrics import MetricsInput, ar_metrics, ar_metrics_and_trend

    dues = [
        "2026-06-30",
        "2026-06-29",
        "2026-06-23",
        "2026-06-22",
        "2026-05-31",
        "2026-05-30",
        "2026-04-01",
        "2026-03-31",
        "2026-07-07",
    ]
    directory = _full_ledger(tmp_path)
    write_csvs(
        directory,
        customers=[customer("C1"), customer("EU", "EUR")],
        invoices=[
            *[invoice(f"B{n}", f"{n + 1}.00", "2026-02-01", due) for n, due in enumerate(dues)],
            invoice("eu", "99.99", "2026-06-01", "2026-06-30", customer_id="EU", currency="EUR"),
            invoice("A", "1000.00", "2026-03-01", "2026-03-31"),
            invoice("B", "500.00", "2026-05-01", "2026-05-31"),
            invoice("C", "300.00", "2026-06-01", "2026-07-01"),
            invoice("E", "200.00", "2026-04-15", "2026-05-15", voided_on="2026-04-20"),
            invoice("F", "250.00", "2026-02-01", "2026-03-03", written_off_on="2026-06-15"),
            invoice("G", "150.00", "2026-05-20", "2026-06-19"),
            invoice("H", "80.00", "2026-07-02", "2026-08-01"),
        ],
        fx_rates=[{"date": "2026-01-01", "currency": "EUR", "rate": "1.0837"}],
    )
    _import(capsys, directory)
    deps = connect(settings)
    days = [date(2026, 6, 30) - timedelta(weeks=k) for k in range(13)]

    with deps.sessions() as session:
        reports, trend = ar_metrics_and_trend(
            session, days[:3], days, period_days=90, tz=settings.tz, reporting_currency="USD"
        )
        for k, (point, day) in enumerate(zip(trend, days, strict=True)):
            full = ar_metrics(
                session,
                MetricsInput(as_of=day, period_days=90),
                tz=settings.tz,
                reporting_currency="USD",
            )
            if k < 3:
                assert reports[k] == full, day
            assert point.ar_total_minor == full.ar_total_minor, day
            assert point.credit_sales_minor == full.credit_sales_minor, day
            assert (point.dso, point.best_possible_dso, point.average_days_delinquent) == (
                full.dso,
                full.best_possible_dso,
                full.average_days_delinquent,
            ), day
    assert trend[0].dso is not None and trend[0].best_possible_dso != trend[0].dso
    deps.engine.dispose()
