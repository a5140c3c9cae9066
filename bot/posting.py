"""What the scheduled jobs post, as small functions taking plain data (jobs never build blocks).

Each function renders with `bot.blocks.*` and posts with the given Web API client; it returns
the message ts so a caller can thread under it. Charts and CSVs go in the thread.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.blocks import alerts, credit, digest, reconcile
from bot.cards import post_card
from bot.charts import aging_png
from bot.slack_client import make_web_client
from bot.trend_chart import dso_trend_png
from tools.actions import ActionInfo
from tools.credit import CreditPosition
from tools.deps import ToolDeps
from tools.digest import Digest
from tools.reconcile import Reconciliation
from tools.risk_money import ScoreInMoney
from tools.settings import Settings, SettingsError
from tools.slack_ids import slack_user_id_problem
from tools.watch import DisputeAlert

log = logging.getLogger(__name__)
MAX_ALERTS = 20


def client_for(settings: Settings) -> WebClient:
    return make_web_client(settings)


def _channel(value: str | None, setting: str) -> str:
    if not value:
        raise SettingsError(f"setting {setting}: name the Slack channel id to post to")
    return value


def post_digest_message(client: WebClient, channel: str, d: Digest) -> str:
    """The digest's one message in the channel; its ts."""
    posted = client.chat_postMessage(
        channel=channel,
        text=digest.summary_text(d),
        blocks=[b.to_dict() for b in digest.digest_blocks(d)],
        unfurl_links=False,
    )
    return str(posted["ts"])


def post_digest_details(client: WebClient, channel: str, ts: str, d: Digest) -> None:
    """The details in the thread of the digest's message `ts`."""
    client.chat_postMessage(
        channel=channel,
        thread_ts=ts,
        text=f"Details for the week ending {d.as_of}",
        blocks=[b.to_dict() for b in digest.detail_blocks(d)],
        unfurl_links=False,
    )


def post_digest_files(client: WebClient, channel: str, ts: str, d: Digest) -> None:
    """The two charts and the CSV in the thread of the digest's message `ts`."""
    client.files_upload_v2(
        channel=channel,
        thread_ts=ts,
        file_uploads=[
            {
                "content": aging_png(d.metrics),
                "filename": f"aging-{d.as_of}.png",
                "title": f"AR aging as of {d.as_of}",
            },
            {
                "content": dso_trend_png(d.trend, d.targets[0].target),
                "filename": f"dso-trend-{d.as_of}.png",
                "title": f"DSO trend, {len(d.trend)} weeks to {d.as_of}",
            },
            {
                "content": digest.digest_csv(d),
                "filename": f"ar-digest-{d.as_of}.csv",
                "title": f"AR digest figures {d.as_of}",
            },
        ],
    )


def post_reconciliation_message(client: WebClient, channel: str, r: Reconciliation) -> str:
    """The comparison in the channel; its ts."""
    message = reconcile.reconcile_message(r)
    posted = client.chat_postMessage(
        channel=channel, text=message.text, blocks=message.block_dicts(), unfurl_links=False
    )
    return str(posted["ts"])


def post_reconciliation_csv(client: WebClient, channel: str, ts: str, r: Reconciliation) -> None:
    """When the sources differ, every difference as a CSV in the thread of the message `ts`."""
    if r.in_balance:
        return
    client.files_upload_v2(
        channel=channel,
        thread_ts=ts,
        content=reconcile.reconcile_csv(r),
        filename=f"reconciliation-{r.as_of}.csv",
        title=f"Differences between {' and '.join(r.sources)} as of {r.as_of}",
    )


Owned = TypeVar("Owned", ScoreInMoney, DisputeAlert)


def _to_channel_and_owner(
    client: WebClient, channel: str | None, owner: str | None, text: str, blocks: list[Block]
) -> list[str]:
    """The same alert to the alerts channel and, in a DM, to the account owner."""
    targets = [t for t in (channel, _dm_target(owner)) if t]
    blocks_json = [b.to_dict() for b in blocks]
    for i, target in enumerate(targets):
        _deliver(client, i, target, text=text, blocks=blocks_json, unfurl_links=False)
    return targets


def _deliver(client: WebClient, i: int, target: str, **message: Any) -> None:
    """Post one of an alert's copies. The first (the channel's) must go out, or nothing did
    and the caller's claim is retried. A later one (an owner's DM) failing is logged and
    skipped: retrying would repeat the channel's copy, and a DM's failure often lasts (a
    deactivated owner)."""
    if i == 0:
        client.chat_postMessage(channel=target, **message)
        return
    try:
        client.chat_postMessage(channel=target, **message)
    except SlackApiError as exc:
        log.warning("event=owner_copy_failed target=%s error=%s", target, exc.response.get("error"))


def _lists_by_owner(channel: str | None, items: list[Owned]) -> dict[str, list[Owned]]:
    """Everything to the channel, and to each account owner the items of their accounts."""
    groups: dict[str, list[Owned]] = {channel: list(items)} if channel and items else {}
    for item in items:
        owner = _dm_target(item.owner_slack_id)
        if owner:
            groups.setdefault(owner, []).append(item)
    return groups


def _dm_target(owner: str | None) -> str | None:
    """The owner's id when it names a person. A stored id that does not (a channel id written
    before ids were checked, or by hand) would post customer figures to that channel: skip it,
    saying so in the log."""
    if not owner:
        return None
    problem = slack_user_id_problem(owner)
    if problem:
        log.warning("event=owner_dm_skipped reason=%r", problem)
        return None
    return owner


def post_risk_alert(
    client: WebClient, channel: str | None, score: ScoreInMoney, as_of: date
) -> list[str]:
    """To the alerts channel and, in a DM, to the account owner; returns where it went."""
    blocks = alerts.risk_alert_blocks(score, as_of)
    text = alerts.risk_alert_text(score)
    return _to_channel_and_owner(client, channel, score.owner_slack_id, text, blocks)


def post_credit_alert(
    client: WebClient, channel: str | None, position: CreditPosition, as_of: date
) -> list[str]:
    """Over or heading to the credit limit: to the alerts channel and the account owner."""
    blocks = credit.credit_alert_blocks(position, as_of)
    text = credit.credit_alert_text(position)
    return _to_channel_and_owner(client, channel, position.owner_slack_id, text, blocks)


def post_credit_list(
    client: WebClient, channel: str | None, positions: list[CreditPosition], as_of: date
) -> None:
    """The credit alerts beyond the first MAX_ALERTS of a scan, as one list to the channel."""
    client.chat_postMessage(
        channel=_channel(channel, "ARBOT_ALERTS_CHANNEL"),
        text=credit.credit_list_text(positions),
        blocks=[b.to_dict() for b in credit.credit_list_blocks(positions, as_of)],
        unfurl_links=False,
    )


def post_risk_list(
    client: WebClient, channel: str | None, scores: list[ScoreInMoney], as_of: date
) -> int:
    """The accounts beyond the first MAX_ALERTS of a scan as one list to the channel and one
    to each owner, so a first scan of a big ledger does not flood Slack. Messages posted."""
    groups = _lists_by_owner(channel, scores)
    for i, (target, group) in enumerate(groups.items()):
        _deliver(
            client, i, target,
            text=alerts.risk_list_text(group),
            blocks=[b.to_dict() for b in alerts.risk_list_blocks(group, as_of)],
        )  # fmt: skip
    return len(groups)


def post_dispute_alert(client: WebClient, channel: str | None, alert: DisputeAlert) -> list[str]:
    blocks = alerts.dispute_alert_blocks(alert)
    text = alerts.dispute_alert_text(alert)
    return _to_channel_and_owner(client, channel, alert.owner_slack_id, text, blocks)


def post_dispute_reminders(
    client: WebClient, channel: str | None, items: list[DisputeAlert]
) -> list[str]:
    """One list to the channel, and to each owner the list of their own accounts' disputes."""
    groups = _lists_by_owner(channel, items)
    for i, (target, theirs) in enumerate(groups.items()):
        _deliver(
            client, i, target,
            text=alerts.dispute_reminder_text(theirs),
            blocks=[b.to_dict() for b in alerts.dispute_reminder_blocks(theirs)],
        )  # fmt: skip
    return list(groups)


def post_dunning_card(client: WebClient, deps: ToolDeps, action: ActionInfo) -> str:
    """The drafted reminder's card, in the approvals channel: a person decides, never the job."""
    channel = _channel(deps.settings.approvals_channel, "ARBOT_APPROVALS_CHANNEL")
    return post_card(client, deps, action, channel=channel)


def post_cash_lines(
    client: WebClient, deps: ToolDeps, channel: str | None, txn_ids: list[int]
) -> list[str]:
    """Cash application cards for these bank lines, grouped per statement."""
    from bot.cash_cards import post_cash_cards

    return post_cash_cards(client, deps, _channel(channel, "ARBOT_APPROVALS_CHANNEL"), txn_ids)


def digest_channel(settings: Settings) -> str:
    return _channel(settings.digest_channel, "ARBOT_DIGEST_CHANNEL")
