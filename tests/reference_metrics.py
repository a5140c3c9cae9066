"""An independent, row-by-row Decimal computation of the report, straight from CSV rows.

It shares no code with db/ or tools/metrics.py: it is the check that the SQL aggregates
implement DESIGN section 4. Dates are compared as dates (tests run with ARBOT_TIMEZONE=UTC).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

EXP = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KWD": 3}
RESERVE = [Decimal(1), Decimal(5), Decimal(10), Decimal(25), Decimal(50)]
BUCKETS = ["current", "1-30", "31-60", "61-90", "90+"]


def _d(s: object) -> date | None:
    return date.fromisoformat(str(s)) if s else None


def _minor(amount: object, cur: str) -> int:
    return int(Decimal(str(amount)).scaleb(EXP[cur]))


def _bucket(days: int) -> str:
    if days <= 0:
        return "current"
    for limit, name in ((30, "1-30"), (60, "31-60"), (90, "61-90")):
        if days <= limit:
            return name
    return "90+"


def _half_up(x: Decimal, places: int = 0) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _num(x: Decimal | None) -> float | None:
    return None if x is None else float(_half_up(x, 2))


def reference_report(
    files: dict[str, list[dict[str, Any]]], as_of: date, period: int, target: str = "USD"
) -> dict[str, Any]:
    invoices = files.get("invoices", [])
    payments = files.get("payments", [])
    credits = files.get("credit_notes", [])
    rates = files.get("fx_rates", [])
    start = as_of - timedelta(days=period)

    def rate(cur: str) -> Decimal:
        if cur == target:
            return Decimal(1)
        found = [r for r in rates if r["currency"] == cur and _d(r["date"]) <= as_of]  # type: ignore[operator]
        if not found:
            raise LookupError(cur)
        return Decimal(str(max(found, key=lambda r: r["date"])["rate"]))

    def exact(minor: int, cur: str) -> Decimal:
        return (
            Decimal(minor) * rate(cur) * Decimal(10) ** (EXP[target] - EXP[cur])
            if minor
            else Decimal(0)
        )

    def conv(per_cur: dict[str, int]) -> int:
        return int(_half_up(sum((exact(v, c) for c, v in per_cur.items()), Decimal(0))))

    def applied(inv: dict[str, Any], before: date, strict: bool = False) -> int:
        cur = inv["currency"]
        ok = (lambda d: d < before) if strict else (lambda d: d <= before)
        paid = sum(
            _minor(p["amount"], cur)
            for p in payments
            if p.get("invoice_id") == inv["invoice_id"]
            and p["status"] == "succeeded"
            and ok(_d(p["paid_on"]))
        )
        cred = sum(
            _minor(c["amount"], cur)
            for c in credits
            if c["invoice_id"] == inv["invoice_id"] and ok(_d(c["issued_on"]))
        )
        return paid + cred

    def open_at(inv: dict[str, Any], d: date) -> int:
        if _d(inv["issued_on"]) > d:  # type: ignore[operator]
            return 0
        for col in ("voided_on", "written_off_on"):
            if inv.get(col) and _d(inv[col]) <= d:  # type: ignore[operator]
                return 0
        return _minor(inv["total"], inv["currency"]) - applied(inv, d)

    buckets: dict[str, dict[str, int]] = {b: {} for b in BUCKETS}
    start_totals: dict[str, int] = {}
    weighted, past_due = Decimal(0), Decimal(0)
    for inv in invoices:
        cur = inv["currency"]
        amount = open_at(inv, as_of)
        days = (as_of - _d(inv["due_on"])).days  # type: ignore[operator]
        b = buckets[_bucket(days)]
        b[cur] = b.get(cur, 0) + amount
        if days > 0 and amount:
            weighted += exact(amount, cur) * days
            past_due += exact(amount, cur)
        start_totals[cur] = start_totals.get(cur, 0) + open_at(inv, start)
    aging = {b: conv(v) for b, v in buckets.items()}
    ar = sum(aging.values())
    ar_start = conv(start_totals)

    sales: dict[str, int] = {}
    for inv in invoices:
        issued = _d(inv["issued_on"])
        voided = _d(inv.get("voided_on"))
        if start < issued <= as_of and not (voided and voided <= as_of):  # type: ignore[operator]
            sales[inv["currency"]] = sales.get(inv["currency"], 0) + _minor(
                inv["total"], inv["currency"]
            )
    for c in credits:
        if start < _d(c["issued_on"]) <= as_of:  # type: ignore[operator]
            sales[c["currency"]] = sales.get(c["currency"], 0) - _minor(c["amount"], c["currency"])
    cs = conv(sales)

    written: dict[str, int] = {}
    for inv in invoices:
        wo = _d(inv.get("written_off_on"))
        if wo and start < wo <= as_of:
            cur = inv["currency"]
            written[cur] = (
                written.get(cur, 0) + _minor(inv["total"], cur) - applied(inv, wo, strict=True)
            )
    wo_total = conv(written)

    failed_ids = {
        p["invoice_id"]
        for p in payments
        if p["status"] == "failed" and p.get("invoice_id") and start < _d(p["paid_on"]) <= as_of
    }  # type: ignore[operator]
    by_id = {i["invoice_id"]: i for i in invoices}
    recovered = sum(
        1
        for i in failed_ids
        if applied(by_id[i], as_of) >= _minor(by_id[i]["total"], by_id[i]["currency"])
    )

    unapplied: dict[str, int] = {}
    for p in payments:
        if not p.get("invoice_id") and p["status"] == "succeeded" and _d(p["paid_on"]) <= as_of:  # type: ignore[operator]
            unapplied[p["currency"]] = unapplied.get(p["currency"], 0) + _minor(
                p["amount"], p["currency"]
            )

    def ratio(n: Decimal | int, d: Decimal | int) -> Decimal | None:
        return None if d == 0 else Decimal(n) / Decimal(d)

    def pct(n: Decimal | int, d: Decimal | int) -> Decimal | None:
        r = ratio(n, d)
        return None if r is None else r * 100

    dso = ratio(ar * period, cs)
    best = ratio(aging["current"] * period, cs)
    reserve = zip(BUCKETS, RESERVE, strict=True)
    allowance = _half_up(sum((aging[b] * r / 100 for b, r in reserve), Decimal(0)))

    def money(minor: int) -> str:
        return str(Decimal(minor).scaleb(-EXP[target]).quantize(Decimal(1).scaleb(-EXP[target])))

    return {
        "as_of": as_of.isoformat(),
        "period_days": period,
        "currency": target,
        "ar_total": money(ar),
        "aging": {b: money(aging[b]) for b in BUCKETS},
        "aging_pct": {b: _num(pct(aging[b], ar)) for b in BUCKETS},
        "credit_sales": money(cs),
        "dso": _num(dso),
        "best_possible_dso": _num(best),
        "average_days_delinquent": _num(None if dso is None or best is None else dso - best),
        "ar_turnover": _num(ratio(Decimal(cs) * 365 / period, Decimal(ar_start + ar) / 2)),
        "cei_pct": _num(pct(ar_start + cs - ar, ar_start + cs - aging["current"])),
        "bad_debt_pct": _num(pct(wo_total, cs)),
        "weighted_days_past_due": _num(ratio(weighted, past_due)),
        "dunning_recovery_rate_pct": _num(pct(recovered, len(failed_ids))),
        "allowance": money(int(allowance)),
        "unapplied_cash": money(conv(unapplied)),
    }
