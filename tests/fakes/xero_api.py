"""A small fake of Xero's Accounting API and its OAuth 2 identity server on 127.0.0.1,
driven by the real `xero-python` client in tests.

Shapes follow Xero's published OpenAPI description (xero_accounting.yaml, xero-identity.yaml):
list answers are envelopes `{"Id", "Status": "OK", "ProviderName", "DateTimeUTC",
"pagination": {"page", "pageSize"}, "<Entity>": [...]}`; ids are
UUIDs (`ContactID`, `InvoiceID`, `PaymentID`, `CreditNoteID`, `OverpaymentID`,
`PrepaymentID`); dates are `/Date(epoch-ms+0000)/` (x-is-msdate), with `DateString`;
`UpdatedDateUTC` is `/Date(epoch-ms+0000)/` to the millisecond; amounts are JSON numbers in
major units of `CurrencyCode`. Invoices carry `Type`, `Status`, `Total`, `AmountDue`,
`AmountPaid`, `AmountCredited`; payments `Invoice{InvoiceID, Contact, CurrencyCode}`,
`Amount`, `PaymentType`, `Status`; credit notes, overpayments and prepayments
`Allocations[{Invoice{InvoiceID}, Amount, Date}]` and `RemainingCredit`.

What it serves:
- `POST /connect/token` (`grant_type=refresh_token`, client id and secret in the form): a new
  access token and a ROTATED refresh token; the previous one is refused (400 invalid_grant);
- `GET /api.xro/2.0/{Entity}`: `If-Modified-Since` (at or after, ISO 8601), `where`
  (`Field=="value"`; an object without the field does not match), `order` (`Field [ASC|DESC]`,
  ties by id; by id without one), `page`, `pageSize`, and `pagination` with `pageCount` and
  `itemCount`;
- `GET /api.xro/2.0/{Entity}/{id}`: one object, in the list envelope;
- `POST /api.xro/2.0/CreditNotes/{id}` with Status VOIDED: voids a note with no allocation;
- `PUT /api.xro/2.0/CreditNotes` and `/CreditNotes/{id}/Allocations`: create, honouring
  `Idempotency-Key` (the same key answers the first result again and creates nothing);
- `PUT /api.xro/2.0/Payments` (createPayments, body `{"Payments": [...]}`) and `POST
  /api.xro/2.0/Payments` (createPayment, one Payment): a payment of `Invoice.InvoiceID` into
  the bank account `Account.Code` (or `AccountID`) on `Date` of `Amount`, with `Reference`;
  the answer is the `Payments` envelope, each with its `PaymentID`, `Status` AUTHORISED,
  `PaymentType` ACCRECPAYMENT, `Account` and the `Invoice` as it now stands (`AmountDue`,
  `AmountPaid`, `Status` PAID once nothing is due). Refused (400 ValidationException) as
  Xero does: an unknown account, an invoice not AUTHORISED, more than its `AmountDue`.
  `Idempotency-Key` and `lose_answers` as for credit notes;
  `lose_answers` carries out a create but answers 503, as when the answer is lost. An
  allocation larger than the invoice's `AmountDue` or the note's `RemainingCredit` is refused
  (400 ValidationException), as Xero does;

A missing or expired bearer token gets 401; a wrong `xero-tenant-id` 403. Tests can make the
server answer 429 (with `Retry-After`) or 500 a number of times (`fail`), expire the access
token (`expire_access_token`), make the identity server fail (`identity_failures`) and
plant a malformed object (`plant`).
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

CLIENT_ID = "FAKEXEROCLIENTID"
CLIENT_SECRET = "fake-xero-client-secret"
TENANT = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
FIRST_REFRESH_TOKEN = "xero-first-refresh-token"
BANK_ACCOUNT_CODE = "090"  # the demo company's "Business Bank Account"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ENTITIES = ("Contacts", "Invoices", "Payments", "CreditNotes", "Overpayments", "Prepayments")
ID_FIELDS = {
    "Contacts": "ContactID",
    "Invoices": "InvoiceID",
    "CreditNotes": "CreditNoteID",
    "Payments": "PaymentID",
    "Overpayments": "OverpaymentID",
    "Prepayments": "PrepaymentID",
}
_WHERE = re.compile(r'^\s*(\w+)\s*==\s*"([^"]*)"\s*$')


def ms_date(at: datetime | date) -> str:
    if not isinstance(at, datetime):
        at = datetime(at.year, at.month, at.day, tzinfo=UTC)
    return f"/Date({int(at.timestamp() * 1000)}+0000)/"


def _ms(text: str) -> datetime:
    found = re.match(r"/Date\((\d+)", text)
    assert found, text
    return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC)


def num(value: Decimal | int | str) -> Decimal:
    return Decimal(str(value))


def _validation(message: str) -> dict[str, Any]:
    """Xero's 400 answer to a document it will not take."""
    errors = [{"ValidationErrors": [{"Message": message}]}]
    return {"ErrorNumber": 10, "Type": "ValidationException", "Elements": errors}


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    status: int = 200


@dataclass
class FakeXero:
    now: datetime = START
    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {e: {} for e in ENTITIES}
    )
    requests: list[Recorded] = field(default_factory=list)
    refresh_token: str = FIRST_REFRESH_TOKEN
    access_token: str | None = None
    refused_refresh_tokens: set[str] = field(default_factory=set)
    failures: list[tuple[int, int, str]] = field(default_factory=list)  # status, times, entity
    by_key: dict[str, tuple[int, str]] = field(default_factory=dict)  # Idempotency-Key -> answer
    expire_after: int | None = None
    step_ms: int = 1000  # clock advance per change
    lose_answers: int = 0
    retry_after: str = "0"  # the Retry-After of a 429
    identity_failures: list[int] = field(default_factory=list)  # statuses the next refreshes get
    requests_recorded: bool = True
    bank_accounts: dict[str, str] = field(  # Code -> AccountID of the BANK accounts
        default_factory=lambda: {BANK_ACCOUNT_CODE: str(uuid.uuid4())}
    )
    _tokens: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _codes: dict[str, str] = field(default_factory=dict)  # authorization code -> redirect_uri
    tenant_name: str = "Demo Company (US)"
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _sorted: dict[str, tuple[list[datetime], list[dict[str, Any]]]] = field(default_factory=dict)
    _matching: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FakeXero:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner._handle(self, "GET")

            def do_POST(self) -> None:
                owner._handle(self, "POST")

            def do_PUT(self) -> None:
                owner._handle(self, "PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_base(self) -> str:
        return f"{self.base}/api.xro/2.0"

    @property
    def identity_url(self) -> str:
        return f"{self.base}/connect/token"

    def consent(self, authorize_url: str) -> str:
        """What login.xero.com does when the person approves: the address the browser is
        redirected to, with a one-use code and the request's state."""
        q = dict(parse_qsl(urlsplit(authorize_url).query))
        assert q.get("response_type") == "code" and q.get("client_id") == CLIENT_ID, q
        assert "offline_access" in q.get("scope", "").split(), "no refresh token without it"
        code = uuid.uuid4().hex
        with self._lock:
            self._codes[code] = q["redirect_uri"]
        return f"{q['redirect_uri']}?code={code}&scope={q['scope']}&state={q['state']}"

    # --- building the books ------------------------------------------------------------------

    def _tick(self) -> str:
        self.now += timedelta(milliseconds=self.step_ms)
        return ms_date(self.now)

    def _put(self, entity: str, obj: dict[str, Any]) -> str:
        with self._lock:
            obj["UpdatedDateUTC"] = self._tick()
            self.objects[entity][obj[ID_FIELDS[entity]]] = obj
            self._sorted.pop(entity, None)
            return str(obj[ID_FIELDS[entity]])

    def add_contact(self, name: str, *, email: str | None = None, currency: str = "USD") -> str:
        cid = str(uuid.uuid4())
        contact = {"ContactID": cid, "ContactStatus": "ACTIVE", "Name": name,
                   "EmailAddress": email or "", "IsSupplier": False, "IsCustomer": True,
                   "DefaultCurrency": currency, "HasValidationErrors": False}  # fmt: skip
        return self._put("Contacts", contact)

    def add_invoice(
        self,
        contact: str,
        total: str,
        *,
        on: date,
        number: str | None = None,
        currency: str = "USD",
        status: str = "AUTHORISED",
        due: date | None = None,
    ) -> str:
        iid = str(uuid.uuid4())
        due = due or on + timedelta(days=30)
        c = self.objects["Contacts"][contact]
        inv = {"Type": "ACCREC", "InvoiceID": iid, "InvoiceNumber": number or f"INV-{iid[:4]}",
               "Reference": "", "Contact": {"ContactID": contact, "Name": c["Name"]},
               "Date": ms_date(on), "DateString": f"{on.isoformat()}T00:00:00",
               "DueDate": ms_date(due), "DueDateString": f"{due.isoformat()}T00:00:00",
               "Status": status, "LineAmountTypes": "Exclusive", "LineItems": [],
               "SubTotal": num(total), "TotalTax": Decimal(0), "Total": num(total),
               "AmountDue": num(total), "AmountPaid": Decimal(0), "AmountCredited": Decimal(0),
               "CurrencyCode": currency, "CurrencyRate": Decimal(1), "Payments": [],
               "CreditNotes": [], "Overpayments": [], "Prepayments": [],
               "HasErrors": False}  # fmt: skip
        return self._put("Invoices", inv)

    def set_status(self, entity: str, oid: str, status: str) -> None:
        with self._lock:
            self._put(entity, self.objects[entity][oid] | {"Status": status})

    def update(self, entity: str, oid: str, **fields: Any) -> None:
        with self._lock:
            self._put(entity, self.objects[entity][oid] | fields)

    def _settle(self, iid: str, paid: Decimal = Decimal(0), credited: Decimal = Decimal(0)) -> None:
        inv = dict(self.objects["Invoices"][iid])
        inv["AmountPaid"] += paid
        inv["AmountCredited"] += credited
        inv["AmountDue"] = inv["Total"] - inv["AmountPaid"] - inv["AmountCredited"]
        if inv["AmountDue"] == 0:
            inv["Status"] = "PAID"
        self._put("Invoices", inv)

    def add_payment(
        self,
        invoice: str,
        amount: str,
        *,
        on: date,
        reference: str = "",
        account: dict[str, str] | None = None,
    ) -> str:
        with self._lock:
            inv = self.objects["Invoices"][invoice]
            pid = str(uuid.uuid4())
            pay = {"PaymentID": pid, "Date": ms_date(on), "Amount": num(amount),
                   "BankAmount": num(amount), "Reference": reference,
                   "PaymentType": "ACCRECPAYMENT", "Status": "AUTHORISED",
                   "IsReconciled": account is None, "CurrencyRate": Decimal(1),
                   "HasAccount": account is not None,
                   "Invoice": {"InvoiceID": invoice, "InvoiceNumber": inv["InvoiceNumber"],
                               "Type": "ACCREC", "Contact": dict(inv["Contact"]),
                               "CurrencyCode": inv["CurrencyCode"]}}  # fmt: skip
            if account is not None:
                pay["Account"] = account
            self._put("Payments", pay)
            self._settle(invoice, paid=num(amount))
            return pid

    def delete_payment(self, pid: str) -> None:
        with self._lock:
            pay = self.objects["Payments"][pid]
            self._put("Payments", pay | {"Status": "DELETED"})
            self._settle(pay["Invoice"]["InvoiceID"], paid=-pay["Amount"])
            inv = self.objects["Invoices"][pay["Invoice"]["InvoiceID"]]
            if inv["AmountDue"] > 0:
                self._put("Invoices", inv | {"Status": "AUTHORISED"})

    def add_credit(
        self,
        entity: str,
        contact: str,
        total: str,
        *,
        on: date,
        allocate: dict[str, str] | None = None,
        currency: str = "USD",
        reference: str = "",
    ) -> str:
        """A credit note (entity CreditNotes), overpayment or prepayment, allocated to invoices."""
        with self._lock:
            did = str(uuid.uuid4())
            kind = {"CreditNotes": "ACCRECCREDIT", "Overpayments": "RECEIVE-OVERPAYMENT",
                    "Prepayments": "RECEIVE-PREPAYMENT"}[entity]  # fmt: skip
            doc = {"Type": kind, ID_FIELDS[entity]: did,
                   "Contact": {"ContactID": contact,
                               "Name": self.objects["Contacts"][contact]["Name"]},
                   "Date": ms_date(on), "Status": "AUTHORISED", "LineAmountTypes": "NoTax",
                   "SubTotal": num(total), "TotalTax": Decimal(0), "Total": num(total),
                   "CurrencyCode": currency, "RemainingCredit": num(total),
                   "Allocations": [], "Reference": reference}  # fmt: skip
            if entity == "CreditNotes":
                doc["CreditNoteNumber"] = f"CN-{did[:4]}"
            self._put(entity, doc)
            for invoice, amount in (allocate or {}).items():
                self.allocate(entity, did, invoice, amount, on=on)
            return did

    def allocate(self, entity: str, did: str, invoice: str, amount: str, *, on: date) -> None:
        with self._lock:
            doc = dict(self.objects[entity][did])
            allocation = {"AllocationID": str(uuid.uuid4()), "Amount": num(amount),
                          "Date": ms_date(on), "Invoice": {"InvoiceID": invoice}}  # fmt: skip
            doc["Allocations"] = [*doc["Allocations"], allocation]
            doc["RemainingCredit"] = doc["RemainingCredit"] - num(amount)
            if doc["RemainingCredit"] == 0:
                doc["Status"] = "PAID"
            self._put(entity, doc)
            if entity == "CreditNotes":
                self._settle(invoice, credited=num(amount))
            else:
                self._settle(invoice, paid=num(amount))

    def plant(self, entity: str, obj: dict[str, Any]) -> None:
        """Put an object as given (malformed or unexpected), stamped like any other."""
        with self._lock:
            obj = dict(obj)
            obj["UpdatedDateUTC"] = self._tick()
            key = str(obj.get(ID_FIELDS[entity]) or f"planted-{uuid.uuid4()}")
            self.objects[entity][key] = obj
            self._sorted.pop(entity, None)

    # --- behaviours --------------------------------------------------------------------------

    def fail(self, status: int, *, times: int = 1, entity: str = "*") -> None:
        self.failures.append((status, times, entity))

    def expire_access_token(self, after_calls: int = 0) -> None:
        self.expire_after = after_calls

    def api_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/api.xro/")]

    # --- serving -----------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length).decode() if length else ""
        rec = Recorded(method, split.path, dict(parse_qsl(split.query)),
                       {k.lower(): v for k, v in h.headers.items()}, body)  # fmt: skip
        status, payload, extra = self._answer(rec)
        rec.status = status
        if self.requests_recorded:
            with self._lock:
                self.requests.append(rec)
        data = payload if isinstance(payload, bytes) else json.dumps(payload, cls=_Encoder).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _answer(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        if rec.path == "/connect/token":
            return self._token(rec)
        if rec.path.lower() == "/connections" and rec.method == "GET":  # Xero ignores case
            return self._connections(rec)
        if not rec.path.startswith("/api.xro/2.0/"):
            return 404, {"Title": "Not Found"}, {}
        with self._lock:
            if rec.headers.get("authorization") != f"Bearer {self.access_token}":
                return 401, {"Title": "Unauthorized", "Detail": "TokenExpired"}, {}
            if self.expire_after is not None:
                if self.expire_after <= 0:
                    self.access_token, self.expire_after = None, None
                    return 401, {"Title": "Unauthorized", "Detail": "TokenExpired"}, {}
                self.expire_after -= 1
            if rec.headers.get("xero-tenant-id") != TENANT:
                return 403, {"Title": "Forbidden", "Detail": "AuthenticationUnsuccessful"}, {}
            parts = rec.path.split("/")[3:]
            for n, (status, times, entity) in enumerate(self.failures):
                if times > 0 and entity in ("*", parts[0]):
                    self.failures[n] = (status, times - 1, entity)
                    if status == 429:
                        headers = {
                            "Retry-After": self.retry_after,
                            "X-Rate-Limit-Problem": "minute",
                        }
                        return 429, {"Title": "Too Many Requests"}, headers
                    return status, {"Title": "An error occurred", "Status": status}, {}
            if rec.method == "GET" and len(parts) == 1 and parts[0] in ENTITIES:
                return 200, self._list(parts[0], rec), {}
            if rec.method == "GET" and len(parts) == 2 and parts[0] in ENTITIES:
                found = self.objects[parts[0]].get(parts[1])
                if found is None:
                    return 404, {"Title": "Not Found"}, {}
                return 200, {"Id": str(uuid.uuid4()), "Status": "OK", parts[0]: [found]}, {}
            if rec.method in ("PUT", "POST") and parts[0] in ("CreditNotes", "Payments"):
                return self._idempotent(rec, parts)
        return 404, {"Title": "Not Found"}, {}

    def _token(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        form = dict(parse_qsl(rec.body))
        with self._lock:
            if self.identity_failures:
                return self.identity_failures.pop(0), {"error": "temporarily_unavailable"}, {}
            ok = (form.get("client_id"), form.get("client_secret")) == (CLIENT_ID, CLIENT_SECRET)
            grant = form.get("grant_type")
            if grant not in ("refresh_token", "authorization_code") or not ok:
                return 400, {"error": "invalid_client"}, {}
            if grant == "authorization_code":
                if self._codes.pop(str(form.get("code")), None) != form.get("redirect_uri"):
                    return 400, {"error": "invalid_grant"}, {}
            elif form.get("refresh_token") != self.refresh_token:
                self.refused_refresh_tokens.add(str(form.get("refresh_token")))
                return 400, {"error": "invalid_grant"}, {}
            n = next(self._tokens)
            self.access_token = f"xero-access-{n}-{uuid.uuid4().hex}"
            self.refresh_token = f"xero-refresh-{n}-{uuid.uuid4().hex}"
            return 200, {"id_token": "x.y.z", "access_token": self.access_token,
                         "expires_in": 1800, "token_type": "Bearer",
                         "refresh_token": self.refresh_token,
                         "scope": form.get("scope", "")}, {}  # fmt: skip

    def _connections(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        """GET https://api.xero.com/connections: the organisations the token may reach."""
        with self._lock:
            if rec.headers.get("authorization") != f"Bearer {self.access_token}":
                return 401, {"Title": "Unauthorized"}, {}
        stamp = self.now.strftime("%Y-%m-%dT%H:%M:%S.%f")
        return 200, [{"id": str(uuid.uuid4()), "authEventId": str(uuid.uuid4()),
                      "tenantId": TENANT, "tenantType": "ORGANISATION",
                      "tenantName": self.tenant_name, "createdDateUtc": stamp,
                      "updatedDateUtc": stamp}], {}  # fmt: skip

    def _ordered(self, entity: str) -> tuple[list[datetime], list[dict[str, Any]]]:
        """(update times, objects) in update order, ties by id; kept until a change."""
        if entity not in self._sorted:
            keyed = sorted(
                ((_ms(o["UpdatedDateUTC"]), str(o.get(ID_FIELDS[entity]))), o)
                for o in self.objects[entity].values()
            )
            self._sorted[entity] = ([k[0] for k, _ in keyed], [o for _, o in keyed])
            self._matching = {k: v for k, v in self._matching.items() if k[0] != entity}
        return self._sorted[entity]

    def _matches(self, entity: str, where: str | None) -> list[int]:
        """How many objects of the first n (in update order) match `where`, for each n."""
        key = (entity, where or "")
        if key not in self._matching:
            found = _WHERE.match(where) if where else None
            assert found or not where, f"unsupported where {where!r}"
            counts, n = [0], 0
            for o in self._ordered(entity)[1]:
                # As Xero: an object without the field does not match.
                n += found is None or o.get(found.group(1)) == found.group(2)
                counts.append(n)
            self._matching[key] = counts
        return self._matching[key]

    def _list(self, entity: str, rec: Recorded) -> dict[str, Any]:
        times, objs = self._ordered(entity)
        start = 0
        since = rec.headers.get("if-modified-since")
        if since:
            at = datetime.fromisoformat(since)
            start = bisect.bisect_left(times, at.replace(tzinfo=UTC) if at.tzinfo is None else at)
        where = rec.query.get("where")
        counts = self._matches(entity, where)
        size = min(int(rec.query.get("pageSize", 100)), 1000)
        page = int(rec.query.get("page", 1))
        items = counts[-1] - counts[start]
        order = (rec.query.get("order") or "").split()
        if order[:1] == ["UpdatedDateUTC"] and order[1:] in ([], ["ASC"]):
            # The n-th match at or after `start`: where the running count reaches it.
            first = bisect.bisect_left(counts, counts[start] + (page - 1) * size + 1) - 1
            chosen = (o for i, o in enumerate(objs[first:], first) if counts[i + 1] > counts[i])
            chunk = list(itertools.islice(chosen, size)) if first >= start else []
        else:
            chunk = self._other_order(entity, objs[start:], where, order)
            chunk = chunk[(page - 1) * size : page * size]
        return {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": "arbot tests",
                "DateTimeUTC": ms_date(datetime.now(UTC)),
                "pagination": {"page": page, "pageSize": size, "pageCount": -(-items // size),
                               "itemCount": items}, entity: chunk}  # fmt: skip

    def _other_order(
        self, entity: str, objs: list[dict[str, Any]], where: str | None, order: list[str]
    ) -> list[dict[str, Any]]:
        """Any other `order` (`Field [ASC|DESC]`), or Xero's default by id without one."""
        found = _WHERE.match(where) if where else None
        kept = [o for o in objs if found is None or o.get(found.group(1)) == found.group(2)]
        name = order[0] if order else ID_FIELDS[entity]

        def value(o: dict[str, Any]) -> Any:
            got = o.get(name)
            return _ms(got) if isinstance(got, str) and got.startswith("/Date(") else str(got)

        kept.sort(key=lambda o: (value(o), str(o.get(ID_FIELDS[entity]))))
        return kept[::-1] if order[1:] == ["DESC"] else kept

    def _idempotent(self, rec: Recorded, parts: list[str]) -> tuple[int, Any, dict[str, str]]:
        key = rec.headers.get("idempotency-key")
        if key and key in self.by_key:
            return 200, json.loads(self.by_key[key][1]), {}
        got = json.loads(rec.body)
        if parts == ["Payments"]:  # PUT: {"Payments": [...]}; POST: one Payment
            status, answer = self._pay(got.get("Payments") if rec.method == "PUT" else [got])
        elif len(parts) == 1:
            status, answer = self._create_credit_notes(got)
        elif len(parts) == 2:
            status, answer = self._update_credit_note(parts[1], got)
        else:
            status, answer = self._allocate(parts[1], got)
        if key and status == 200:
            self.by_key[key] = (status, json.dumps(answer, cls=_Encoder))
        if status == 200 and self.lose_answers > 0:
            self.lose_answers -= 1
            return 503, {"Title": "Service Unavailable"}, {}
        return status, answer, {}

    def _create_credit_notes(self, got: dict[str, Any]) -> tuple[int, Any]:
        made = []
        for cn in got.get("CreditNotes") or []:
            lines = cn.get("LineItems") or []
            if not lines or any(not line.get("AccountCode") for line in lines):
                return 400, {"Type": "ValidationException", "Message": "AccountCode required"}
            total = sum(num(line["UnitAmount"]) * num(line.get("Quantity", 1)) for line in lines)
            on = date.fromisoformat(str(cn["Date"])[:10])
            did = self.add_credit("CreditNotes", cn["Contact"]["ContactID"], str(total), on=on,
                                  currency=cn.get("CurrencyCode", "USD"),
                                  reference=cn.get("Reference", ""))  # fmt: skip
            made.append(self.objects["CreditNotes"][did])
        return 200, {"Id": str(uuid.uuid4()), "Status": "OK", "CreditNotes": made}

    def _update_credit_note(self, did: str, got: dict[str, Any]) -> tuple[int, Any]:
        """Only voiding, and only a note with no allocation left, as Xero allows."""
        note = self.objects["CreditNotes"].get(did)
        if note is None:
            return 404, {"Title": "Not Found"}
        if [n.get("Status") for n in got.get("CreditNotes") or []] != ["VOIDED"]:
            return 400, _validation("only voiding is supported by this fake")
        if any(not a.get("IsDeleted") for a in note["Allocations"]):
            return 400, _validation("Remove the allocations before voiding the credit note")
        self.set_status("CreditNotes", did, "VOIDED")
        return 200, {"Id": str(uuid.uuid4()), "Status": "OK",
                     "CreditNotes": [self.objects["CreditNotes"][did]]}  # fmt: skip

    def _allocate(self, did: str, got: dict[str, Any]) -> tuple[int, Any]:
        if did not in self.objects["CreditNotes"]:
            return 404, {"Title": "Not Found"}
        note = self.objects["CreditNotes"][did]
        for a in got.get("Allocations") or []:
            invoice = self.objects["Invoices"].get(a["Invoice"]["InvoiceID"])
            if invoice is None:
                return 404, {"Title": "Not Found"}
            if (
                num(a["Amount"]) > invoice["AmountDue"]
                or num(a["Amount"]) > note["RemainingCredit"]
            ):
                return 400, _validation("The amount of the allocation exceeds the amount due")
        for a in got.get("Allocations") or []:
            on = date.fromisoformat(str(a["Date"])[:10])
            self.allocate("CreditNotes", did, a["Invoice"]["InvoiceID"], str(a["Amount"]), on=on)
        allocations = self.objects["CreditNotes"][did]["Allocations"]
        return 200, {"Id": str(uuid.uuid4()), "Status": "OK", "Allocations": allocations[-1:]}

    def _pay(self, payments: Any) -> tuple[int, Any]:
        """Payments of invoices, all or none, refused as Xero refuses them."""
        if not isinstance(payments, list) or not payments:
            return 400, _validation("A payment is required")
        for p in payments:
            account = p.get("Account") or {}
            invoice = self.objects["Invoices"].get((p.get("Invoice") or {}).get("InvoiceID"))
            if (
                account.get("Code") not in self.bank_accounts
                and account.get("AccountID") not in self.bank_accounts.values()
            ):
                return 400, _validation("Account code is not a valid bank account code")
            if invoice is None:
                return 400, _validation("Invoice could not be found")
            if invoice["Status"] != "AUTHORISED":
                return 400, _validation("Payment can only be made against Authorised documents")
            if not 0 < num(p["Amount"]) <= invoice["AmountDue"]:
                return 400, _validation(
                    "Payment amount exceeds the amount outstanding on this document"
                )
        made = []
        for p in payments:
            code = p["Account"].get("Code") or next(
                c for c, i in self.bank_accounts.items() if i == p["Account"]["AccountID"]
            )
            account = {"AccountID": self.bank_accounts[code], "Code": code}
            iid = p["Invoice"]["InvoiceID"]
            on = date.fromisoformat(str(p["Date"])[:10])
            reference = str(p.get("Reference") or "")
            pid = self.add_payment(
                iid, str(p["Amount"]), on=on, reference=reference, account=account
            )
            made.append(self.objects["Payments"][pid] | {"Invoice": self.objects["Invoices"][iid]})
        return 200, {"Id": str(uuid.uuid4()), "Status": "OK", "Payments": made}
