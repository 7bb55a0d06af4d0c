"""Sync tests talk HTTP(S) to a real `kiosk hub serve` subprocess on loopback."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import kiosk_cmd


@dataclass
class HubProc:
    proc: subprocess.Popen
    url: str
    db: Path
    token: str
    token_file: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def enrol(db: Path, device: str, token_file: Path) -> str:
    out = subprocess.run(kiosk_cmd("hub", "enrol", "--db", str(db), "--device", device, "--token-out",
                                   str(token_file), "--json"), capture_output=True, text=True, check=True)
    import json
    return json.loads(out.stdout)["token"]


def start_hub(workdir: Path, *extra: str, device: str = "kiosk-1", port: int = 0) -> HubProc:
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "hub.db"
    token_file = workdir / f"{device}.token"
    token = token_file.read_text().strip() if token_file.exists() else enrol(db, device, token_file)
    proc = subprocess.Popen(kiosk_cmd("hub", "serve", "--db", str(db), "--port", str(port), *extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"hub did not start: {line!r} {proc.stderr.read()}")
    url = line.split("listening on ", 1)[1].split()[0]
    return HubProc(proc, url, db, token, token_file)


@pytest.fixture
def hub(tmp_path):
    h = start_hub(tmp_path / "hub")
    yield h
    h.stop()


def wait_until(pred, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()
