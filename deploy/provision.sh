#!/usr/bin/env bash
# provision.sh — turn a fresh Raspberry Pi OS Lite (trixie) or Debian 13 machine into a kiosk.
#
# Run as root. Idempotent: a second run with the same arguments changes nothing
# and says so. See docs/deploy.md for the walk-through.
#
#   sudo deploy/provision.sh --facility-code 40123 --facility-name "Trạm Y tế xã Nghi Phú" \
#        --facility-address "Xã Nghi Phú, TP Vinh, Nghệ An" \
#        --hub https://hub.soyte.example.vn --hub-ca hub-ca.pem \
#        --token-file device-token --roster-key-file roster.key \
#        --wheel dist/tramyte_kiosk-0.1.0-py3-none-any.whl --scanner-usb-id 0c2e:0b61
#
# Options:
#   --facility-code CODE      5 digits (province + facility), as on BHYT cards registered here
#   --facility-name NAME      the station's name, shown on screen and tickets
#   --facility-address TEXT   the station's address (the address of stay); default: the name
#   --hub URL                 the provincial hub (https://...; http:// only to localhost); empty: no sync
#   --hub-ca FILE             CA certificate(s) the hub's TLS certificate must chain to
#   --token-file FILE         this device's token, made by `kiosk-hub enrol` on the hub
#   --roster-key-file FILE    the province's roster hashing key (at least 32 characters)
#   --wheel FILE              the application wheel (`make dist`); default: the newest in dist/
#   --wheelhouse DIR          install Python dependencies only from DIR (no network)
#   --scanner-usb-id VID:PID  a serial barcode scanner model (repeatable): /dev/kiosk-scanner
#   --display eglfs|cage      how the UI reaches the screen (default eglfs)
#   --dry-run                 say what would change, change nothing
#   -h, --help                this text
#
# Secrets given once stay in place: a re-run without --token-file keeps the token.
# Exit status: 0 done (or nothing to do), 1 failed, 2 bad usage.
set -euo pipefail

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ETC=/etc/kiosk
DATA=/var/lib/kiosk
OPT=/opt/kiosk
UNITS=(kiosk-ui.service kiosk-sync.service kiosk-roster-sync.service kiosk-roster-sync.timer
       kiosk-retention.service kiosk-retention.timer)
ENABLE=(kiosk-ui.service kiosk-sync.service kiosk-roster-sync.timer kiosk-retention.timer
        systemd-timesyncd.service systemd-time-wait-sync.service pcscd.socket)

facility_code="" facility_name="" facility_address="" hub="" hub_ca="" token_file="" roster_key_file=""
wheel="" wheelhouse="" display=eglfs dry_run=0
scanner_ids=()

usage() { sed -n '2,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "provision: $*" >&2; exit "${2:-1}"; }

while (($#)); do
    case $1 in
        --facility-code) facility_code=${2-}; shift 2 ;;
        --facility-name) facility_name=${2-}; shift 2 ;;
        --facility-address) facility_address=${2-}; shift 2 ;;
        --hub) hub=${2-}; shift 2 ;;
        --hub-ca) hub_ca=${2-}; shift 2 ;;
        --token-file) token_file=${2-}; shift 2 ;;
        --roster-key-file) roster_key_file=${2-}; shift 2 ;;
        --wheel) wheel=${2-}; shift 2 ;;
        --wheelhouse) wheelhouse=${2-}; shift 2 ;;
        --scanner-usb-id) scanner_ids+=("${2-}"); shift 2 ;;
        --display) display=${2-}; shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" 2 ;;
    esac
done

# --- arguments ------------------------------------------------------------------------------
[[ $facility_code =~ ^[0-9]{5}$ ]] || die "--facility-code: expected 5 digits, e.g. 40123" 2
[[ -n ${facility_name//[[:space:]]/} ]] || die "--facility-name: expected the station's name" 2
[[ -n $facility_address ]] || facility_address=$facility_name
[[ -z $hub || $hub =~ ^https?://[^[:space:]]+$ ]] || die "--hub: expected an https:// URL" 2
# Plain http would send the device token and personal data in clear: only to this machine (tests, the demo).
if [[ $hub =~ ^http:// ]]; then
    hub_host=${hub#http://}
    hub_host=${hub_host%%[/?#]*}
    hub_host=${hub_host##*@}
    if [[ $hub_host =~ ^\[([^]]*)\] ]]; then hub_host=${BASH_REMATCH[1]}; else hub_host=${hub_host%%:*}; fi
    [[ ${hub_host,,} == localhost || $hub_host =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ || $hub_host == ::1 ]] ||
        die "--hub: http:// sends the device token and personal data in clear; use https:// (http only to localhost)" 2
fi
[[ $display == eglfs || $display == cage ]] || die "--display: expected eglfs or cage" 2
for f in "$hub_ca" "$token_file" "$roster_key_file"; do
    [[ -z $f || -r $f ]] || die "cannot read '$f'" 2
done
if [[ -n $roster_key_file ]]; then
    key_len=$(tr -d '[:space:]' <"$roster_key_file" | wc -c)
    ((key_len >= 32)) || die "--roster-key-file: expected at least 32 characters of key" 2
fi
if [[ -n $token_file && -z $(tr -d '[:space:]' <"$token_file") ]]; then
    die "--token-file: the file is empty" 2
fi
for id in "${scanner_ids[@]}"; do
    [[ $id =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$ ]] || die "--scanner-usb-id: expected VID:PID in hex, e.g. 0c2e:0b61" 2
done
if [[ -z $wheel ]]; then
    wheel=$(find "$DEPLOY_DIR/../dist" -maxdepth 1 -name '*.whl' -printf '%T@ %p\n' 2>/dev/null |
        sort -rn | head -n1 | cut -d' ' -f2- || true)
fi
[[ -n $wheel && -f $wheel ]] || die "--wheel: no application wheel (run \`make dist\` first)" 2
[[ $(id -u) -eq 0 ]] || die "run as root (sudo)" 2

if [[ -r /etc/os-release ]]; then
    # shellcheck disable=SC1091
    . /etc/os-release
    [[ ${VERSION_CODENAME:-} == trixie ]] ||
        echo "provision: warning: made for Debian 13 (trixie); this is ${PRETTY_NAME:-unknown}" >&2
fi

# --- change tracking ------------------------------------------------------------------------
changes=()
note() { changes+=("$1"); echo "  changed: $1"; }
would() { changes+=("$1"); echo "  would change: $1"; }
systemd_running() { [[ -d /run/systemd/system ]]; }
unit_files_changed=0 udev_changed=0 journald_changed=0 restart_app=0

# put CONTENT_FILE DEST MODE OWNER GROUP: install a file if its content or metadata differ.
put() {
    local src=$1 dest=$2 mode=$3 owner=$4 group=$5
    if [[ -f $dest ]] && cmp -s "$src" "$dest" &&
        [[ $(stat -c '%a %U %G' "$dest") == "${mode#0} $owner $group" ]]; then
        return 1
    fi
    if ((dry_run)); then
        would "$dest"
    else
        install -D -m "$mode" -o "$owner" -g "$group" "$src" "$dest"
        note "$dest"
    fi
}

# remove DEST if present
absent() {
    [[ -e $1 ]] || return 1
    if ((dry_run)); then would "remove $1"; else rm -f "$1"; note "removed $1"; fi
}

# dir PATH MODE OWNER GROUP
dir() {
    local path=$1 mode=$2 owner=$3 group=$4
    if [[ -d $path && $(stat -c '%a %U %G' "$path") == "${mode#0} $owner $group" ]]; then
        return 0
    fi
    if ((dry_run)); then would "directory $path"; return 0; fi
    install -d -m "$mode" -o "$owner" -g "$group" "$path"
    note "directory $path ($mode $owner:$group)"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "provision: facility $facility_code, $(basename "$wheel")$( ((dry_run)) && echo ', dry run')"

# --- 1. system packages ---------------------------------------------------------------------
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$DEPLOY_DIR/device-packages.txt" | grep -v '^$')
[[ $display == cage ]] && wanted+=(cage qt6-wayland)
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if ((dry_run)); then
        would "install packages: ${missing[*]}"
    else
        export DEBIAN_FRONTEND=noninteractive
        # Station networks drop: let apt retry a failed download before giving up.
        apt-get -o Acquire::Retries=5 update -qq
        apt-get -o Acquire::Retries=5 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        note "installed packages: ${missing[*]}"
    fi
fi

# --- 2. the kiosk user: a locked system account -----------------------------------------------
if ! getent passwd kiosk >/dev/null; then
    if ((dry_run)); then
        would "create the locked system user kiosk"
    else
        useradd --system --user-group --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin \
            --comment "Clinic check-in kiosk" kiosk
        note "created the locked system user kiosk"
    fi
fi
if getent passwd kiosk >/dev/null; then
    for g in dialout video input render audio; do
        getent group "$g" >/dev/null || continue
        id -nG kiosk | tr ' ' '\n' | grep -qx "$g" && continue
        if ((dry_run)); then would "add kiosk to group $g"; else usermod -aG "$g" kiosk; note "added kiosk to group $g"; fi
    done
    if [[ $(passwd -S kiosk | cut -d' ' -f2) != L ]]; then
        if ((dry_run)); then would "lock the kiosk account"; else usermod -L kiosk; note "locked the kiosk account"; fi
    fi
fi
kiosk_group=kiosk
getent group kiosk >/dev/null || kiosk_group=root # dry run on a fresh machine

# --- 3. directories -------------------------------------------------------------------------
dir "$ETC" 0750 root "$kiosk_group"
dir "$DATA" 0750 "$( getent passwd kiosk >/dev/null && echo kiosk || echo root)" "$kiosk_group"
dir "$OPT" 0755 root root

# --- 4. configuration and secrets (secrets: root-owned, group kiosk, 0640, outside the data dir) -
toml_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

if [[ -n $token_file ]]; then
    printf '%s\n' "$(tr -d '[:space:]' <"$token_file")" >"$tmp/token"
    put "$tmp/token" "$ETC/device-token" 0640 root "$kiosk_group" || true
fi
if [[ -n $roster_key_file ]]; then
    printf '%s\n' "$(tr -d '[:space:]' <"$roster_key_file")" >"$tmp/roster.key"
    put "$tmp/roster.key" "$ETC/roster.key" 0640 root "$kiosk_group" || true
fi
if [[ -n $hub_ca ]]; then
    put "$hub_ca" "$ETC/hub-ca.pem" 0644 root root || true
fi
# The device data key (docs/security.md): made once and never replaced, or the data sealed under it is lost.
# It lives alone in $ETC/key, owned by the kiosk user, so that kiosk-sync (User=kiosk, ReadWritePaths=$ETC/key)
# can shred it when the hub orders a wipe; the kiosk user still cannot change the other secrets here.
key_owner=$(getent passwd kiosk >/dev/null && echo kiosk || echo root) # root: dry run on a fresh machine
dir "$ETC/key" 0700 "$key_owner" "$kiosk_group"
if [[ -s $ETC/data.key && ! -e $ETC/key/data.key ]]; then
    # Devices provisioned by earlier releases: move the key (same bytes, same data) into the new layout.
    if ((dry_run)); then
        would "move the data key $ETC/data.key to $ETC/key/data.key"
    else
        install -m 0640 -o "$key_owner" -g "$kiosk_group" "$ETC/data.key" "$ETC/key/data.key"
        rm -f "$ETC/data.key"
        note "moved the data key to $ETC/key/data.key"
    fi
elif [[ ! -s $ETC/key/data.key ]]; then
    if ((dry_run)); then
        would "create the data key $ETC/key/data.key"
    else
        (umask 077 && head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$tmp/data.key" && echo >>"$tmp/data.key")
        install -m 0640 -o "$key_owner" -g "$kiosk_group" "$tmp/data.key" "$ETC/key/data.key"
        rm -f "$tmp/data.key"
        note "created the data key $ETC/key/data.key"
    fi
elif [[ $(stat -c '%a %U %G' "$ETC/key/data.key") != "640 $key_owner $kiosk_group" ]]; then
    if ((dry_run)); then
        would "data key owner and mode"
    else
        chown "$key_owner:$kiosk_group" "$ETC/key/data.key" && chmod 0640 "$ETC/key/data.key"
        note "data key owner and mode ($key_owner:$kiosk_group 0640)"
    fi
fi
ca_path="" key_path=""
[[ -f $ETC/hub-ca.pem || -n $hub_ca ]] && ca_path=$ETC/hub-ca.pem
[[ -f $ETC/roster.key || -n $roster_key_file ]] && key_path=$ETC/roster.key

{
    echo "# Written by deploy/provision.sh (the Ansible role writes the same): change the"
    echo "# provisioning arguments or the inventory, not this file. Keys: docs/configuration.md."
    echo "[facility]"
    echo "code = $(toml_str "$facility_code")"
    echo "name = $(toml_str "$facility_name")"
    echo "address = $(toml_str "$facility_address")"
    echo
    echo "[storage]"
    echo "data_dir = $(toml_str "$DATA")"
    echo
    echo "[scanner]"
    echo "kind = \"serial\""
    echo "port = \"/dev/kiosk-scanner\""
    echo
    echo "[upstream]"
    echo "url = $(toml_str "$hub")"
    echo "token_file = $(toml_str "$ETC/device-token")"
    echo "ca_file = $(toml_str "$ca_path")"
    echo
    echo "[roster]"
    echo "key_file = $(toml_str "$key_path")"
    echo
    echo "[privacy]"
    echo "data_key_file = $(toml_str "$ETC/key/data.key")"
} >"$tmp/kiosk.toml"
put "$tmp/kiosk.toml" "$ETC/kiosk.toml" 0640 root "$kiosk_group" && restart_app=1

{
    echo "# Qt platform for kiosk-ui.service (written by provision.sh / the Ansible role)."
    if [[ $display == cage ]]; then
        echo "QT_QPA_PLATFORM=wayland"
    else
        echo "QT_QPA_PLATFORM=eglfs"
        echo "QT_QPA_EGLFS_INTEGRATION=eglfs_kms"
        echo "QT_QPA_EGLFS_ALWAYS_SET_MODE=1"
        echo "QT_QPA_EGLFS_HIDECURSOR=1"
    fi
} >"$tmp/ui.env"
put "$tmp/ui.env" "$ETC/ui.env" 0644 root root && restart_app=1

# --- 5. udev, modprobe, polkit, journald, watchdog, units -------------------------------------
{
    echo "# Serial barcode scanners (written by provision.sh / the Ansible role from the scanner"
    echo "# USB IDs): a stable /dev/kiosk-scanner, and ModemManager keeps its AT probes off them."
    for id in "${scanner_ids[@]}"; do
        vid=${id%%:*} pid=${id##*:}
        echo "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"${vid,,}\", ATTRS{idProduct}==\"${pid,,}\", SYMLINK+=\"kiosk-scanner\", ENV{ID_MM_DEVICE_IGNORE}=\"1\", ENV{ID_MM_PORT_IGNORE}=\"1\", GROUP=\"dialout\", MODE=\"0660\""
    done
} >"$tmp/scanner.rules"
put "$tmp/scanner.rules" /etc/udev/rules.d/70-kiosk-scanner.rules 0644 root root && udev_changed=1
put "$DEPLOY_DIR/modprobe/kiosk-nfc-blacklist.conf" /etc/modprobe.d/kiosk-nfc-blacklist.conf 0644 root root || true
put "$DEPLOY_DIR/polkit/60-kiosk-pcscd.rules" /etc/polkit-1/rules.d/60-kiosk-pcscd.rules 0644 root root || true
put "$DEPLOY_DIR/journald/60-kiosk.conf" /etc/systemd/journald.conf.d/60-kiosk.conf 0644 root root && journald_changed=1
put "$DEPLOY_DIR/systemd/60-kiosk-watchdog.conf" /etc/systemd/system.conf.d/60-kiosk-watchdog.conf 0644 root root || true
for u in "${UNITS[@]}"; do
    put "$DEPLOY_DIR/systemd/$u" "/etc/systemd/system/$u" 0644 root root && unit_files_changed=1
done
if [[ $display == cage ]]; then
    put "$DEPLOY_DIR/systemd/kiosk-ui-cage.conf" /etc/systemd/system/kiosk-ui.service.d/cage.conf 0644 root root &&
        unit_files_changed=1
else
    absent /etc/systemd/system/kiosk-ui.service.d/cage.conf && unit_files_changed=1
fi
put "$DEPLOY_DIR/bin/kiosk-release" /usr/local/sbin/kiosk-release 0755 root root || true

# --- 6. the application: install the wheel's version beside the others, make it current ---------
release=/usr/local/sbin/kiosk-release
((dry_run)) && release="$DEPLOY_DIR/bin/kiosk-release"
version=$(basename "$wheel" .whl | cut -d- -f2)
sha=$(sha256sum "$wheel" | cut -d' ' -f1)
if [[ ! -f $OPT/versions/$version/.wheel-sha256 || $(cat "$OPT/versions/$version/.wheel-sha256") != "$sha" ]]; then
    if ((dry_run)); then
        would "install application version $version"
    else
        "$release" install "$wheel" ${wheelhouse:+--wheelhouse "$wheelhouse"} >/dev/null
        note "installed application version $version in $OPT/versions/$version"
    fi
fi
if [[ $(readlink "$OPT/current" 2>/dev/null || true) != "versions/$version" ]]; then
    if ((dry_run)); then
        would "make version $version current"
    else
        # On a booted device this restarts the kiosk and switches back if it does not reach READY=1.
        systemd_running && ((unit_files_changed)) && systemctl daemon-reload
        "$release" activate "$version" >/dev/null
        note "version $version is current"
        restart_app=0
    fi
fi
if [[ $(readlink /usr/local/bin/kiosk 2>/dev/null || true) != "$OPT/current/bin/kiosk" ]]; then
    if ((dry_run)); then would "/usr/local/bin/kiosk"; else ln -sfn "$OPT/current/bin/kiosk" /usr/local/bin/kiosk; note "/usr/local/bin/kiosk"; fi
fi

# --- 7. the database: created and migrated by the kiosk user ------------------------------------
if ((!dry_run)); then
    out=$(runuser -u kiosk -- "$OPT/current/bin/kiosk" --config "$ETC/kiosk.toml" db migrate --json)
    if ! grep -q '"applied": \[\]' <<<"$out"; then
        note "database migrated: $out"
    fi
elif [[ ! -f $DATA/kiosk.db ]]; then
    would "create the database $DATA/kiosk.db"
fi

# --- 8. enabled units -------------------------------------------------------------------------
for u in "${ENABLE[@]}"; do
    state=$(systemctl is-enabled "$u" 2>/dev/null || true)
    [[ $state == enabled ]] && continue
    if ((dry_run)); then would "enable $u"; else systemctl enable --quiet "$u"; note "enabled $u"; fi
done

# --- 9. a booted device: apply now --------------------------------------------------------------
if ((!dry_run)) && systemd_running; then
    ((unit_files_changed)) && systemctl daemon-reload
    ((udev_changed)) && udevadm control --reload && udevadm trigger --subsystem-match=tty
    ((journald_changed)) && systemctl restart systemd-journald
    if ((restart_app || unit_files_changed)); then
        systemctl restart kiosk-sync.service || echo "provision: kiosk-sync did not start; see journalctl -u kiosk-sync" >&2
        systemctl restart kiosk-ui.service || echo "provision: kiosk-ui did not start; see journalctl -u kiosk-ui" >&2
    fi
fi

# --- report ----------------------------------------------------------------------------------
if ((${#changes[@]} == 0)); then
    echo "provision: no changes (this device is already provisioned as asked)"
elif ((dry_run)); then
    echo "provision: dry run: ${#changes[@]} changes would be made"
else
    echo "provision: ${#changes[@]} changes made"
    systemd_running || echo "provision: systemd is not running here (image or chroot): units start at the next boot"
    grep -q 60-kiosk-watchdog <<<"${changes[*]}" && echo "provision: reboot once to arm the hardware watchdog"
fi
exit 0
