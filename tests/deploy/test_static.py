"""Static checks of deploy/: shellcheck on every shell script, systemd-analyze verify on every unit,
ansible-playbook --syntax-check and ansible-lint on the playbooks.

The tools come from Debian (`make test-deploy` installs them); without them these skip with a reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ANSIBLE = DEPLOY / "ansible"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (make test-deploy installs it)")
    return path


def shell_scripts() -> list[Path]:
    skip = {".git", ".venv", "node_modules", "build", "dist", ".hypothesis", ".pytest_cache"}
    found = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            p = Path(dirpath) / name
            if name.endswith(".sh"):
                found.append(p)
                continue
            try:
                with p.open("rb") as f:
                    head = f.readline(80)
            except OSError:
                continue
            if head.startswith(b"#!") and (b"bash" in head or head.rstrip().endswith(b"/sh")):
                found.append(p)
    return sorted(found)


def test_the_deploy_scripts_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in shell_scripts()}
    assert {"deploy/provision.sh", "deploy/bin/kiosk-release", "deploy/dist.sh", "tests/deploy/run.sh"} <= names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shellcheck(script):
    sc = _tool("shellcheck")
    r = subprocess.run([sc, "-x", str(script)], capture_output=True, text=True, cwd=script.parent)
    assert r.returncode == 0, r.stdout + r.stderr


def test_units_verify(tmp_path):
    """systemd-analyze verify with the unit's binaries replaced by stubs (the real paths are
    verified inside the provisioned root filesystem by test_rootfs.py)."""
    sa = _tool("systemd-analyze")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for b in ("kiosk", "cage"):
        (stubs / b).write_text("#!/bin/sh\n")
        (stubs / b).chmod(0o755)
    units = tmp_path / "units"
    (units / "kiosk-ui.service.d").mkdir(parents=True)

    def stubbed(text: str) -> str:
        return text.replace("/opt/kiosk/current/bin/kiosk", str(stubs / "kiosk")).replace("/usr/bin/cage", str(stubs / "cage"))
    names = []
    for src in sorted((DEPLOY / "systemd").glob("kiosk-*.*")):
        if src.suffix in (".service", ".timer"):
            (units / src.name).write_text(stubbed(src.read_text()))
            names.append(str(units / src.name))
    assert len(names) == 6
    r = subprocess.run([sa, "verify", "--man=no", *names], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    # ... and kiosk-ui with the cage drop-in.
    (units / "kiosk-ui.service.d" / "cage.conf").write_text(stubbed((DEPLOY / "systemd" / "kiosk-ui-cage.conf").read_text()))
    r = subprocess.run([sa, "verify", "--man=no", str(units / "kiosk-ui.service")], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_verify_catches_a_broken_unit(tmp_path):
    sa = _tool("systemd-analyze")
    bad = tmp_path / "kiosk-bad.service"
    bad.write_text("[Service]\nType=notify\nExecStart=/nonexistent/kiosk run\nWatchdogSec=soon\n")
    r = subprocess.run([sa, "verify", "--man=no", str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 or r.stderr.strip()


def test_the_units_say_what_the_issue_asks():
    ui = (DEPLOY / "systemd" / "kiosk-ui.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=always", "After=pcscd.socket", "User=kiosk"):
        assert line in ui
    sync = (DEPLOY / "systemd" / "kiosk-sync.service").read_text()
    assert "After=network-online.target time-sync.target" in sync and "Restart=on-failure" in sync
    assert "kiosk roster sync" in (DEPLOY / "systemd" / "kiosk-roster-sync.service").read_text()
    assert "kiosk retention run" in (DEPLOY / "systemd" / "kiosk-retention.service").read_text()


def _ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(ANSIBLE / "ansible.cfg")
    env["ANSIBLE_LOCAL_TEMP"] = "/tmp/.ansible-local"
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    return env


def test_playbook_syntax():
    ap = _tool("ansible-playbook")
    r = subprocess.run([ap, "--syntax-check", "site.yml", "rollback.yml"], cwd=ANSIBLE, env=_ansible_env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ansible_lint():
    al = _tool("ansible-lint")
    env = _ansible_env()
    env["ANSIBLE_LINT_NODEPS"] = "1"  # offline: no collection downloads
    r = subprocess.run([al, "--offline", "-p", "site.yml", "rollback.yml"], cwd=ANSIBLE, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


@pytest.mark.parametrize("url, refused", [
    ("http://hub.soyte.example.vn", True), ("http://10.0.0.5:8080/api", True), ("http://localhost.evil.vn", True),
    ("http://127.0.0.1.evil.vn/", True), ("http://user@evil.vn", True), ("ftp://hub.example.vn", True),
    ("http://127.0.0.1:8080", False), ("http://localhost/", False), ("http://[::1]:9000", False),
    ("https://hub.soyte.example.vn", False)])
def test_provision_refuses_plain_http_to_another_machine(url, refused, tmp_path):
    """Before any connection (and before it needs root or a wheel): exit 2 naming --hub."""
    r = subprocess.run(["bash", str(DEPLOY / "provision.sh"), "--facility-code", "40123", "--facility-name", "Trạm",
                        "--hub", url, "--wheel", str(tmp_path / "none.whl")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    if refused:
        assert "--hub" in r.stderr, r.stderr
    else:
        assert "--hub" not in r.stderr and "--wheel" in r.stderr, r.stderr


# --- the provincial hub's role (deploy/hub; end to end in test_hub_role.py) ----------------------

HUB_ANSIBLE = DEPLOY / "hub"
HUB_ROLE = HUB_ANSIBLE / "roles/kiosk_hub"


def _hub_ansible_env() -> dict[str, str]:
    env = _ansible_env()
    env["ANSIBLE_CONFIG"] = str(HUB_ANSIBLE / "ansible.cfg")
    return env


def test_hub_playbook_syntax():
    ap = _tool("ansible-playbook")
    r = subprocess.run([ap, "--syntax-check", "site.yml"], cwd=HUB_ANSIBLE, env=_hub_ansible_env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_hub_ansible_lint():
    al = _tool("ansible-lint")
    env = _hub_ansible_env()
    env["ANSIBLE_LINT_NODEPS"] = "1"
    r = subprocess.run([al, "--offline", "-p", "site.yml"], cwd=HUB_ANSIBLE, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_hub_units_render_and_verify(tmp_path):
    """The role's unit templates rendered with its defaults (Ansible on localhost), the venv's programs
    replaced by stubs, then systemd-analyze verify; the hardening the issue names is in the hub's unit."""
    ap, sa = _tool("ansible-playbook"), _tool("systemd-analyze")
    units = ["kiosk-hub.service", "kiosk-hub-backup.service", "kiosk-hub-backup.timer", "kiosk-hub-purge.service",
             "kiosk-hub-purge.timer"]
    play = tmp_path / "render.yml"
    play.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        f"  vars_files: [{HUB_ROLE}/defaults/main.yml, {HUB_ROLE}/vars/main.yml]\n"
        "  tasks:\n    - ansible.builtin.template:\n"
        f"        src: {HUB_ROLE}/templates/{{{{ item }}}}.j2\n        dest: {tmp_path}/{{{{ item }}}}\n"
        f"        mode: '0644'\n      loop: {units}\n")
    r = subprocess.run([ap, "-i", "localhost,", str(play)], env=_hub_ansible_env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    stub = tmp_path / "stub"
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    for u in units:
        p = tmp_path / u
        p.write_text(re.sub(r"/opt/kiosk-hub/venv/bin/\S+", str(stub), p.read_text()))
    r = subprocess.run([sa, "verify", "--man=no", *(str(tmp_path / u) for u in units)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    hub = (tmp_path / "kiosk-hub.service").read_text()
    for line in ("User=kiosk-hub", "ProtectSystem=strict", "ReadWritePaths=/var/lib/kiosk-hub", "NoNewPrivileges=yes",
                 "PrivateTmp=yes", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                 "SystemCallFilter=@system-service", "--bind 127.0.0.1:8600", "EnvironmentFile=/etc/kiosk-hub/hub.env"):
        assert line in hub, line
