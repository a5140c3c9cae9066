"""Accounts added to the job ledger so the digest has money at risk to rank (as of Sunday
2026-11-22, Monday 2026-11-23 08:00 is "now"):

- BRIT (GBP at 1.20 from January, 1.25 from 2026-11-01; the 1.30 of 2026-11-30 comes after
  the as-of date):
  GBP 40,000.00 due 100 days before Sunday with a GBP 1,000.00 dispute open 40 days. Score
  60 (older past due +20, all of it 60+ days +25, a dispute +15): USD 50,000.00 balance,
  USD 30,000.00 at risk.
- SLOW (USD): used to pay 4 days early, paid 16 days late lately, and USD 2,000.00 is 100
  days past due. Score 60 (+20, +25, paying slower +15): USD 1,200.00 at risk.
- TINY (USD): USD 300.00 100 days past due, two failed card attempts. Score 65 (+20, +25,
  +20), so it outranks every account by score, yet USD 195.00 at risk is the least, and
  under ARBOT_RISK_MIN_BALANCE it is counted, not listed.
- Risky Inc of the base ledger gets a failed payment on Sunday: score 55, USD 2,750.00 at risk.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.jobs import ledger
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.csv_import import import_directory
from tools.deps import ToolDeps

SUNDAY = date(2026, 11, 22)


def _d(offset: int) -> str:
    return (SUNDAY + timedelta(days=offset)).isoformat()


def build(deps: ToolDeps, directory: Path) -> None:
    write_csvs(
        directory,
        customers=[
            customer("BRIT", "GBP", name="Britannia Ltd"),
            customer("SLOW", name="Slowpoke Corp"),
            customer("TINY", name="Tiny Co"),
        ],
        invoices=[
            invoice("B1", "40000.00", _d(-130), _d(-100), customer_id="BRIT", currency="GBP"),
            invoice("S1", "1000.00", _d(-230), _d(-200), customer_id="SLOW"),
            invoice("S2", "1000.00", _d(-70), _d(-40), customer_id="SLOW"),
            invoice("S3", "2000.00", _d(-130), _d(-100), customer_id="SLOW"),
            invoice("T1", "300.00", _d(-130), _d(-100), customer_id="TINY"),
        ],
        payments=[
            payment("PS1", "S1", "1000.00", _d(-204), customer_id="SLOW"),
            payment("PS2", "S2", "1000.00", _d(-24), customer_id="SLOW"),
            payment("PT1", "T1", "300.00", _d(-20), customer_id="TINY", status="failed"),
            payment("PT2", "T1", "300.00", _d(-10), customer_id="TINY", status="failed"),
        ],
        disputes=[
            {
                "dispute_id": "dp-brit",
                "customer_id": "BRIT",
                "invoice_id": "B1",
                "amount": "1000.00",
                "currency": "GBP",
                "kind": "billing",
                "reason": "quantity",
                "opened_on": _d(-40),
            }
        ],
        fx_rates=[
            {"date": "2026-01-01", "currency": "GBP", "rate": "1.20"},
            {"date": "2026-11-01", "currency": "GBP", "rate": "1.25"},
            {"date": "2026-11-30", "currency": "GBP", "rate": "1.30"},
        ],
    )
    import_directory(deps.engine, directory, tz=deps.settings.tz)
    ledger.failed_payment(deps, "R1", datetime(2026, 11, 22, 9, tzinfo=UTC), "fail-sun")


def add_mixed(deps: ToolDeps, directory: Path) -> None:
    """Two more accounts on top of `build` (GBP at 1.25 on Sunday):

    - Mixed Corp (USD) owes USD 1,000.00 and GBP 40,000.00, both 100 days past due, with two
      failed card attempts: score 65 (+20 older past due, +25 all 60+, +20 failed), on
      USD 1,000.00 + USD 50,000.00 = USD 51,000.00, so USD 33,150.00 at risk: the most.
    - Multibucket plc (GBP) owes GBP 1,000.01 100 days and GBP 1,000.01 10 days past due.
      Each bucket is USD 1,250.0125, USD 1,250.01 rounded, so USD 2,500.02; rounding the
      exact total (USD 2,500.025) would give USD 2,500.03. Score 60 (+25 half 60+, +20
      failed, +15 over its GBP 1,000.00 limit): USD 1,500.01 at risk.
    """
    write_csvs(
        directory,
        customers=[
            customer("MIX", "USD", name="Mixed Corp"),
            customer("MB", "GBP", name="Multibucket plc", credit_limit="1000.00"),
        ],
        invoices=[
            invoice("X1", "1000.00", _d(-130), _d(-100), customer_id="MIX"),
            invoice("X2", "40000.00", _d(-130), _d(-100), customer_id="MIX", currency="GBP"),
            invoice("M1", "1000.01", _d(-130), _d(-100), customer_id="MB", currency="GBP"),
            invoice("M2", "1000.01", _d(-40), _d(-10), customer_id="MB", currency="GBP"),
        ],
        payments=[
            payment("PX1", "X1", "1000.00", _d(-20), customer_id="MIX", status="failed"),
            payment("PX2", "X1", "1000.00", _d(-10), customer_id="MIX", status="failed"),
            payment("PM1", "M1", "1000.01", _d(-20), customer_id="MB", currency="GBP",
                    status="failed"),
            payment("PM2", "M1", "1000.01", _d(-10), customer_id="MB", currency="GBP",
                    status="failed"),
        ],
    )  # fmt: skip
    import_directory(deps.engine, directory, tz=deps.settings.tz)
