"""Run `arbot` in-process the way a user runs it, and read what it printed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def arbot(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def consent_by_cli(vendor: str, approve: Callable[[str], str]) -> Run:
    """`arbot VENDOR connect` as its own process: the person opens the printed address,
    `approve` plays the vendor's consent page (the address the browser is sent to), and that
    address is pasted into the waiting command."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", vendor, "connect"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    printed = []
    for line in proc.stdout:
        printed.append(line)
        if line.startswith("Then paste"):
            break
    urls = [p.strip() for p in printed if p.strip().startswith("http")]
    assert urls, "".join(printed)
    out, err = proc.communicate(approve(urls[0]) + "\n", timeout=60)
    return Run(proc.returncode, "".join(printed) + out, err)
