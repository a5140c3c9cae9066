"""`%` and `_` in text that is matched as a prefix or a name are literal, never wildcards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from db.jobs import claimed_periods, insert_claim
from tests.ledger_files import customer, write_csvs
from tools.csv_import import import_directory
from tools.customer_lookup import CustomerNotFound, match_customer, resolve_customer
from tools.deps import ToolDeps

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_a_prefix_is_literal(deps: ToolDeps) -> None:
    for period in ("customer:1", "customerX2", "customer_3", "50%:4", "500:5"):
        assert insert_claim(deps.engine, "at-risk-alert", period, NOW, None)
    with deps.engine.connect() as conn:
        assert set(claimed_periods(conn, "at-risk-alert", "customer:")) == {"customer:1"}
        assert set(claimed_periods(conn, "at-risk-alert", "customer_")) == {"customer_3"}
        assert set(claimed_periods(conn, "at-risk-alert", "50%")) == {"50%:4"}
        assert claimed_periods(conn, "at-risk-alert", "%") == {}
        assert claimed_periods(conn, "at-risk-alert", "_") == {}


@pytest.mark.parametrize("query", ["%", "_", "%%", "__", "%_%"])
def test_wildcards_name_no_customer(deps: ToolDeps, tmp_path: object, query: str) -> None:
    directory = write_csvs(
        tmp_path / "csv",  # type: ignore[operator]
        customers=[customer("C1", name="Acme Inc"), customer("C2", name="Globex LLC")],
    )
    import_directory(deps.engine, directory, tz=deps.settings.tz)
    with Session(deps.engine) as session:
        assert match_customer(session, query).status == "none"
        with pytest.raises(CustomerNotFound):
            resolve_customer(session, query)
