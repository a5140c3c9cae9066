"""The error a tool raises when its arguments cannot be acted on; the message says what to do."""

from __future__ import annotations


class ToolInputError(ValueError):
    """The arguments name something that does not exist or is ambiguous; says what to do."""
