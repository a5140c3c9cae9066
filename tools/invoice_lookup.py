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


def resolve_invoice(session: Session, ref: str) -> Invoice:
    """The one invoice `ref` names; InvoiceNotFound / InvoiceAmbiguous say what to do."""
    found = find_invoices(session, ref)
    if not found:
        raise InvoiceNotFound(f"no invoice {ref!r}")
    if len(found) > 1:
        raise InvoiceAmbiguous(f"{ref!r} matches {len(found)} invoices; use its id")
    return found[0]
