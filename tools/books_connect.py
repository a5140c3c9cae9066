"""Connecting arbot to QuickBooks Online or Xero: the OAuth 2 consent, once, by a person.

The person opens the consent address, approves, and hands back the address their browser was
sent to. Its `code` is exchanged with the vendor's own client (intuit-oauth, xero-python) and
the refresh token is kept encrypted in the database (tools.token_box), so the token never
sits in a settings file or a shell history. `state` is checked first: an address from another
consent (or a forged one) is refused before any code is sent to the vendor.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import urllib3
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException
from xero_python.identity import IdentityApi

from tools import token_box
from tools.books_sync import need_setting
from tools.deps import ToolDeps
from tools.redact import redact
from tools.settings import Settings, env_name


class ConsentRefused(Exception):
    """The consent did not give arbot a token; the message says why and what to do."""


@dataclass
class Consent:
    """One consent in progress: where to send the person, and what must come back."""

    url: str
    state: str
    client: Any = field(repr=False)


@dataclass
class Connected:
    provider: str
    company_id: str  # QuickBooks realm id / Xero tenant id
    company_name: str = ""
    others: list[tuple[str, str]] = field(default_factory=list)  # other Xero tenants granted


def redirect_params(redirected: str, state: str) -> dict[str, str]:
    """The query of the address the browser was sent to, after its `state` is checked."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(redirected.strip()).query).items()}
    if query.get("error"):
        raise ConsentRefused(f"the consent was not given: {query['error'][:100]}")
    if not secrets.compare_digest(query.get("state", "").encode(), state.encode()):
        raise ConsentRefused(
            "that address is not from this consent (its state differs): open the address "
            "printed above, approve, and paste where the browser lands"
        )
    if not query.get("code"):
        raise ConsentRefused("that address carries no authorization code")
    return query


def quickbooks_consent(settings: Settings) -> Consent:
    auth = AuthClient(
        need_setting(settings, "quickbooks_client_id", "connecting QuickBooks"),
        need_setting(settings, "quickbooks_client_secret", "connecting QuickBooks"),
        need_setting(settings, "quickbooks_redirect_uri", "connecting QuickBooks"),
        settings.quickbooks_discovery_url,
    )
    state = secrets.token_urlsafe(24)
    return Consent(auth.get_authorization_url([Scopes.ACCOUNTING], state_token=state), state, auth)


def quickbooks_finish(deps: ToolDeps, consent: Consent, redirected: str) -> Connected:
    query = redirect_params(redirected, consent.state)
    realm = query.get("realmId", "")
    if not realm:
        raise ConsentRefused("that address carries no realmId (the QuickBooks company)")
    wanted = deps.settings.quickbooks_realm_id
    if wanted and wanted != realm:
        raise ConsentRefused(
            f"that consent is for company {realm}, but {env_name('quickbooks_realm_id')} is "
            f"{wanted}: choose that company when consenting, or change the setting"
        )
    auth: AuthClient = consent.client
    try:
        auth.get_bearer_token(query["code"], realm_id=realm)
    except AuthClientError as exc:
        body = bytes(exc.content or b"").decode(errors="replace")
        raise ConsentRefused(
            f"Intuit refused the code ({exc.status_code}: {redact(body[:200])}); consent again"
        ) from exc
    except requests.RequestException as exc:
        raise ConsentRefused(f"Intuit unreachable: {redact(str(exc))[:200]}") from exc
    _keep(deps, "quickbooks", realm, str(auth.refresh_token), "quickbooks_refresh_token")
    return Connected("quickbooks", realm)


def xero_consent(settings: Settings) -> Consent:
    client_id = need_setting(settings, "xero_client_id", "connecting Xero")
    need_setting(settings, "xero_client_secret", "connecting Xero")
    redirect = need_setting(settings, "xero_redirect_uri", "connecting Xero")
    state = secrets.token_urlsafe(24)
    url = requests.Request(
        "GET",
        settings.xero_authorize_url,
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "scope": settings.xero_scopes,
            "state": state,
        },
    ).prepare()
    return Consent(str(url.url), state, None)


def xero_finish(deps: ToolDeps, consent: Consent, redirected: str) -> Connected:
    s = deps.settings
    query = redirect_params(redirected, consent.state)
    token: dict[str, Any] = {}
    config = Configuration()
    config.oauth2_token = OAuth2Token(
        client_id=s.xero_client_id, client_secret=_secret(s.xero_client_secret)
    )
    client = ApiClient(config, oauth2_token_getter=lambda: token, oauth2_token_saver=token.update)
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": str(s.xero_redirect_uri),
        "client_id": str(s.xero_client_id),
        "client_secret": _secret(s.xero_client_secret),
    }
    try:
        response, status, _ = client.call_api(
            s.xero_identity_url,
            "POST",
            header_params={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            post_params=form,
            auth_settings=None,
            _preload_content=False,
        )
        body = response.data.decode(errors="replace")
        if status != 200:
            raise ConsentRefused(f"Xero refused the code ({status}: {redact(body[:200])})")
        token.update({"scope": s.xero_scopes.split()} | json.loads(body))
        tenants = IdentityApi(client, base_url=s.xero_connections_base).get_connections()
    except ApiException as exc:
        raise ConsentRefused(f"Xero answered {exc.status}: {redact(str(exc.reason))}") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise ConsentRefused(f"Xero unreachable: {redact(str(exc))[:200]}") from exc
    granted = [(str(t.tenant_id), str(t.tenant_name or "")) for t in tenants or []]
    chosen = _tenant(s, granted)
    _keep(deps, "xero", chosen[0], str(token["refresh_token"]), "xero_refresh_token")
    return Connected("xero", chosen[0], chosen[1], [t for t in granted if t != chosen])


def _tenant(s: Settings, granted: list[tuple[str, str]]) -> tuple[str, str]:
    """The organisation the token is kept for: ARBOT_XERO_TENANT_ID's, else the only one."""
    if not granted:
        raise ConsentRefused("the consent granted no Xero organisation; consent again")
    wanted = s.xero_tenant_id
    for tenant in granted:
        if tenant[0] == wanted:
            return tenant
    if wanted:
        raise ConsentRefused(
            f"{env_name('xero_tenant_id')} ({wanted}) was not among the organisations granted: "
            + ", ".join(f"{name} ({tid})" for tid, name in granted)
        )
    if len(granted) > 1:
        raise ConsentRefused(
            f"several organisations were granted; set {env_name('xero_tenant_id')} to one of "
            + ", ".join(f"{name} ({tid})" for tid, name in granted)
            + " and connect again"
        )
    return granted[0]


def _secret(value: Any) -> str:
    return "" if value is None else str(value.get_secret_value())


def _keep(deps: ToolDeps, provider: str, company: str, token: str, setting: str) -> None:
    value = getattr(deps.settings, setting)
    if not token or token == "None":
        raise ConsentRefused(f"{provider} gave no refresh token; consent again")
    token_box.store_connected_token(
        deps.settings, deps.engine, provider, company, token, _secret(value) or None
    )
