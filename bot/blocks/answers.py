"""Answer views: one pure builder per tool result, chosen by `render(route_result)`.

Every answer with an amount ends with a "Show invoices" (or payments/disputes) button whose
value says which rows to upload, so a controller can check the number against the rows.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.common import (
    Rendered,
    context,
    cut_lines,
    escape,
    fit,
    header,
    plain,
    rows_button,
    sections,
)
from bot.blocks.ids import ActionId, PickCustomer, RowsRequest
from bot.router import RouteResult
from bot.text import (
    EXAMPLES,
    customer_match_text,
    metric_lines,
    metrics_title,
    money,
    ratio,
)
from tools.buckets import BUCKETS, over_label
from tools.cash import UnappliedCash
from tools.customer_lookup import CustomerMatch
from tools.customers import CustomerBalance
from tools.disputes import OpenDisputes
from tools.metrics import ArMetrics
from tools.overdue import TopOverdue


def _bold_first(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        label, sep, value = line.partition(": ")
        out.append(f"*{label}:* {value}" if sep else line)
    return out


def metrics_view(m: ArMetrics, topic: str) -> Rendered:
    blocks: list[Block] = [header(metrics_title(m, topic))]
    if topic == "aging":
        lines = [f"*AR total:* {money(m.ar_total_minor, m.currency)}"] + [
            f"`{b:>7}`  {money(m.aging_minor[b], m.currency)}  ({ratio(m.aging_pct[b], '%')})"
            for b in BUCKETS
        ]
    else:
        lines = _bold_first(metric_lines(m, topic))
    blocks += sections(lines)
    blocks.append(
        context(
            f"As of end of {m.as_of} · {m.period_days}-day window · credit sales "
            f"{money(m.credit_sales_minor, m.currency)} · unapplied cash not netted"
        )
    )
    blocks.append(rows_button(RowsRequest(kind="open_invoices", as_of=m.as_of)))
    text = "\n".join([metrics_title(m, topic), *metric_lines(m, topic)])
    return Rendered(blocks=fit(blocks), text=plain(text), chart=topic == "aging")


def customer_view(c: CustomerBalance) -> Rendered:
    summary = (
        f"*{escape(c.name)}* owes *{money(c.balance_minor, c.currency)}* as of {c.as_of}: "
        f"{money(c.past_due_minor, c.currency)} past due, {c.invoice_count} open invoice(s)."
    )
    aging = " · ".join(f"{b} {money(c.aging_minor[b], c.currency)}" for b in BUCKETS)
    invoice_lines = []
    for inv in c.invoices:
        late = f"{inv.days_past_due} days late" if inv.days_past_due > 0 else "not yet due"
        invoice_lines.append(
            f"• `{escape(inv.number or inv.external_id)}` {money(inv.open_minor, inv.currency)} "
            f"open of {money(inv.total_minor, inv.currency)} · due {inv.due_on} · {late}"
        )
    shown, more = cut_lines(invoice_lines, len(invoice_lines))
    blocks: list[Block] = [header(f"{c.name} · balance"), *sections([summary]), context(aging)]
    if shown:
        blocks += [DividerBlock(), *sections(shown)]
    request = RowsRequest(kind="customer_invoices", as_of=c.as_of, customer_id=c.customer_id)
    blocks.append(rows_button(request))
    text = f"{c.name} owes {money(c.balance_minor, c.currency)} as of {c.as_of}"
    return Rendered(blocks=fit(blocks), text=text, csv=request if more else None)


def customer_match_view(match: CustomerMatch, as_of: object = None) -> Rendered:
    text = customer_match_text(match)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=escape(text)))]
    if match.status == "ambiguous":
        blocks.append(
            ActionsBlock(
                block_id="arbot_pick_customer",
                elements=[
                    ButtonElement(
                        text=c.name[:75],
                        action_id=f"{ActionId.PICK_CUSTOMER.value}:{c.customer_id}",
                        value=PickCustomer(
                            customer_id=c.customer_id,
                            as_of=as_of,
                        ).model_dump_json(),
                    )
                    for c in match.candidates[:5]
                ],
            )
        )
    return Rendered(blocks=blocks, text=text)


def overdue_view(t: TopOverdue) -> Rendered:
    what = over_label(t.more_than_days)
    title = (
        f"Top overdue accounts as of {t.as_of}"
        if t.more_than_days is not None
        else f"Largest balances as of {t.as_of}"
    )
    lines = [
        f"{i}. *{escape(a.name)}* {money(a.overdue_minor, t.currency)} · oldest "
        f"{a.oldest_days_past_due} days · {a.invoice_count} invoice(s)"
        for i, a in enumerate(t.accounts, 1)
    ]
    shown, more = cut_lines(lines, t.account_count)
    summary = (
        f"*{money(t.total_overdue_minor, t.currency)}* {what} across {t.account_count} account(s)."
    )
    request = RowsRequest(
        kind="overdue_invoices", as_of=t.as_of, more_than_days=t.more_than_days
    )
    blocks: list[Block] = [header(title), *sections([summary]), *sections(shown)]
    blocks.append(rows_button(request))
    text = f"{money(t.total_overdue_minor, t.currency)} {what} across {t.account_count} account(s)"
    return Rendered(blocks=fit(blocks), text=text, csv=request if more else None)


def disputes_view(d: OpenDisputes) -> Rendered:
    lines = []
    for x in d.disputes:
        on = f" on `{escape(x.invoice_number)}`" if x.invoice_number else ""
        reason = f" · “{escape(x.reason[:200])}”" if x.reason else ""
        lines.append(
            f"• *{escape(x.customer_name)}*{on}: {money(x.amount_minor, x.currency)} {x.kind}, "
            f"open {x.age_days} days{reason}"
        )
    shown, more = cut_lines(lines, d.count)
    summary = f"*{d.count}* open dispute(s), *{money(d.total_minor, d.currency)}* in total."
    request = RowsRequest(kind="disputes", as_of=d.as_of)
    blocks: list[Block] = [header(f"Open disputes as of {d.as_of}"), *sections([summary])]
    blocks += sections(shown)
    if d.count:
        blocks.append(rows_button(request, "Show disputes"))
    text = f"{d.count} open dispute(s), {money(d.total_minor, d.currency)} in total"
    return Rendered(blocks=fit(blocks), text=text, csv=request if more else None)


def unapplied_view(u: UnappliedCash) -> Rendered:
    lines = [
        f"• *{escape(p.customer_name)}*: {money(p.amount_minor, p.currency)} received "
        f"{p.paid_at.date()} ({escape(p.method or 'unknown method')})"
        for p in u.payments
    ]
    shown, more = cut_lines(lines, u.count)
    summary = (
        f"*{money(u.total_minor, u.currency)}* in {u.count} payment(s) not applied to an invoice."
    )
    request = RowsRequest(kind="unapplied", as_of=u.as_of)
    blocks: list[Block] = [header(f"Unapplied cash as of {u.as_of}"), *sections([summary])]
    blocks += sections(shown)
    if u.count:
        blocks.append(rows_button(request, "Show payments"))
    text = f"Unapplied cash: {money(u.total_minor, u.currency)} in {u.count} payment(s)"
    return Rendered(blocks=fit(blocks), text=text, csv=request if more else None)


def help_view() -> Rendered:
    lines = [f"• *{what}*: _{example}_" for what, example in EXAMPLES]
    blocks: list[Block] = [
        *sections(["Here is what I can answer right away:"]),
        *sections(lines),
        context("Add a date for history: _as of June 30_, _last quarter_, _2024-12-31_."),
    ]
    return Rendered(blocks=blocks, text="Here is what I can answer")


def text_view(text: str) -> Rendered:
    return Rendered(blocks=fit(sections(text.split("\n"))), text=plain(text))


def render(result: RouteResult) -> Rendered:
    """The message for an answer, whichever path produced it."""
    r = result.result
    if result.blocks is not None:
        # Ready-made blocks arrive as dicts (e.g. the approval card): parse them for `fit`.
        parsed = [b if isinstance(b, Block) else Block.parse(b) for b in result.blocks]
        return Rendered(blocks=fit([b for b in parsed if b is not None]), text=plain(result.text))
    if result.answered_by == "help":
        return help_view()
    if isinstance(r, ArMetrics):
        return metrics_view(r, result.topic or "all")
    if isinstance(r, CustomerBalance):
        return customer_view(r)
    if isinstance(r, CustomerMatch):
        return customer_match_view(r, result.intent.as_of if result.intent else None)
    if isinstance(r, TopOverdue):
        return overdue_view(r)
    if isinstance(r, OpenDisputes):
        return disputes_view(r)
    if isinstance(r, UnappliedCash):
        return unapplied_view(r)
    return text_view(result.text)
