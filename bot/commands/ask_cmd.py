"""`arbot ask "QUESTION" [--json]`: the Slack bot's answers from the command line.

The same pipeline, tools, renderers and fallback as Slack, so scripts (and people without
Slack) get the same numbers: the text printed is the answer's Slack fallback text; `--json`
prints {"answered_by", "tool", "data", "text"}. A proposal ("draft a reminder to Acme") prints
its card and posts it for approval, like `arbot propose`; the JSON then says so under "card".
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.answer import Answer, AskContext, answer
from bot.commands.propose_cmd import post_for_approval
from bot.fallback import load_fallback
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

    def lazy_agent(q: str, context: AskContext) -> Answer | None:
        # Loaded only when the fast path has no answer: the agent's imports are slow.
        agent = load_fallback(deps)
        return None if agent is None else agent(q, context)

    fallback = None if args.no_agent else lazy_agent
    result = answer(deps, question, fallback=fallback, context=AskContext(user="cli"))
    posted = post_for_approval(deps, result.proposal) if result.proposal else None
    if args.json:
        out = result.to_json() | ({"card": posted} if posted else {})
        print(json.dumps(out, indent=2, default=str))
    else:
        print(result.text)
        if posted:
            print(posted)
    return 0
