"""kiosk-release activate: the new version must reach READY=1, or the device switches back.

systemd is replaced by a stand-in `systemctl` whose `restart` fails for the versions listed in
$FAIL_VERSIONS — what the real `systemctl restart` of a Type=notify unit does when the new
version never sends READY=1. (`install` is exercised for real by test_rootfs.py.)
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

RELEASE = Path(__file__).resolve().parents[2] / "deploy/bin/kiosk-release"

FAKE_SYSTEMCTL = """#!/bin/bash
echo "$*" >> "$CALLS"
case $1 in
  restart)
    v=$(basename "$(readlink "$KIOSK_ROOT/current")")
    for f in $FAIL_VERSIONS; do [[ $v == "$f" ]] && exit 1; done
    exit 0 ;;
  *) exit 0 ;;
esac
"""


@pytest.fixture
def device(tmp_path):
    root = tmp_path / "opt-kiosk"
    for v in ("1.0", "2.0"):
        d = root / "versions" / v / "bin"
        d.mkdir(parents=True)
        (d / "kiosk").write_text("#!/bin/sh\n")
        (root / "versions" / v / ".wheel-sha256").write_text(f"sha-{v}\n")
    os.symlink("versions/1.0", root / "current")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "systemctl").write_text(FAKE_SYSTEMCTL)
    (fake / "systemctl").chmod(0o755)
    run_dir = tmp_path / "run-systemd-system"
    run_dir.mkdir()
    env = dict(os.environ, KIOSK_ROOT=str(root), KIOSK_SYSTEMD_RUN_DIR=str(run_dir), KIOSK_READY_GRACE="0",
               KIOSK_BIN_LINK=str(tmp_path / "kiosk-link"), CALLS=str(tmp_path / "calls"), FAIL_VERSIONS="",
               PATH=f"{fake}:{os.environ['PATH']}")
    return root, env, tmp_path / "calls"


def _release(env, *args):
    return subprocess.run(["bash", str(RELEASE), *args], env=env, capture_output=True, text=True, timeout=60)


def _link(root, name):
    return os.readlink(root / name)


def test_a_version_that_never_gets_ready_is_switched_back(device):
    root, env, calls = device
    env["FAIL_VERSIONS"] = "2.0"
    r = _release(env, "activate", "2.0")
    assert r.returncode == 1
    assert "switching back to 1.0" in r.stderr
    assert _link(root, "current") == "versions/1.0"
    assert _link(root, "previous") == "versions/2.0"
    restarts = [c for c in calls.read_text().splitlines() if c.startswith("restart")]
    assert len(restarts) == 2  # the new version, then the old one again


def test_a_good_version_stays_and_the_old_one_is_kept(device):
    root, env, calls = device
    r = _release(env, "activate", "2.0")
    assert r.returncode == 0 and r.stdout.startswith("changed:"), r.stderr
    assert _link(root, "current") == "versions/2.0" and _link(root, "previous") == "versions/1.0"
    assert os.readlink(env["KIOSK_BIN_LINK"]) == f"{root}/current/bin/kiosk"
    assert "restart kiosk-ui.service" in calls.read_text()
    again = _release(env, "activate", "2.0")
    assert again.returncode == 0 and again.stdout.startswith("unchanged:")
    back = _release(env, "rollback")
    assert back.returncode == 0 and _link(root, "current") == "versions/1.0"
    assert _link(root, "previous") == "versions/2.0"


def test_in_an_image_nothing_is_restarted(device):
    root, env, calls = device
    env["KIOSK_SYSTEMD_RUN_DIR"] = str(root / "no-such-dir")
    r = _release(env, "activate", "2.0")
    assert r.returncode == 0 and _link(root, "current") == "versions/2.0"
    assert not calls.exists()


def test_unknown_version_and_usage(device):
    root, env, _ = device
    assert _release(env, "activate", "9.9").returncode == 2
    assert _release(env, "bogus").returncode == 2
    assert _link(root, "current") == "versions/1.0"


def test_old_versions_are_pruned_to_three(device):
    root, env, _ = device
    for v in ("3.0", "4.0"):
        d = root / "versions" / v / "bin"
        d.mkdir(parents=True)
        (root / "versions" / v / ".wheel-sha256").write_text("x\n")
    assert _release(env, "activate", "2.0").returncode == 0
    assert _release(env, "activate", "4.0").returncode == 0
    left = sorted(p.name for p in (root / "versions").iterdir())
    assert len(left) == 3 and {"2.0", "4.0"} <= set(left)
