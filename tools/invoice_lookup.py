"""Which invoice a person means: its number, external id or internal id, any case.

The one lookup behind a write-off, a reminder about an invoice and a promise to pay, so an
invoice reference names the same invoice whichever of them a person asks for.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.invoices import find_invoices
from db.models import Invoice
from tools.errors import ToolInputError


class InvoiceNotFound(ToolInputError):
    pass


class InvoiceAmbiguous(ToolInputError):
    pass


def resolve_invoice(session: Session, ref: str | int) -> Invoice:
    """The one invoice `ref` names; InvoiceNotFound / InvoiceAmbiguous say what to do.

    An int is an internal id a button or form carries (never typed by a person), so it is
    looked up as that and nothing else.
    """
    if isinstance(ref, int):
        by_id = session.get(Invoice, ref)
        if by_id is None:
            raise InvoiceNotFound(f"no invoice with id {ref}")
        return by_id
    found = find_invoices(session, ref)
    if not found:
        raise InvoiceNotFound(f"no invoice {ref!r}")
    if len(found) > 1:
        raise InvoiceAmbiguous(f"{ref!r} matches {len(found)} invoices; use its id")
    return found[0]
