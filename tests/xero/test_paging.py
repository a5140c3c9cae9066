"""Paging as Xero pages: runs of equal update times, a long Retry-After, and the fake itself
answering `order`, `where` and `pagination` as Xero's API does."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.fakes.xero_api import TENANT, FakeXero
from tests.xero.conftest import build_world, sync
from tests.xero.test_sync import invoices
from tools.deps import ToolDeps
from tools.stripe_sync import SyncInterrupted
from tools.xero_sync import XeroSession


def test_bulk_timestamp_then_many_changes_is_read_once(xdeps: ToolDeps, fake: FakeXero) -> None:
    c = fake.add_contact("Acme")
    fake.step_ms = 0
    for _ in range(4):  # a conversion import: four invoices share one UpdatedDateUTC
        fake.add_invoice(c, "10.00", on=date(2026, 1, 9))
    fake.step_ms = 1000
    for _ in range(30):
        fake.add_invoice(c, "10.00", on=date(2026, 1, 9))
    fake.requests.clear()
    stats = sync(xdeps, page_size=3)
    gets = [r for r in fake.api_requests() if r.path.endswith("/Invoices")]
    assert stats.objects["Invoices"] == 34 == len(invoices(xdeps))
    assert len(gets) <= 20  # pages overlap by the object at their first time, no more
    assert sync(xdeps, page_size=3).objects["Invoices"] == 0


def test_retry_after_longer_than_the_policy_stops_saying_when(
    xdeps: ToolDeps, fake: FakeXero
) -> None:
    build_world(fake)
    fake.retry_after = "3600"  # the daily limit: come back in an hour
    fake.fail(429, entity="Invoices")
    with pytest.raises(SyncInterrupted, match=r"wait 3600 s .*run the sync again after 20"):
        sync(xdeps)
    assert invoices(xdeps) == {}
    assert sync(xdeps).objects["Invoices"] == 6  # resumes after the contacts it kept


def _get(session: XeroSession, **args: object) -> dict[str, object]:
    answer = session.api.get_invoices(TENANT, _preload_content=False, **args)
    return dict(json.loads(answer.data))


def test_fake_orders_filters_and_counts_pages_as_xero(xdeps: ToolDeps, fake: FakeXero) -> None:
    build_world(fake)
    fake.plant("Invoices", {"InvoiceID": "no-type", "InvoiceNumber": "INV-0000"})
    session = XeroSession(xdeps)
    got = _get(session, where='Type=="ACCREC"', order="InvoiceNumber DESC", page=1, page_size=4)
    numbers = [i["InvoiceNumber"] for i in got["Invoices"]]  # type: ignore[attr-defined]
    assert numbers == ["INV-1006", "INV-1005", "INV-1004", "INV-1003"]
    assert got["pagination"] == {"page": 1, "pageSize": 4, "pageCount": 2, "itemCount": 6}
    last = _get(session, where='Type=="ACCREC"', order="UpdatedDateUTC ASC", page=2, page_size=4)
    assert last["pagination"]["itemCount"] == 6  # type: ignore[index]
    assert len(last["Invoices"]) == 2  # type: ignore[arg-type]
