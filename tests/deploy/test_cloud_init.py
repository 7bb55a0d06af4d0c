"""deploy/cloud-init: prepare-sd.sh fills the templates into valid cloud-config for a first boot."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
PREPARE = ROOT / "deploy/cloud-init/prepare-sd.sh"


@pytest.fixture
def card(tmp_path):
    boot = tmp_path / "bootfs"
    boot.mkdir()
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "tramyte_kiosk-0.1.0-py3-none-any.whl").write_bytes(b"wheel")
    (dist / "kiosk-deploy-0.1.0.tar.gz").write_bytes(b"bundle")
    (dist / "SHA256SUMS").write_text("x  tramyte_kiosk-0.1.0-py3-none-any.whl\n")
    key = tmp_path / "id.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample tech@laptop\n")
    token = tmp_path / "tok"
    token.write_text("secret-token\n")
    return boot, dist, key, token


def _prepare(card, *extra):
    boot, dist, key, token = card
    return subprocess.run(["bash", str(PREPARE), "--boot", str(boot), "--dist", str(dist), "--hostname", "kiosk-nghiphu",
                           "--ssh-key", str(key), "--facility-code", "40123",
                           "--facility-name", 'Trạm Y tế xã "Nghi Phú"', "--hub", "https://hub.example.vn",
                           "--token-file", str(token), "--scanner-usb-id", "0c2e:0b61", *extra],
                          capture_output=True, text=True, timeout=60)


def test_prepare_sd_writes_cloud_config(card):
    boot = card[0]
    r = _prepare(card, "--wifi-ssid", 'Trạm "Wi-Fi"', "--wifi-psk", "mật khẩu\\1 &amp; x")
    assert r.returncode == 0, r.stderr
    text = (boot / "user-data").read_text()
    assert text.startswith("#cloud-config\n") and not re.search(r"@[A-Z_]+@", text)
    ud = yaml.safe_load(text)
    assert ud["hostname"] == "kiosk-nghiphu"
    assert ud["users"][0]["ssh_authorized_keys"] == ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample tech@laptop"]
    assert ud["users"][0]["lock_passwd"] is True and ud["ssh_pwauth"] is False
    net = yaml.safe_load((boot / "network-config").read_text())
    ap = net["network"]["wifis"]["wlan0"]["access-points"]
    assert ap == {'Trạm "Wi-Fi"': {"password": "mật khẩu\\1 &amp; x"}}
    args = (boot / "kiosk/provision.args").read_text().splitlines()
    assert args[args.index("--facility-name") + 1] == 'Trạm Y tế xã "Nghi Phú"'
    assert (boot / "kiosk/device-token").read_text() == "secret-token\n"
    assert (boot / "kiosk/tramyte_kiosk-0.1.0-py3-none-any.whl").exists()


def test_without_wifi_there_is_no_wifi_section(card):
    assert _prepare(card).returncode == 0
    net = yaml.safe_load((card[0] / "network-config").read_text())
    assert "wifis" not in net["network"] and net["network"]["ethernets"]["eth0"]["dhcp4"] is True


def test_bad_hostname_refused(card):
    boot, dist, key, token = card
    r = subprocess.run(["bash", str(PREPARE), "--boot", str(boot), "--dist", str(dist), "--hostname", "Kiosk_1",
                        "--ssh-key", str(key)], capture_output=True, text=True)
    assert r.returncode == 2 and "--hostname" in r.stderr


def test_first_boot_script_is_valid_bash(card, tmp_path):
    assert _prepare(card).returncode == 0
    ud = yaml.safe_load((card[0] / "user-data").read_text())
    script = ud["runcmd"][0][2]
    f = tmp_path / "first-boot.sh"
    f.write_text("#!/usr/bin/env bash\n" + script)
    assert subprocess.run(["bash", "-n", str(f)]).returncode == 0
    if shutil.which("shellcheck"):
        r = subprocess.run(["shellcheck", str(f)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout
    assert "provision.sh" in script and "shred -u" in script


def _first_boot(card, tmp_path, provision_exit: int, tamper: bool = False):
    """Run the first-boot script against a boot partition in tmp_path (paths rewritten), with a bundle whose
    provision.sh exits `provision_exit`."""
    import hashlib
    import io
    import tarfile
    boot, dist, key, token = card
    bundle = io.BytesIO()
    with tarfile.open(fileobj=bundle, mode="w:gz") as tar:
        body = f"#!/bin/sh\necho provisioning\nexit {provision_exit}\n".encode()
        info = tarfile.TarInfo("deploy/provision.sh")
        info.size, info.mode = len(body), 0o755
        tar.addfile(info, io.BytesIO(body))
    (dist / "kiosk-deploy-0.1.0.tar.gz").write_bytes(bundle.getvalue())
    sums = "".join(f"{hashlib.sha256((dist / n).read_bytes()).hexdigest()}  {n}\n"
                   for n in ("tramyte_kiosk-0.1.0-py3-none-any.whl", "kiosk-deploy-0.1.0.tar.gz"))
    (dist / "SHA256SUMS").write_text(sums)
    roster_key = tmp_path / "roster.key"
    roster_key.write_text("r" * 40 + "\n")
    assert _prepare(card, "--roster-key-file", str(roster_key)).returncode == 0
    if tamper:
        (boot / "kiosk/kiosk-deploy-0.1.0.tar.gz").write_bytes(b"not the bundle that was checked")
    script = yaml.safe_load((boot / "user-data").read_text())["runcmd"][0][2]
    work = tmp_path / "root"
    (work / "log").mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kiosk").write_text("#!/bin/sh\necho '{}'\n")
    (bin_dir / "kiosk").chmod(0o755)
    script = (script.replace("/boot/firmware/kiosk", str(boot / "kiosk"))
              .replace("/root/kiosk-bundle", str(work / "bundle")).replace("/var/log/", str(work / "log") + "/"))
    import os
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    return r, boot / "kiosk", work


def test_first_boot_shreds_the_secrets_when_provisioning_fails(card, tmp_path):
    r, b, work = _first_boot(card, tmp_path, provision_exit=1)
    assert r.returncode == 1, r.stderr
    assert (work / "log/kiosk-provision.log").read_text() == "provisioning\n"  # it did run, and failed
    assert not (b / "device-token").exists() and not (b / "roster.key").exists()


def test_first_boot_shreds_the_secrets_when_it_succeeds(card, tmp_path):
    r, b, work = _first_boot(card, tmp_path, provision_exit=0)
    assert r.returncode == 0, r.stderr
    assert not (b / "device-token").exists() and not (b / "roster.key").exists()


def test_first_boot_checks_the_bundle_before_extracting_it(card, tmp_path):
    r, b, work = _first_boot(card, tmp_path, provision_exit=0, tamper=True)
    assert r.returncode != 0 and "FAILED" in r.stdout + r.stderr
    assert not (work / "bundle").exists()  # nothing from an unchecked archive reached the disk
    assert not (work / "log/kiosk-provision.log").exists()
    assert not (b / "device-token").exists() and not (b / "roster.key").exists()
