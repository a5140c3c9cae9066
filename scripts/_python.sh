# Which Python runs arbot. Sourced by scripts/demo, scripts/test and .ci/run so that the
# choice is made in one place. Bash 3.2 compatible: it is what macOS ships.

# Newest first. The last one is the floor that pyproject's requires-python, ruff's
# target-version and mypy's python_version name (tests/test_python_versions.py checks it).
ARBOT_SUPPORTED_PYTHONS="3.13 3.12 3.11"

_arbot_oldest() { echo "${ARBOT_SUPPORTED_PYTHONS##* }"; }

_arbot_supported_list() {
  local out="" v
  for v in $ARBOT_SUPPORTED_PYTHONS; do out="${out:+$out, }$v"; done
  echo "$out"
}

# Prints "X.Y.Z<TAB>real path of the interpreter"; fails if $1 does not run. A name on the
# PATH can exist and still not run (a pyenv shim for a version that is not selected), so an
# interpreter is asked, never trusted by its name. For a venv's python the path printed is
# the interpreter the venv was built from.
_arbot_probe() {
  "$1" -c 'import os, sys
base = getattr(sys, "_base_executable", None) or sys.executable
print("%d.%d.%d" % sys.version_info[:3], os.path.realpath(base), sep="\t")' 2>/dev/null
}

# True when version $1 is older than version $2 (X.Y or X.Y.Z).
_arbot_older() {
  local a1 a2 a3 b1 b2 b3
  IFS=. read -r a1 a2 a3 <<<"$1"
  IFS=. read -r b1 b2 b3 <<<"$2"
  [ $((a1 * 1000000 + a2 * 1000 + ${a3:-0})) -lt $((b1 * 1000000 + b2 * 1000 + ${b3:-0})) ]
}

# True when version X.Y.Z is at least the oldest supported one.
_arbot_new_enough() { ! _arbot_older "$1" "$(_arbot_oldest)"; }

# Every supported interpreter on the PATH that runs, newest first, one "X.Y.Z<TAB>path" a
# line, each minor version once; python3 only when none of the versioned names fits.
# Why a candidate was skipped goes to stderr.
arbot_pythons() {
  local v name out ver seen=" "
  for v in $ARBOT_SUPPORTED_PYTHONS; do
    name="python$v"
    command -v "$name" >/dev/null 2>&1 || continue
    if ! out=$(_arbot_probe "$name"); then
      echo "note: $name is on the PATH ($(command -v "$name")) but does not run" >&2
      continue
    fi
    ver=${out%%$'\t'*}
    case "$seen" in *" ${ver%.*} "*) continue ;; esac
    seen="$seen${ver%.*} "
    echo "$out"
  done
  [ "$seen" = " " ] || return 0
  command -v python3 >/dev/null 2>&1 || return 0
  if ! out=$(_arbot_probe python3); then
    echo "note: python3 is on the PATH ($(command -v python3)) but does not run" >&2
  elif _arbot_new_enough "${out%%$'\t'*}"; then
    echo "$out"
  else
    echo "note: python3 is Python ${out%%$'\t'*} ($(command -v python3)), older than $(_arbot_oldest)" >&2
  fi
}

# Sets ARBOT_PY_VERSION and ARBOT_PY_EXE to the interpreter to use: $ARBOT_PYTHON when set,
# else the newest supported one on the PATH. Fails with a message saying what fits.
arbot_pick_python() {
  local out
  if [ -n "${ARBOT_PYTHON:-}" ]; then
    if ! out=$(_arbot_probe "$ARBOT_PYTHON"); then
      echo "ARBOT_PYTHON=$ARBOT_PYTHON does not run" >&2
      return 1
    fi
    if ! _arbot_new_enough "${out%%$'\t'*}"; then
      echo "ARBOT_PYTHON=$ARBOT_PYTHON is Python ${out%%$'\t'*}; arbot runs on Python $(_arbot_supported_list)" >&2
      return 1
    fi
  else
    out=$(arbot_pythons | head -n 1)
    if [ -z "$out" ]; then
      echo "no supported Python found: arbot runs on Python $(_arbot_supported_list)." >&2
      echo "Looked on the PATH for python3.13, python3.12, python3.11, then python3; install one" >&2
      echo "of those versions (or set ARBOT_PYTHON to its path) and run this again." >&2
      return 1
    fi
  fi
  ARBOT_PY_VERSION=${out%%$'\t'*}
  ARBOT_PY_EXE=${out#*$'\t'}
}

# Makes sure the virtual environment in $1 runs on a supported Python and says which one.
# An existing venv is kept while its Python still runs and is supported, even when a newer
# one is on the PATH: rebuilding means reinstalling everything, and the user may have built
# it on that version on purpose; the message says how to move. It is rebuilt when its Python
# is gone or too old, or when ARBOT_PYTHON asks for another interpreter.
arbot_venv() {
  local dir=$1 out ver exe
  arbot_pick_python || return 1
  if [ -e "$dir/bin/python" ] || [ -L "$dir/bin/python" ]; then
    if out=$(_arbot_probe "$dir/bin/python") && _arbot_new_enough "${out%%$'\t'*}"; then
      ver=${out%%$'\t'*}
      exe=${out#*$'\t'}
      if [ -z "${ARBOT_PYTHON:-}" ] || [ "$exe" = "$ARBOT_PY_EXE" ]; then
        echo "using Python $ver ($exe) in $dir"
        if _arbot_older "$ver" "$ARBOT_PY_VERSION"; then
          echo "  (Python $ARBOT_PY_VERSION is on the PATH: remove $dir to rebuild it on that one)"
        fi
        return 0
      fi
      echo "$dir runs Python $ver ($exe); ARBOT_PYTHON asks for $ARBOT_PY_EXE: rebuilding $dir"
    else
      echo "$dir has no working supported Python (built on one since removed?): rebuilding it"
    fi
  fi
  echo "using Python $ARBOT_PY_VERSION ($ARBOT_PY_EXE) in $dir"
  "$ARBOT_PY_EXE" -m venv --clear "$dir"
}
