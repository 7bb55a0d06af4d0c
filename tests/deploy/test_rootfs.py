"""Provisioning end to end (`make test-deploy`, as root): a Debian 13 root filesystem from mmdebstrap,
provision.sh inside it (chroot) with the wheel from `make dist` and a real hub on loopback, checks from
outside, `kiosk doctor --json` inside, a second run that changes nothing, then the Ansible playbook
through a chroot connection: --check, converge with changed=0, a rollout of a new version and a rollback.

The base tarball is cached in /var/cache/kiosk-test-deploy (a week); apt's downloads too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("KIOSK_TEST_DEPLOY_CACHE", "/var/cache/kiosk-test-deploy"))
SUITE, MIRROR = "trixie", "http://deb.debian.org/debian"
FACILITY_NAME = 'Trạm Y tế xã Thử "Một"'
FACILITY_ADDRESS = "Xã Thử, huyện Mẫu, Nghệ An"
SCANNER = "0C2E:0B61"
ROSTER_KEY = "0123456789abcdef" * 4
CHROOT_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
              "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive"}

pytestmark = pytest.mark.skipif(
    not os.environ.get("KIOSK_TEST_DEPLOY") or os.geteuid() != 0 or not shutil.which("mmdebstrap"),
    reason="end-to-end provisioning runs under `make test-deploy` (root, mmdebstrap, network)")


def run(cmd, timeout=1800, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}\n--- stdout\n{r.stdout[-4000:]}\n--- stderr\n{r.stderr[-4000:]}")
    return r


def base_tarball() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    tar = CACHE / f"{SUITE}-minbase.tar"
    if tar.exists() and time.time() - tar.stat().st_mtime < 7 * 86400:
        return tar
    tmp = CACHE / f"{SUITE}-minbase.partial.tar"
    run(["mmdebstrap", "--quiet", "--variant=minbase", "--include=ca-certificates",
         "--aptopt=Acquire::Retries \"5\"", SUITE, str(tmp), MIRROR])
    tmp.rename(tar)
    return tar


class Mounts:
    def __init__(self):
        self.targets: list[Path] = []

    def mount(self, *args: str, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        run(["mount", *args, str(target)])
        self.targets.append(target)

    def undo(self) -> None:
        for t in reversed(self.targets):
            if subprocess.run(["umount", str(t)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(t)], capture_output=True)
        self.targets.clear()


def _make_ca_and_cert(d: Path) -> tuple[Path, Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test province CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=200))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "hub.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "hub.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return d / "ca.pem", d / "hub.pem", d / "hub.key"


def _kiosk(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("kiosk")
    return [str(exe), *args]


@pytest.fixture(scope="module")
def hub(work):
    """The province's hub (`kiosk-hub serve`, HTTPS with a test CA) on loopback; the chroot shares the network.
    The device is enrolled for facility 40123, as provisioned below."""
    from tests.hubproc import start_hub
    d = work / "hub"
    d.mkdir()
    ca, cert, key = _make_ca_and_cert(d)
    h = start_hub(d / "server", "--tls-cert", str(cert), "--tls-key", str(key), device="kiosk-test",
                  facility="40123")
    yield {"url": h.url, "ca": ca, "token": h.token_file}
    h.stop()


@pytest.fixture(scope="module")
def work():
    base = os.environ.get("KIOSK_TEST_DEPLOY_DIR")
    d = Path(tempfile.mkdtemp(prefix="kiosk-test-deploy.", dir=base or "/var/tmp"))
    yield d
    if not subprocess.run(["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True).stdout.count(str(d) + "/"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def rootfs(work, hub):
    root = work / "rootfs"
    root.mkdir()
    started = time.monotonic()
    run(["tar", "-C", str(root), "-xf", str(base_tarball())])
    # Test scaffolding inside the image (not provisioning): name resolution, and no daemons
    # started by package scripts in a chroot.
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    # The SD-card bundle: the deploy tarball and the wheel from `make dist`, plus the secrets.
    src = root / "root/bundle"
    src.mkdir(parents=True)
    wheel = sorted((ROOT / "dist").glob("*.whl"))[-1]
    bundle = sorted((ROOT / "dist").glob("kiosk-deploy-*.tar.gz"))[-1]
    shutil.copy(wheel, src)
    run(["tar", "-C", str(src), "-xzf", str(bundle)])
    # Where this machine reaches PyPI through a TLS-inspecting proxy, its local CAs go into the
    # image too (a test-environment matter, like a station behind such a proxy).
    local_cas = sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))
    for ca_file in local_cas:
        shutil.copy(ca_file, root / "usr/local/share/ca-certificates" / ca_file.name)
    if local_cas:
        run(["chroot", str(root), "update-ca-certificates"], env=CHROOT_ENV)
    shutil.copy(hub["ca"], src / "hub-ca.pem")
    shutil.copy(hub["token"], src / "device-token")
    (src / "roster.key").write_text(ROSTER_KEY + "\n")
    apt_cache = CACHE / "apt-archives"
    (apt_cache / "partial").mkdir(parents=True, exist_ok=True)
    m = Mounts()
    try:
        m.mount("-t", "proc", "proc", target=root / "proc")
        m.mount("--bind", "/dev", target=root / "dev")
        m.mount("--bind", "/dev/pts", target=root / "dev/pts")
        m.mount("-t", "tmpfs", "tmpfs", target=root / "run")
        m.mount("--bind", str(apt_cache), target=root / "var/cache/apt/archives")
        yield {"root": root, "wheel": wheel, "hub": hub, "work": work, "started": started}
    finally:
        m.undo()


def chroot(root: Path, cmd: str, timeout=1800, check=True):
    return run(["chroot", str(root), "/bin/bash", "-c", cmd], timeout=timeout, check=check, env=CHROOT_ENV)


def provision_cmd(fs, extra: str = "") -> str:
    import shlex
    hub = fs["hub"]
    return ("/root/bundle/deploy/provision.sh --facility-code 40123"
            f" --facility-name {shlex.quote(FACILITY_NAME)} --facility-address {shlex.quote(FACILITY_ADDRESS)}"
            f" --hub {hub['url']} --hub-ca /root/bundle/hub-ca.pem --token-file /root/bundle/device-token"
            f" --roster-key-file /root/bundle/roster.key --wheel /root/bundle/{fs['wheel'].name}"
            f" --scanner-usb-id {SCANNER} {extra}")


def _ids(root: Path, file: str) -> dict[str, list[str]]:
    return {line.split(":")[0]: line.split(":") for line in (root / file).read_text().splitlines() if line}


def _owner(root: Path, path: str) -> tuple[str, str, str]:
    st = os.lstat(root / path.lstrip("/"))
    users = {v[2]: k for k, v in _ids(root, "etc/passwd").items()}
    groups = {v[2]: k for k, v in _ids(root, "etc/group").items()}
    return f"{st.st_mode & 0o7777:04o}", users[str(st.st_uid)], groups[str(st.st_gid)]


# --- the tests, in order ----------------------------------------------------------------------

def test_provision_first_run(rootfs):
    r = chroot(rootfs["root"], provision_cmd(rootfs))
    print(r.stdout[-3000:])
    assert "changes made" in r.stdout
    assert "installed application version" in r.stdout


def test_user_files_and_permissions_from_outside(rootfs):
    root = rootfs["root"]
    pw = _ids(root, "etc/passwd")["kiosk"]
    assert int(pw[2]) < 1000 and pw[6] == "/usr/sbin/nologin" and pw[5] == "/var/lib/kiosk"
    shadow = _ids(root, "etc/shadow")["kiosk"]
    assert shadow[1].startswith("!"), "the kiosk account must be locked"
    members = {g: v[3].split(",") for g, v in _ids(root, "etc/group").items()}
    for g in ("dialout", "video", "input", "render", "audio"):
        assert "kiosk" in members[g], g
    assert _owner(root, "/etc/kiosk") == ("0750", "root", "kiosk")
    assert _owner(root, "/var/lib/kiosk") == ("0750", "kiosk", "kiosk")
    for secret in ("/etc/kiosk/device-token", "/etc/kiosk/roster.key", "/etc/kiosk/kiosk.toml"):
        assert _owner(root, secret) == ("0640", "root", "kiosk"), secret
    # The data key alone in a directory of the kiosk user's: kiosk-sync can shred it on the hub's wipe order.
    assert _owner(root, "/etc/kiosk/key") == ("0700", "kiosk", "kiosk")
    assert _owner(root, "/etc/kiosk/key/data.key") == ("0640", "kiosk", "kiosk")
    assert not (root / "etc/kiosk/data.key").exists()
    assert (root / "etc/kiosk/roster.key").read_text() == ROSTER_KEY + "\n"
    assert (root / "etc/kiosk/hub-ca.pem").read_bytes() == rootfs["hub"]["ca"].read_bytes()
    toml = (root / "etc/kiosk/kiosk.toml").read_text()
    assert 'name = "Trạm Y tế xã Thử \\"Một\\""' in toml and f'url = "{rootfs["hub"]["url"]}"' in toml
    assert os.readlink(root / "opt/kiosk/current") == f"versions/{rootfs['wheel'].name.split('-')[1]}"
    assert os.readlink(root / "usr/local/bin/kiosk") == "/opt/kiosk/current/bin/kiosk"
    assert (root / "var/lib/kiosk/kiosk.db").exists()
    assert _owner(root, "/var/lib/kiosk/kiosk.db")[1] == "kiosk"
    rules = (root / "etc/udev/rules.d/70-kiosk-scanner.rules").read_text()
    assert 'ATTRS{idVendor}=="0c2e", ATTRS{idProduct}=="0b61", SYMLINK+="kiosk-scanner"' in rules
    assert 'ENV{ID_MM_DEVICE_IGNORE}="1"' in rules
    assert "blacklist pn533_usb" in (root / "etc/modprobe.d/kiosk-nfc-blacklist.conf").read_text()
    polkit = (root / "etc/polkit-1/rules.d/60-kiosk-pcscd.rules").read_text()
    assert "org.debian.pcsc-lite.access_pcsc" in polkit and 'subject.user == "kiosk"' in polkit
    assert "SystemMaxUse=" in (root / "etc/systemd/journald.conf.d/60-kiosk.conf").read_text()
    assert "RuntimeWatchdogSec=15s" in (root / "etc/systemd/system.conf.d/60-kiosk-watchdog.conf").read_text()
    # The Debian Python stack is used, not wheels that would need a compiler.
    assert (root / "usr/lib/python3/dist-packages/smartcard").is_dir()
    assert (root / "usr/lib/python3/dist-packages/PySide6").is_dir()


def test_units_enabled_and_verified_inside(rootfs):
    root = rootfs["root"]
    wants = root / "etc/systemd/system"
    for link in ("multi-user.target.wants/kiosk-ui.service", "multi-user.target.wants/kiosk-sync.service",
                 "timers.target.wants/kiosk-roster-sync.timer", "timers.target.wants/kiosk-retention.timer",
                 "sysinit.target.wants/systemd-time-wait-sync.service"):
        assert (wants / link).is_symlink(), link
    units = " ".join(f"/etc/systemd/system/{u}" for u in (
        "kiosk-ui.service", "kiosk-sync.service", "kiosk-roster-sync.service", "kiosk-roster-sync.timer",
        "kiosk-retention.service", "kiosk-retention.timer"))
    r = chroot(root, f"systemd-analyze verify --man=no {units}", check=False)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    r = chroot(root, "/opt/kiosk/current/bin/kiosk --help", check=False)
    for command in ("run", "doctor", "db"):
        assert command in r.stdout


def test_doctor_inside_the_chroot(rootfs):
    r = chroot(rootfs["root"], "runuser -u kiosk -- kiosk doctor --json --lang en", check=False)
    report = json.loads(r.stdout)
    checks = {c["check"]: c for c in report["checks"]}
    assert checks["config"]["status"] == "ok", checks["config"]
    assert checks["database"]["status"] == "ok", checks["database"]
    assert checks["secrets"]["status"] == "ok", checks["secrets"]
    # The real hub on loopback, through TLS with the provisioned CA and the enrolled token.
    assert checks["hub"]["status"] == "ok", checks["hub"]
    assert checks["hub_tls"]["status"] == "ok", checks["hub_tls"]
    assert checks["hub_token"]["status"] == "ok", checks["hub_token"]
    assert checks["watchdog"]["status"] == "warning"  # no systemd in a chroot, and doctor says so
    assert r.returncode == report["exit_code"] and r.returncode in (1, 2)
    # As root too (a technician's `sudo kiosk doctor`): it must not leave root-owned WAL files.
    chroot(rootfs["root"], "kiosk doctor --check database >/dev/null", check=False)
    for extra in ("kiosk.db-wal", "kiosk.db-shm"):
        p = rootfs["root"] / "var/lib/kiosk" / extra
        if p.exists():
            assert _owner(rootfs["root"], f"/var/lib/kiosk/{extra}")[1] == "kiosk"


def test_the_provisioned_kiosk_records_a_visit(rootfs):
    """As the service would: the kiosk user, the provisioned configuration and keys, a real check-in."""
    import shlex
    from kiosk.simulated import demo
    r = chroot(rootfs["root"], "runuser -u kiosk -- env KIOSK_CONFIG=/etc/kiosk/kiosk.toml kiosk checkin --json "
                               f"--payload {shlex.quote(demo.ELIGIBLE_CCCD)}", check=False)
    assert r.returncode == 0, r.stderr
    visit = json.loads(r.stdout)
    assert visit["queue_number"] >= 1 and visit["patient"]["masked_id"].endswith("1234")
    r = chroot(rootfs["root"], "runuser -u kiosk -- kiosk doctor --json --check outbox", check=False)
    outbox = {c["check"]: c for c in json.loads(r.stdout)["checks"]}["outbox"]
    assert outbox["details"]["backlog"] >= 1, outbox
    # The name is sealed at rest: not in the database file in clear.
    data = b"".join(p.read_bytes() for p in (rootfs["root"] / "var/lib/kiosk").glob("kiosk.db*") if p.is_file())
    assert data and "Trần Thị Lan Anh".encode() not in data


def test_second_run_changes_nothing(rootfs):
    r = chroot(rootfs["root"], provision_cmd(rootfs))
    assert "provision: no changes" in r.stdout, r.stdout


def test_dry_run_says_what_would_change_and_changes_nothing(rootfs):
    root = rootfs["root"]
    before = (root / "etc/kiosk/kiosk.toml").read_bytes()
    r = chroot(root, provision_cmd(rootfs).replace("40123", "40124") + " --dry-run")
    assert "would change: /etc/kiosk/kiosk.toml" in r.stdout and "dry run: 1 changes" in r.stdout, r.stdout
    assert (root / "etc/kiosk/kiosk.toml").read_bytes() == before


def test_bad_arguments_are_refused(rootfs):
    r = chroot(rootfs["root"], provision_cmd(rootfs).replace("40123", "4012"), check=False)
    assert r.returncode == 2 and "--facility-code" in r.stderr


# --- Ansible through a chroot connection -------------------------------------------------------

def _inventory(fs, wheel: Path) -> Path:
    inv = fs["work"] / "inventory"
    (inv / "host_vars/kiosk-test").mkdir(parents=True, exist_ok=True)
    hub = fs["hub"]
    host = {
        "ansible_connection": "community.general.chroot", "ansible_host": str(fs["root"]),
        "ansible_python_interpreter": "/usr/bin/python3",
        "kiosk_facility_code": "40123", "kiosk_facility_name": FACILITY_NAME,
        "kiosk_facility_address": FACILITY_ADDRESS, "kiosk_hub_url": hub["url"],
        "kiosk_hub_ca": hub["ca"].read_text(), "kiosk_scanner_usb_ids": [SCANNER], "kiosk_wheel": str(wheel),
        "kiosk_serial": "100%",
    }
    (inv / "hosts.yml").write_text(json.dumps({"kiosks": {"children": {"test_district": {
        "hosts": {"kiosk-test": host}}}}}, ensure_ascii=False, indent=1))
    # Secrets through Ansible Vault, as in the field.
    pw = fs["work"] / "vault-password"
    pw.write_text("test-only-vault-password\n")
    vault = inv / "host_vars/kiosk-test/vault.yml"
    vault.write_text(json.dumps({"kiosk_device_token": hub["token"].read_text().strip(),
                                 "kiosk_roster_key": ROSTER_KEY}))
    run(["ansible-vault", "encrypt", "--vault-password-file", str(pw), str(vault)], env=_ansible_env(fs))
    assert vault.read_text().startswith("$ANSIBLE_VAULT")
    return inv / "hosts.yml"


def _ansible_env(fs) -> dict[str, str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "deploy/ansible/ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCAL_TEMP=str(fs["work"] / "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP="/tmp/.ansible", ANSIBLE_DEPRECATION_WARNINGS="0")
    # The chroot connection hands the controller's environment to commands inside: keep this
    # machine's pip settings out (the image has its own /etc/pip.conf).
    for k in [k for k in env if k.startswith("PIP_") or k in ("PYTHONPATH", "VIRTUAL_ENV")]:
        env.pop(k)
    return env


def _playbook(fs, playbook: str, *extra: str, wheel: Path | None = None) -> tuple[dict[str, int], str]:
    inv = _inventory(fs, wheel or fs["wheel"])
    r = run(["ansible-playbook", "-i", str(inv), "--vault-password-file", str(fs["work"] / "vault-password"),
             str(ROOT / "deploy/ansible" / playbook), *extra], env=_ansible_env(fs), timeout=1800,
            cwd=ROOT / "deploy/ansible", check=False)
    m = re.search(r"kiosk-test\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", r.stdout)
    assert m, r.stdout[-4000:] + r.stderr[-2000:]
    recap = dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups())))
    assert r.returncode == 0 and recap["failed"] == 0, r.stdout[-6000:] + r.stderr[-2000:]
    return recap, r.stdout


def test_ansible_check_mode_on_the_provisioned_rootfs_changes_nothing(rootfs):
    recap, out = _playbook(rootfs, "site.yml", "--check", "--diff")
    assert recap["changed"] == 0, _changed_tasks(out)


def test_ansible_converges_the_provisioned_rootfs_with_changed_0(rootfs):
    recap, out = _playbook(rootfs, "site.yml")
    assert recap["changed"] == 0, _changed_tasks(out)
    assert recap["ok"] >= 20


def _changed_tasks(out: str) -> str:
    """The TASK headers followed by a `changed:` line, with that line: what was not idempotent."""
    found, task = [], ""
    for line in out.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("changed:") or line.startswith("--- before") or line.startswith("+++ after"):
            found.append(f"{task}\n    {line}")
    return "\n".join(found)[-4000:]


def _second_version(fs) -> Path:
    """The same application under a new version number, as `make dist` would build after a release."""
    src = fs["work"] / "src-next"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "dist", "build", "tests", "bench",
                                                              "*.egg-info", "__pycache__", "demo-out"))
    py = src / "pyproject.toml"
    py.write_text(re.sub(r'(?m)^version = "([^"]+)"', 'version = "\\1.post1"', py.read_text()))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(src / "dist"), str(src)],
        timeout=600)
    return sorted((src / "dist").glob("*.whl"))[-1]


def test_ansible_rolls_a_new_version_out_and_back(rootfs):
    root = rootfs["root"]
    first = os.readlink(root / "opt/kiosk/current")
    nxt = _second_version(rootfs)
    recap, _ = _playbook(rootfs, "site.yml", wheel=nxt)
    assert recap["changed"] >= 2
    new = f"versions/{nxt.name.split('-')[1]}"
    assert os.readlink(root / "opt/kiosk/current") == new
    assert os.readlink(root / "opt/kiosk/previous") == first
    assert (root / new.replace("versions/", "opt/kiosk/versions/") / ".wheel-sha256").exists()
    recap, _ = _playbook(rootfs, "rollback.yml")
    assert recap["changed"] == 1
    assert os.readlink(root / "opt/kiosk/current") == first
    # Converging with the first wheel again now finds nothing to do.
    recap, _ = _playbook(rootfs, "site.yml")
    assert recap["changed"] == 0


def test_time_budget(rootfs):
    took = time.monotonic() - rootfs["started"]
    print(f"end-to-end provisioning took {took:.0f} s")
    assert took < 20 * 60
