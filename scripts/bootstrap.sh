# Sourced by ./dive and ./run-tests: create .venv on first use and reinstall when pyproject.toml changes.
# Usage: bootstrap_venv "<extras>"   (e.g. "" for operators, "test" for the test suite)
bootstrap_venv() {
  local extras="$1" root venv stamp want
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  venv="$root/.venv"
  stamp="$venv/.dive-install-stamp"
  want="$(sha256sum "$root/pyproject.toml" | cut -c1-64)+${extras}"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && grep -qxF -- "$want" "$stamp" 2>/dev/null; then
    return 0
  fi
  if [ -f "$stamp" ] && [ -z "$extras" ] && grep -q -- "+test$" "$stamp" 2>/dev/null \
     && grep -q -- "^$(sha256sum "$root/pyproject.toml" | cut -c1-64)" "$stamp"; then
    return 0  # a test install already contains everything an operator needs
  fi
  local py="${DIVE_PYTHON:-python3}"
  command -v "$py" >/dev/null || { echo "dive: python3 (3.11+) is required; install it and rerun" >&2; return 1; }
  echo "dive: preparing the Python environment in $venv (first run only) ..." >&2
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv" || return 1
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2 || return 1
  local spec="$root"
  [ -n "$extras" ] && spec="$root[$extras]"
  "$venv/bin/python" -m pip install --quiet -e "$spec" >&2 || {
    echo "dive: installing dependencies failed; check network access to PyPI and rerun" >&2; return 1; }
  echo "$want" > "$stamp"
}
