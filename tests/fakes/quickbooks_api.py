"""A small fake of QuickBooks Online's v3 Accounting API and Intuit's OAuth 2 server on
127.0.0.1, driven by the real `python-quickbooks` and `intuit-oauth` clients in tests.

Shapes follow Intuit's published reference: every entity has `Id`, `SyncToken` (bumped on each
change) and `MetaData.CreateTime` / `MetaData.LastUpdatedTime` (ISO 8601 with the company's
offset); references are `{"value": id, "name": ...}`; amounts are JSON numbers in major units;
Invoice has `DocNumber`, `TxnDate`, `DueDate`, `TotalAmt`, `Balance`, `CurrencyRef`,
`CustomerRef`; Payment has `TotalAmt`, `UnappliedAmt` and `Line[].LinkedTxn[]` naming the
invoices and credit memos it applies; CreditMemo has `TotalAmt` and `RemainingCredit`. A voided
invoice keeps its row with zero amounts and the private note "Voided", as QuickBooks shows it.

What it serves:
- `GET /.well-known/openid_configuration`: the discovery document `intuit-oauth` reads;
- `POST /oauth2/v1/tokens/bearer` (`grant_type=refresh_token`, HTTP Basic client credentials):
  a new access token and a ROTATED refresh token; the previous refresh token is refused
  afterwards (`invalid_grant`), as Intuit does once the new one has been used;
- `POST /v3/company/{realm}/query`: `SELECT * | COUNT(*) FROM Entity [WHERE
  MetaData.LastUpdatedTime >= | > | = 'ts'] [ORDERBY MetaData.LastUpdatedTime] [STARTPOSITION n]
  [MAXRESULTS m]` with the `QueryResponse` envelope (`startPosition`, `maxResults`,
  `totalCount` for counts); ties in LastUpdatedTime come in Id order;
- `GET /v3/company/{realm}/cdc?entities=...&changedSince=...`: change data capture, deleted
  objects as `{"status": "Deleted", "Id", "MetaData"}` tombstones (`delete`);
- `POST /v3/company/{realm}/creditmemo` and `/payment`: create, honouring `requestid` (the same
  request id answers the first result again and creates nothing); a credit memo line needs
  `SalesItemLineDetail.ItemRef`. A Payment's `DepositToAccountRef` must name an account of
  `accounts` of type Bank or Other Current Asset (else ValidationFault 2500, "Invalid Reference
  Id"); without one the Payment goes to Undeposited Funds, QuickBooks' default, and says so in
  its `DepositToAccountRef`. `lose_answers` makes a create happen but answer 503, as when
  the answer is lost on the way back.

An expired or unknown bearer token gets 401 with Intuit's AuthenticationFailed fault. Tests can
make the server answer 429 (ThrottleExceeded, code 3001) or 500 (SystemFault) a number of times
(`fail`), expire the access token (`expire_access_token`), and plant a malformed object.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

CLIENT_ID = "ABfakeclientid"
CLIENT_SECRET = "fake-client-secret"
REALM = "9341450000000001"
FIRST_REFRESH_TOKEN = "AB11fakefirstrefreshtoken"
PACIFIC = timezone(timedelta(hours=-8))  # companies report times with their own offset
START = datetime(2026, 1, 5, 9, 0, tzinfo=PACIFIC)
ENTITIES = ("Customer", "Invoice", "Payment", "CreditMemo")
UNDEPOSITED_FUNDS = "4"  # the company's Undeposited Funds account (Other Current Asset)
CHECKING = "35"  # a Bank account
INCOME = "1"  # an Income account: no deposit goes there
DEPOSIT_TYPES = ("Bank", "Other Current Asset")  # where a received Payment may be deposited

_QUERY = re.compile(
    r"^SELECT\s+(?P<what>\*|COUNT\(\*\))\s+FROM\s+(?P<entity>\w+)"
    r"(?:\s+WHERE\s+MetaData\.LastUpdatedTime\s*(?P<op>>=|>|=)\s*'(?P<since>[^']+)')?"
    r"(?:\s+ORDERBY\s+MetaData\.LastUpdatedTime)?"
    r"(?:\s+STARTPOSITION\s+(?P<start>\d+))?"
    r"(?:\s+MAXRESULTS\s+(?P<max>\d+))?\s*$",
    re.I,
)


def stamp(at: datetime) -> str:
    return at.astimezone(PACIFIC).isoformat()


def money(value: Decimal | int | str) -> float | int:
    """A JSON number as QuickBooks writes it (100 or 100.5)."""
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)


def _fault(kind: str, code: str, message: str, detail: str) -> dict[str, Any]:
    error = {"Message": message, "Detail": detail, "code": code}
    return {"Fault": {"Error": [error], "type": kind}, "time": stamp(datetime.now(UTC))}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: str
    status: int = 200


@dataclass
class FakeQuickBooks:
    realm: str = REALM
    now: datetime = START
    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {e: {} for e in ENTITIES}
    )
    requests: list[Recorded] = field(default_factory=list)
    refresh_token: str = FIRST_REFRESH_TOKEN
    access_token: str | None = None
    refused_refresh_tokens: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)  # authorization code -> redirect_uri
    failures: list[tuple[int, int, str]] = field(default_factory=list)  # status, times, entity
    by_request_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    expire_after: int | None = None  # API calls the access token has left, when set
    step_seconds: int = 1  # clock advance per change; 0 puts changes in one second (bulk)
    lose_answers: int = 0  # creates that are carried out but answered with a 500
    requests_recorded: bool = True  # off in benchmarks: 100 pages of bodies add up
    deleted: dict[str, dict[str, datetime]] = field(default_factory=dict)  # entity -> id -> at
    accounts: dict[str, dict[str, str]] = field(
        default_factory=lambda: {
            UNDEPOSITED_FUNDS: {"Name": "Undeposited Funds", "AccountType": "Other Current Asset",
                                "AccountSubType": "UndepositedFunds"},
            CHECKING: {"Name": "Checking", "AccountType": "Bank", "AccountSubType": "Checking"},
            INCOME: {"Name": "Services", "AccountType": "Income",
                     "AccountSubType": "ServiceFeeIncome"},
        }
    )  # fmt: skip
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # When set, a refresh request waits (up to `token_hold` seconds) for the next one to arrive,
    # so two clients refreshing at the same moment reach the token endpoint together.
    token_hold: float | None = None
    token_requests_at_once: int = 0  # the most refresh requests seen in flight together
    _in_flight: int = 0
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    _tokens: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sorted: dict[str, list[tuple[tuple[datetime, int], dict[str, Any]]]] = field(
        default_factory=dict
    )
    _server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FakeQuickBooks:
        owner = self

        class Handler(_Handler):
            fake = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_base(self) -> str:
        return f"{self.url}/v3"

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid_configuration"

    # --- the world, changed by tests -----------------------------------------------------------

    def tick(self, seconds: int = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def _put(self, entity: str, obj: dict[str, Any]) -> dict[str, Any]:
        at = stamp(self.tick(self.step_seconds))
        with self._lock:
            old = self.objects[entity].get(obj["Id"])
            if old is None:
                obj.setdefault("SyncToken", "0")
                obj.setdefault("MetaData", {"CreateTime": at})
            else:
                obj["SyncToken"] = str(int(old["SyncToken"]) + 1)
                obj["MetaData"] = dict(old["MetaData"])
            obj["MetaData"]["LastUpdatedTime"] = at
            self.objects[entity][obj["Id"]] = obj
            self._sorted.pop(entity, None)
        return obj

    def new_id(self) -> str:
        return str(next(self._ids))

    def add_customer(self, name: str, *, currency: str = "USD", email: str | None = None) -> str:
        cid = self.new_id()
        obj: dict[str, Any] = {
            "Id": cid,
            "DisplayName": name,
            "CompanyName": name,
            "Active": True,
            "Balance": 0,
            "CurrencyRef": {"value": currency, "name": currency},
        }
        if email:
            obj["PrimaryEmailAddr"] = {"Address": email}
        self._put("Customer", obj)
        return cid

    def add_invoice(
        self,
        customer: str,
        total: str,
        *,
        txn_date: date,
        due: date | None = None,
        number: str | None = None,
        currency: str = "USD",
        private_note: str | None = None,
    ) -> str:
        iid = self.new_id()
        amount = money(total)
        obj: dict[str, Any] = {
            "Id": iid,
            "DocNumber": number or f"{1000 + int(iid)}",
            "TxnDate": txn_date.isoformat(),
            "DueDate": (due or txn_date + timedelta(days=30)).isoformat(),
            "CustomerRef": self._ref("Customer", customer),
            "CurrencyRef": {"value": currency, "name": currency},
            "TotalAmt": amount,
            "Balance": amount,
            "Line": [
                {
                    "Id": "1",
                    "LineNum": 1,
                    "Amount": amount,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Services"}},
                },
                {"Amount": amount, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
            ],
            "LinkedTxn": [],
        }
        if private_note:
            obj["PrivateNote"] = private_note
        self._put("Invoice", obj)
        return iid

    def add_credit_memo(
        self, customer: str, total: str, *, txn_date: date, currency: str = "USD"
    ) -> str:
        cid = self.new_id()
        amount = money(total)
        self._put(
            "CreditMemo",
            {
                "Id": cid,
                "DocNumber": f"CM{cid}",
                "TxnDate": txn_date.isoformat(),
                "CustomerRef": self._ref("Customer", customer),
                "CurrencyRef": {"value": currency, "name": currency},
                "TotalAmt": amount,
                "RemainingCredit": amount,
                "Balance": amount,
                "Line": [{"Amount": amount, "DetailType": "SalesItemLineDetail"}],
            },
        )
        return cid

    def add_payment(
        self,
        customer: str,
        total: str,
        *,
        txn_date: date,
        invoices: dict[str, str] | None = None,
        credits: dict[str, str] | None = None,
        currency: str = "USD",
        deposit_to: str = UNDEPOSITED_FUNDS,
    ) -> str:
        """A payment of `total` applying amounts to invoices, and credit memos to them; what
        `total` leaves over is unapplied, deposited to the account `deposit_to`. Balances of
        the linked documents go down."""
        pid = self.new_id()
        lines = []
        for kind, linked in (("Invoice", invoices or {}), ("CreditMemo", credits or {})):
            for txn, amount in linked.items():
                lines.append(
                    {"Amount": money(amount), "LinkedTxn": [{"TxnId": txn, "TxnType": kind}]}
                )
                self._reduce(kind, txn, Decimal(amount), pid)
        applied = sum((Decimal(a) for a in (invoices or {}).values()), Decimal(0))
        credited = sum((Decimal(a) for a in (credits or {}).values()), Decimal(0))
        self._put(
            "Payment",
            {
                "Id": pid,
                "TxnDate": txn_date.isoformat(),
                "CustomerRef": self._ref("Customer", customer),
                "CurrencyRef": {"value": currency, "name": currency},
                "TotalAmt": money(total),
                "UnappliedAmt": money(Decimal(total) - (applied - credited)),
                "ProcessPayment": False,
                "DepositToAccountRef": {
                    "value": deposit_to, "name": self.accounts[deposit_to]["Name"]
                },
                "Line": lines,
            },
        )  # fmt: skip
        return pid

    def void_invoice(self, invoice: str) -> None:
        obj = dict(self.objects["Invoice"][invoice])
        obj.update(TotalAmt=0, Balance=0, PrivateNote="Voided")
        obj["Line"] = [{"Amount": 0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}]
        self._put("Invoice", obj)

    def update(self, entity: str, obj_id: str, **fields: Any) -> None:
        obj = dict(self.objects[entity][obj_id])
        obj.update(fields)
        self._put(entity, obj)

    def delete(self, entity: str, obj_id: str) -> None:
        """Delete as QuickBooks does: gone from queries, a tombstone in change data capture.
        A deleted payment gives back what it applied."""
        obj = self.objects[entity][obj_id]
        if entity == "Payment":
            for line in obj.get("Line", []):
                for link in line.get("LinkedTxn", []):
                    self._reduce(link["TxnType"], link["TxnId"], -Decimal(str(line["Amount"])), "")
        with self._lock:
            del self.objects[entity][obj_id]
            self._sorted.pop(entity, None)
        self.deleted.setdefault(entity, {})[obj_id] = self.tick(self.step_seconds)

    def plant(self, entity: str, obj: dict[str, Any]) -> None:
        """Store `obj` as it is, however wrong: what a buggy integration may have written."""
        self._put(entity, obj)

    def _reduce(self, kind: str, txn: str, amount: Decimal, payment: str) -> None:
        obj = dict(self.objects[kind][txn])
        key = "Balance" if kind == "Invoice" else "RemainingCredit"
        obj[key] = money(Decimal(str(obj[key])) - amount)
        if kind == "CreditMemo":
            obj["Balance"] = obj[key]
        links = obj.get("LinkedTxn", [])
        if payment:
            links = [*links, {"TxnId": payment, "TxnType": "Payment"}]
        obj["LinkedTxn"] = links
        self._put(kind, obj)

    def _ref(self, entity: str, obj_id: str) -> dict[str, str]:
        name = self.objects[entity].get(obj_id, {}).get("DisplayName", "")
        return {"value": obj_id, "name": name}

    # --- failures -------------------------------------------------------------------------

    def fail(self, status: int, times: int = 1, entity: str = "") -> None:
        """Answer the next `times` API calls (about `entity`, or any) with `status`."""
        self.failures.append((status, times, entity))

    def expire_access_token(self, *, after_calls: int = 0) -> None:
        """The access token stops working after this many more API calls."""
        self.expire_after = after_calls

    def consent(self, authorize_url: str) -> str:
        """What Intuit's consent page does when the person approves: the address the browser
        is redirected to, with a one-use code, the request's state and the company's realmId."""
        q = dict(parse_qsl(urlsplit(authorize_url).query))
        assert q.get("response_type") == "code" and q.get("client_id") == CLIENT_ID, q
        assert "com.intuit.quickbooks.accounting" in q.get("scope", "").split(), q
        code = f"AB11code{next(self._tokens):04d}"
        with self._lock:
            self.codes[code] = q["redirect_uri"]
        return f"{q['redirect_uri']}?code={code}&state={q['state']}&realmId={self.realm}"

    def api_requests(self, kind: str = "query") -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/" + kind)]

    # --- serving --------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], body: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if path == "/.well-known/openid_configuration":
            return 200, self._discovery(), {}
        if path == "/oauth2/v1/tokens/bearer":
            return self._token(body, headers)
        prefix = f"/v3/company/{self.realm}/"
        if not path.startswith(prefix):
            return 404, _fault("ValidationFault", "610", "Object Not Found", path), {}
        with self._lock:
            if self.expire_after is not None:
                if self.expire_after == 0:
                    self.access_token = f"expired-{self.access_token}"
                    self.expire_after = None
                else:
                    self.expire_after -= 1
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return 401, self._unauthorized(), {}
        failure = self._take_failure(body)
        if failure is not None:
            return failure
        resource = path[len(prefix) :]
        if resource == "query":
            return self._query(body)
        if resource == "cdc" and method == "GET":
            return self._cdc(query)
        if resource in ("creditmemo", "payment") and method == "POST":
            return self._create(resource, query, body)
        return 400, _fault("ValidationFault", "2010", "Unsupported Operation", resource), {}

    def _ordered(self, entity: str) -> list[tuple[tuple[datetime, int], dict[str, Any]]]:
        """The entity's objects by (LastUpdatedTime, Id), kept until the next change."""
        with self._lock:
            cached = self._sorted.get(entity)
            if cached is None:
                cached = sorted(
                    ((_updated(o), _number(o["Id"])), o) for o in self.objects[entity].values()
                )
                self._sorted[entity] = cached
            return cached

    def _discovery(self) -> dict[str, Any]:
        return {
            "issuer": "https://oauth.platform.intuit.com/op/v1",
            "authorization_endpoint": f"{self.url}/connect/oauth2",
            "token_endpoint": f"{self.url}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{self.url}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{self.url}/oauth2/v1/tokens/revoke",
            "jwks_uri": f"{self.url}/oauth2/v1/keys",
        }

    def _token(
        self, body: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if headers.get("authorization") != f"Basic {basic}":
            return 401, {"error": "invalid_client"}, {}
        form = dict(parse_qsl(body))
        with self._arrived:
            self._in_flight += 1
            self.token_requests_at_once = max(self.token_requests_at_once, self._in_flight)
            self._arrived.notify_all()
            if self.token_hold:
                self._arrived.wait_for(lambda: self._in_flight > 1, timeout=self.token_hold)
            self._in_flight -= 1
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                if self.codes.pop(str(form.get("code")), None) != form.get("redirect_uri"):
                    return 400, {"error": "invalid_grant"}, {}
            elif form.get("grant_type") != "refresh_token" or form.get("refresh_token") != (
                self.refresh_token
            ):
                return 400, {"error": "invalid_grant"}, {}
            n = next(self._tokens)
            self.refused_refresh_tokens.add(self.refresh_token)
            self.refresh_token = f"AB11rotated{n:04d}"
            self.access_token = f"eyJfakeaccess{n:04d}"
        return (
            200,
            {
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": self.refresh_token,
                "x_refresh_token_expires_in": 8726400,
                "access_token": self.access_token,
            },
            {},
        )

    def _unauthorized(self) -> dict[str, Any]:
        return {
            "fault": {
                "error": [
                    {
                        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                        "detail": "Token expired",
                        "code": "3200",
                    }
                ],
                "type": "AUTHENTICATION",
            },
            "time": stamp(datetime.now(UTC)),
        }

    def _take_failure(self, body: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        with self._lock:
            for n, (status, times, entity) in enumerate(self.failures):
                if entity and f"FROM {entity}" not in body and entity.lower() not in body.lower():
                    continue
                if times <= 1:
                    del self.failures[n]
                else:
                    self.failures[n] = (status, times - 1, entity)
                if status == 429:
                    fault = _fault(
                        "ThrottleExceeded",
                        "3001",
                        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                        "The request limit was reached.",
                    )
                    return 429, fault, {"Retry-After": "0"}
                fault = _fault(
                    "SystemFault",
                    "10000",
                    "An application error has occurred while processing your request",
                    "System Failure Error: An unexpected error occurred",
                )
                return status, fault, {}
        return None

    def _query(self, body: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        m = _QUERY.match(body.strip())
        if m is None or m["entity"] not in ENTITIES:
            return 400, _fault("ValidationFault", "4000", "Error parsing query", body), {}
        entity = m["entity"]
        ordered = self._ordered(entity)
        keys = [k for k, _ in ordered]
        objs = [o for _, o in ordered]
        if m["since"]:
            since = (datetime.fromisoformat(m["since"]), -1)
            after = (since[0], 1 << 62)
            lo = (
                bisect.bisect_right(keys, after)
                if m["op"] == ">"
                else bisect.bisect_left(keys, since)
            )
            hi = bisect.bisect_right(keys, after) if m["op"] == "=" else len(keys)
            objs = objs[lo:hi]
        now = stamp(self.now)  # the server's clock, which MetaData times also follow
        if m["what"].upper() == "COUNT(*)":
            return 200, {"QueryResponse": {"totalCount": len(objs)}, "time": now}, {}
        start = int(m["start"] or 1)
        size = min(int(m["max"] or 100), 1000)
        page = objs[start - 1 : start - 1 + size]
        if not page:
            return 200, {"QueryResponse": {}, "time": now}, {}
        response = {entity: page, "startPosition": start, "maxResults": len(page)}
        return 200, {"QueryResponse": response, "time": now}, {}

    def _cdc(self, query: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Change data capture: what changed since `changedSince`, deletions as tombstones."""
        since = datetime.fromisoformat(query["changedSince"])
        responses = []
        for entity in query["entities"].split(","):
            changed: list[dict[str, Any]] = [
                o for _, o in self._ordered(entity) if _updated(o) > since
            ]
            changed += [
                {"domain": "QBO", "status": "Deleted", "Id": i,
                 "MetaData": {"LastUpdatedTime": stamp(at)}}
                for i, at in self.deleted.get(entity, {}).items()
                if at > since
            ]  # fmt: skip
            responses.append({entity: changed, "startPosition": 1, "maxResults": len(changed)})
        answer = {"CDCResponse": [{"QueryResponse": responses}], "time": stamp(self.now)}
        return 200, answer, {}

    def _create(
        self, resource: str, query: dict[str, str], body: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        request_id = query.get("requestid")
        if request_id and len(request_id) > 50:  # Intuit's limit
            return 400, _fault("ValidationFault", "2500", "Invalid requestid", request_id), {}
        if request_id and request_id in self.by_request_id:
            return 200, self.by_request_id[request_id], {}
        data = json.loads(body)
        if resource == "creditmemo" and not all(
            line.get("SalesItemLineDetail", {}).get("ItemRef", {}).get("value")
            for line in data.get("Line", [])
        ):
            return 400, _fault("ValidationFault", "2020", "Required param missing", "ItemRef"), {}
        customer = data["CustomerRef"]["value"]
        txn_date = date.fromisoformat(data.get("TxnDate") or self.now.date().isoformat())
        total = str(data.get("TotalAmt", sum(Decimal(str(x["Amount"])) for x in data["Line"])))
        if resource == "creditmemo":
            new_id = self.add_credit_memo(customer, total, txn_date=txn_date)
            if data.get("PrivateNote"):
                self.update("CreditMemo", new_id, PrivateNote=data["PrivateNote"])
            entity = "CreditMemo"
        else:
            deposit = (data.get("DepositToAccountRef") or {}).get("value") or UNDEPOSITED_FUNDS
            if self.accounts.get(deposit, {}).get("AccountType") not in DEPOSIT_TYPES:
                detail = f"Invalid Reference Id : Accounts element id {deposit} not found"
                return 400, _fault("ValidationFault", "2500", "Invalid Reference Id", detail), {}
            linked: dict[str, dict[str, str]] = {"Invoice": {}, "CreditMemo": {}}
            for line in data.get("Line", []):
                for link in line.get("LinkedTxn", []):
                    linked[link["TxnType"]][link["TxnId"]] = str(line["Amount"])
            new_id = self.add_payment(
                customer,
                total,
                txn_date=txn_date,
                invoices=linked["Invoice"],
                credits=linked["CreditMemo"],
                deposit_to=deposit,
            )
            entity = "Payment"
            if data.get("PrivateNote"):  # Payment.PrivateNote: kept as sent, up to 4000 chars
                self.update("Payment", new_id, PrivateNote=data["PrivateNote"])
        answer = {entity: self.objects[entity][new_id], "time": stamp(datetime.now(UTC))}
        if request_id:
            self.by_request_id[request_id] = answer
        if self.lose_answers:
            self.lose_answers -= 1
            return 503, _fault("SystemFault", "10000", "Service Unavailable", "answer lost"), {}
        return 200, answer, {}


def _number(obj_id: Any) -> int:
    return int(obj_id) if str(obj_id).isdigit() else 0


def _updated(obj: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(obj["MetaData"]["LastUpdatedTime"])


class _Handler(BaseHTTPRequestHandler):
    fake: FakeQuickBooks
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, answer, extra = self.fake.handle(method, split.path, query, body, headers)
        if self.fake.requests_recorded:
            self.fake.requests.append(Recorded(method, split.path, query, body, status))
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")
