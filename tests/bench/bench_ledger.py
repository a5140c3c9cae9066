"""Benchmark: one million invoices on SQLite and PostgreSQL, beside DuckDB on the same CSVs.

Prints import rows/s, `arbot report` seconds and peak memory, each step measured as its own
`arbot` process (peak RSS from wait4). DuckDB computes the same USD report straight from
the CSVs; its figures are also checked against ours.

    .venv/bin/python -m tests.bench.bench_ledger        (ARBOT_BENCH_CUSTOMERS=7000 for a quick run)
    .venv/bin/python -m tests.bench.bench_ledger --reads-only [--sqlite URL] [--postgresql URL]
        (no import: the report rows on the cached ledger, or on the ledgers named)

Targets: `arbot report --json --as-of` a past date as a process <= 1.0 s and <= 0.5x DuckDB
over the CSVs in the same run; peak memory < 1 GiB.

The import goes into a scratch database beside the cached ledger (SQLite `import.db`,
PostgreSQL schema `bench_N_import`), which other benchmarks never read; its rate is printed
beside the limit of tests/bench/import_limit.py, the same rows written raw. ARBOT_BENCH_ONLY=import
stops after the import rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from tests.bench.big_ledger import AS_OF, big_ledger_url, csv_dir, fresh
from tests.bench.import_limit import limit_seconds

ARBOT = str(Path(sys.executable).with_name("arbot"))
PERIOD = 90


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak MiB, stdout) of one arbot process; peak RSS comes from wait4."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{err.read()}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def count_rows(directory: Path) -> int:
    return sum(sum(1 for _ in f.open()) - 1 for f in directory.glob("*.csv"))


DUCK_SQL = """
WITH params AS (SELECT DATE '{d}' AS d, DATE '{start}' AS s),
inv AS (SELECT * FROM read_csv('{dir}/invoices.csv', header=true, all_varchar=false,
        types={{'total': 'DECIMAL(18,2)', 'voided_on': 'DATE', 'written_off_on': 'DATE',
                'invoice_id': 'VARCHAR', 'customer_id': 'VARCHAR'}}) WHERE currency = 'USD'),
pay AS (SELECT * FROM read_csv('{dir}/payments.csv', header=true,
        types={{'amount': 'DECIMAL(18,2)', 'invoice_id': 'VARCHAR', 'customer_id': 'VARCHAR'}})
        WHERE currency = 'USD'),
cn AS (SELECT * FROM read_csv('{dir}/credit_notes.csv', header=true,
        types={{'amount': 'DECIMAL(18,2)', 'invoice_id': 'VARCHAR'}}) WHERE currency = 'USD'),
applied AS (
    SELECT invoice_id, on_day, amount FROM (
        SELECT invoice_id, paid_on AS on_day, amount FROM pay WHERE status = 'succeeded'
        UNION ALL SELECT invoice_id, issued_on, amount FROM cn)
),
open_at AS (
    SELECT i.invoice_id, i.due_on, t.day AS at_day,
           i.total - COALESCE(SUM(a.amount) FILTER (WHERE a.on_day <= t.day), 0) AS open
    FROM inv i CROSS JOIN (SELECT d AS day FROM params UNION ALL SELECT s FROM params) t
    LEFT JOIN applied a ON a.invoice_id = i.invoice_id
    WHERE i.issued_on <= t.day
      AND (i.voided_on IS NULL OR i.voided_on > t.day)
      AND (i.written_off_on IS NULL OR i.written_off_on > t.day)
    GROUP BY i.invoice_id, i.due_on, t.day, i.total
)
SELECT
  (SELECT SUM(open) FROM open_at, params WHERE at_day = d) AS ar,
  (SELECT SUM(open) FROM open_at, params WHERE at_day = d AND due_on >= d) AS cur,
  (SELECT SUM(open) FROM open_at, params WHERE at_day = d AND d - due_on > 90) AS over90,
  (SELECT SUM(open) FROM open_at, params WHERE at_day = s) AS ar_start,
  (SELECT SUM(total) FROM inv, params WHERE issued_on > s AND issued_on <= d
       AND (voided_on IS NULL OR voided_on > d))
   - (SELECT COALESCE(SUM(amount), 0) FROM cn, params WHERE issued_on > s AND issued_on <= d)
   AS credit_sales
"""


def duckdb_report(directory: Path) -> tuple[float, dict[str, str]]:
    start = AS_OF - timedelta(days=PERIOD)
    sql = DUCK_SQL.format(d=AS_OF, start=start, dir=directory)
    con = duckdb.connect()
    t = time.perf_counter()
    row = con.execute(sql).fetchone()
    seconds = time.perf_counter() - t
    assert row is not None
    keys = ("ar_total", "current", "90+", "ar_start", "credit_sales")
    return seconds, {k: f"{v:.2f}" for k, v in zip(keys, row, strict=True)}


def duckdb_in_child(directory: Path) -> tuple[float, dict[str, str]]:
    """Best of two DuckDB runs, in a child process: a parent grown by DuckDB's data would pass
    its peak RSS on to every arbot process it starts (Linux keeps maxrss across fork+exec)."""
    code = (
        "import json,sys;from pathlib import Path;"
        "from tests.bench.bench_ledger import duckdb_report;"
        "a=duckdb_report(Path(sys.argv[1]));b=duckdb_report(Path(sys.argv[1]));"
        "print(json.dumps([min(a[0],b[0]),a[1]]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(directory)], capture_output=True, text=True, check=True
    )
    seconds, figures = json.loads(out.stdout.strip().splitlines()[-1])
    return float(seconds), dict(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reads-only", action="store_true", help="skip the import")
    parser.add_argument("--sqlite", help="with --reads-only: this SQLite ledger URL")
    parser.add_argument("--postgresql", help="with --reads-only: this PostgreSQL ledger URL")
    args = parser.parse_args()
    directory = csv_dir()
    rows = count_rows(directory)
    duck_best, duck = duckdb_in_child(directory)
    print(f"ledger: {rows:,} CSV rows in {directory}")
    print(f"duckdb: same USD aggregation from the CSVs in {duck_best:.3f}s")
    targets = {"sqlite": 40_000, "postgresql": 30_000}
    for kind in ("sqlite", "postgresql"):
        if args.reads_only:
            url = getattr(args, kind) or big_ledger_url(kind)
            env = os.environ | {"ARBOT_DATABASE_URL": url, "ARBOT_TIMEZONE": "UTC"}
        else:
            scratch = fresh(kind, "import")
            env = os.environ | {"ARBOT_DATABASE_URL": scratch, "ARBOT_TIMEZONE": "UTC"}
            seconds, peak, _ = run_measured([ARBOT, "import", str(directory)], env)
            limit_rows, limit_s = limit_seconds(kind, directory)
            rate, limit = rows / seconds, limit_rows / limit_s
            verdict = "met" if rate >= targets[kind] and peak < 1024 else "NOT met"
            print(
                f"{kind}: import {rows:,} rows in {seconds:.1f}s = {rate:,.0f} rows/s, "
                f"peak {peak:.0f} MiB (target >= {targets[kind]:,} rows/s, < 1 GiB: {verdict}); "
                f"limit (raw {'COPY' if kind == 'postgresql' else 'executemany'}, no checks, "
                f"no index) {limit:,.0f} rows/s in {limit_s:.1f}s; "
                f"import = {rate / limit:.2f}x limit"
            )
            if os.environ.get("ARBOT_BENCH_ONLY") == "import":
                continue
        report_argv = [
            ARBOT,
            "report",
            "--as-of",
            AS_OF.isoformat(),
            "--period-days",
            str(PERIOD),
            "--json",
        ]
        timings = []
        for _ in range(3):
            seconds, peak, _out = run_measured(report_argv, env)
            timings.append(seconds)
        usd_argv = [*report_argv, "--currency", "USD"]
        _, _, usd_out = run_measured(usd_argv, env)
        inproc = _in_process_report_seconds(env)
        print(
            f"{kind}: report --as-of {AS_OF} (all currencies) as a process: first "
            f"{timings[0]:.2f}s, best {min(timings):.2f}s of 3 = {min(timings) / duck_best:.2f}x "
            f"DuckDB; {inproc:.3f}s inside the process; peak {peak:.0f} MiB"
        )
        usd = json.loads(usd_out)
        ours = {
            "ar_total": usd["ar_total"],
            "current": usd["aging"]["current"],
            "90+": usd["aging"]["90+"],
            "credit_sales": usd["credit_sales"],
        }
        theirs = {k: duck[k] for k in ours}
        print(f"{kind}: USD figures {'agree' if ours == theirs else 'DIFFER'} with DuckDB: {ours}")


def _in_process_report_seconds(env: dict[str, str]) -> float:
    code = (
        "import time,sys;from datetime import date;from tools.settings import Settings;"
        "from tools.deps import connect;from tools.report import ar_report;"
        "from tools.metrics import MetricsInput;"
        f"d=connect(Settings(database_url={env['ARBOT_DATABASE_URL']!r},timezone='UTC'));"
        "t=time.perf_counter()\n"  # the first computation: later ones are cached answers
        f"ar_report(d,MetricsInput(as_of=date.fromisoformat('{AS_OF}'),period_days={PERIOD}))\n"
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


if __name__ == "__main__":
    main()
