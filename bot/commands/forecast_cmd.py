"""`arbot forecast`: expected cash from open invoices, week by week, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from pydantic import ValidationError

from tools.deps import connect
from tools.forecast import CashForecast, ForecastInput, cash_forecast, forecast_json
from tools.metrics import MetricsError
from tools.money import format_money
from tools.settings import load_settings


def _days(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole days, e.g. 30,60,90") from None


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "forecast",
        help="expected cash from open invoices: 13 weeks and 30/60/90-day totals",
        description="Expected cash from the invoices open at the as-of date, from each "
        "customer's history of paying (then its segment's, then its terms); promises to pay "
        "move to their date, disputes are lowered, failed card payments weighted by recovery.",
    )
    parser.add_argument(
        "--as-of", type=date.fromisoformat, metavar="YYYY-MM-DD", help="default: today"
    )
    parser.add_argument(
        "--days", type=_days, metavar="N,N,...", help="totals within these days (30,60,90)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    deps = connect(load_settings())
    try:
        request = ForecastInput(as_of=args.as_of, **({"days": args.days} if args.days else {}))
        forecast = cash_forecast(deps, request)
    except ValidationError as exc:
        for err in exc.errors():
            print(f"arbot forecast: --{err['loc'][0]}: {err['msg']}", file=sys.stderr)
        return 2
    except MetricsError as exc:
        print(f"arbot forecast: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(forecast_json(forecast), indent=2) if args.json else forecast_table(forecast))
    return 0


def forecast_table(f: CashForecast) -> str:
    cur = f.currency
    lines = [f"Cash forecast from {f.as_of} ({cur}), open AR {format_money(f.open_ar_minor, cur)}"]
    lines += [
        f"  week of {w.week_start}  {format_money(w.expected_minor, cur):>20}" for w in f.weeks
    ]
    lines += [
        f"  within {n:>3} days   {format_money(v, cur):>20}" for n, v in f.totals_minor.items()
    ]
    lines.append(
        f"  promised {format_money(f.promised_minor, cur)} · under dispute "
        f"{format_money(f.disputed_minor, cur)} · last card payment failed "
        f"{format_money(f.failed_card_minor, cur)}"
    )
    return "\n".join(lines)
