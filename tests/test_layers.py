"""Imports point one way: db <- tools <- (bot, jobs), and listeners stay thin.

Every module is read for its import statements, including ones inside functions, so a late
import cannot slip a listener past `tools/` into `db/`. This test is also the command that
checks the import graph: `pytest tests/test_layers.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_of(path: Path) -> set[str]:
    """Absolute names of what a module imports: `from bot import posting` is `bot.posting`."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def offenders(folder: str, allowed: object) -> dict[str, list[str]]:
    found = {}
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, folder
    for path in files:
        if "migrations" in path.parts:
            continue
        bad = sorted(n for n in imports_of(path) if not allowed(n))  # type: ignore[operator]
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("db", {"tools", "bot", "jobs", "slack_sdk", "slack_bolt", "langchain", "openai"}),
        ("tools", {"bot", "jobs", "slack_sdk", "slack_bolt"}),
        ("bot/listeners", {"db", "jobs"}),
    ],
)
def test_layers_import_only_downwards(folder: str, forbidden: set[str]) -> None:
    assert offenders(folder, lambda name: top(name) not in forbidden) == {}


def test_jobs_use_only_plain_posting_functions_of_the_bot() -> None:
    posting = ("bot.posting", "bot.cards")

    def allowed(name: str) -> bool:
        return top(name) != "bot" or name == "bot" or name.startswith(posting)

    assert offenders("jobs", allowed) == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "listener.py"
    bad.write_text("def on_click():\n    from db.invoices import open_invoices\n")
    assert "db.invoices" in imports_of(bad)
