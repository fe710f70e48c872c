# Sourced by scripts/dashboard and scripts/test: makes .venv and installs the given requirements file,
# again only when that file changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "tieviz needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version)" >&2
    exit 1
}
ensure_venv() {
    local requirements="$1"
    local stamp=".venv/.installed-$(basename "$requirements")"
    local want
    want="$(cat requirements*.txt | sha256sum | cut -c1-16)"
    if [ ! -x .venv/bin/python ]; then
        "$PYTHON" -m venv .venv
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "installing $requirements into .venv (first run takes a few minutes)" >&2
        .venv/bin/python -m pip install --quiet --upgrade pip
        .venv/bin/python -m pip install --quiet -r "$requirements"
        echo "$want" > "$stamp"
    fi
}
