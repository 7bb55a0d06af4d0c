#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run from traps
# `make test-debian13`: the README's two commands on a fresh Debian 13 (trixie), as root.
#   1. a root filesystem from mmdebstrap with only git, make, python3 and ca-certificates
#      (cached for a week in /var/cache/kiosk-test-deploy, next to `make test-deploy`'s);
#   2. `git clone` of this checkout's committed HEAD into it, as a new user would;
#   3. in a chroot (/proc, /sys, /dev, /dev/pts, /dev/shm, /run as tmpfs), with the network:
#      `make setup` — deploy/bootstrap.sh installs the apt packages and the .venv;
#   4. in its own network namespace (loopback only): `make test`, then `make demo`, as root with no
#      terminal. Their own setup step must then need neither apt nor the network, and the chroot's
#      pcscd/vpcd (127.0.0.1:35963) cannot collide with the host's.
# Everything runs in private mount and PID namespaces: every mount and every process started in
# the chroot goes when the stage ends, however it ends; the trap removes the work directory.
# Prints `debian13 STEP: N s` per step. Extra arguments go to pytest in place of the default run
# (e.g. tests/chip -q).
set -uo pipefail

if [[ ${1:-} == --inside ]]; then
    # --- inside the private mount + PID namespaces: $2 is the root filesystem ------------------
    shift
    R=$1
    shift
    mounted=()
    undo_mounts() {
        local i
        for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
            umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null
        done
        mounted=()
    }
    trap undo_mounts EXIT
    trap 'exit 130' INT TERM
    m() {  # m TARGET MOUNT-ARGS...
        local target=$R$1
        shift
        mkdir -p "$target" && mount "$@" "$target" && mounted+=("$target")
    }
    # the root a mount point of its own, as / is on a real machine (unshare -m, used by the
    # tests, makes / private and fails with EINVAL on a plain directory)
    m "" --bind "$R" &&
        m /proc -t proc proc &&
        m /sys -t sysfs sysfs &&
        m /dev --bind /dev &&
        m /dev/pts --bind /dev/pts &&
        m /dev/shm -t tmpfs -o mode=1777 tmpfs &&
        m /run -t tmpfs -o mode=0755 tmpfs &&
        m /var/cache/apt/archives --bind "$APT_CACHE" &&
        m /root/.cache/pip --bind "$PIP_CACHE" &&
        m /mnt/origin --bind -o ro "$ORIGIN" || exit 1

    in_root() {  # a clean environment, no terminal: as CI runs it
        setsid --wait chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root LANG=C.UTF-8 /bin/bash -c "$1" </dev/null
    }
    step() {  # step NAME COMMAND [offline]
        local name=$1 cmd=$2 start=$SECONDS rc
        echo "debian13 $name: $cmd"
        if [[ ${3:-} == offline ]]; then
            # loopback only: set up lo in a new network namespace, then enter the chroot
            unshare --net bash -c 'ip link set lo up && "$@"' _ setsid --wait chroot "$R" /usr/bin/env -i \
                PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
                /bin/bash -c "$cmd" </dev/null
        else
            in_root "$cmd"
        fi
        rc=$?
        echo "debian13 $name: $((SECONDS - start)) s (exit $rc)"
        return $rc
    }
    # shellcheck disable=SC2016  # expanded inside the chroot
    step clone 'git clone -q /mnt/origin /root/kiosk && git -C /root/kiosk log --oneline -1 && python3 --version' || exit 1
    step setup 'cd /root/kiosk && make setup' || exit 1
    # shellcheck disable=SC2016
    step versions 'dpkg-query -W -f="\${Package} \${Version}\n" pcscd libzbar0t64 libglib2.0-0t64 python3; /usr/sbin/pcscd --version | head -1'
    if (($#)); then
        printf -v args ' %q' "$@"
        step test "cd /root/kiosk && make setup && bash tests/run.sh$args" offline
    else
        step test 'cd /root/kiosk && make test' offline
    fi
    rc_test=$?
    step demo 'cd /root/kiosk && make demo' offline
    rc_demo=$?
    ((rc_test == 0 && rc_demo == 0))
    exit
fi

# --- on the host ------------------------------------------------------------------------------
self=$(realpath "$0")
cd "$(dirname "$self")/../.." || exit 1
SUITE=trixie MIRROR=http://deb.debian.org/debian
CACHE=${KIOSK_TEST_DEPLOY_CACHE:-/var/cache/kiosk-test-deploy}
INCLUDE=ca-certificates,git,make,python3

if [[ $(id -u) -ne 0 ]]; then
    echo "test-debian13: needs root (it builds a root filesystem and chroots into it)" >&2
    exit 1
fi
missing=()
for pkg in mmdebstrap debian-archive-keyring util-linux iproute2 git; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "test-debian13: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
        echo "test-debian13: could not install ${missing[*]}" >&2
        exit 1
    fi
fi
if ! git diff --quiet HEAD -- 2>/dev/null; then
    echo "test-debian13: note: uncommitted changes are not tested; the chroot clones the committed HEAD"
fi

work=$(mktemp -d /var/tmp/kiosk-test-debian13.XXXXXX)
ns_pid=
cleanup() {
    # the namespaces go with their last process; then remove the work directory, never crossing
    # into a mount that could not be undone
    if [[ -n $ns_pid ]]; then
        kill "$ns_pid" 2>/dev/null
        wait "$ns_pid" 2>/dev/null
    fi
    local m
    while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m"
    done < <(findmnt -rn -o TARGET | grep -F "$work/" | sort -r)
    if findmnt -rn -o TARGET | grep -qF "$work/"; then
        echo "test-debian13: mounts remain under $work; leaving it in place" >&2
    else
        rm -rf --one-file-system "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$CACHE"
# one run at a time on a machine (the caches; two 15-minute chroots on two cores help nobody)
exec 9>"$CACHE/test-debian13.lock"
if ! flock -n 9; then
    echo "test-debian13: another run holds $CACHE/test-debian13.lock; waiting (up to 40 min)"
    flock -w 2400 9 || { echo "test-debian13: gave up waiting for the other run" >&2; exit 1; }
fi
start=$SECONDS
tar=$CACHE/$SUITE-minbase-${INCLUDE//,/-}.tar
if [[ ! -f $tar ]] || (($(date +%s) - $(stat -c %Y "$tar") > 7 * 86400)); then
    echo "test-debian13: building a $SUITE root with $INCLUDE (mmdebstrap)"
    if ! mmdebstrap --quiet --variant=minbase --include="$INCLUDE" --aptopt='Acquire::Retries "5"' \
        "$SUITE" "${tar%.tar}.partial.tar" "$MIRROR"; then
        echo "test-debian13: mmdebstrap failed" >&2
        exit 1
    fi
    mv "${tar%.tar}.partial.tar" "$tar"
fi
R=$work/root
mkdir -p "$R" && tar -C "$R" -xf "$tar" || exit 1
# Test scaffolding, not setup: name resolution, no daemons started by package scripts in a chroot,
# and where this machine reaches the registries through a TLS-inspecting proxy, its local CAs.
cp /etc/resolv.conf "$R/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" && chmod 755 "$R/usr/sbin/policy-rc.d"
shopt -s nullglob
local_cas=(/usr/local/share/ca-certificates/*.crt)
if ((${#local_cas[@]})); then
    cp "${local_cas[@]}" "$R/usr/local/share/ca-certificates/"
    chroot "$R" update-ca-certificates >/dev/null || exit 1
fi
# apt's and pip's downloads are cached between runs (the installed result is not); apt locks its
# archive directory, so this stage has its own, not the one `make test-deploy` may be using now
export APT_CACHE=$CACHE/apt-archives-$SUITE-make PIP_CACHE=$CACHE/pip-$SUITE ORIGIN=$PWD
mkdir -p "$APT_CACHE/partial" "$PIP_CACHE"
echo "debian13 rootfs: $((SECONDS - start)) s"

unshare --mount --propagation private --pid --fork --kill-child -- bash "$self" --inside "$R" "$@" &
ns_pid=$!
wait "$ns_pid"
rc=$?
ns_pid=
echo "debian13 total: $((SECONDS - start)) s (exit $rc)"
exit $rc
