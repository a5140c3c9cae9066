"""`arbot quickbooks sync`: copy QuickBooks Online's customers, invoices, payments and credit
memos into the ledger as source `quickbooks`, with the vendor's clients (python-quickbooks for
the API, intuit-oauth for tokens).

Paging and resuming: each entity is read with the query endpoint ordered by
`MetaData.LastUpdatedTime`, from a cursor (tools.quickbooks_cursor). Each page is written in
one transaction together with its cursor, so a sync that dies resumes after the last committed
page; the same cursor makes the next run incremental.

Tokens: Intuit rotates the refresh token on every refresh and the old one stops working, so
the new one is stored (encrypted, tools.token_box) before anything else happens. A 401 in the
middle of a sync (the access token expired) refreshes once and repeats the page.

Resilience: 429 and 5xx answers are retried with exponential backoff (`Retry-After` when
given); past the last attempt the sync stops with what it committed, to resume next time.
A malformed object is reported with its id and skipped; the rest of its page is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.exceptions import AuthorizationException, QuickbooksException

from db import source_rows
from db import stripe_sql as sq
from tools import books_sync
from tools.books_apply import Problem
from tools.books_sync import BooksSync, EntityPages, SyncStats
from tools.deps import ToolDeps
from tools.quickbooks_apply import apply_deletions, apply_page, tombstones
from tools.quickbooks_cursor import object_id, query, stamp
from tools.quickbooks_map import SOURCE, Mapper
from tools.redact import redact, redact_logger
from tools.settings import Settings, SettingsError, env_name
from tools.stripe_sync import RetryPolicy
from tools.sync_retry import (
    RETRY_STATUSES,
    Backoff,
    Unavailable,
    retry_after_seconds,
    with_backoff,
)
from tools.token_box import RefreshRefused, rotate_refresh_token

log = logging.getLogger(__name__)

ENTITIES = ("Customer", "Invoice", "CreditMemo", "Payment")  # parents first
DELETABLE = ("Invoice", "CreditMemo", "Payment")
CDC_CURSOR = "quickbooks:deletions"


def need_setting(settings: Settings, name: str) -> str:
    return books_sync.need_setting(settings, name, "the QuickBooks sync")


class QuickBooksSession:
    """An authorised python-quickbooks client, and the refresh that keeps it so."""

    def __init__(
        self,
        deps: ToolDeps,
        on_response: Callable[[requests.Response], None],
        retry: RetryPolicy | None = None,
    ) -> None:
        s = deps.settings
        self.retry = retry
        self.deps, self.realm = deps, need_setting(s, "quickbooks_realm_id")
        # At debug level these print headers and token answers, from their modules' loggers
        # (a filter acts only on the logger a record starts at, so each one gets it).
        prefixes = ("intuitlib", "quickbooks", "requests_oauthlib", "oauthlib")
        for name in [*prefixes, *logging.root.manager.loggerDict]:
            if name.startswith(prefixes):
                redact_logger(name)
        self.auth = AuthClient(
            need_setting(s, "quickbooks_client_id"),
            need_setting(s, "quickbooks_client_secret"),
            "http://localhost/unused",  # only the authorization step redirects; refresh doesn't
            s.quickbooks_discovery_url,
        )
        self.auth.hooks["response"].append(lambda r, *a, **k: on_response(r))
        self.refresh()
        self.client = QuickBooks(
            auth_client=self.auth,
            refresh_token=self.auth.refresh_token,
            company_id=self.realm,
            minorversion=s.quickbooks_minor_version,
            use_decimal=True,  # amounts arrive as Decimal: exact to the cent
        )
        self.client.api_url_v3 = s.quickbooks_api_base.rstrip("/")
        self.client.sandbox = False  # the base URL setting decides, sandbox or not
        self.client.session.hooks["response"].append(lambda r, *a, **k: on_response(r))

    def refresh(self) -> None:
        """New tokens from the newest stored refresh token (or a new one in the settings),
        one process at a time (tools.token_box); 429 / 5xx / no answer from Intuit are backed
        off with the sync's policy, or left to the outbox's retry."""
        s = self.deps.settings
        first = s.quickbooks_refresh_token
        setting = first.get_secret_value() if first is not None else None
        reconnect = (
            f"QuickBooks refused the refresh token (invalid_grant): connect the app again and "
            f"set {env_name('quickbooks_refresh_token')} to the new refresh token; the next "
            "run uses it"
        )
        with_backoff(
            self.retry,
            "QuickBooks identity",
            lambda: rotate_refresh_token(
                s, self.deps.engine, SOURCE, self.realm, setting or None, self._rotate,
                reconnect=reconnect,
            ),
        )  # fmt: skip
        if hasattr(self, "client"):  # a refresh mid-sync: the API session takes the new token
            self.client.session.access_token = self.auth.access_token

    def _rotate(self, token: str) -> str:
        try:
            self.auth.refresh(refresh_token=token)
        except AuthClientError as exc:
            status = int(exc.status_code)
            body = bytes(exc.content or b"").decode(errors="replace")
            if status == 400 and "invalid_grant" in body:
                raise RefreshRefused(body[:200]) from exc
            if status in RETRY_STATUSES:
                after = retry_after_seconds(exc.headers.get("Retry-After"))
                raise Unavailable(f"Intuit answered {status}", status, after) from exc
            raise SettingsError(
                f"Intuit refused the token request ({status}: {redact(body[:200])}): check "
                f"{env_name('quickbooks_client_id')} and "
                f"{env_name('quickbooks_client_secret')}"
            ) from exc
        except requests.RequestException as exc:
            raise Unavailable(f"Intuit unreachable: {redact(str(exc))[:200]}") from exc
        return str(self.auth.refresh_token)


class QuickBooksSync(BooksSync):
    def connect(self) -> None:
        s = self.deps.settings
        self.mapper = Mapper(tz=s.tz, home_currency=s.reporting_currency)
        self._last_status = 0
        self._retry_after: float | None = None
        self._first_time: str | None = None  # the server's clock at this run's first answer
        self.conn = QuickBooksSession(self.deps, self._saw, self.retry)

    def _saw(self, response: requests.Response) -> None:
        self._last_status = response.status_code
        self._retry_after = retry_after_seconds(response.headers.get("Retry-After"))

    def run(self, *, full: bool = False) -> SyncStats:
        if full:
            self.forget_cursors([*(_cursor_name(entity) for entity in ENTITIES), CDC_CURSOR])
        with self.deps.engine.connect() as c:
            # Asked once: a write-off stamped while this sync runs is read back by the next.
            written_off = source_rows.any_written_off(c, SOURCE)
        self.apply_waiting({entity: self._entity(entity, written_off) for entity in ENTITIES})
        self._deletions()
        return self.stats

    def _entity(self, entity: str, written_off: bool) -> EntityPages:
        return self.read(
            entity,
            EntityPages(
                label=f"QuickBooks {entity}",
                cursor_name=_cursor_name(entity),
                fetch=lambda cursor: (
                    self._fetch(query(cursor, entity, self.page_size)).get(entity) or []
                ),
                apply=lambda conn, objs: apply_page(
                    conn, self.mapper, entity, objs, any_written_off=written_off
                ),
                stamp=stamp,
                ident=object_id,
                source=SOURCE,
            ),
        )

    def _fetch(self, select: str) -> dict[str, Any]:
        answer = self._call(lambda: self.conn.client.query(select))
        self._first_time = self._first_time or answer.get("time")
        return dict(answer.get("QueryResponse") or {})

    def _deletions(self) -> None:
        """Deletions since the last run, from change data capture (queries never return a
        deleted object). The first run only notes when it started."""
        with self.deps.engine.connect() as c:
            since = sq.get_cursor(c, CDC_CURSOR)
        mark = self._first_time
        if since is not None:
            try:
                answer = self._call(
                    lambda: self.conn.client.change_data_capture(",".join(DELETABLE), since)
                )
            except QuickbooksException as exc:
                reason = f"{redact(str(exc))}; run `arbot quickbooks sync --full` if this persists"
                self.stats.problems.append(Problem("deletions", f"since {since}", reason))
                return
            deleted = tombstones(answer)
            with self.deps.engine.begin() as c:
                apply_deletions(c, deleted)
            self.stats.deleted = sum(len(v) for v in deleted.values())
            mark = answer.get("time") or mark
        if mark:
            with self.deps.engine.begin() as c:
                sq.set_cursor(c, CDC_CURSOR, str(mark))

    def _call(self, request: Callable[[], Any]) -> dict[str, Any]:
        """One API call, with a token refresh on 401 and backoff on 429 / 5xx."""
        backoff, refreshed = Backoff(self.retry, "QuickBooks"), False
        while True:
            try:
                return dict(request())
            except AuthorizationException:
                if refreshed:
                    raise
                refreshed = True
                self.conn.refresh()
                self.stats.token_refreshes += 1
            except (QuickbooksException, requests.RequestException) as exc:
                status = self._last_status
                network = isinstance(exc, requests.RequestException)
                if not network and status not in RETRY_STATUSES:
                    raise
                backoff.wait(status, self._retry_after, exc)
                self.stats.retries += 1


def _cursor_name(entity: str) -> str:
    return f"quickbooks:{entity}"


run_quickbooks_sync = QuickBooksSync.run_and_relink
