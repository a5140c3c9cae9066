"""Dunning: which invoices may be reminded about, the drafted email, proposing it, editing it.

`eligibility` holds the rule (who is never dunned, the stages, what the sequence owes now, and
the re-check before sending); `draft` writes and checks the text; `propose` is the tool every
caller uses (fast path, agent, CLI, buttons, the dunning job); `edit` is a person's edit.
"""

from tools.dunning.draft import MAX_BODY, MAX_SUBJECT
from tools.dunning.edit import edit_draft
from tools.dunning.eligibility import DunningError, recheck
from tools.dunning.propose import DunningInput, propose_dunning_email

__all__ = [
    "MAX_BODY",
    "MAX_SUBJECT",
    "DunningError",
    "DunningInput",
    "edit_draft",
    "propose_dunning_email",
    "recheck",
]
