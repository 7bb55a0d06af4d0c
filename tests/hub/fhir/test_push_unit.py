"""The pusher's systemd unit (deploy/hub/roles/kiosk_hub/templates/kiosk-hub-push.service.j2), rendered with the
role's defaults as tests/deploy renders the hub's: it verifies, runs `kiosk-hub push run` as the hub's user with
the hub unit's sandbox, and scores as well as the hub's unit under `systemd-analyze security`."""

from __future__ import annotations

import re
import subprocess

from tests.deploy.test_static import HUB_ROLE, _hub_ansible_env, _tool

UNIT = "kiosk-hub-push.service"


def test_pusher_unit_renders_verifies_and_is_sandboxed(tmp_path):
    ap, sa = _tool("ansible-playbook"), _tool("systemd-analyze")
    play = tmp_path / "render.yml"
    play.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        f"  vars_files: [{HUB_ROLE}/defaults/main.yml, {HUB_ROLE}/vars/main.yml]\n"
        "  tasks:\n    - ansible.builtin.template:\n"
        f"        src: {HUB_ROLE}/templates/{{{{ item }}}}.j2\n        dest: {tmp_path}/{{{{ item }}}}\n"
        f"        mode: '0644'\n      loop: [{UNIT}, kiosk-hub.service]\n")
    r = subprocess.run([ap, "-i", "localhost,", str(play)], env=_hub_ansible_env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    unit = (tmp_path / UNIT).read_text()
    assert re.search(r"(?m)^ExecStart=/opt/kiosk-hub/venv/bin/kiosk-hub push run$", unit)
    stub = tmp_path / "stub"
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    (tmp_path / UNIT).write_text(re.sub(r"/opt/kiosk-hub/venv/bin/\S+", str(stub), unit))
    r = subprocess.run([sa, "verify", "--man=no", str(tmp_path / UNIT)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    hub = (tmp_path / "kiosk-hub.service").read_text()
    sandbox = [line for line in hub.split("[Service]")[1].splitlines()
               if line and not line.startswith(("#", "ExecStart", "LimitNOFILE", "TimeoutStopSec", "["))]
    for line in sandbox:          # every hardening line of the hub's unit, the pusher has too
        assert line in unit.splitlines(), line
    scores = {}
    for name in (UNIT, "kiosk-hub.service"):
        r = subprocess.run([sa, "security", "--offline=yes", "--no-pager", str(tmp_path / name)], capture_output=True,
                           text=True)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        assert m, r.stdout[-2000:] + r.stderr[-2000:]
        scores[name] = float(m.group(1))
    assert scores[UNIT] <= scores["kiosk-hub.service"] <= 2.5, scores
