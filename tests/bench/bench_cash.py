"""Benchmark: cash application on a generated ledger and bank statements that are messy the
way real ones are. Prints, for suggestions with confidence >= 0.9, precision (the share whose
customer and set of invoices are the true ones) and coverage (the share of true customer
receipts suggested right), and seconds per 10,000 bank lines.

    python -m tests.bench.bench_cash                       # 2,000 customers, 5,000 lines
    python -m tests.bench.bench_cash --customers 7000 --lines 10000
    python -m tests.bench.bench_cash --big --lines 10000   # the million-invoice ledger
    python -m tests.bench.bench_cash --big --lines 10000 --db postgresql

The statement: 95% customer receipts paying one invoice or several (20%) of one customer,
bank fees deducted from 10%; references spelled "INV-C000123-004", "c000123-004",
"inv c000123 004", several numbers, truncated, with a typo, or missing; payer names exact,
upper case without the legal suffix, with a typo, or a treasury or parent name unrelated to
the customer's; 5% unrelated credits (interest, refunds); 3% from another firm whose name
shares one word with a customer's ("ACME PLUMBING SERVICES" beside "Acme Corporation"),
paying exactly one of that customer's open amounts with no reference: none is theirs. And
the traps a matcher that trusts one signal falls into: partial payments (4%, and 2% from a
treasury payer), a second payment of an invoice paid lately (2%; right is the customer with
no invoice, the money unapplied cash), a reference quoting another real invoice's number
instead of the one paid (3%), a typo that swaps a digit (possibly into another real number),
and half the unrelated credits for exactly some open invoice's amount. Two
statements are read: the first on an empty alias table, the second after the people applying
the first taught the payer names (what approving a match does). `--big` works on a scratch
copy of the shared ledger, never on the cache itself. Under each statement's figures, the
true receipts missed (and the sure suggestions that are wrong) are counted by the kind of
mess the generator gave them ("payer=treasury ref=missing fee"). Targets: precision >= 99.5%,
coverage >= 95%, <= 10 s.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from db import bank as bank_db
from db.customers import customer_names
from db.demo import write_demo_csvs
from db.engine import make_engine, transaction, upgrade
from db.invoices import OpenInvoiceRow, open_invoices
from db.models import Invoice
from tests.bench.big_ledger import BENCH_DIR, PG_SCHEMA, PG_URL, big_ledger_url
from tests.cash.statements import Line, csv_text
from tools.bank_import import import_statements
from tools.cash_keys import payer_key
from tools.cash_suggest import CashMatch, CashMatchInput, TxnOut, cash_match
from tools.clock import day_cut
from tools.csv_import import import_directory
from tools.deps import ToolDeps, connect
from tools.money import format_major
from tools.settings import Settings

AS_OF = date(2026, 11, 23)


@dataclass(frozen=True)
class Settled:
    number: str
    currency: str
    total_minor: int


@dataclass(frozen=True)
class Truth:
    customer: str | None  # import id; None for an unrelated credit
    invoices: frozenset[str]
    kind: str = ""  # the messiness the generator gave the line: "payer=... ref=... fee multi"


SCRATCH = f"cash_bench_{os.getpid()}"


def _pg_scratch() -> str:
    """The shared PostgreSQL ledger read through a scratch schema that holds the bank tables
    the bench writes: the cache itself is never written, and nothing is copied."""
    big_ledger_url("postgresql")
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {SCRATCH}"))
        for table in ("bank_txns", "payer_aliases"):
            conn.execute(
                sa.text(f"CREATE TABLE {SCRATCH}.{table} (LIKE {PG_SCHEMA}.{table} INCLUDING ALL)")
            )
    admin.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{SCRATCH}%2C{PG_SCHEMA}"


def _sqlite_scratch() -> Path:
    """This run's copy of the shared SQLite ledger: two runs at once never share one."""
    return BENCH_DIR / f"{SCRATCH}.db"


def _drop_scratch() -> None:
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE"))
    admin.dispose()


def _ledger(args: argparse.Namespace, workdir: Path) -> str:
    if args.big and args.db == "postgresql":
        return _pg_scratch()
    if args.big:
        source = Path(big_ledger_url("sqlite").removeprefix("sqlite:///"))
        copy = _sqlite_scratch()
        shutil.copyfile(source, copy)
        return f"sqlite:///{copy}"
    url = f"sqlite:///{workdir / 'ledger.db'}"
    engine = make_engine(url)
    upgrade(engine)
    csvs = workdir / "csv"
    write_demo_csvs(csvs, customers=args.customers, as_of=AS_OF, seed=args.seed)
    import_directory(engine, csvs, tz=Settings(database_url=url).tz)
    engine.dispose()
    return url


def _typo(rnd: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rnd.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _digit(rnd: random.Random, number: str) -> str:
    """One digit written wrong, as a person copying a number does: "C000218" -> "C000219"."""
    spots = [i for i, ch in enumerate(number) if ch.isdigit()]
    i = rnd.choice(spots[-3:]) if spots else 0
    if not spots:
        return number
    return number[:i] + str((int(number[i]) + rnd.randrange(1, 10)) % 10) + number[i + 1 :]


def _partial(rnd: random.Random, total: int) -> int:
    """A part of an invoice paid now, the rest later: a third to four fifths, odd cents."""
    return max(1, int(total * rnd.uniform(0.3, 0.8)))


def _payer_style(rnd: random.Random, name: str) -> tuple[str, str]:
    """A customer's payer name as its bank writes it, and the kind of mess."""
    roll = rnd.random()
    words = name.split()
    if roll < 0.4:
        return name, "exact"
    if roll < 0.6:
        return " ".join(
            w
            for w in words
            if w.lower()
            not in {"inc", "sa", "gmbh", "ltd", "kk", "group", "plc", "ag", "llc", "bv"}
        ).upper(), "upper"
    if roll < 0.8:
        return _typo(rnd, name), "typo"
    parent = rnd.choice(["NORTHWIND", "CONTOSO", "FABRIKAM", "TAILSPIN"])
    return f"{parent} TREASURY {rnd.randrange(100, 999)}", "treasury"


def _reference(rnd: random.Random, numbers: list[str]) -> tuple[str, str]:
    """A remittance reference for these invoice numbers, and the kind of mess."""
    roll = rnd.random()
    bare = [n.removeprefix("INV-") for n in numbers]
    if roll < 0.3:
        return " ".join(numbers), "numbers"
    if roll < 0.45:
        return " ".join(b.lower() for b in bare), "bare"
    if roll < 0.55:
        return "inv " + ", ".join(b.replace("-", " ") for b in bare), "spaced"
    if roll < 0.65:
        return "PAYMENT FOR INVOICES " + "/".join(numbers), "words"
    if roll < 0.72:
        return " ".join(numbers)[: rnd.randrange(6, 12)], "truncated"  # cut off by the bank
    if roll < 0.75:
        return _typo(rnd, numbers[0]), "typo"
    if roll < 0.78:
        return _digit(rnd, numbers[0]), "digit-typo"
    if roll < 0.85:
        return rnd.choice(["THANK YOU", "PAYMENT", "AP RUN 2026-11", ""]), "no-number"
    return "", "missing"


def statement(
    rnd: random.Random,
    by_customer: dict[int, list[OpenInvoiceRow]],
    names: dict[int, tuple[str, str]],
    payers: dict[int, tuple[str, str]],
    lines: int,
    booked: date,
    prefix: str,
    settled: dict[int, list[Settled]] | None = None,
) -> tuple[list[Line], dict[str, Truth]]:
    out: list[Line] = []
    truth: dict[str, Truth] = {}
    customers = [c for c, rows in by_customer.items() if rows]
    numbers_all = [r.number or r.external_id for rows in by_customer.values() for r in rows]
    for n in range(lines):
        ref = f"{prefix}{n:06d}"
        if rnd.random() < 0.05 or not customers:
            if customers and rnd.random() < 0.5:  # an amount some open invoice has, by chance
                hit = rnd.choice(by_customer[rnd.choice(customers)])
                amount, kind = format_major(hit.open_minor, hit.currency), "unrelated=amount"
            else:
                amount, kind = f"{rnd.randrange(1, 90000) / 100:.2f}", "unrelated"
            text = rnd.choice(["INTEREST NOV", "REFUND VENDOR 4411", "FX ADJ", "CASHBACK", ""])
            payer = rnd.choice(["", "OUR BANK", "STAPLES REFUNDS", "AMEX SETTLEMENT"])
            out.append(Line(ref, booked, amount, payer=payer, remittance=text))
            truth[ref] = Truth(None, frozenset(), kind)
            continue
        cid = rnd.choice(customers)
        pool = by_customer[cid]
        trap = rnd.random()
        paid_before = (settled or {}).get(cid, [])
        if trap < 0.02 and paid_before:  # the customer pays an invoice already paid, again
            again = rnd.choice(paid_before)
            payer, payer_kind = payers[cid]
            out.append(
                Line(
                    ref,
                    booked,
                    format_major(again.total_minor, again.currency),
                    currency=again.currency,
                    payer=payer,
                    remittance=rnd.choice([again.number, ""]),
                )
            )
            truth[ref] = Truth(names[cid][0], frozenset(), f"payer={payer_kind} duplicate")
            continue
        if trap < 0.08:  # part of one invoice; from a treasury a third of the time
            inv = pool.pop(rnd.randrange(len(pool)))
            if not pool:
                customers.remove(cid)
            treasury = trap >= 0.06
            payer, payer_kind = (
                (f"CONTOSO TREASURY {rnd.randrange(100, 999)}", "treasury")
                if treasury
                else payers[cid]
            )
            remittance, ref_kind = _reference(rnd, [inv.number or inv.external_id])
            out.append(
                Line(
                    ref,
                    booked,
                    format_major(_partial(rnd, inv.open_minor), inv.currency),
                    currency=inv.currency,
                    payer=payer,
                    remittance=remittance,
                )
            )
            kind = f"payer={payer_kind} ref={ref_kind} partial"
            truth[ref] = Truth(names[cid][0], frozenset({inv.external_id}), kind)
            continue
        quote_other = trap < 0.11
        if rnd.random() < 0.03:
            word = names[cid][1].split()[0].upper()
            trade = rnd.choice(["PLUMBING SERVICES", "DENTAL CARE", "AUTO REPAIRS", "BAKERY"])
            amount = format_major(pool[0].open_minor, pool[0].currency)
            other = f"{word} {trade}"
            out.append(Line(ref, booked, amount, currency=pool[0].currency, payer=other))
            truth[ref] = Truth(None, frozenset(), "look-alike")
            continue
        k = 1 if rnd.random() < 0.8 or len(pool) < 2 else rnd.randrange(2, min(3, len(pool)) + 1)
        picked = [pool.pop(rnd.randrange(len(pool))) for _ in range(k)]
        if not pool:
            customers.remove(cid)
        total = sum(r.open_minor for r in picked)
        currency = picked[0].currency
        fee = rnd.random() < 0.1
        if fee:
            total -= rnd.randrange(5, 36) * 100  # a bank fee, within the default tolerance
        numbers = [r.number or r.external_id for r in picked]
        payer, payer_kind = payers[cid]
        remittance, ref_kind = _reference(rnd, numbers)
        if quote_other:  # the number of another real invoice, not the one paid
            remittance, ref_kind = rnd.choice(numbers_all), "other-invoice"
        out.append(
            Line(
                ref,
                booked,
                format_major(total, currency),
                currency=currency,
                payer=payer,
                remittance=remittance,
            )
        )
        kind = f"payer={payer_kind} ref={ref_kind}" + (" fee" if fee else "")
        kind += " multi" if k > 1 else ""
        truth[ref] = Truth(names[cid][0], frozenset(r.external_id for r in picked), kind)
    return out, truth


def score(result: CashMatch, truth: dict[str, Truth]) -> tuple[int, int, int, int]:
    """(suggested at >= 0.9, of them right, true customer receipts, of them right at >= 0.9)."""
    sure = right = receipts = covered = 0
    for t in result.transactions:
        want = truth.get(t.bank_txn_id)
        if want is None:
            continue
        receipts += want.customer is not None
        s = t.suggestion
        if s is None or s.confidence < 0.9:
            continue
        sure += 1
        ok = s.customer_id == want.customer and {a.invoice_id for a in s.allocations} == set(
            want.invoices
        )
        right += ok
        covered += ok and want.customer is not None
    return sure, right, receipts, covered


def _misses(mine: list[TxnOut], truth: dict[str, Truth], verbose: bool) -> None:
    """The true receipts not suggested right at >= 0.9 (and the wrong sure ones), counted by
    the kind of mess the generator gave them; every line with `verbose`."""
    by_kind: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    for x in mine:
        want, s = truth[x.bank_txn_id], x.suggestion
        sure = s is not None and s.confidence >= 0.9
        got = None if s is None else (s.customer_id, {a.invoice_id for a in s.allocations})
        if (sure and got != (want.customer, set(want.invoices))) or (want.customer and not sure):
            by_kind[("wrong " if sure else "missed ") + want.kind] += 1
            causes[("wrong: " if sure else "") + _cause(want.kind, s.reasons if s else [])] += 1
            if verbose:
                why = f"{s.confidence} {s.reasons}" if s else ""
                print(
                    f"  miss [{want.kind}] {x.payer_name} | {x.reference} | {x.amount} want "
                    f"{want.customer} {sorted(want.invoices)} got {got} {why}"
                )
    if verbose:
        print("  by cause:")
        for cause, n in causes.most_common():
            print(f"  {n:4d}  {cause}")
        print("  by kind:")
    for kind, n in by_kind.most_common():
        print(f"  {n:4d}  {kind}")


def _cause(kind: str, reasons: list[str]) -> str:
    """Why a line was missed, in a finance team's words: the mess the generator made and
    what the matcher made of it."""
    treasury, said = "payer=treasury" in kind, " ".join(reasons)
    no_number = any(f"ref={r}" in kind for r in ("missing", "no-number", "truncated"))
    if "duplicate" in kind:
        return "second payment of an invoice paid lately"
    if "other-invoice" in kind:
        return "reference quotes another real invoice"
    if "partial" in kind:
        who = "treasury" if treasury else "known payer"
        return f"{who} part payment, " + ("no usable number" if no_number else "number given")
    if treasury and "payer name is close" in said:
        return "treasury name read as a customer's (a shared number)"
    if treasury and "payer not recognised" in said:
        return "unknown payer, exact amount not rare enough"
    if "fee" in kind:
        return "fee-short: several invoices within the tolerance, or payer not resolved"
    if "learned" in said:
        return "learned payer name points to another customer"
    return "other: misspelt payer or number, several invoices, amount not unique"


BANDS = ((0.9, 0.95), (0.95, 0.99), (0.99, 1.01))


def _calibration(mine: list[TxnOut], truth: dict[str, Truth]) -> str:
    """Precision of the suggestions in each confidence band: honest confidence means each
    band is right at least as often as its lower edge says."""
    out = []
    for low, high in BANDS:
        band = [
            x for x in mine if x.suggestion is not None and low <= x.suggestion.confidence < high
        ]
        right = sum(
            (x.suggestion.customer_id, {a.invoice_id for a in x.suggestion.allocations})
            == (truth[x.bank_txn_id].customer, set(truth[x.bank_txn_id].invoices))
            for x in band
            if x.suggestion is not None
        )
        label = f">= {low}" if high > 1 else f"{low}-{high}"
        out.append(f"{label}: {100 * right / max(len(band), 1):.1f}% ({right}/{len(band)})")
    return "  calibration " + ", ".join(out)


def _settled(session: Session, since: datetime) -> dict[int, list[Settled]]:
    """Each customer's invoices paid in full since `since`: what a duplicate payment pays."""
    query = sa.select(
        Invoice.customer_id, Invoice.number, Invoice.external_id, Invoice.currency,
        Invoice.total_minor,
    ).where(Invoice.settled_at >= since, Invoice.voided_at.is_(None),
            Invoice.written_off_at.is_(None))  # fmt: skip
    out: dict[int, list[Settled]] = {}
    for cid, number, ext, currency, total in session.execute(query):
        out.setdefault(cid, []).append(Settled(number or ext, currency, total))
    return out


def _teach(deps: ToolDeps, lines: Iterable[Line], truth: dict[str, Truth]) -> None:
    """What approving the first statement's receipts teaches: each payer name's customer."""
    with transaction(deps.sessions) as session:
        ids = {n.external_id: n.id for n in customer_names(session)}
        now = datetime.now(UTC)
        for line in lines:
            want = truth[line.ref]
            key = payer_key(line.payer)
            if want.customer is not None and key:
                bank_db.learn_alias(session, key, ids[want.customer], 0, now)


def run(args: argparse.Namespace) -> None:
    try:
        _run(args)
    finally:
        if args.big and args.db == "postgresql":
            _drop_scratch()
        elif args.big:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{_sqlite_scratch()}{suffix}").unlink(missing_ok=True)


def _run(args: argparse.Namespace) -> None:
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        t = time.perf_counter()
        url = _ledger(args, workdir)
        print(f"ledger ready in {time.perf_counter() - t:.1f}s: {url}")
        deps = connect(Settings(database_url=url, timezone="UTC"))
        with deps.sessions() as session:
            rows = open_invoices(session, day_cut(AS_OF, deps.settings.tz))
            names = {c.id: (c.external_id, c.name) for c in customer_names(session)}
            settled = _settled(session, day_cut(AS_OF - timedelta(days=60), deps.settings.tz))
        by_customer: dict[int, list[OpenInvoiceRow]] = {}
        for r in rows:
            by_customer.setdefault(r.customer_id, []).append(r)
        payers = {cid: _payer_style(rnd, name) for cid, (_, name) in names.items()}
        print(f"{len(rows):,} open invoices of {len(by_customer):,} customers")
        for month, booked in (
            ("first", AS_OF - timedelta(days=20)),
            ("second", AS_OF - timedelta(days=2)),
        ):
            lines, truth = statement(
                rnd, by_customer, names, payers, args.lines, booked, month[0].upper(), settled
            )
            path = workdir / f"{month}.csv"
            path.write_text(csv_text(lines))
            t = time.perf_counter()
            import_statements(deps, [path], progress=False)
            imported = time.perf_counter() - t
            t, cpu = time.perf_counter(), time.process_time()
            result = cash_match(deps, CashMatchInput(as_of=AS_OF))
            matched, matched_cpu = time.perf_counter() - t, time.process_time() - cpu
            mine = [x for x in result.transactions if x.bank_txn_id in truth]
            result = CashMatch(as_of=result.as_of, transactions=mine)
            sure, right, receipts, covered = score(result, truth)
            per = 10_000 / max(len(result.transactions), 1)
            seconds, cpu_seconds = matched * per, matched_cpu * per
            print(
                f"{month} statement ({len(lines):,} lines; aliases "
                f"{'learned' if month == 'second' else 'none'}): "
                f"precision {100 * right / max(sure, 1):.2f}% ({right}/{sure}), "
                f"coverage {100 * covered / max(receipts, 1):.2f}% ({covered}/{receipts}), "
                f"match {seconds:.2f} s per 10,000 lines ({cpu_seconds:.2f} s CPU) "
                f"(import {imported * 10_000 / len(lines):.2f} s)"
            )
            print(_calibration(mine, truth))
            _misses(mine, truth, args.misses)
            if month == "first":
                _teach(deps, lines, truth)
                # the first statement's lines are decided: leave them out of the second run
                with transaction(deps.sessions) as session:
                    for x in mine:
                        [txn] = bank_db.txns_by_ref(session, x.bank_txn_id)
                        bank_db.decide_if_unapplied(
                            session,
                            txn.id,
                            status="left",
                            by="bench",
                            at=datetime.now(UTC),
                            how=None,
                            customer_id=None,
                        )
        deps.engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--big", action="store_true", help="the million-invoice ledger")
    parser.add_argument(
        "--db", choices=["sqlite", "postgresql"], default="sqlite", help="with --big"
    )
    parser.add_argument("--misses", action="store_true", help="print every wrong or missed line")
    run(parser.parse_args())
