"""What counts as a Slack user id, for the fields that name a person to DM (account owners).

Anything posted "to the owner" goes to whatever id is stored: a channel id there (C..., G...)
would post customer figures to a channel. A user id is U or W (Enterprise Grid) followed by
upper-case letters and digits.
"""

from __future__ import annotations

import re

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def slack_user_id_problem(value: str) -> str | None:
    """None when `value` is a Slack user id; otherwise why not, for the person fixing it."""
    if _USER_ID.fullmatch(value):
        return None
    if value[:1] in ("C", "G", "D"):
        return f"{value!r} is a channel or conversation id, not a user id (U... or W...)"
    return f"{value!r} is not a Slack user id (U... or W..., e.g. U0123ABCD)"
