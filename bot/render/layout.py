"""One layout for every answer, drawn twice from the same lines: Block Kit and plain text.

A renderer describes its answer as lines of fragments; `compose` turns them into blocks
(ledger text escaped, `Strong` in bold, `Mention`, `Icon` and `Code` as Slack markup) and into
the plain-text fallback that Slack notifications and `arbot ask` show (no markup; it is
escaped once more only when posted). Both come from the same fragments, so a figure in the
blocks is the same figure in the text, and every list is cut at the same MAX_LINES.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    MAX_LINES,
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
from bot.blocks.ids import RowsRequest


class Strong(str):
    """A fragment shown in bold in Slack and as it is in plain text."""

    __slots__ = ()


class Mention(str):
    """A Slack user id: a mention in Slack, the bare id in plain text (a terminal has no @)."""

    __slots__ = ()


class Icon(str):
    """An emoji code (":hourglass:") that leads a line in Slack; plain text leaves it out."""

    __slots__ = ()


class Code(str):
    """Preformatted text (an email body): a code block in Slack, set off by blank lines in text."""

    __slots__ = ()


Line = Sequence[str]
"""Fragments of one line; ledger text (names, reasons) is escaped in Slack, never markup."""


def _mrkdwn(fragment: str) -> str:
    if isinstance(fragment, Strong):
        return f"*{escape(fragment)}*"
    if isinstance(fragment, Mention):
        return f"<@{escape(fragment)}>"
    if isinstance(fragment, Icon):
        return f"{fragment} "
    if isinstance(fragment, Code):
        return f"```{escape(fragment)}```"
    return escape(fragment)


def mrkdwn(line: Line) -> str:
    """The line in Slack's markup: each value escaped once, here, where it is inserted."""
    return "".join(_mrkdwn(p) for p in line)


def _text(fragment: str) -> str:
    if isinstance(fragment, Icon):
        return ""
    if isinstance(fragment, Code):
        return f"\n{fragment}\n"
    return fragment


def text_of(line: Line) -> str:
    """The line in plain words, for notifications and the terminal: no markup at all."""
    return "".join(_text(p) for p in line)


def compose(
    *,
    title: str | None,
    lines: Sequence[Line] = (),
    items: Sequence[Line] = (),
    total: int | None = None,
    note: Line | None = None,
    extra: Sequence[Block] = (),
    rows: RowsRequest | None = None,
    rows_label: str = "Show invoices",
    chart: bool = False,
) -> Rendered:
    """The answer's blocks and text: title, lines, a list, a note, extra blocks, the rows button.

    `items` are the listed rows at hand and `total` how many there are in all; beyond
    MAX_LINES (or when `total` is larger) the list ends with "… and N more" and `rows` is
    uploaded as CSV, so the full list is one click away in Slack.
    """
    blocks: list[Block] = [header(title)] if title else []
    text = [title] if title else []
    blocks += sections([mrkdwn(line) for line in lines])
    text += [text_of(line) for line in lines]
    shown, more = cut_lines(
        [mrkdwn(item) for item in items], len(items) if total is None else total
    )
    blocks += sections(shown)
    text += [text_of(item) for item in items[:MAX_LINES]]
    if more:
        text.append(f"… and {more} more")
    if note:
        blocks.append(context(mrkdwn(note)))
        text.append(text_of(note))
    blocks += extra
    if rows is not None:
        blocks.append(rows_button(rows, rows_label))
    return Rendered(
        blocks=fit(blocks), text=plain("\n".join(text)), chart=chart, csv=rows if more else None
    )
