"""The digest reads the open invoices once and hands them to its parts; the at-risk scan reads
each account's balances once for the risk scores and the credit limits. Each part must say
exactly what its tool says when it reads the ledger itself, on a generated ledger with
several currencies, partial payments, credit notes, disputes and failed card attempts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from db.demo import write_demo_csvs
from tools.credit import credit_positions
from tools.csv_import import import_directory
from tools.cuts import CutInput, cut_report
from tools.deps import ToolDeps, connect
from tools.digest import DigestInput, weekly_digest
from tools.dso_change import DsoChangeInput, dso_change
from tools.forecast import ForecastInput, cash_forecast
from tools.open_book import OpenBook
from tools.overdue import TopOverdueInput, top_overdue
from tools.risk import Balances
from tools.risk_money import money_at_risk, scored, scores_in_money
from tools.settings import Settings

SUNDAY = date(2026, 11, 22)


@pytest.fixture
def deps(db_url: str, tmp_path: Path) -> Iterator[ToolDeps]:
    d = connect(Settings(database_url=db_url, timezone="UTC", reporting_currency="USD"))
    write_demo_csvs(tmp_path / "csv", customers=400, as_of=SUNDAY + timedelta(days=1))
    import_directory(d.engine, tmp_path / "csv", tz=d.settings.tz)
    yield d
    d.engine.dispose()


def test_every_part_of_the_digest_equals_its_tool_reading_the_ledger(deps: ToolDeps) -> None:
    digest = weekly_digest(deps, DigestInput(as_of=SUNDAY))
    period = deps.settings.period_days
    assert digest.top_overdue.accounts  # the ledger has something to compare
    assert digest.top_overdue == top_overdue(deps, TopOverdueInput(limit=10, as_of=SUNDAY))
    assert digest.at_risk.account_count > 0
    assert digest.at_risk == money_at_risk(deps, SUNDAY, min_level="high", limit=10)
    ahead = digest.looking_ahead
    assert ahead is not None
    assert ahead.forecast == cash_forecast(deps, ForecastInput(as_of=SUNDAY))
    assert ahead.segments == cut_report(
        deps, CutInput(by="segment", as_of=SUNDAY, period_days=period)
    )
    assert ahead.dso_change.movers
    assert ahead.dso_change == dso_change(
        deps,
        DsoChangeInput(as_of=SUNDAY, since=SUNDAY - timedelta(days=7), period_days=period, limit=3),
    )


@pytest.mark.parametrize("more_than", [None, 0, 30, 45, 90])
@pytest.mark.parametrize("segment", [None, "smb"])
def test_top_overdue_from_the_shared_read_equals_its_own(
    deps: ToolDeps, more_than: int | None, segment: str | None
) -> None:
    book = OpenBook(deps, SUNDAY)
    for limit in (1, 10, 200):
        args = TopOverdueInput(limit=limit, more_than_days=more_than, as_of=SUNDAY, segment=segment)
        assert top_overdue(deps, args, book=book) == top_overdue(deps, args)


def test_cuts_and_money_at_risk_from_the_shared_read_equal_their_own(deps: ToolDeps) -> None:
    book = OpenBook(deps, SUNDAY)
    s = deps.settings
    for by in ("segment", "method", "currency", "owner"):
        args = CutInput(by=by, as_of=SUNDAY)  # type: ignore[arg-type]
        assert cut_report(deps, args, book=book) == cut_report(deps, args)
    with deps.sessions() as session:
        scores = scored(session, s, SUNDAY, min_level="low")
        assert scores_in_money(session, s, scores, SUNDAY, book=book) == scores_in_money(
            session, s, scores, SUNDAY
        )


def test_credit_limits_from_the_risk_pass_equal_their_own_read(deps: ToolDeps) -> None:
    s = deps.settings
    for day in (SUNDAY, SUNDAY - timedelta(days=45)):
        balances: Balances = {}
        with deps.sessions() as session:
            scored(session, s, day, min_level="high", balances_out=balances)
            assert sorted(balances) == [day - timedelta(days=30), day]
            shared = credit_positions(session, day, s.tz, balances=balances)
            assert [p for p in shared if p.status != "ok"]  # some are over or heading there
            assert shared == credit_positions(session, day, s.tz)
            flagged = credit_positions(session, day, s.tz, balances=balances, flagged_only=True)
            assert flagged == [p for p in shared if p.status != "ok"]
