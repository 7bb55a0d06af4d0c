"""The two setup scripts behind `make test` and `make demo`, run against stand-in system tools on PATH:

- deploy/bootstrap.sh counts a package as installed when an installed package is named so, provides
  it, or is its 64-bit-time_t successor (Debian 13: libzbar0 -> libzbar0t64, libglib2.0-0 ->
  libglib2.0-0t64); it runs apt only when something is really missing, and installs NAMEt64 where
  NAME is gone.
- tests/services.d/lib/pcscd-start.sh starts pcscd with --disable-polkit exactly when this pcscd has
  the flag (2.x) and polkit does not serve (no polkitd, or no system bus).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "deploy/bootstrap.sh"
PCSCD_LIB = ROOT / "tests/services.d/lib/pcscd-start.sh"


def wanted() -> list[str]:
    names = []
    for line in (ROOT / "deploy/apt-packages.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def _exe(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text).lstrip())
    path.chmod(0o755)


# A dpkg-query that knows a fixed package table and honours -W -f with the fields bootstrap.sh may
# ask for (${Package}, ${Provides}, ${Status}, ${db:Status-Abbrev}), for all packages or named ones.
FAKE_DPKG_QUERY = '''
    #!/usr/bin/env python3
    import json, os, re, sys
    table = json.load(open(os.environ["FAKE_DPKG_TABLE"]))  # [[status_abbrev, package, provides], ...]
    args = sys.argv[1:]
    fmt = "${Package}\\t${Version}\\n"
    names = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-f", "--showformat"):
            fmt = args[i + 1]; i += 2; continue
        if a.startswith("--showformat="):
            fmt = a.split("=", 1)[1]
        elif a.startswith("-f") and len(a) > 2:
            fmt = a[2:]
        elif not a.startswith("-"):
            names.append(a)
        i += 1
    fmt = fmt.replace("\\\\n", "\\n")
    rows = [r for r in table if not names or r[1] in names]
    if names and not rows:
        sys.stderr.write("dpkg-query: no packages found matching %s\\n" % names[0]); sys.exit(1)
    full = {"ii ": "install ok installed", "rc ": "deinstall ok config-files", "iU ": "install ok unpacked"}
    for abbrev, pkg, provides in rows:
        out = fmt
        for k, v in {"Package": pkg, "binary:Package": pkg, "Provides": provides, "Version": "1",
                     "db:Status-Abbrev": abbrev, "Status": full[abbrev]}.items():
            out = out.replace("${%s}" % k, v)
        sys.stdout.write(out)
'''


@pytest.fixture
def fake_system(tmp_path):
    """Stand-ins for dpkg-query, apt-get, apt-cache and id on PATH, logging every apt call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    log.touch()
    _exe(bin_dir / "dpkg-query", FAKE_DPKG_QUERY)
    _exe(bin_dir / "apt-get", f'#!/bin/sh\necho "apt-get $*" >>{log}\n')
    # apt-cache show: only real packages in the (fake) archive have a record
    _exe(bin_dir / "apt-cache", f'''
        #!/bin/sh
        echo "apt-cache $*" >>{log}
        for a in "$@"; do case "$a" in -*|show) ;; *) pkg=$a;; esac; done
        if grep -qx "$pkg" {tmp_path}/archive; then echo "Package: $pkg"; fi
        ''')
    _exe(bin_dir / "id", '#!/bin/sh\necho 0\n')  # root: bootstrap would install
    # a .venv that is already set up, so only the system-package part runs
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _exe(venv / "bin/python", "#!/bin/sh\nexit 0\n")
    (venv / ".installed").touch()
    os.utime(venv / ".installed", (4102444800, 4102444800))  # newer than any pyproject.toml

    def run(table: list[list[str]], archive: list[str], *args: str) -> tuple[subprocess.CompletedProcess, str]:
        (tmp_path / "table.json").write_text(__import__("json").dumps(table))
        (tmp_path / "archive").write_text("".join(a + "\n" for a in archive))
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_DPKG_TABLE": str(tmp_path / "table.json"),
               "VENV": str(venv), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
        log.write_text("")
        r = subprocess.run(["bash", str(BOOTSTRAP), *args], capture_output=True, text=True, env=env, timeout=60)
        return r, log.read_text()
    return run


def debian13_table(drop: str | None = None) -> list[list[str]]:
    """What a Debian 13 machine with every package installed shows: libzbar0t64 without a Provides
    (as on armhf), libglib2.0-0t64 providing the old name (as on amd64)."""
    rows = []
    for name in wanted():
        if name == drop:
            continue
        if name == "libzbar0":
            rows.append(["ii ", "libzbar0t64", ""])
        elif name == "libglib2.0-0":
            rows.append(["ii ", "libglib2.0-0t64", "libglib2.0-0 (= 2.84.3-1), libglib2.0-0-dev-bin-compat"])
        else:
            rows.append(["ii ", name, ""])
    return rows


def test_bootstrap_counts_t64_successors_and_provides_as_installed(fake_system):
    r, apt = fake_system(debian13_table(), [], "--missing")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    r, apt = fake_system(debian13_table(), [])
    assert r.returncode == 0, r.stderr
    assert apt == "", f"nothing is missing, yet apt ran: {apt}"
    assert "installing" not in r.stdout


def test_bootstrap_lists_what_is_really_missing(fake_system):
    table = debian13_table(drop="espeak-ng")
    table.append(["rc ", "espeak-ng", ""])  # removed, only its configuration files left
    table.append(["ii ", "libccid-extra", "pcscd-virtual"])  # a Provides that is not what we want
    r, apt = fake_system(table, [], "--missing")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["espeak-ng"]
    assert apt == ""  # --missing never asks apt


def test_bootstrap_installs_the_t64_name_where_the_old_one_is_gone(fake_system):
    table = debian13_table(drop="libzbar0")
    r, apt = fake_system(table, ["libzbar0t64", "libglib2.0-0t64"])
    assert r.returncode == 0, r.stderr
    calls = apt.splitlines()
    assert "apt-get update -qq" in calls
    installs = [c for c in calls if c.startswith("apt-get install")]
    assert len(installs) == 1 and installs[0].split()[-1] == "libzbar0t64", calls
    # Debian 12: the old name is the real package and is installed as such
    r, apt = fake_system(table, ["libzbar0"])
    installs = [c for c in apt.splitlines() if c.startswith("apt-get install")]
    assert installs and installs[0].split()[-1] == "libzbar0", apt


# --- pcscd: --disable-polkit exactly where polkit does not serve -------------------------------------

PCSCD_2X_HELP = """Usage: /usr/sbin/pcscd options
  -f, --foreground	run in foreground (no daemon),
  --disable-polkit	ignore polkit rules
  -x, --auto-exit	pcscd will quit after 60 seconds of inactivity
"""
PCSCD_19_HELP = """Usage: /usr/sbin/pcscd options
  -f, --foreground	run in foreground (no daemon),
  -x, --auto-exit	pcscd will quit after 60 seconds of inactivity
"""


@pytest.fixture
def pcscd_env():
    # short directory: a unix socket path must fit in 108 bytes
    d = Path(tempfile.mkdtemp(prefix="pcscd-t.", dir="/tmp"))
    bus = None

    def make(help_text: str, polkitd: bool, system_bus: bool) -> dict[str, str]:
        nonlocal bus
        for sub in ("proc", "run"):
            shutil.rmtree(d / sub, ignore_errors=True)
        (d / "proc/1").mkdir(parents=True)
        (d / "proc/1/comm").write_text("systemd\n")
        (d / "proc/42").mkdir()
        (d / "proc/42/comm").write_text("polkitd\n" if polkitd else "dbus-daemon\n")
        (d / "run").mkdir()
        if system_bus:
            bus = socket.socket(socket.AF_UNIX)
            bus.bind(str(d / "run/system_bus_socket"))
        (d / "help.txt").write_text(help_text)
        _exe(d / "pcscd", f'''
            #!/bin/sh
            case "$1" in --help|-h) cat {d}/help.txt; exit 0;; esac
            printf '%s\\n' "$@" >{d}/started-with
            ''')
        return {"PATH": "/usr/bin:/bin", "PCSCD": str(d / "pcscd"), "PCSCD_PROC": str(d / "proc"),
                "PCSCD_DBUS_SOCKET": str(d / "run/system_bus_socket"), "PCSCD_SOCK": str(d / "run/pcscd/pcscd.comm")}

    def run(env: dict[str, str], fn: str) -> str:
        r = subprocess.run(["bash", "-c", f'source "{PCSCD_LIB}" && {fn}'], capture_output=True, text=True,
                           env=env, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout
    make.run = run
    make.dir = d
    yield make
    if bus:
        bus.close()
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("help_text, polkitd, system_bus, flags", [
    (PCSCD_2X_HELP, False, False, ["--disable-polkit"]),  # CI, a container, a chroot
    (PCSCD_2X_HELP, True, False, ["--disable-polkit"]),   # polkitd without a bus cannot answer
    (PCSCD_2X_HELP, False, True, ["--disable-polkit"]),   # a bus but no polkitd
    (PCSCD_2X_HELP, True, True, []),                      # a desktop or a device: polkit stays
    (PCSCD_19_HELP, False, False, []),                    # Debian 12's 1.9: no polkit, no flag
])
def test_pcscd_started_for_tests_with_disable_polkit_only_where_polkit_does_not_serve(
        pcscd_env, help_text, polkitd, system_bus, flags):
    env = pcscd_env(help_text, polkitd, system_bus)
    assert pcscd_env.run(env, "pcscd_test_flags").split() == flags
    pcscd_env.run(env, "pcscd_start")
    assert (pcscd_env.dir / "started-with").read_text().split() == flags
