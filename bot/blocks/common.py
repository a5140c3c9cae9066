"""Slack's message limits and the truncation that respects them.

A message holds at most 50 blocks and a section at most 3,000 characters. Long lists are cut
to MAX_LINES lines with "… and N more"; the caller then uploads the full rows as a CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.ids import ActionId, FieldId, RowsRequest, ViewId

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_LINES = 25
MAX_TEXT_CHARS = 3000


@dataclass
class Rendered:
    """A message ready to post, plus what to upload in its thread."""

    blocks: list[Block]
    text: str
    chart: bool = False
    csv: RowsRequest | None = None  # upload these rows at once (the list was cut)

    def block_dicts(self) -> list[dict[str, object]]:
        return [b.to_dict() for b in self.blocks]


def escape(text: str) -> str:
    """Text from the ledger (customer names, reasons) shown literally, never as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int, *, at_sentence: bool = False) -> str:
    """`text` in at most `limit` characters, the ellipsis included; `at_sentence` ends it at a
    sentence or line end when one falls in the second half, so no sentence is cut mid-word."""
    if len(text) <= limit:
        return text
    if not at_sentence:
        return text[: limit - 1] + "…"
    cut = text[: limit - 2]  # room for " …"
    end = max(cut.rfind(". "), cut.rfind("\n"), cut.rfind("! "), cut.rfind("? "))
    if end > limit // 2:
        cut = cut[: end + 1]
    return cut.rstrip() + " …"


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=shorten(text, MAX_HEADER_CHARS))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text[:MAX_SECTION_CHARS])])


def sections(lines: list[str]) -> list[SectionBlock]:
    """Pack lines into as few sections as fit 3,000 characters each; cut an overlong line."""
    out: list[SectionBlock] = []
    chunk = ""
    for raw in lines:
        line = shorten(raw, MAX_SECTION_CHARS)
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > MAX_SECTION_CHARS:
            out.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
            chunk = line
        else:
            chunk = candidate
    if chunk:
        out.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    return out


def cut_lines(
    lines: list[str],
    total: int,
    *,
    limit: int = MAX_LINES,
    rest: str = "the full list is in the CSV in this thread",
) -> tuple[list[str], int]:
    """The first `limit` lines plus "… and N more: <where the rest is>"; returns (lines, N)."""
    shown = lines[:limit]
    more = total - len(shown)
    if more > 0:
        shown = [*shown, f"_… and {more} more: {rest}_"]
    return shown, max(more, 0)


def rows_button(request: RowsRequest, label: str = "Show invoices") -> ActionsBlock:
    return ActionsBlock(
        block_id="arbot_rows",
        elements=[
            ButtonElement(text=label, action_id=ActionId.SHOW_ROWS, value=request.model_dump_json())
        ],
    )


def fit(blocks: Sequence[Block]) -> list[Block]:
    """Never more than 50 blocks: keep the first 49 and say how many were dropped."""
    if len(blocks) <= MAX_BLOCKS:
        return list(blocks)
    dropped = len(blocks) - (MAX_BLOCKS - 1)
    return [*blocks[: MAX_BLOCKS - 1], context(f"… and {dropped} more blocks not shown")]


def plain(text: str) -> str:
    """The message's notification text, cut to Slack's comfortable size."""
    return shorten(text, MAX_TEXT_CHARS)


# --- modals ---------------------------------------------------------------------------------


def plain_text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def modal(
    callback_id: ViewId, meta: BaseModel, *, title: str, submit: str, blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    """A modal view; `meta` (ids only) comes back in the submission's private_metadata."""
    return {
        "type": "modal",
        "callback_id": callback_id.value,
        "private_metadata": meta.model_dump_json(),
        "title": plain_text(title),
        "submit": plain_text(submit),
        "close": plain_text("Cancel"),
        "blocks": blocks,
    }


def field(
    field_id: FieldId, label: str, element: dict[str, Any], *, optional: bool = False
) -> dict[str, Any]:
    """A modal input whose block_id and action_id are both `field_id`."""
    block: dict[str, Any] = {
        "type": "input",
        "block_id": field_id.value,
        "label": plain_text(label),
        "element": {**element, "action_id": field_id.value},
    }
    if optional:
        block["optional"] = True
    return block


def text_input(
    field_id: FieldId,
    label: str,
    *,
    max_length: int | None = None,
    multiline: bool = False,
    initial: str | None = None,
    optional: bool = False,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input"}
    if max_length is not None:
        element["max_length"] = max_length
    if multiline:
        element["multiline"] = True
    if initial is not None:
        element["initial_value"] = initial
    return field(field_id, label, element, optional=optional)
