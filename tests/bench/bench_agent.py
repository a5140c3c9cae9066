"""Agent benchmark: bot overhead per question and tokens sent, at 10, 100 and 1,000 customers.

100 scripted questions go through the real Agent (LangChain graph, real ChatOpenAI client,
real tools on a SQLite demo ledger) to the fake OpenAI server, which answers each with one
tool call; the turn ends there and the answer is the ledger's rendering of the result.
Overhead = wall time of `ask` minus the time spent inside the fake server, so it is the bot's
own cost: graph, HTTP client, tools and their SQL, relevance lookups, rendering, memory and
usage writes. Tokens are the prompt tokens the fake
counted on what the client sent (~4 characters a token); the target is flat in ledger size.

Run: .venv/bin/python tests/bench/bench_agent.py [--questions 100] [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.agent import Agent
from db.demo import write_demo_csvs
from tests.fakes.openai_api import FakeOpenAI, Reply, call, running, say
from tools.csv_import import import_directory
from tools.deps import connect
from tools.settings import Settings

AS_OF = date(2025, 6, 30)
D = AS_OF.isoformat()
QUESTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("Which enterprise customers pay slowest and what do they owe?", "payment_history",
     {"segment": "enterprise", "as_of": D}),
    ("How does payment speed compare across segments?", "payment_history",
     {"group_by": "segment", "as_of": D}),
    ("Which accounts are at risk and why?", "at_risk_accounts", {"as_of": D}),
    ("How old is the smb book?", "aging", {"segment": "smb", "as_of": D}),
    ("What was DSO and CEI at the end of June?", "ar_metrics", {"as_of": D}),
    ("Tell me about Acme Inc", "customer_detail", {"customer": "Acme Inc", "as_of": D}),
    ("Who owes us the most past due?", "top_overdue", {"as_of": D}),
    ("Any open disputes to worry about?", "open_disputes", {"as_of": D}),
    ("What cash have we not applied yet?", "unapplied_cash", {"as_of": D}),
    ("How old is Globex Inc's debt?", "aging", {"customer": "Globex Inc", "as_of": D}),
]  # fmt: skip


def responder(body: dict[str, Any]) -> Reply:
    """First turn: the question's tool. After a tool result: an answer quoting its figures."""
    messages = body["messages"]
    if messages[-1]["role"] == "tool":
        found = re.findall(r"[A-Z]{3} [\d,]+\.\d{2}", messages[-1]["content"])
        return say("From the ledger: " + ", ".join(found[:3]) if found else "Nothing found.")
    question = messages[-1]["content"]
    for text, tool, args in QUESTIONS:
        if text == question:
            return call(tool, args)
    return say("I cannot help with that.")


def ledger(tmp: Path, customers: int, fake: FakeOpenAI) -> Agent:
    settings = Settings(
        database_url=f"sqlite:///{tmp / f'bench{customers}.db'}",
        openai_api_key="bench-key",
        openai_base_url=fake.base_url,
        llm_model="fake-model",
        llm_max_retries=0,
    )
    deps = connect(settings)
    write_demo_csvs(tmp / f"csv{customers}", customers=customers, as_of=AS_OF)
    import_directory(deps.engine, tmp / f"csv{customers}", tz=settings.tz)
    with deps.engine.begin() as conn:  # planner statistics, as after any large import
        conn.exec_driver_sql("ANALYZE")
    return Agent(deps)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def run(customers: int, n: int, tmp: Path) -> dict[str, float]:
    with running() as fake:
        fake.responder = responder
        agent = ledger(tmp, customers, fake)
        agent.ask(QUESTIONS[0][0], user="UBENCH", today=AS_OF)  # warm-up (imports, pools)
        overheads, tokens, outcomes = [], [], []
        for i in range(n):
            question = QUESTIONS[i % len(QUESTIONS)][0]
            server_before = fake.server_seconds
            started = time.perf_counter()
            reply = agent.ask(question, user="UBENCH", thread_key=f"B:{customers}:{i}", today=AS_OF)
            wall = time.perf_counter() - started
            overheads.append((wall - (fake.server_seconds - server_before)) * 1000)
            tokens.append(reply.prompt_tokens)
            outcomes.append(reply.outcome)
        agent.deps.engine.dispose()
    grounded = sum(o == "answered" for o in outcomes)
    return {
        "customers": customers,
        "p50_ms": statistics.median(overheads),
        "p95_ms": pct(overheads, 0.95),
        "tokens_mean": statistics.mean(tokens),
        "tokens_max": max(tokens),
        "answered": grounded,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        print("customers  overhead_p50_ms  overhead_p95_ms  prompt_tokens_mean  max  answered")
        for size in (int(s) for s in args.sizes.split(",")):
            r = run(size, args.questions, Path(tmp))
            print(
                f"{r['customers']:>9}  {r['p50_ms']:>15.1f}  {r['p95_ms']:>15.1f}  "
                f"{r['tokens_mean']:>18.0f}  {r['tokens_max']:>4.0f}  "
                f"{r['answered']:>4.0f}/{args.questions}"
            )


if __name__ == "__main__":
    main()
