"""Benchmark: one customer-name lookup (a typed name with a typo) on 70,000 customers, the
fuzzy step's shortlist against scoring every name. Two sets of names: the demo ledger's (30
words repeated, the worst case for a shortlist) and varied made-up names.

    python -m tests.bench.bench_lookup [--customers 70000]
"""

from __future__ import annotations

import argparse
import random
import string
import time

from rapidfuzz import fuzz, process

from db.customers import CustomerName
from db.demo import NAMES, SUFFIXES
from tools.customer_lookup import CANDIDATE_SCORE, NameIndex

QUERIES = ["Amce", "Glboex Industries", "Initeck", "Stark Indsutries", "Wyane Group 1234"]


def _demo(n: int) -> list[CustomerName]:
    out = []
    for i in range(1, n + 1):
        name = f"{NAMES[(i - 1) % len(NAMES)]} {SUFFIXES[((i - 1) // len(NAMES)) % len(SUFFIXES)]}"
        if i > len(NAMES) * len(SUFFIXES):
            name += f" {i}"
        out.append(CustomerName(i, name, f"C{i:06d}"))
    return out


def _varied(n: int, rnd: random.Random) -> list[CustomerName]:
    def word() -> str:
        return "".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randrange(4, 10)))

    names = [CustomerName(i, f"{word().title()} {word().title()} {rnd.choice(SUFFIXES)}", f"V{i}")
             for i in range(1, n + 1)]  # fmt: skip
    names[7] = CustomerName(8, "Acme Corporation", "V8")
    names[9] = CustomerName(10, "Globex Industries", "V10")
    return names


def _time(label: str, names: list[CustomerName]) -> None:
    t = time.perf_counter()
    index = NameIndex(names)
    index.match("warm up the shortlist")
    built = time.perf_counter() - t
    for q in QUERIES:
        t = time.perf_counter()
        found = index.match(q)
        took = time.perf_counter() - t
        t = time.perf_counter()
        process.extract(q.lower(), index.normal, scorer=fuzz.WRatio, score_cutoff=CANDIDATE_SCORE)
        full = time.perf_counter() - t
        top = found.candidates[0].name if found.candidates else "-"
        print(
            f"{label}: {q!r:22} {found.status:9} {top:28} shortlist {took * 1000:6.1f} ms, "
            f"every name {full * 1000:6.1f} ms (index built in {built:.2f} s)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=70_000)
    args = parser.parse_args()
    _time("demo names", _demo(args.customers))
    _time("varied names", _varied(args.customers, random.Random(3)))
