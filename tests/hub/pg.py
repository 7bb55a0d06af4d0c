"""A throwaway PostgreSQL cluster for the hub's tests: Debian's initdb + pg_ctl, an unprivileged user,
a temp directory, a free loopback port, torn down at the end.

initdb and postgres refuse to run as root (and CI runs as root): then every server command runs as
`nobody` through setpriv, in a directory handed over to it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    USER = "hub"

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="hub-pg-"))
        self.data = self.root / "data"
        self.sock_dir = self.root / "sock"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        self.sock_dir.mkdir()
        for p in (self.root, self.sock_dir):
            if self.as_root:
                os.chown(p, self.uid, self.gid)
        os.chmod(self.root, 0o700)

    def _run(self, *cmd: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        argv = [str(self.bindir / cmd[0]), *cmd[1:]]
        if self.as_root:
            argv = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", *argv]
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": str(self.root)}
        r = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=self.root, timeout=timeout)
        if check and r.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{cmd[0]} failed ({r.returncode}): {r.stderr[-2000:]}\n{log}")
        return r

    def init(self) -> "PgCluster":
        self._run("initdb", "-D", str(self.data), "-U", self.USER, "--auth=trust", "-E", "UTF8", "--no-locale",
                  "--no-instructions" if self._supports_no_instructions() else "--no-sync")
        self.start()
        return self

    def _supports_no_instructions(self) -> bool:
        r = self._run("initdb", "--help", check=False)
        return "--no-instructions" in r.stdout

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.sock_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200 -c shared_buffers=32MB")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, db: str = "postgres") -> str:
        return f"postgres://{self.USER}@127.0.0.1:{self.port}/{db}"

    def sql(self, statement: str, db: str = "postgres") -> None:
        import psycopg
        with psycopg.connect(self.url(db), autocommit=True) as c:
            c.execute(statement)

    def create_db(self, name: str, template: str | None = None) -> str:
        t = f" TEMPLATE {template}" if template else ""
        for attempt in range(20):
            try:
                self.sql(f"CREATE DATABASE {name}{t}")
                break
            except Exception as e:  # the template may still be in use for a moment after its last client left
                if "being accessed by other users" not in str(e) or attempt == 19:
                    raise
                time.sleep(0.25)
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
