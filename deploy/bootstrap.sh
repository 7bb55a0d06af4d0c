#!/usr/bin/env bash
# Make this checkout runnable: system packages (as root), then a .venv.
# Used by `make demo` and `make test`; safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${KIOSK_EXTRAS:-ui,chip,camera,hid,print,dev}

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' deploy/apt-packages.txt | grep -v '^$')
missing=()
for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "bootstrap: installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "bootstrap: these system packages are missing; install them as root, then run make again:" >&2
        echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

stamp="$VENV/.installed"
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "bootstrap: creating $VENV with $($PYTHON --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
    echo "bootstrap: installing the kiosk and its Python dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]" --config-settings editable_mode=compat
    touch "$stamp"
fi
