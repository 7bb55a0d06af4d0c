"""The hub's stolen-device order on a provisioned device (issue 13, item 2): under the shipped unit and
permissions — root-owned secrets, the sync process as an unprivileged user with no root group and no
capabilities (setpriv), and the unit's ProtectSystem=strict / ReadWritePaths / StateDirectory emulated with
read-only bind mounts in a private mount namespace (unshare -m) — the wipe destroys the data, shreds the key,
and exits as docs/security.md says.

The mount emulation is read from deploy/systemd/kiosk-sync.service itself, so a unit that forgets the key
directory in ReadWritePaths fails here.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import kiosk_cmd
from tests.privacy.conftest import person
from tests.hubproc import hub, kiosk_hub_server  # noqa: F401  (fixtures: a device of each test's own on the hub)

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy/systemd/kiosk-sync.service"
UID = GID = 64123  # a "kiosk" user that is not root and in no root group
PEOPLE = range(3)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("unshare"),
    reason="needs root, setpriv and unshare to lay out root-owned files and drop to an unprivileged user")


def unit_settings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).extend(v.split())
    return out


@pytest.fixture
def device(tmp_path, hub):
    """A device root laid out as deploy/provision.sh does, under a world-traversable /tmp directory."""
    r = Path(tempfile.mkdtemp(prefix="kiosk-device-", dir="/tmp"))
    r.chmod(0o755)
    etc, data, home = r / "etc/kiosk", r / "var/lib/kiosk", r / "home"
    etc.mkdir(parents=True)
    data.mkdir(parents=True)
    home.mkdir()
    for d in (r / "etc", r / "var", r / "var/lib"):  # as on a device, whatever this process's umask
        d.chmod(0o755)
    os.chown(etc, 0, GID)
    etc.chmod(0o750)
    os.chown(data, UID, GID)
    data.chmod(0o750)
    os.chown(home, UID, GID)
    h = hub
    secrets = {"device-token": h.token_file.read_text(), "roster.key": "k" * 40 + "\n"}
    for name, text in secrets.items():
        (etc / name).write_text(text)
        os.chown(etc / name, 0, GID)
        (etc / name).chmod(0o640)
    dev = {"root": r, "etc": etc, "data": data, "home": home, "hub": h, "secrets": secrets}
    yield dev
    shutil.rmtree(r, ignore_errors=True)


def configure(dev, key_file: Path) -> None:
    toml = dev["etc"] / "kiosk.toml"
    toml.write_text(f'[facility]\ncode = "40123"\n[storage]\ndata_dir = "{dev["data"]}"\n'
                    f'[upstream]\nurl = "{dev["hub"].url}"\ntoken_file = "{dev["etc"] / "device-token"}"\n'
                    f'[privacy]\ndata_key_file = "{key_file}"\n')
    os.chown(toml, 0, GID)
    toml.chmod(0o640)


def put_key(path: Path, owner: int, mode: int) -> None:
    path.write_text(os.urandom(32).hex() + "\n")
    os.chown(path, owner, GID)
    path.chmod(mode)


def as_kiosk(dev, *args: str, unit: bool = False) -> subprocess.CompletedProcess:
    """Run `kiosk ARGS` as the unprivileged user; with `unit`, inside the sync unit's sandbox (emulated)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(dev["home"]), "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8",
           "KIOSK_CONFIG": str(dev["etc"] / "kiosk.toml"), "PYTHONPATH": str(ROOT)}
    drop = ["setpriv", f"--reuid={UID}", f"--regid={GID}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
            *kiosk_cmd(*args)]
    script = ["set -e", "mount --make-rprivate /", *reach_interpreter(dev["root"])]
    if unit:
        script += sandbox(dev)
    script.append("exec " + shlex.join(drop))
    return subprocess.run(["unshare", "-m", "sh", "-c", "\n".join(script)], capture_output=True, text=True,
                          timeout=120)


def reach_interpreter(scratch: Path) -> list[str]:
    """Mount commands that make this interpreter reachable by the unprivileged user.

    On a device the application is in /opt/kiosk (world-traversable). A test host's Python may live under a
    root-only directory (pyenv in /root): in the private namespace that directory is replaced by a 0755 tmpfs
    holding bind mounts of its entries, which changes no permission of anything the kiosk touches.
    """
    cmds = []
    # the interpreter, the venv and the checkout (CI clones into /root, 0700 on Debian); parents first
    needed = [*Path(os.path.realpath(sys.executable)).parents, Path(sys.prefix), *Path(sys.prefix).parents,
              ROOT, *ROOT.parents]
    closed = {d for d in needed if d != Path("/") and d.is_dir() and not d.stat().st_mode & 0o001}
    for d in sorted(closed, key=lambda d: len(d.parts)):
        stash = tempfile.mkdtemp(prefix="stash-", dir=scratch)
        q = shlex.quote
        cmds += [f"mount --bind {q(str(d))} {q(stash)}", f"mount -t tmpfs -o mode=0755 tmpfs {q(str(d))}"]
        for entry in sorted(os.listdir(d)):
            src, dst = q(f"{stash}/{entry}"), q(str(d / entry))
            make = f"mkdir {dst}" if os.path.isdir(d / entry) and not os.path.islink(d / entry) else f"touch {dst}"
            if os.path.islink(d / entry):
                continue
            cmds += [make, f"mount --bind {src} {dst}"]
    return cmds


def sandbox(dev) -> list[str]:
    """Mount commands emulating kiosk-sync.service's ProtectSystem/ReadWritePaths/StateDirectory."""
    s = unit_settings()
    assert s["User"] == ["kiosk"] and s["ProtectSystem"] == ["strict"], "the emulation below assumes these"
    device_path = {"/etc/kiosk": dev["etc"], "/var/lib/kiosk": dev["data"]}

    def on_device(p: str) -> Path:
        p = p.lstrip("-")
        for prefix, real in device_path.items():
            if p == prefix or p.startswith(prefix + "/"):
                return real / p[len(prefix):].lstrip("/")
        raise AssertionError(f"ReadWritePaths={p}: not a path this test maps onto the device root")
    writable = [on_device(p) for p in s.get("ReadWritePaths", [])]
    writable += [dev["data"].parent / d for d in s.get("StateDirectory", [])]
    # ProtectSystem=strict: everything read-only (here: the OS, the application, the device's files) except
    # the unit's ReadWritePaths and StateDirectory. ProtectHome gives the user no home: HOME is in the device.
    script = []
    for ro in ("/usr", "/etc", str(ROOT), str(Path(sys.prefix)), str(dev["root"])):
        script += [f"mount --bind {shlex.quote(ro)} {shlex.quote(ro)}",
                   f"mount -o remount,bind,ro {shlex.quote(ro)}"]
    for rw in writable:
        if rw.exists():
            script += [f"mount --bind {shlex.quote(str(rw))} {shlex.quote(str(rw))}",
                       f"mount -o remount,bind,rw {shlex.quote(str(rw))}"]
    return script


def checkins(dev) -> None:
    for i in PEOPLE:
        r = as_kiosk(dev, "checkin", "--payload", person(i)["payload"])
        assert r.returncode == 0, r.stderr


def order_wipe(dev) -> None:
    assert dev["hub"].revoke("stolen", wipe=True)["wipe_ordered"] is True


def everything(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def assert_no_personal_data(dev) -> None:
    blob = everything(dev["root"])
    for i in PEOPLE:
        for secret in (person(i)["name"], person(i)["id_number"], person(i)["address"]):
            assert secret.encode() not in blob


def test_the_hub_order_wipes_a_provisioned_device_under_the_shipped_unit(device):
    key_dir = device["etc"] / "key"
    key_dir.mkdir()
    os.chown(key_dir, UID, GID)
    key_dir.chmod(0o700)
    key_file = key_dir / "data.key"
    put_key(key_file, UID, 0o640)
    configure(device, key_file)
    checkins(device)
    assert person(0)["name"] in as_kiosk(device, "visits").stdout  # the device works, sealed, as the user
    order_wipe(device)

    r = as_kiosk(device, "sync", "once", unit=True)
    assert r.returncode == 3, r.stderr
    assert "ordered it wiped" in r.stderr and "data key shredded" in r.stderr, r.stderr
    assert not key_file.exists()
    assert sorted(p.name for p in device["data"].rglob("*")) == [".wiped"]
    assert_no_personal_data(device)
    # The other secrets were out of the user's reach, and are untouched.
    for name, text in device["secrets"].items():
        assert (device["etc"] / name).read_text() == text
    # It stays down: the next start refuses (and the unit's condition keeps systemd from restarting it).
    again = as_kiosk(device, "sync", "once", unit=True)
    assert again.returncode == 3 and "wiped" in again.stderr, again.stderr
    assert "ConditionPathExists=!/var/lib/kiosk/.wiped" in UNIT.read_text()


def test_an_older_root_owned_key_still_loses_the_data_and_says_what_is_left(device):
    key_file = device["etc"] / "data.key"  # the layout of earlier releases: root-owned, group kiosk, 0640
    put_key(key_file, 0, 0o640)
    configure(device, key_file)
    checkins(device)
    order_wipe(device)
    r = as_kiosk(device, "sync", "once", unit=True)
    assert r.returncode == 1, r.stderr
    assert "could not be shredded" in r.stderr and "as root" in r.stderr, r.stderr
    assert sorted(p.name for p in device["data"].rglob("*")) == [".wiped"]
    assert_no_personal_data(device)
    assert key_file.exists()
    # Root finishes it, as the message says.
    done = subprocess.run(kiosk_cmd("wipe", "--yes-destroy-all-data", "--force", "--json"), capture_output=True,
                          text=True, env={**os.environ, "KIOSK_CONFIG": str(device["etc"] / "kiosk.toml")})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["key_shredded"] and not key_file.exists()
