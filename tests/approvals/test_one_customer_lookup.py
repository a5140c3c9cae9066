"""A customer reference means the same customer in a balance, a detail, a reminder, a write-off
and an aging; a name that fits two customers gets "which one?" everywhere, never a guess."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer import answer
from db.models import Customer
from tests.approvals.conftest import COLLECTOR
from tests.approvals.ledger import day
from tests.jobs.ledger import customer_id
from tests.ledger_files import customer, invoice, write_csvs
from tools.aging import AgingInput, aging
from tools.csv_import import import_directory
from tools.customer_detail import CustomerDetailInput, customer_detail
from tools.customer_lookup import CustomerAmbiguous, CustomerMatch, match_customer
from tools.customers import CustomerBalance, CustomerBalanceInput, customer_balance
from tools.deps import ToolDeps
from tools.dunning import DunningError, DunningInput, propose_dunning_email
from tools.write_off import WriteOffInput, propose_write_off


def _add_lookalikes(deps: ToolDeps, directory: Path) -> str:
    """A customer whose external id is Globex's internal id, and a second "Acme"."""
    clash = str(customer_id(deps, "GLOBEX"))
    write_csvs(
        directory,
        customers=[
            customer(clash, name="Two Ltd", ap_email="ap@two.example.com"),
            customer("ACMEX", name="Acme Corporation", ap_email="ap@acmex.example.com"),
        ],
        invoices=[invoice("T1", "500.00", day(-60), day(-30), customer_id=clash)],
    )
    import_directory(deps.engine, directory, tz=deps.settings.tz)
    return clash


def test_an_id_names_the_same_customer_on_every_path(ap_deps: ToolDeps, tmp_path: Path) -> None:
    ref = _add_lookalikes(ap_deps, tmp_path / "more")
    balance = customer_balance(ap_deps, CustomerBalanceInput(customer=ref))
    assert isinstance(balance, CustomerBalance) and balance.name == "Two Ltd"
    assert customer_detail(ap_deps, CustomerDetailInput(customer=ref)).name == "Two Ltd"
    assert aging(ap_deps, AgingInput(customer=ref)).scope == "customer Two Ltd"
    reminder = propose_dunning_email(ap_deps, DunningInput(customer=ref, requested_by=COLLECTOR))
    assert reminder.payload["customer_name"] == "Two Ltd"
    assert reminder.payload["recipient"] == "ap@two.example.com"
    write_off = propose_write_off(
        ap_deps, WriteOffInput(invoice="INV-T1", reason="closed down", requested_by=COLLECTOR)
    )
    assert write_off.payload["customer_name"] == "Two Ltd"


def test_a_name_that_fits_two_customers_is_asked_back_everywhere(
    ap_deps: ToolDeps, tmp_path: Path
) -> None:
    _add_lookalikes(ap_deps, tmp_path / "more")
    both = ("Acme Corp", "Acme Corporation")
    balance = customer_balance(ap_deps, CustomerBalanceInput(customer="acme"))
    assert isinstance(balance, CustomerMatch) and balance.status == "ambiguous"
    assert sorted(c.name for c in balance.candidates) == list(both)
    with pytest.raises(CustomerAmbiguous) as detail:
        customer_detail(ap_deps, CustomerDetailInput(customer="acme"))
    with pytest.raises(DunningError) as reminder:
        propose_dunning_email(ap_deps, DunningInput(customer="acme", requested_by=COLLECTOR))
    slack = answer(ap_deps, "what's acme's balance?")
    for said in (str(detail.value), str(reminder.value), slack.text):
        assert all(name in said for name in both), said
        assert "which one" in said.lower(), said


def test_lookup_order_exact_then_near_then_fuzzy(ap_deps: ToolDeps, tmp_path: Path) -> None:
    _add_lookalikes(ap_deps, tmp_path / "more")
    with ap_deps.sessions() as session, session.begin():
        # the same external id from another source: unique per source only
        session.add(Customer(source="stripe", external_id="ACMEX", name="Acme Europe",
                             currency="EUR"))  # fmt: skip
    with ap_deps.sessions() as session:

        def said(query: str) -> tuple[str, list[str]]:
            found = match_customer(session, query)
            return found.status, sorted(c.name for c in found.candidates)

        assert said("Acme Corp") == ("found", ["Acme Corp"])  # exact name beats near names
        assert said("ACMEX") == ("ambiguous", ["Acme Corporation", "Acme Europe"])
        assert said("initech") == ("found", ["Initech"])  # external id in another case
        assert said("globx") == ("found", ["Globex"])  # a typo, one close name
        assert said("zenith") == ("none", [])
