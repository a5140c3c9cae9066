"""Block Kit views: pure functions from the tools' results to Slack blocks (no I/O)."""
