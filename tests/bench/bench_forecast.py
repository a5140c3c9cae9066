"""Backtest of the cash forecast on generated ledgers.

For several seeds and several past dates D, the forecast is made at D (it reads only what
the ledger knew at D) and compared with the cash actually collected after D on the invoices
issued by D. Printed: the absolute error of the 30/60/90-day totals as % of the actual, for
the forecast and for two naive ones: everything paid on its due date (past due: the next
day), and everything paid the company's average days-to-pay after issue.

    .venv/bin/python -m tests.bench.bench_forecast  [--customers 600] [--seeds 1,2,3]

Target: 30-day error <= 10%, and below both naive forecasts at every horizon.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import mean

from sqlalchemy import func, select

from db.demo import write_demo_csvs
from db.invoices import open_invoices
from db.models import Invoice, Payment, PaymentStatus
from db.pay_speed import pay_speed
from tools.clock import day_cut
from tools.csv_import import import_directory
from tools.deps import ToolDeps, connect
from tools.forecast import ForecastInput, cash_forecast
from tools.metrics import Converter
from tools.settings import Settings

END = date(2026, 6, 30)
BACK = (90, 120, 150, 180, 240)
HORIZONS = (30, 60, 90)


def actual(deps: ToolDeps, day: date, horizon: int) -> int:
    """Cash received in the `horizon` days after `day` on invoices issued by then."""
    tz = deps.settings.tz
    cut, until = day_cut(day, tz), day_cut(day + timedelta(days=horizon), tz)
    with deps.sessions() as session:
        query = (
            select(Payment.currency, func.sum(Payment.amount_minor))
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(Payment.status == PaymentStatus.SUCCEEDED)
            .where(Payment.paid_at >= cut, Payment.paid_at < until, Invoice.issued_at < cut)
            .group_by(Payment.currency)
        )
        fx = Converter(session, deps.settings.reporting_currency, day)
        return fx.minor({cur: int(total) for cur, total in session.execute(query)})


def naive(deps: ToolDeps, day: date, horizon: int, *, by_due: bool) -> int:
    tz = deps.settings.tz
    cut = day_cut(day, tz)
    with deps.sessions() as session:
        rows = open_invoices(session, cut)
        speeds = pay_speed(session, day_cut(day - timedelta(days=365), tz), cut, by="segment")
        paid = sum(r.invoices_paid for r in speeds)
        avg = sum(r.avg_days_to_pay * r.invoices_paid for r in speeds) / paid if paid else 0
        fx = Converter(session, deps.settings.reporting_currency, day)
        per_cur: dict[str, int] = {}
        for r in rows:
            when = r.due_on if by_due else r.issued_at.date() + timedelta(days=round(avg))
            when = max(when, day + timedelta(days=1))
            if when <= day + timedelta(days=horizon):
                per_cur[r.currency] = per_cur.get(r.currency, 0) + r.open_minor
        return fx.minor(per_cur)


def pct_error(forecast: int, real: int) -> Decimal:
    return abs(Decimal(forecast - real)) / Decimal(real) * 100 if real else Decimal(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    errors: dict[str, dict[int, list[Decimal]]] = {
        k: {h: [] for h in HORIZONS} for k in ("forecast", "due date", "average")
    }
    print(
        f"{'seed':>4} {'as of':>10} {'h':>3} {'actual':>14} {'forecast':>14}"
        f" {'err%':>6} {'due%':>6} {'avg%':>6}"
    )
    for seed in (int(s) for s in args.seeds.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            write_demo_csvs(out / "csv", customers=args.customers, as_of=END, seed=seed)
            settings = Settings(database_url=f"sqlite:///{out / 'ledger.db'}")
            deps = connect(settings)
            import_directory(deps.engine, out / "csv", tz=settings.tz)
            for back in BACK:
                day = END - timedelta(days=back)
                forecast = cash_forecast(deps, ForecastInput(as_of=day, days=list(HORIZONS)))
                for h in HORIZONS:
                    real = actual(deps, day, h)
                    ours = forecast.totals_minor[h]
                    by_due = naive(deps, day, h, by_due=True)
                    by_avg = naive(deps, day, h, by_due=False)
                    row = [pct_error(ours, real), pct_error(by_due, real), pct_error(by_avg, real)]
                    for key, value in zip(errors, row, strict=True):
                        errors[key][h].append(value)
                    print(
                        f"{seed:>4} {day.isoformat():>10} {h:>3} {real / 100:>14,.2f}"
                        f" {ours / 100:>14,.2f} {row[0]:>6.1f} {row[1]:>6.1f} {row[2]:>6.1f}"
                    )
            deps.engine.dispose()
    print("\nmean absolute error, % of actual cash collected")
    print(f"{'horizon':>8} {'forecast':>9} {'due date':>9} {'average':>9}")
    for h in HORIZONS:
        cells = [f"{float(mean(errors[k][h])):>9.1f}" for k in errors]
        print(f"{h:>8} {' '.join(cells)}")
    ok30 = mean(errors["forecast"][30]) <= 10
    better = all(
        mean(errors["forecast"][h]) < min(mean(errors["due date"][h]), mean(errors["average"][h]))
        for h in HORIZONS
    )
    print(
        f"target 30-day error <= 10%: {'met' if ok30 else 'missed'}; "
        f"better than both naive forecasts at every horizon: {'yes' if better else 'no'}"
    )


if __name__ == "__main__":
    main()
