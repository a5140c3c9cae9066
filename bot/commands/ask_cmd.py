"""`arbot ask "QUESTION" [--json]`: the Slack bot's answers from the command line.

The same pipeline, tools, renderers and fallback as Slack, so scripts (and people without
Slack) get the same numbers: the text printed is the answer's Slack fallback text; `--json`
prints {"answered_by", "tool", "data", "text"}. Every proposal the answer made, by the fast path
("draft a reminder to Acme") or by the agent, has its card printed and posted for approval like
`arbot propose`; the JSON lists them under "cards".
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.answer import Answer, AskContext, answer
from bot.commands.propose_cmd import show_card
from tools import actions
from tools.actions import cli_proposer
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
        # Imported only when the fast path has no answer: LangChain's imports are slow.
        from bot.agent import agent_fallback

        agent = agent_fallback(deps)
        return None if agent is None else agent(q, context)

    fallback = None if args.no_agent else lazy_agent
    result = answer(deps, question, fallback=fallback, context=AskContext(user=cli_proposer()))
    if not args.json and result.proposal is None:
        print(result.text)  # a proposal's answer is its card, which show_card prints
    proposals = [actions.load(deps, i) for i in result.proposed_action_ids]
    cards = [show_card(deps, a, quiet=args.json) for a in proposals]
    if args.json:
        out = result.to_json() | ({"cards": cards} if cards else {})
        print(json.dumps(out, indent=2, default=str))
    return 0
