"""`arbot quickbooks connect` / `arbot xero connect`: the consent, in a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tools.books_connect import Connected, Consent, ConsentRefused
from tools.deps import ToolDeps, connect
from tools.settings import Settings, env_name, load_settings

HELP = (
    "Prints the vendor's consent address: open it, approve, then paste the address your "
    "browser lands on (the registered redirect URI, carrying code and state). The refresh "
    "token is stored encrypted with ARBOT_TOKEN_KEY; the next sync uses it. Run it again to "
    "reconnect after a token was revoked or expired."
)


def run_consent(
    vendor: str,
    start: Callable[[Settings], Consent],
    finish: Callable[[ToolDeps, Consent, str], Connected],
    company_setting: str,
) -> int:
    settings = load_settings()
    deps = connect(settings)
    consent = start(settings)
    print(f"Open this address, sign in to {vendor} and approve arbot:\n\n  {consent.url}\n")
    print("Then paste the address your browser was sent to:", flush=True)
    redirected = sys.stdin.readline()
    try:
        done = finish(deps, consent, redirected)
    except ConsentRefused as exc:
        print(f"arbot {vendor.lower()} connect: {exc}; nothing was stored", file=sys.stderr)
        return 1
    name = f" ({done.company_name})" if done.company_name else ""
    print(f"connected to {vendor} company {done.company_id}{name}; the token is stored encrypted")
    if getattr(settings, company_setting) != done.company_id:
        print(f"set {env_name(company_setting)}={done.company_id} before syncing")
    for tid, other in done.others:
        print(f"also granted, not used: {other} ({tid})")
    return 0
