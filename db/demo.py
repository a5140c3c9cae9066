"""A seeded, realistic demo ledger written as import CSVs.

The demo goes through the same importer as a customer's own export, so `arbot demo` also
exercises the real import path. Behaviour differs by segment the way it does in a SaaS
business: enterprise pays late but pays, SMB pays by card and fails, a few accounts slide
into 90+ and get written off. Rows are streamed to the files, so a million invoices need
no more memory than ten.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Generator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

HEADERS = {
    "customers": "customer_id,name,email,ap_email,segment,payment_terms_days,currency,"
    "credit_limit,owner_slack_id",
    "invoices": "invoice_id,customer_id,number,currency,total,issued_on,due_on,voided_on,"
    "written_off_on",
    "payments": "payment_id,customer_id,invoice_id,amount,currency,paid_on,status,method,"
    "failure_reason",
    "credit_notes": "credit_note_id,invoice_id,amount,currency,issued_on",
    "disputes": "dispute_id,customer_id,invoice_id,amount,currency,kind,reason,opened_on,"
    "resolved_on,outcome",
    "fx_rates": "date,currency,rate",
}


@dataclass(frozen=True)
class Segment:
    name: str
    share: float
    terms_days: int
    monthly_minor: tuple[int, int]  # invoice size range, in minor units of USD-like money
    late_days: tuple[int, int]  # usual payment delay after due date
    method: str
    bad_payer_share: float  # accounts that stop paying and slide into 90+
    card_failure_rate: float


SEGMENTS = (
    Segment("enterprise", 0.15, 60, (800_000, 6_000_000), (0, 45), "ach", 0.02, 0.0),
    Segment("mid-market", 0.35, 30, (150_000, 900_000), (-5, 25), "ach", 0.04, 0.0),
    Segment("smb", 0.50, 15, (9_900, 120_000), (-10, 10), "card", 0.08, 0.10),
)
CURRENCIES = (("USD", 0.70), ("EUR", 0.15), ("GBP", 0.10), ("JPY", 0.05))
RATE_TO_USD = {"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067}
NAMES = (
    "Acme Analytics Globex Initech Umbrella Stark Wayne Hooli Soylent Cyberdyne Tyrell "
    "Wonka Vandelay Dunder Massive Nakatomi Oceanic Gringotts Monarch Aperture Vehement "
    "Sterling Piedpiper Prestige Bluth Krusty Gekko Ollivander Zorg Virtucon"
).split()
SUFFIXES = ("Inc", "GmbH", "Ltd", "LLC", "SA", "KK", "BV", "Group")
OWNERS = ("U0AE1SALES", "U0AE2SALES", "U0AE3SALES", "U0AE4CS", "U0AE5CS")
FAILURES = ("card_declined", "insufficient_funds", "expired_card", "processing_error")
DISPUTE_REASONS = ("fraudulent", "product_not_received", "duplicate", "subscription_canceled")


def _money(minor: int, currency: str) -> str:
    exp = 0 if currency == "JPY" else 2
    if exp == 0:
        return str(minor)
    return f"{minor // 100}.{minor % 100:02d}"


def _scale(minor_usd: int, currency: str) -> int:
    if currency == "USD":
        return minor_usd
    value = minor_usd / RATE_TO_USD[currency]
    return round(value / 100) if currency == "JPY" else round(value)


def write_demo_csvs(out: Path, *, customers: int, as_of: date, seed: int = 7) -> dict[str, int]:
    """Write the six import files into `out`; return row counts per file.

    These are the importer's input, read back cell for cell, so they are written plainly
    rather than through the formula quoting of tools.csv_export (which would import a name
    with its `'`). Nothing here can start like a formula: names come from fixed word lists,
    amounts are never negative, dates are ISO.
    """
    out.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    counts = dict.fromkeys(HEADERS, 0)
    with ExitStack() as stack:
        writers = {}
        for name, header in HEADERS.items():
            fh = stack.enter_context((out / f"{name}.csv").open("w", newline="", encoding="utf-8"))
            writer = csv.writer(fh)
            writer.writerow(header.split(","))
            writers[name] = writer

        def emit(name: str, row: list[object]) -> None:
            writers[name].writerow(["" if v is None else v for v in row])
            counts[name] += 1

        for cur, usd in RATE_TO_USD.items():
            for back in range(0, 500, 1):
                day = as_of - timedelta(days=back)
                drift = 1 + 0.03 * ((back * 7919) % 200 - 100) / 100
                emit("fx_rates", [day.isoformat(), cur, f"{usd * drift:.6f}"])
        for n in range(1, customers + 1):
            for name, row in _customer(rnd, n, as_of):
                emit(name, row)
    return counts


def _customer(rnd: random.Random, n: int, as_of: date) -> Iterator[tuple[str, list[object]]]:
    seg = rnd.choices(SEGMENTS, weights=[s.share for s in SEGMENTS])[0]
    currency = rnd.choices([c for c, _ in CURRENCIES], weights=[w for _, w in CURRENCIES])[0]
    cid = f"C{n:06d}"
    word = NAMES[(n - 1) % len(NAMES)]
    name = f"{word} {SUFFIXES[((n - 1) // len(NAMES)) % len(SUFFIXES)]}"
    if n > len(NAMES) * len(SUFFIXES):
        name += f" {n}"
    slug = name.lower().replace(" ", "-")
    limit = _scale(seg.monthly_minor[1] * 3, currency)
    yield (
        "customers",
        [
            cid,
            name,
            f"billing@{slug}.example.com",
            f"ap@{slug}.example.com",
            seg.name,
            seg.terms_days,
            currency,
            _money(limit, currency),
            OWNERS[n % len(OWNERS)],
        ],
    )
    bad_payer = rnd.random() < seg.bad_payer_share
    stops_paying = as_of - timedelta(days=rnd.randint(60, 200))
    months = rnd.randint(10, 18)
    monthly = _scale(rnd.randint(*seg.monthly_minor), currency)
    first = as_of - timedelta(days=30 * months - rnd.randint(0, 29))
    for k in range(months):
        issued = first + timedelta(days=30 * k)
        if issued > as_of:
            break
        yield from _invoice(
            rnd,
            seg,
            cid,
            currency,
            f"{cid}-{k + 1:03d}",
            issued,
            monthly,
            bad_payer and issued >= stops_paying,
            as_of,
        )
    if rnd.random() < 0.02:  # cash received without remittance advice
        paid = as_of - timedelta(days=rnd.randint(1, 40))
        yield (
            "payments",
            [
                f"P{cid}-UNAPPLIED",
                cid,
                None,
                _money(monthly // 2, currency),
                currency,
                paid.isoformat(),
                "succeeded",
                "wire",
                None,
            ],
        )


Row = tuple[str, list[object]]


def _payment(
    pid: str, cid: str, iid: str, amount: str, currency: str, on: date, method: str | None
) -> Row:
    return (
        "payments",
        [pid, cid, iid, amount, currency, on.isoformat(), "succeeded", method, None],
    )


def _invoice(
    rnd: random.Random,
    seg: Segment,
    cid: str,
    currency: str,
    iid: str,
    issued: date,
    monthly: int,
    unpaid: bool,
    as_of: date,
) -> Iterator[Row]:
    """One invoice and its history: a rare void, credit note, failed card payment, dispute,
    write-off, partial or instalment payments, in the segment's habits."""
    total = max(monthly + rnd.randint(-monthly // 10, monthly // 10), 1)
    due = issued + timedelta(days=seg.terms_days)
    voided = issued + timedelta(days=rnd.randint(1, 5)) if rnd.random() < 0.01 else None
    written_off = None
    if unpaid and not voided and (as_of - due).days > 150 and rnd.random() < 0.6:
        written_off = due + timedelta(days=rnd.randint(120, 150))
    yield (
        "invoices",
        [
            iid,
            cid,
            f"INV-{iid}",
            currency,
            _money(total, currency),
            issued.isoformat(),
            due.isoformat(),
            voided.isoformat() if voided else None,
            written_off.isoformat() if written_off else None,
        ],
    )
    if voided:
        return
    remaining = total
    if rnd.random() < 0.03:
        credit = total // rnd.choice((2, 4, 10))
        credit_on = issued + timedelta(days=rnd.randint(1, 20))
        if credit_on <= as_of and credit:
            remaining -= credit
            yield (
                "credit_notes",
                [f"CN-{iid}", iid, _money(credit, currency), currency, credit_on.isoformat()],
            )
    pay_on = max(due + timedelta(days=rnd.randint(*seg.late_days)), issued)
    trouble = yield from _trouble(rnd, seg, cid, iid, currency, total, remaining, due, as_of)
    if trouble is not None:
        pay_on, unpaid = trouble[0], unpaid or trouble[1]
    if unpaid or written_off:
        yield from _partly_paid(rnd, seg, cid, iid, currency, remaining, issued, written_off, as_of)
    elif pay_on <= as_of:
        yield from _paid(rnd, seg, cid, iid, currency, remaining, pay_on, as_of)


def _trouble(
    rnd: random.Random,
    seg: Segment,
    cid: str,
    iid: str,
    currency: str,
    total: int,
    remaining: int,
    due: date,
    as_of: date,
) -> Generator[Row, None, tuple[date, bool] | None]:
    """A failed card payment (and maybe a chargeback), or a rare billing dispute; returns the
    new payment date and whether the invoice now stays unpaid, after a failure."""
    if seg.method == "card" and rnd.random() < seg.card_failure_rate:
        failed_on = due
        outcome = None
        if failed_on <= as_of:
            yield (
                "payments",
                [f"PF-{iid}", cid, iid, _money(remaining, currency), currency,
                 failed_on.isoformat(), "failed", "card", rnd.choice(FAILURES)],
            )  # fmt: skip
            pay_on = failed_on + timedelta(days=rnd.randint(2, 30))
            outcome = (pay_on, rnd.random() < 0.25)
        if rnd.random() < 0.15 and failed_on <= as_of:
            opened = failed_on + timedelta(days=rnd.randint(1, 10))
            if opened <= as_of:
                resolved = opened + timedelta(days=rnd.randint(2, 40))
                done = resolved <= as_of
                yield (
                    "disputes",
                    [f"DP-{iid}", cid, iid, _money(remaining, currency), currency, "chargeback",
                     rnd.choice(DISPUTE_REASONS), opened.isoformat(),
                     resolved.isoformat() if done else None,
                     rnd.choice(("won", "lost")) if done else None],
                )  # fmt: skip
        return outcome
    if rnd.random() < 0.01 and due <= as_of:
        opened = due + timedelta(days=rnd.randint(0, 20))
        if opened <= as_of:
            yield (
                "disputes",
                [f"DB-{iid}", cid, iid, _money(total // 3, currency), currency, "billing",
                 "customer says seats were over-counted", opened.isoformat(), None, None],
            )  # fmt: skip
    return None


def _partly_paid(
    rnd: random.Random,
    seg: Segment,
    cid: str,
    iid: str,
    currency: str,
    remaining: int,
    issued: date,
    written_off: date | None,
    as_of: date,
) -> Iterator[Row]:
    if rnd.random() < 0.3 and remaining > 1:
        partial_on = issued + timedelta(days=rnd.randint(5, 40))
        if partial_on <= as_of and (written_off is None or partial_on < written_off):
            amount = _money(remaining // 2, currency)
            yield _payment(f"PP-{iid}", cid, iid, amount, currency, partial_on, seg.method)


def _paid(
    rnd: random.Random,
    seg: Segment,
    cid: str,
    iid: str,
    currency: str,
    remaining: int,
    pay_on: date,
    as_of: date,
) -> Iterator[Row]:
    if rnd.random() < 0.1 and remaining > 1:  # paid in two instalments
        first = remaining // 2
        yield _payment(f"P1-{iid}", cid, iid, _money(first, currency), currency, pay_on, seg.method)
        second_on = pay_on + timedelta(days=rnd.randint(5, 60))
        if second_on <= as_of:
            rest = _money(remaining - first, currency)
            yield _payment(f"P2-{iid}", cid, iid, rest, currency, second_on, seg.method)
        return
    yield _payment(f"P-{iid}", cid, iid, _money(remaining, currency), currency, pay_on, seg.method)
