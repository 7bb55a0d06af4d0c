#!/usr/bin/env bash
# prepare-sd.sh — make a freshly written Raspberry Pi OS Lite (trixie) SD card provision
# itself on first boot: cloud-init's user-data and network-config on the boot partition,
# plus kiosk/ with the wheel, the deploy bundle, their checksums, the secrets and the
# provision.sh arguments.
#
#   deploy/cloud-init/prepare-sd.sh --boot /media/$USER/bootfs --hostname kiosk-nghiphu \
#       --ssh-key ~/.ssh/id_ed25519.pub --facility-code 40123 --facility-name "Trạm Y tế xã Nghi Phú" \
#       --facility-address "Xã Nghi Phú, TP Vinh, Nghệ An" --hub https://hub.soyte-nghean.example.vn \
#       --hub-ca hub-ca.pem --token-file kiosk-nghiphu.token --roster-key-file roster.key \
#       --scanner-usb-id 0c2e:0b61 [--wifi-ssid NAME --wifi-psk PASSWORD] [--display eglfs|cage]
#
# The wheel and bundle come from dist/ (`make dist`). Exit 0 done, 2 bad usage.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIST=$HERE/../../dist
boot="" hostname="" ssh_key="" wifi_ssid="" wifi_psk="" hub_ca="" token_file="" roster_key_file=""
pargs=()

die() { echo "prepare-sd: $*" >&2; exit "${2:-1}"; }

while (($#)); do
    case $1 in
        --boot) boot=${2-}; shift 2 ;;
        --hostname) hostname=${2-}; shift 2 ;;
        --ssh-key) ssh_key=${2-}; shift 2 ;;
        --wifi-ssid) wifi_ssid=${2-}; shift 2 ;;
        --wifi-psk) wifi_psk=${2-}; shift 2 ;;
        --hub-ca) hub_ca=${2-}; shift 2 ;;
        --token-file) token_file=${2-}; shift 2 ;;
        --roster-key-file) roster_key_file=${2-}; shift 2 ;;
        --dist) DIST=${2-}; shift 2 ;;
        --facility-code | --facility-name | --facility-address | --hub | --scanner-usb-id | --display)
            [[ $2 != *$'\n'* ]] || die "$1: no line breaks" 2
            pargs+=("$1" "${2-}"); shift 2 ;;
        -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1'" 2 ;;
    esac
done

[[ -d $boot ]] || die "--boot: the SD card's boot partition (mounted), e.g. /media/\$USER/bootfs" 2
[[ $hostname =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]] || die "--hostname: letters, digits and dashes" 2
[[ -r $ssh_key ]] || die "--ssh-key: the technician's public key file" 2
grep -qE '^(ssh-|ecdsa-)' "$ssh_key" || die "--ssh-key: not an OpenSSH public key" 2
[[ -n $wifi_ssid || -z $wifi_psk ]] || die "--wifi-psk needs --wifi-ssid" 2
for f in "$hub_ca" "$token_file" "$roster_key_file"; do
    [[ -z $f || -r $f ]] || die "cannot read '$f'" 2
done
wheel=$(find "$DIST" -maxdepth 1 -name '*.whl' | sort | tail -n1)
bundle=$(find "$DIST" -maxdepth 1 -name 'kiosk-deploy-*.tar.gz' | sort | tail -n1)
[[ -n $wheel && -n $bundle && -f $DIST/SHA256SUMS ]] || die "no wheel/bundle in $DIST: run \`make dist\` first" 2

# Substitute into a template: values are escaped for a double-quoted YAML string.
yaml_escape() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "$s"; }
fill() {
    local text key ssid psk
    text=$(<"$1")
    key=$(yaml_escape "$(head -n1 "$ssh_key")")
    ssid=$(yaml_escape "$wifi_ssid")
    psk=$(yaml_escape "$wifi_psk")
    # Quoted replacements: bash 5.2 would otherwise treat & and \ in them specially.
    text=${text//@HOSTNAME@/"$hostname"}
    text=${text//@ADMIN_SSH_KEY@/"$key"}
    text=${text//@WIFI_SSID@/"$ssid"}
    text=${text//@WIFI_PSK@/"$psk"}
    printf '%s\n' "$text"
}

fill "$HERE/user-data.template" >"$boot/user-data"
if [[ -n $wifi_ssid ]]; then
    fill "$HERE/network-config.template" >"$boot/network-config"
else
    fill "$HERE/network-config.template" | sed '/^  wifis:/,$d' >"$boot/network-config"
fi
[[ -f $boot/meta-data ]] || printf 'instance-id: %s-%s\n' "$hostname" "$(date +%s)" >"$boot/meta-data"

mkdir -p "$boot/kiosk"
cp "$wheel" "$bundle" "$DIST/SHA256SUMS" "$boot/kiosk/"
printf '%s\n' "${pargs[@]}" >"$boot/kiosk/provision.args"
[[ -n $hub_ca ]] && cp "$hub_ca" "$boot/kiosk/hub-ca.pem"
[[ -n $token_file ]] && cp "$token_file" "$boot/kiosk/device-token"
[[ -n $roster_key_file ]] && cp "$roster_key_file" "$boot/kiosk/roster.key"
sync
echo "prepare-sd: $boot is ready for $hostname; first boot provisions it and reboots (log: /var/log/kiosk-provision.log)"
