"""Generated ledgers: `arbot import` + `arbot report --json` agree with an independent Decimal
computation for any as-of date, buckets always sum to AR, and rows dated after D never
change the report at D."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from tests.conftest import fresh_database
from tests.ledger_files import write_csvs
from tests.reference_metrics import EXP, reference_report
from tools.csv_import import import_directory

BASE = date(2026, 1, 1)
CURRENCIES = ["USD", "EUR", "JPY", "KWD"]
BOUNDARIES = [0, 1, 30, 31, 60, 61, 90, 91]


def _day(offset: int) -> str:
    return (BASE + timedelta(days=offset)).isoformat()


def _major(minor: int, cur: str) -> str:
    return str(Decimal(minor).scaleb(-EXP[cur]).quantize(Decimal(1).scaleb(-EXP[cur])))


@st.composite
def ledgers(
    draw: st.DrawFn, *, horizon: int = 200, as_of_offset: int = 130
) -> dict[str, list[dict[str, Any]]]:
    customers = [
        {
            "customer_id": f"C{n}",
            "name": f"Customer {n}",
            "currency": draw(st.sampled_from(CURRENCIES)),
        }
        for n in range(draw(st.integers(1, 3)))
    ]
    files: dict[str, list[dict[str, Any]]] = {
        "customers": customers,
        "invoices": [],
        "payments": [],
        "credit_notes": [],
        "fx_rates": [],
    }
    for cur in ("EUR", "JPY", "KWD"):
        offsets = sorted(set([-400, *draw(st.lists(st.integers(1, horizon + 60), max_size=2))]))
        for off in offsets:
            rate = draw(st.decimals(Decimal("0.001"), Decimal("5"), places=4))
            files["fx_rates"].append({"date": _day(off), "currency": cur, "rate": str(rate)})
    for n in range(draw(st.integers(0, 10))):
        cust = draw(st.sampled_from(customers))
        cur = cust["currency"]
        total = draw(st.one_of(st.just(0), st.integers(1, 10**7)))
        if draw(st.booleans()):
            # Land exactly on an aging boundary at the as-of date more often than chance would.
            due = as_of_offset - draw(st.sampled_from(BOUNDARIES))
            issued = due - draw(st.integers(0, 60))
        else:
            issued = draw(st.integers(0, horizon))
            due = issued + draw(st.integers(0, 60))
        end = draw(st.sampled_from(["open", "open", "open", "void", "write_off"]))
        inv: dict[str, Any] = {
            "invoice_id": f"I{n}",
            "customer_id": cust["customer_id"],
            "currency": cur,
            "total": _major(total, cur),
            "issued_on": _day(issued),
            "due_on": _day(due),
        }
        if end == "void":
            inv["voided_on"] = _day(issued + draw(st.integers(0, 30)))
        elif end == "write_off":
            inv["written_off_on"] = _day(issued + draw(st.integers(0, 150)))
        files["invoices"].append(inv)
        remaining = total
        for k in range(draw(st.integers(0, 3))):
            status = draw(st.sampled_from(["succeeded", "succeeded", "failed"]))
            amount = draw(st.integers(0, remaining)) if status == "succeeded" else total
            if status == "succeeded":
                remaining -= amount
            files["payments"].append(
                {
                    "payment_id": f"P{n}-{k}",
                    "customer_id": cust["customer_id"],
                    "invoice_id": f"I{n}",
                    "amount": _major(amount, cur),
                    "currency": cur,
                    "status": status,
                    "paid_on": _day(issued + draw(st.integers(0, 120))),
                }
            )
        if remaining and draw(st.booleans()):
            files["credit_notes"].append(
                {
                    "credit_note_id": f"N{n}",
                    "invoice_id": f"I{n}",
                    "currency": cur,
                    "amount": _major(draw(st.integers(1, remaining)), cur),
                    "issued_on": _day(issued + draw(st.integers(0, 90))),
                }
            )
    for k in range(draw(st.integers(0, 2))):
        cust = draw(st.sampled_from(customers))
        files["payments"].append(
            {
                "payment_id": f"U{k}",
                "customer_id": cust["customer_id"],
                "invoice_id": None,
                "amount": _major(draw(st.integers(1, 10**6)), cust["currency"]),
                "currency": cust["currency"],
                "status": "succeeded",
                "paid_on": _day(draw(st.integers(0, horizon))),
            }
        )
    return files


def _import_and_report(
    url: str, directory: Path, as_of: date, period: int, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    monkeypatch.setenv("ARBOT_DATABASE_URL", url)
    assert main(["import", str(directory)]) == 0
    return _report(as_of, period)


def _report(as_of: date, period: int) -> dict[str, Any]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            main(["report", "--as-of", as_of.isoformat(), "--period-days", str(period), "--json"])
            == 0
        )
    return json.loads(out.getvalue())


def _check_against_reference(
    kind: str,
    files: dict[str, Any],
    as_of_offset: int,
    period: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    as_of = BASE + timedelta(days=as_of_offset)
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as url:
        report = _import_and_report(
            url, write_csvs(Path(tmp) / "in", **files), as_of, period, monkeypatch
        )
    assert report == reference_report(files, as_of, period)
    cents = sum(Decimal(v) for v in report["aging"].values())
    assert cents == Decimal(report["ar_total"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), as_of_offset=st.integers(-5, 260), period=st.integers(1, 120))
def test_report_matches_independent_computation_sqlite(
    data: st.DataObject, as_of_offset: int, period: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = data.draw(ledgers(as_of_offset=as_of_offset))
    _check_against_reference("sqlite", files, as_of_offset, period, monkeypatch)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), as_of_offset=st.integers(0, 260), period=st.integers(1, 120))
def test_report_matches_independent_computation_postgresql(
    data: st.DataObject, as_of_offset: int, period: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = data.draw(ledgers(as_of_offset=as_of_offset))
    _check_against_reference("postgresql", files, as_of_offset, period, monkeypatch)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=ledgers(horizon=100, as_of_offset=100),
    future=ledgers(horizon=60, as_of_offset=200),
    period=st.integers(1, 120),
)
def test_rows_dated_after_d_change_nothing_at_d(
    files: dict[str, Any], future: dict[str, Any], period: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_of = BASE + timedelta(days=100)
    # Shift the second ledger entirely after D and give it its own ids.
    later = {
        name: [_shifted(row, 101) for row in rows]
        for name, rows in future.items()
        if name != "fx_rates"
    }
    with tempfile.TemporaryDirectory() as tmp, fresh_database("sqlite", Path(tmp)) as url:
        before = _import_and_report(
            url, write_csvs(Path(tmp) / "a", **files), as_of, period, monkeypatch
        )
        assert main(["import", str(write_csvs(Path(tmp) / "b", **later))]) == 0
        after = _report(as_of, period)
    assert after == before


def _shifted(row: dict[str, Any], days: int) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if key.endswith("_on") and value:
            value = (date.fromisoformat(value) + timedelta(days=days)).isoformat()
        elif key.endswith("_id") and value:
            value = f"later-{value}"
        out[key] = value
    return out


def _check_trend(kind: str, files: dict[str, Any], days: list[date], period: int) -> None:
    from tools.deps import connect
    from tools.metrics import MetricsInput, ar_metrics, ar_metrics_and_trend
    from tools.settings import Settings

    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as url:
        deps = connect(Settings(database_url=url, timezone="UTC"))
        import_directory(deps.engine, write_csvs(Path(tmp) / "in", **files), tz=deps.settings.tz)
        with deps.sessions() as session:
            reports, trend = ar_metrics_and_trend(
                session,
                days[:2],
                days,
                period_days=period,
                tz=deps.settings.tz,
                reporting_currency="USD",
            )
            for k, (point, day) in enumerate(zip(trend, days, strict=True)):
                full = ar_metrics(
                    session,
                    MetricsInput(as_of=day, period_days=period),
                    tz=deps.settings.tz,
                    reporting_currency="USD",
                )
                if k < 2:
                    assert reports[k] == full, day
                assert (
                    point.ar_total_minor,
                    point.credit_sales_minor,
                    point.dso,
                    point.best_possible_dso,
                    point.average_days_delinquent,
                ) == (
                    full.ar_total_minor,
                    full.credit_sales_minor,
                    full.dso,
                    full.best_possible_dso,
                    full.average_days_delinquent,
                ), day
        deps.engine.dispose()


@settings(max_examples=25, deadline=None)
@given(data=st.data(), end=st.integers(0, 260), period=st.integers(1, 120))
def test_dso_trend_equals_a_full_report_per_date_sqlite(
    data: st.DataObject, end: int, period: int
) -> None:
    files = data.draw(ledgers(as_of_offset=end))  # due dates on the first point's boundaries
    days = [BASE + timedelta(days=end - 7 * k) for k in range(13)]
    _check_trend("sqlite", files, days, period)


@settings(max_examples=6, deadline=None)
@given(data=st.data(), end=st.integers(0, 260), period=st.integers(1, 120))
def test_dso_trend_equals_a_full_report_per_date_postgresql(
    data: st.DataObject, end: int, period: int
) -> None:
    files = data.draw(ledgers(as_of_offset=end))  # due dates on the first point's boundaries
    days = [BASE + timedelta(days=end - 7 * k) for k in range(13)]
    _check_trend("postgresql", files, days, period)


def _check_exposure(kind: str, files: dict[str, Any], as_of: date) -> None:
    """The risk scan's and the overdue list's per-account sums equal the same sums over the
    per-invoice groups."""
    from db.exposure import customer_exposure, open_by_customer_bucket
    from db.open_amounts import open_groups
    from tools.buckets import BUCKETS, bucket_of, due_before, due_ranges
    from tools.clock import day_cut
    from tools.deps import connect
    from tools.settings import Settings

    before = as_of - timedelta(days=30)
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as url:
        deps = connect(Settings(database_url=url, timezone="UTC"))
        import_directory(deps.engine, write_csvs(Path(tmp) / "in", **files), tz=deps.settings.tz)
        tz = deps.settings.tz
        with deps.sessions() as session:
            by_bucket = {
                (r.customer_id, r.currency): (r.by_bucket, r.oldest_due_on, r.invoice_count)
                for r in open_by_customer_bucket(session, day_cut(as_of, tz), due_ranges(as_of))
            }
            per_invoice: dict[tuple[int, str], tuple[dict[str, int], date, int]] = {}
            for g in open_groups(session, day_cut(as_of, tz), per_customer=True):
                buckets, oldest, count = per_invoice.get(
                    (int(g.customer_id or 0), g.currency),
                    ({b: 0 for b in BUCKETS}, g.due_on, 0),
                )
                buckets[bucket_of((as_of - g.due_on).days)] += g.open_minor
                per_invoice[(int(g.customer_id or 0), g.currency)] = (
                    buckets,
                    min(oldest, g.due_on),
                    count + g.invoice_count,
                )
            assert by_bucket == per_invoice
            got = customer_exposure(
                session,
                (day_cut(before, tz), before),
                (day_cut(as_of, tz), as_of),
                over_due_before=due_before(as_of, 60),
            )
            want: dict[tuple[int, str], list[int]] = {}
            for k, day in enumerate((as_of, before)):
                for g in open_groups(session, day_cut(day, tz), per_customer=True):
                    sums = want.setdefault((int(g.customer_id or 0), g.currency), [0] * 7)
                    late = (day - g.due_on).days
                    if k == 0:
                        sums[0] += g.open_minor
                        sums[1] += g.open_minor if late > 60 else 0
                        sums[2] += g.open_minor if late > 0 else 0
                        sums[3] += g.open_minor * late if late > 0 else 0
                    else:
                        sums[4] += g.open_minor if late > 0 else 0
                        sums[5] += g.open_minor * late if late > 0 else 0
                        sums[6] += g.open_minor
        deps.engine.dispose()
    nonzero = {key: list(e) for key, e in got.items() if any(e)}
    assert nonzero == {key: v for key, v in want.items() if any(v)}


@settings(max_examples=25, deadline=None)
@given(data=st.data(), as_of_offset=st.integers(0, 260))
def test_risk_exposure_equals_per_invoice_sums_sqlite(
    data: st.DataObject, as_of_offset: int
) -> None:
    files = data.draw(ledgers(as_of_offset=as_of_offset))
    _check_exposure("sqlite", files, BASE + timedelta(days=as_of_offset))


@settings(max_examples=6, deadline=None)
@given(data=st.data(), as_of_offset=st.integers(0, 260))
def test_risk_exposure_equals_per_invoice_sums_postgresql(
    data: st.DataObject, as_of_offset: int
) -> None:
    files = data.draw(ledgers(as_of_offset=as_of_offset))
    _check_exposure("postgresql", files, BASE + timedelta(days=as_of_offset))
