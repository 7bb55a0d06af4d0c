# shellcheck shell=bash
# How the tests start pcscd — the one place, sourced by tests/services.d/pcscd.sh (which the chip
# test that restarts pcscd runs again). Not a service script itself: tests/run.sh only runs
# tests/services.d/*.sh.
#
# pcscd 2.x (Debian 13) is built with polkit: a client is let in only if polkitd, over the system
# bus, says yes. CI, containers and chroots have neither, and every client is then refused
# ("Access denied", 0x8010006A). There the tests start pcscd with --disable-polkit. Where polkit
# serves (a desktop, a provisioned device with deploy/polkit/), pcscd keeps it; pcscd 1.9 (Debian 12)
# has no such flag and no polkit check.
#
# Seams for tests/deploy/test_setup_scripts.py: PCSCD (the binary), PCSCD_PROC (where to look for a
# running polkitd), PCSCD_DBUS_SOCKET (the system bus).

PCSCD=${PCSCD:-/usr/sbin/pcscd}
PCSCD_SOCK=${PCSCD_SOCK:-/run/pcscd/pcscd.comm}

# polkit answers only when polkitd runs and the system bus it listens on is there
pcscd_polkit_serving() {
    local proc=${PCSCD_PROC:-/proc}
    [[ -S ${PCSCD_DBUS_SOCKET:-/run/dbus/system_bus_socket} ]] || return 1
    grep -qx polkitd "$proc"/[0-9]*/comm 2>/dev/null
}

pcscd_has_polkit_flag() {
    "$PCSCD" --help 2>&1 | grep -q -- '--disable-polkit'
}

# The extra arguments the tests start pcscd with, one per line (none when polkit serves or
# this pcscd has no polkit support).
pcscd_test_flags() {
    if pcscd_has_polkit_flag && ! pcscd_polkit_serving; then
        echo --disable-polkit
    fi
}

# Start pcscd (it daemonizes; no --auto-exit: the tests need it for the whole run).
pcscd_start() {
    local flags
    mapfile -t flags < <(pcscd_test_flags)
    mkdir -p "$(dirname "$PCSCD_SOCK")"
    rm -f "$PCSCD_SOCK"
    "$PCSCD" "${flags[@]}"
}
