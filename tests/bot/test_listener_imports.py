"""Listeners stay thin: they import from `tools/` and `bot/` only, never `db/` or `jobs/`.

Every module of the bot.listeners package is imported (so a module that does not load fails
here too) and its source walked for import statements, including ones inside functions.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import bot.listeners

FORBIDDEN = ("db", "jobs")


def listener_modules() -> list[str]:
    names = [
        f"{bot.listeners.__name__}.{m.name}" for m in pkgutil.iter_modules(bot.listeners.__path__)
    ]
    return [bot.listeners.__name__, *names]


def imported(source: str, package: str) -> set[str]:
    """Absolute names of every module the source imports (relative ones resolved)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                out.add(f"{base}.{node.module}" if node.module else base)
            else:
                out.add(str(node.module))
    return out


def test_no_listener_imports_db_or_jobs() -> None:
    modules = listener_modules()
    assert {"bot.listeners.questions", "bot.listeners.alerts"} <= set(modules)
    offenders = {}
    for name in modules:
        module = importlib.import_module(name)
        assert module.__file__ is not None
        names = imported(Path(module.__file__).read_text(), bot.listeners.__name__)
        bad = sorted(n for n in names if n.split(".")[0] in FORBIDDEN)
        if bad:
            offenders[name] = bad
    assert offenders == {}
