"""Which Python the README's scripts run on, decided by scripts/_python.sh.

The interpreters here are small shell scripts on a PATH of their own, so each case (a pyenv
shim that does not run, only `python3`, nothing new enough) is the same on every machine.
"""

import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASH = shutil.which("bash") or "/bin/bash"


def fake_python(bin_dir: Path, name: str, version: str) -> Path:
    """An interpreter that answers the version probe and logs any other call (venv creation)."""
    path = bin_dir / name
    log = bin_dir / f"{name}.calls"
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = -c ]; then printf "%s\\t%s\\n" {version} {path}; '
        f'else echo "$@" >> {log}; fi\n'
    )
    path.chmod(0o755)
    return path


def broken_python(bin_dir: Path, name: str) -> None:
    """What a pyenv shim for a version that is not selected does."""
    path = bin_dir / name
    path.write_text(f'#!/bin/sh\necho "pyenv: {name}: command not found" >&2\nexit 127\n')
    path.chmod(0o755)


def run(bin_dir: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    head = shutil.which("head")
    assert head is not None
    if not (bin_dir / "head").exists():
        (bin_dir / "head").symlink_to(head)
    return subprocess.run(
        [BASH, "-c", f". scripts/_python.sh\n{script}"],
        cwd=ROOT,
        env={"PATH": str(bin_dir), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


PICK = 'arbot_pick_python && echo "picked $ARBOT_PY_VERSION $ARBOT_PY_EXE"'


def test_supported_versions_agree_with_pyproject_and_readme() -> None:
    listed = subprocess.run(
        [BASH, "-c", '. scripts/_python.sh; echo "$ARBOT_SUPPORTED_PYTHONS"'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    oldest = listed[-1]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={oldest}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + oldest.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == oldest
    ascending = sorted(listed, key=lambda v: tuple(map(int, v.split("."))))
    stated = ", ".join(ascending[:-1]) + " and " + ascending[-1]
    assert f"Supported: Python {stated}." in (ROOT / "README.md").read_text()


def test_picks_the_newest_that_runs(tmp_path: Path) -> None:
    broken_python(tmp_path, "python3.13")
    py312 = fake_python(tmp_path, "python3.12", "3.12.1")
    fake_python(tmp_path, "python3.11", "3.11.7")
    result = run(tmp_path, PICK)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"picked 3.12.1 {py312}"
    assert "python3.13 is on the PATH" in result.stderr
    assert "does not run" in result.stderr


def test_falls_back_to_python3_when_new_enough(tmp_path: Path) -> None:
    py3 = fake_python(tmp_path, "python3", "3.13.0")
    result = run(tmp_path, PICK)
    assert result.stdout.strip() == f"picked 3.13.0 {py3}"


def test_says_which_versions_fit_when_none_does(tmp_path: Path) -> None:
    broken_python(tmp_path, "python3.11")
    fake_python(tmp_path, "python3", "3.10.13")
    result = run(tmp_path, PICK)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "python3 is Python 3.10.13" in result.stderr
    assert "arbot runs on Python 3.13, 3.12, 3.11" in result.stderr


def test_arbot_python_must_be_supported(tmp_path: Path) -> None:
    old = fake_python(tmp_path, "python3.10", "3.10.13")
    fake_python(tmp_path, "python3.13", "3.13.0")
    result = run(tmp_path, PICK, ARBOT_PYTHON=str(old))
    assert result.returncode != 0
    assert f"ARBOT_PYTHON={old} is Python 3.10.13" in result.stderr


def test_lists_newest_first_for_ci(tmp_path: Path) -> None:
    py313 = fake_python(tmp_path, "python3.13", "3.13.0")
    py311 = fake_python(tmp_path, "python3.11", "3.11.7")
    fake_python(tmp_path, "python3", "3.11.7")
    result = run(tmp_path, "arbot_pythons")
    assert result.stdout.splitlines() == [f"3.13.0\t{py313}", f"3.11.7\t{py311}"]


def test_keeps_a_working_venv_and_says_how_to_move(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3.13", "3.13.0")
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    venv_python = fake_python(venv_bin, "python", "3.11.7")
    result = run(tmp_path, f"arbot_venv {tmp_path / 'venv'}")
    assert result.returncode == 0, result.stderr
    assert f"using Python 3.11.7 ({venv_python}) in {tmp_path / 'venv'}" in result.stdout
    assert "Python 3.13.0 is on the PATH: remove" in result.stdout
    assert not (tmp_path / "python3.13.calls").exists()


def test_keeps_a_venv_on_a_newer_python_without_a_note(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3.12", "3.12.1")
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    venv_python = fake_python(venv_bin, "python", "3.13.0")
    result = run(tmp_path, f"arbot_venv {tmp_path / 'venv'}")
    assert result.stdout == f"using Python 3.13.0 ({venv_python}) in {tmp_path / 'venv'}\n"


def test_rebuilds_a_venv_whose_python_is_gone(tmp_path: Path) -> None:
    py313 = fake_python(tmp_path, "python3.13", "3.13.0")
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").symlink_to(tmp_path / "removed-python3.12")
    result = run(tmp_path, f"arbot_venv {tmp_path / 'venv'}")
    assert result.returncode == 0, result.stderr
    assert f"using Python 3.13.0 ({py313}) in {tmp_path / 'venv'}" in result.stdout
    calls = (tmp_path / "python3.13.calls").read_text()
    assert calls == f"-m venv --clear {tmp_path / 'venv'}\n"


def test_arbot_python_rebuilds_a_venv_on_another_python(tmp_path: Path) -> None:
    fake_python(tmp_path, "python3.13", "3.13.0")
    py311 = fake_python(tmp_path, "python3.11", "3.11.7")
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    fake_python(venv_bin, "python", "3.13.0")
    result = run(tmp_path, f"arbot_venv {tmp_path / 'venv'}", ARBOT_PYTHON=str(py311))
    assert result.returncode == 0, result.stderr
    assert f"ARBOT_PYTHON asks for {py311}: rebuilding" in result.stdout
    assert (tmp_path / "python3.11.calls").read_text() == f"-m venv --clear {tmp_path / 'venv'}\n"
