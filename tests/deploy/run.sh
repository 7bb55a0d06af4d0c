#!/usr/bin/env bash
# `make test-deploy`: provisioning end to end, as root.
#   1. the tools: mmdebstrap, shellcheck, systemd-analyze, ansible, ansible-lint (Debian packages)
#   2. `make dist` (the wheel and the deploy bundle)
#   3. pytest tests/deploy with KIOSK_TEST_DEPLOY=1: a Debian 13 root filesystem, provision.sh
#      inside it, checks from outside, kiosk doctor inside, a second provision run, then the
#      Ansible playbook through a chroot connection; then the hub's role (deploy/hub) on a second
#      fresh Debian 13 root, its services started by hand, /readyz and a device write through nginx
#      (test_hub_role.py; about 4-5 minutes more, pip's downloads cached in $KIOSK_TEST_DEPLOY_CACHE/pip-hub).
# Nothing here touches the host's /etc; every mount made under the work directory is undone
# on exit, whatever happens.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
VENV=${VENV:-.venv}

if [[ $(id -u) -ne 0 ]]; then
    echo "test-deploy: needs root (it builds a root filesystem and chroots into it)" >&2
    exit 1
fi

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' tests/deploy/apt-packages.txt | grep -v '^$')
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "test-deploy: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
        echo "test-deploy: could not install ${missing[*]}" >&2
        exit 1
    fi
fi

bash deploy/dist.sh || exit 1

work=$(mktemp -d /var/tmp/kiosk-test-deploy.XXXXXX)
cleanup() {
    # Undo every mount below the work directory (deepest first), then remove it without
    # ever crossing into a mount that could not be undone.
    local m
    while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m"
    done < <(findmnt -rn -o TARGET | grep -F "$work/" | sort -r)
    if findmnt -rn -o TARGET | grep -qF "$work/"; then
        echo "test-deploy: mounts remain under $work; leaving it in place" >&2
    else
        rm -rf --one-file-system "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export KIOSK_TEST_DEPLOY=1 KIOSK_TEST_DEPLOY_DIR=$work QT_QPA_PLATFORM=offscreen PYTHONDONTWRITEBYTECODE=1
if (($#)); then
    "$VENV/bin/python" -m pytest -p no:cacheprovider -rs "$@"
else
    "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rs tests/deploy
fi
