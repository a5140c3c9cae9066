"""`arbot xero sync`: copy Xero's contacts, sales invoices, payments, credit notes,
overpayments and prepayments into the ledger as source `xero`, with Xero's own client
(xero-python) for the API and the OAuth 2 token refresh.

Paging and resuming (tools.books_sync, tools.sync_cursor): each entity is listed ordered by
`UpdatedDateUTC`, from the cursor's time sent as `If-Modified-Since`, `page` / `pageSize`.
Each page is committed with its cursor, so a sync resumes after the last committed page and
the next run reads only what changed.

Bodies are read as JSON with amounts as Decimal (exact in every currency), not through the
client's models, which turn amounts into floats and take most of the time of a big sync.

Tokens: Xero rotates the refresh token on every refresh, so the new one is stored (encrypted,
tools.token_box) before anything else happens. A 401 mid-sync refreshes once and repeats the
page. 429 (with `Retry-After`) and 5xx are retried with backoff (tools.sync_retry); a
malformed or unexpected object is reported with its id and the rest of its page is written.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException, HTTPStatusException

from db import source_rows
from db import stripe_sql as sq
from tools import books_sync
from tools.books_sync import EntityPages, SyncStats, sync_entity
from tools.deps import ToolDeps
from tools.ledger_record import relink
from tools.redact import redact, redact_logger
from tools.settings import SettingsError, env_name
from tools.stripe_sync import RetryPolicy
from tools.sync_cursor import Cursor
from tools.sync_retry import RETRY_STATUSES, Backoff, Unavailable, retry_after_seconds, with_backoff
from tools.token_box import RefreshRefused, rotate_refresh_token
from tools.xero_apply import apply_page
from tools.xero_map import ID_FIELDS, SOURCE, Mapper, parse_time, stamp

log = logging.getLogger(__name__)

PAGE = 1000  # the largest pageSize Xero serves
# Parents first: a payment or allocation needs its invoice, an invoice its contact.
ENTITIES = ("Contacts", "Invoices", "CreditNotes", "Payments", "Overpayments", "Prepayments")
_LIST: dict[str, tuple[str, dict[str, Any]]] = {  # entity -> (client method, filters)
    "Contacts": ("get_contacts", {"include_archived": True}),
    "Invoices": ("get_invoices", {"where": 'Type=="ACCREC"'}),
    "CreditNotes": ("get_credit_notes", {"where": 'Type=="ACCRECCREDIT"'}),
    "Payments": ("get_payments", {"where": 'PaymentType=="ACCRECPAYMENT"'}),
    "Overpayments": ("get_overpayments", {"where": 'Type=="RECEIVE-OVERPAYMENT"'}),
    "Prepayments": ("get_prepayments", {"where": 'Type=="RECEIVE-PREPAYMENT"'}),
}


def need_setting(deps: ToolDeps, name: str) -> str:
    return books_sync.need_setting(deps.settings, name, "the Xero connection")


class _Token(OAuth2Token):  # type: ignore[misc]
    """xero-python's token, refreshed at the identity URL from the settings (a test server)."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret)
        self.token_url = token_url

    def call_refresh_token_api(self, token_api: TokenApi) -> dict[str, Any]:
        token_api.refresh_token_url = self.token_url
        return dict(super().call_refresh_token_api(token_api))


class XeroSession:
    """An authorised xero-python client, and the refresh that keeps it so."""

    def __init__(self, deps: ToolDeps, retry: RetryPolicy | None = None) -> None:
        s = deps.settings
        self.deps, self.tenant = deps, need_setting(deps, "xero_tenant_id")
        self.retry = retry
        for name in ("xero_python", "urllib3"):  # their debug logs carry headers
            redact_logger(name)
        token = _Token(
            s.xero_identity_url,
            need_setting(deps, "xero_client_id"),
            need_setting(deps, "xero_client_secret"),
        )
        # Configuration() hands out copies of the first one ever made in the process, with its
        # token: this connection's token is set on the copy.
        config = Configuration()
        config.oauth2_token = token
        self.client = ApiClient(
            config,
            oauth2_token_getter=lambda: self.token,
            oauth2_token_saver=self._saved,
        )
        # urllib3 would wait out a 429 itself, unseen and unbounded; the sync's backoff
        # (tools.sync_retry) decides instead, the same way for every vendor.
        self.client.rest_client.pool_manager.connection_pool_kw["retries"] = urllib3.Retry(
            0, respect_retry_after_header=False, raise_on_status=False
        )
        self.api = AccountingApi(self.client, base_url=s.xero_api_base.rstrip("/"))
        self.token: dict[str, Any] = {
            "access_token": None,
            "refresh_token": None,
            "scope": s.xero_scopes.split(),
            "expires_in": 0,
            "expires_at": 0,
            "token_type": "Bearer",
        }
        self.refresh()

    def _saved(self, token: dict[str, Any]) -> None:
        """Called by the client with each new token (token_box stores the refresh token)."""
        self.token = dict(token)

    def refresh(self) -> None:
        """New tokens from the newest stored refresh token (or a new one in the settings),
        one process at a time (tools.token_box); 429 / 5xx / no answer from the identity
        server are backed off with the sync's policy, or left to the outbox's retry."""
        s = self.deps.settings
        setting = s.xero_refresh_token.get_secret_value() if s.xero_refresh_token else None
        reconnect = (
            f"Xero refused the refresh token (invalid_grant): connect the app again and set "
            f"{env_name('xero_refresh_token')} to the new refresh token; the next run uses it"
        )
        with_backoff(
            self.retry,
            "Xero identity",
            lambda: rotate_refresh_token(
                s, self.deps.engine, SOURCE, self.tenant, setting, self._rotate, reconnect=reconnect
            ),
        )

    def _rotate(self, refresh_token: str) -> str:
        self.token = self.token | {"refresh_token": refresh_token}
        try:
            self.client.refresh_oauth2_token()
        except HTTPStatusException as exc:
            status = int(exc.status or 0)
            body = exc.http_resp.data.decode(errors="replace") if exc.http_resp else ""
            if status == 400 and "invalid_grant" in body:
                raise RefreshRefused(body[:200]) from exc
            if status in RETRY_STATUSES:
                headers = exc.headers or {}
                after = retry_after_seconds(headers.get("Retry-After"))
                raise Unavailable(f"Xero identity answered {status}", status, after) from exc
            raise SettingsError(
                f"Xero refused the token request ({status}: {redact(body[:200])}): check "
                f"{env_name('xero_client_id')} and {env_name('xero_client_secret')}"
            ) from exc
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            raise Unavailable(f"Xero identity unreachable: {redact(str(exc))[:200]}") from exc
        return str(self.token["refresh_token"])


class XeroSync:
    def __init__(
        self,
        deps: ToolDeps,
        *,
        retry: RetryPolicy | None = None,
        progress: bool | None = None,
        page_size: int = PAGE,
    ) -> None:
        self.deps = deps
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self.progress_disabled = None if progress is None else not progress
        self.mapper = Mapper(tz=deps.settings.tz, home_currency=deps.settings.reporting_currency)
        self.stats = SyncStats()
        self.conn = XeroSession(deps, self.retry)
        self.stats.token_refreshes = 1

    def run(self, *, full: bool = False) -> SyncStats:
        if full:
            with self.deps.engine.begin() as c:
                for entity in ENTITIES:
                    sq.delete_cursor(c, _cursor_name(entity))
        with self.deps.engine.connect() as c:
            # Asked once: a write-off stamped while this sync runs is read back by the next.
            written_off = source_rows.any_written_off(c, SOURCE)
        every = {}
        for entity in ENTITIES:
            every[entity] = pages = EntityPages(
                label=f"Xero {entity}",
                cursor_name=_cursor_name(entity),
                fetch=lambda cursor, e=entity: self._page(e, cursor),  # type: ignore[misc]
                apply=lambda conn, objs, e=entity: apply_page(  # type: ignore[misc]
                    conn, self.mapper, e, objs, any_written_off=written_off
                ),
                stamp=_stamper(entity),
                ident=_identifier(entity),
                source=SOURCE,
            )
            sync_entity(
                self.deps,
                self.stats,
                entity,
                pages,
                page_size=self.page_size,
                progress_disabled=self.progress_disabled,
            )
        for entity, pages in every.items():  # parents first, as read
            books_sync.apply_waiting(self.deps, self.stats, entity, pages)
        return self.stats

    def _page(self, entity: str, cursor: Cursor) -> list[Any]:
        """The page the cursor points at: modified at or after its time (just after, once
        the objects at that time are all read), in update order."""
        method, filters = _LIST[entity]
        args: dict[str, Any] = dict(filters, order="UpdatedDateUTC ASC", page_size=self.page_size)
        args["page"] = (cursor.tie - 1) // self.page_size + 1 if cursor.tie else 1
        if cursor.ts is not None:
            since = datetime.fromisoformat(cursor.ts)
            args["if_modified_since"] = since + timedelta(milliseconds=1) if cursor.after else since
        call = getattr(self.conn.api, method)
        body = self._call(lambda: call(self.conn.tenant, _preload_content=False, **args))
        found = body.get(entity) if isinstance(body, dict) else None
        return found if isinstance(found, list) else []

    def _call(self, request: Callable[[], urllib3.BaseHTTPResponse]) -> Any:
        """One API call: the JSON body, with a token refresh on 401 and backoff on 429 / 5xx."""
        backoff, refreshed = Backoff(self.retry, "Xero"), False
        while True:
            try:
                return json.loads(request().data, parse_float=Decimal)
            except HTTPStatusException as exc:
                status = int(exc.status or 0)
                if status == 401 and not refreshed:
                    refreshed = True
                    self.conn.refresh()
                    self.stats.token_refreshes += 1
                    continue
                if status not in RETRY_STATUSES:
                    raise
                headers = exc.headers or {}
                backoff.wait(status, retry_after_seconds(headers.get("Retry-After")), exc)
                self.stats.retries += 1
            except (urllib3.exceptions.HTTPError, ApiException) as exc:
                if isinstance(exc, ApiException) and exc.status:
                    raise
                backoff.wait(None, None, exc)
                self.stats.retries += 1


def _cursor_name(entity: str) -> str:
    return f"xero:{entity}"


@functools.lru_cache(maxsize=8192)
def _stamp_of(raw: str) -> str:
    """Objects changed together share their raw UpdatedDateUTC: each is parsed once."""
    return stamp(parse_time(raw, "UpdatedDateUTC"))


def _stamper(entity: str) -> Callable[[Any, str | None], str | None]:
    def at(obj: Any, default: str | None) -> str | None:
        try:
            return _stamp_of(str(obj["UpdatedDateUTC"]))
        except (ValueError, KeyError, TypeError):
            return default  # the server placed it here; it belongs with its neighbours

    return at


def _identifier(entity: str) -> Callable[[Any], str]:
    key = ID_FIELDS[entity]
    return lambda obj: str(obj.get(key)) if isinstance(obj, dict) else ""


def run_xero_sync(
    deps: ToolDeps,
    *,
    full: bool = False,
    retry: RetryPolicy | None = None,
    progress: bool | None = None,
    page_size: int = PAGE,
) -> SyncStats:
    stats = XeroSync(deps, retry=retry, progress=progress, page_size=page_size).run(full=full)
    relink(deps.engine, deps.settings, written=True)
    return stats
