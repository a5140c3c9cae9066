"""`arbot ask "QUESTION" [--json]`: the Slack bot's router from the command line.

The same router, tools and fallback as Slack, so scripts (and people without Slack) get the
same numbers; `--json` prints {"answered_by", "tool", "data", "text"}.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.fallback import load_fallback
from bot.router import AskContext, RouteResult, answer
from tools.deps import connect
from tools.settings import load_settings


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "ask",
        help="ask the bot a question from the command line",
        description="Answers like the Slack bot: the fast path (AR, aging, DSO, customers, "
        "overdue, disputes, unapplied cash), then the LLM agent if configured, else help.",
    )
    parser.add_argument("question", nargs="+", help='e.g. "what was AR on June 30?"')
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument(
        "--no-agent", action="store_true", help="fast path only, never call the LLM"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    deps = connect(load_settings())
    question = " ".join(args.question)

    def lazy_agent(q: str, context: AskContext) -> RouteResult | None:
        # Loaded only when the fast path has no answer: the agent's imports are slow.
        agent = load_fallback(deps)
        return None if agent is None else agent(q, context)

    fallback = None if args.no_agent else lazy_agent
    result = answer(deps, question, fallback=fallback, context=AskContext(user="cli"))
    if args.json:
        print(json.dumps(result.to_json(), indent=2, default=str))
    else:
        print(result.text)
    return 0
