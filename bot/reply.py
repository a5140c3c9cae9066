"""Post an answer where the question was asked: render, post, upload.

Replies go in the question's thread; a chart or a CSV goes in the same thread right after the
answer.
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.answer import Answer
from bot.app import BotDeps
from bot.blocks.common import context, escape, fit
from bot.blocks.ids import RowsRequest
from bot.cards import post_card
from bot.charts import chart_of
from bot.rows import rows_csv
from tools.format import plural


def post_answer(
    deps: BotDeps,
    client: WebClient,
    result: Answer,
    *,
    channel: str,
    thread_ts: str | None,
    asked_by: str | None = None,
    question: str | None = None,
) -> str:
    """Post the answer in the thread, then its chart or CSV; returns the answer's ts.

    A proposal's answer is its approval card, posted by `post_card` so the card's place is
    recorded at once and every later decision redraws it there.
    """
    if result.proposal is not None:
        return post_card(client, deps, result.proposal, channel=channel, thread_ts=thread_ts)
    view = result.view
    blocks = view.blocks
    if asked_by:
        blocks = fit([context(f"<@{asked_by}> asked: /ar {question or ''}"), *blocks])
    posted = client.chat_postMessage(
        channel=channel,
        thread_ts=thread_ts,
        text=escape(view.text),
        blocks=[b.to_dict() for b in blocks],
    )
    files_thread = thread_ts or str(posted["ts"])
    chart = chart_of(result.result) if view.chart else None
    if chart is not None:
        client.files_upload_v2(
            channel=channel,
            thread_ts=files_thread,
            content=chart.png,
            filename=chart.filename,
            title=chart.title,
        )
    if view.csv is not None:
        upload_rows(deps, client, view.csv, channel=channel, thread_ts=files_thread)
    return str(posted["ts"])


def upload_rows(
    deps: BotDeps, client: WebClient, request: RowsRequest, *, channel: str, thread_ts: str | None
) -> int:
    """Upload the rows behind an answer as CSV in its thread; returns how many rows."""
    name, data, count = rows_csv(deps, request)
    client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts,
        content=data,
        filename=name,
        title=name.removesuffix(".csv"),
        initial_comment=f"The {plural(count, 'row')} behind this answer.",
    )
    return count
