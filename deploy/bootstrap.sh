#!/usr/bin/env bash
# Make this checkout runnable: system packages (as root), then a .venv.
# Used by `make demo` and `make test`; safe to run again (it only adds what is missing, and runs
# neither apt nor pip when nothing is). `bash deploy/bootstrap.sh --missing` lists the system
# packages it would install, and stops there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${KIOSK_EXTRAS:-ui,chip,camera,hid,print,dev}

# A package counts as installed when an installed package is named so, provides it, or is its
# 64-bit-time_t successor: Debian 13 renamed e.g. libzbar0 -> libzbar0t64 and libglib2.0-0 ->
# libglib2.0-0t64 (and provides the old name only on some architectures). Asking dpkg for the
# one name every time made each `make` run apt on Debian 13, and fail with no network.
declare -A have=()
while read -r name; do
    have[$name]=1
done < <(dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Provides}\n' 2>/dev/null | awk -F'|' '
    $1 ~ /^.i/ {
        print $2
        n = split($3, p, ",")
        for (i = 1; i <= n; i++) { x = p[i]; sub(/^ +/, "", x); sub(/[ (].*/, "", x); if (x != "") print x }
    }')
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' deploy/apt-packages.txt | grep -v '^$')
missing=()
for pkg in "${wanted[@]}"; do
    [[ -n ${have[$pkg]:-} || -n ${have[${pkg}t64]:-} ]] || missing+=("$pkg")
done
if [[ ${1:-} == --missing ]]; then
    # what would be installed, one per line (nothing when all is there); no apt, no network
    ((${#missing[@]})) && printf '%s\n' "${missing[@]}"
    exit 0
fi

# the name apt can install: NAME, or NAMEt64 where NAME is gone (no package of its own)
installable() {
    local pkg=$1
    if ! apt-cache show --no-all-versions "$pkg" 2>/dev/null | grep -q '^Package:' &&
        apt-cache show --no-all-versions "${pkg}t64" 2>/dev/null | grep -q '^Package:'; then
        echo "${pkg}t64"
    else
        echo "$pkg"
    fi
}

if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "bootstrap: installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        if [[ " ${missing[*]} " == *" postgresql "* ]]; then
            # the hub's tests run their own cluster: no system cluster on 5432 (it would also collide with
            # the deploy stage's chroot); postgresql-common reads this before it creates one on install
            mkdir -p /etc/postgresql-common
            if ! grep -qs '^[[:space:]]*create_main_cluster[[:space:]]*=[[:space:]]*false' \
                /etc/postgresql-common/createcluster.conf; then
                echo "create_main_cluster = false" >>/etc/postgresql-common/createcluster.conf
            fi
        fi
        mapfile -t names < <(for pkg in "${missing[@]}"; do installable "$pkg"; done)
        apt-get install -y -qq --no-install-recommends "${names[@]}" >/dev/null
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
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" || hub/pyproject.toml -nt "$stamp" ]]; then
    echo "bootstrap: installing the kiosk and its Python dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]" --config-settings editable_mode=compat
    if [[ -f hub/pyproject.toml ]]; then
        # the provincial hub (hub/, its own package): tests/hub is part of `make test`
        echo "bootstrap: installing the hub (hub/) and its test dependencies into $VENV"
        "$VENV/bin/python" -m pip install -q -e "hub/[test]" --config-settings editable_mode=compat
    fi
    touch "$stamp"
fi
