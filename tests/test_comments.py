"""Comments and docstrings say why the code is as it is, never how it came to be.

A reader needs the reason that holds today; "used to", "no longer" or an issue number tell a
story the code does not show. Every comment and docstring in db/, tools/, bot/ and jobs/ is
read (migrations, which are history by design, aside).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HISTORY = re.compile(
    r"\bused to\b|\bno longer\b|\bwas changed\b|\bissue #?\d+"
    r"|#\d+\b|\bonce named\b|\bbefore (?:it|they|buttons|this) (?:was|were|carried|existed)"
    r"|\bthe option is gone\b|\b(?:older|earlier) (?:cards?|versions?)\b",
    re.IGNORECASE,
)


def prose(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every comment and docstring line in `path`."""
    source = path.read_text()
    out = [
        (tok.start[0], tok.string)
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                first = node.body[0].lineno
                out += [(first + i, line) for i, line in enumerate(doc.splitlines())]
    return out


def test_no_comment_tells_history() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text.strip()}"
        for folder in ("db", "tools", "bot", "jobs")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.parts
        for line, text in prose(path)
        if HISTORY.search(text)
    ]
    assert not found, "\n".join(found)
