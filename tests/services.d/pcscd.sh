#!/usr/bin/env bash
# Start pcscd with the vsmartcard-vpcd virtual reader for the chip tests (idempotent).
# CI runs this as root on a machine without systemd, so pcscd is started directly.
# The vpcd driver listens on 127.0.0.1:35963 (CHANNELID 0x8C7B in /etc/reader.conf.d/vpcd);
# the card emulator (`kiosk card-sim`) connects to it as a vpcd client.
# How pcscd is started (with --disable-polkit where polkit does not serve) is in lib/pcscd-start.sh.
set -uo pipefail
# shellcheck source=lib/pcscd-start.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/pcscd-start.sh"

SOCK=$PCSCD_SOCK
# no pgrep: minimal CI images may lack procps
running() { grep -qx pcscd /proc/[0-9]*/comm 2>/dev/null; }
have_reader() {
    "${VENV:-.venv}/bin/python" - <<'PY' 2>/dev/null
import sys
from smartcard.System import readers
sys.exit(0 if any("Virtual PCD" in str(r) for r in readers()) else 1)
PY
}

pcscd_pids() {
    local f
    for f in /proc/[0-9]*/comm; do
        [[ $(cat "$f" 2>/dev/null) == pcscd ]] && { f=${f%/comm}; echo "${f#/proc/}"; }
    done
}
# a running pcscd that lacks a flag the tests need (e.g. started by a package script where polkit
# does not serve) refuses every client
missing_flag() {
    local pid flag
    for pid in $(pcscd_pids); do
        for flag in $(pcscd_test_flags); do
            tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qx -- "$flag" || return 0
        done
    done
    return 1
}

if [[ ! -x $PCSCD ]]; then
    echo "pcscd.sh: pcscd is not installed (apt-get install pcscd vsmartcard-vpcd)" >&2
    exit 1
fi
if [[ ! -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]] && ! ls /usr/lib/*/pcsc/drivers/serial/libifdvpcd.so >/dev/null 2>&1; then
    echo "pcscd.sh: the vsmartcard-vpcd driver is not installed (apt-get install vsmartcard-vpcd)" >&2
    exit 1
fi

# a pcscd that is shutting down (socket already gone) is given 3 s to finish
for _ in $(seq 1 30); do
    if running && [[ ! -S $SOCK ]]; then sleep 0.1; else break; fi
done
if running && [[ -S $SOCK ]] && have_reader; then
    exit 0  # already up with the virtual reader
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "pcscd.sh: pcscd is not running with the Virtual PCD reader and only root can start it" >&2
    exit 1
fi
if running && missing_flag; then
    echo "pcscd.sh: the running pcscd lacks $(pcscd_test_flags | tr '\n' ' ')(polkit does not serve here); restarting it"
    for pid in $(pcscd_pids); do kill "$pid" 2>/dev/null; done
    for _ in $(seq 1 50); do running || break; sleep 0.1; done
fi
if running; then
    # running, but without the vpcd reader (e.g. started before the driver was installed): ask it to rescan
    "$PCSCD" --hotplug >/dev/null 2>&1 || true
    sleep 1
    have_reader && exit 0
fi
if ! running; then
    pcscd_start
fi
for _ in $(seq 1 50); do
    if [[ -S $SOCK ]] && have_reader; then
        echo "pcscd.sh: pcscd is up with the Virtual PCD reader (vpcd on 127.0.0.1:35963)$(pcscd_test_flags | sed 's/^/ /' | tr -d '\n')"
        exit 0
    fi
    sleep 0.1
done
echo "pcscd.sh: pcscd did not come up with the Virtual PCD reader within 5 s" >&2
exit 1
