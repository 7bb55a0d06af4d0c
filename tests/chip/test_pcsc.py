"""Through the real PC/SC stack: pcscd + vsmartcard-vpcd + `kiosk card-sim`, read by `kiosk read-card`.

tests/services.d/pcscd.sh starts pcscd. As root (CI) a missing pcscd/vpcd is a
failure with the reason; as a normal user without pcscd the tests skip, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.chip.conftest import PROFILES
from tests.conftest import ROOT, kiosk_cmd

pytestmark = pytest.mark.pcsc
READER = "Virtual PCD 00 00"


def _pcsc_ready() -> str | None:
    """None when pcscd shows the Virtual PCD reader, else why not."""
    try:
        from smartcard.System import readers
        names = [str(r) for r in readers()]
    except Exception as e:  # pyscard missing or no pcscd socket
        return f"pcscd not reachable ({type(e).__name__}: {str(e)[:80]})"
    if READER not in names:
        return f"pcscd runs but shows no {READER!r} reader (readers: {names}); is vsmartcard-vpcd installed?"
    return None


@pytest.fixture(scope="module")
def vpcd_lock():
    """One test run at a time owns the Virtual PCD reader (several checkouts may share one pcscd)."""
    import fcntl
    with open("/tmp/tramyte-kiosk-vpcd.lock", "w") as f:
        end = time.monotonic() + 600
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > end:
                    pytest.fail("another test run has held the Virtual PCD reader for 10 minutes")
                time.sleep(0.2)
        yield
        fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def pcsc(vpcd_lock):
    why = _pcsc_ready()
    if why and os.geteuid() == 0:
        subprocess.run(["bash", str(ROOT / "tests/services.d/pcscd.sh")], check=False)
        why = _pcsc_ready()
    if why:
        if os.geteuid() == 0:
            pytest.fail(f"chip tests need pcscd with the vpcd reader: {why} (see tests/services.d/pcscd.sh)")
        pytest.skip(f"not root and {why}: run tests/services.d/pcscd.sh as root to enable the PC/SC tests")
    return READER


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory):
    from drivers.cccd_emulator.pki import TestPki
    d = tmp_path_factory.mktemp("pki")
    TestPki.generate().save(d)
    return d


def _reader_state() -> str:
    """"present", "empty" or "other" as pcscd itself sees the Virtual PCD slot (no connect, no power-up)."""
    from drivers.chip.connection import slot_state
    return slot_state(READER)


def _card_present() -> bool:
    return _reader_state() == "present"


class Sim:
    def __init__(self, tmp_path: Path, pki_dir: Path, profile: str, **card):
        data = json.loads((PROFILES / f"{profile}.json").read_text(encoding="utf-8"))
        data.setdefault("card", {}).update(card)
        self.profile = data
        path = tmp_path / f"{profile}-{os.getpid()}-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        self.proc = subprocess.Popen(kiosk_cmd("--log-level", "INFO", "card-sim", "--profile", str(path),
                                               "--pki", str(pki_dir)),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + 20
        while not _card_present():
            if time.monotonic() > end or self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"card-sim did not appear in {READER!r}: {self.proc.stderr.read()[-1500:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        # wait until pcscd itself has seen the card go: a card placed again before pcscd noticed the
        # removal is never powered up by it (a real reader shows the same when a card is swapped too fast)
        end = time.monotonic() + 5
        while _reader_state() != "empty" and time.monotonic() < end:
            time.sleep(0.05)


@pytest.fixture
def sim(pcsc, tmp_path, pki_dir):
    sims = []

    def start(profile: str, **card) -> Sim:
        s = Sim(tmp_path, pki_dir, profile, **card)
        sims.append(s)
        return s

    yield start
    for s in sims:
        s.stop()


def read_card(*args, env=None, timeout=60):
    return subprocess.run(kiosk_cmd("read-card", "--reader", READER, *args), capture_output=True, text=True,
                          timeout=timeout, env=env)


def _fields_match(out: dict, person: dict) -> None:
    for k, v in person.items():
        if k in ("about", "card"):
            continue
        assert out[k] == v, k


def test_pace_card_through_pcscd(sim, pki_dir, kiosk_env):
    s = sim("pace-card")
    p = read_card("--id-number", "001085012345", "--csca-dir", str(pki_dir / "csca"), "--json", env=kiosk_env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    _fields_match(out, s.profile)
    assert out["access_method"] == "pace-can"
    assert out["passive_authentication"] == "verified"
    assert out["chip_authentication"] == "genuine"
    assert out["apdus"] > 0 and out["bytes"] > 0 and out["apdus_after_access"] <= 12
    # readable output masks the ID number
    p = read_card("--can", "012345", "--csca-dir", str(pki_dir / "csca"), "--extended", "no", env=kiosk_env)
    assert p.returncode == 0, p.stderr
    assert "001085012345" not in p.stdout and "********2345" in p.stdout
    assert "pace-can" in p.stdout and "genuine" in p.stdout


def test_bac_only_card_through_pcscd(sim, pki_dir, kiosk_env):
    s = sim("bac-only-lifetime")
    p = read_card("--id-number", "040058001234", "--date-of-birth", "1958-07-02", "--csca-dir",
                  str(pki_dir / "csca"), "--json", env=kiosk_env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    _fields_match(out, s.profile)
    assert (out["access_method"], out["passive_authentication"], out["chip_authentication"]) == \
        ("bac", "verified", "genuine")
    assert out["expiry_date"] is None
    mrz = "\n".join(_mrz_lines(s.profile))
    p = read_card("--mrz", mrz, "--csca-dir", str(pki_dir / "csca"), "--json", env=kiosk_env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["access_method"] == "bac"


def _mrz_lines(person):
    from drivers.cccd_emulator.files import mrz_lines
    return mrz_lines(person)


def test_tampered_clone_and_unknown_csca_through_pcscd(sim, pki_dir, kiosk_env, tmp_path):
    s = sim("pace-card", tamper_dg=13)
    out = json.loads(read_card("--can", "012345", "--csca-dir", str(pki_dir / "csca"), "--json",
                               env=kiosk_env).stdout)
    assert out["passive_authentication"] == "failed" and "chip_failed" in out["warnings"]
    s.stop()
    sim("clone")
    p = read_card("--can", "012345", "--csca-dir", str(pki_dir / "csca"), env=kiosk_env)
    assert p.returncode == 0 and "clone_suspected" in p.stdout and "ALARM" in p.stdout
    (tmp_path / "empty").mkdir()
    out = json.loads(read_card("--can", "012345", "--csca-dir", str(tmp_path / "empty"), "--json",
                               env=kiosk_env).stdout)
    assert out["passive_authentication"] == "no_trust_anchor"


def test_wrong_can_is_a_clear_message_and_exit_2(sim, kiosk_env):
    sim("pace-card")
    p = read_card("--can", "999999", env=kiosk_env)
    assert p.returncode == 2
    assert "the number does not open this card" in p.stderr
    assert "Traceback" not in p.stderr


def test_card_removed_mid_read_is_retried(sim, pki_dir, kiosk_env):
    sim("pace-card", drop_after_commands=10, return_after_ms=400)
    p = read_card("--can", "012345", "--csca-dir", str(pki_dir / "csca"), "--json", "--wait", "5", env=kiosk_env)
    assert p.returncode == 0, p.stderr
    assert "taken off the reader" in p.stderr and "place it on the reader again" in p.stderr
    assert json.loads(p.stdout)["chip_authentication"] == "genuine"


def test_card_removed_every_time_gives_up_with_exit_3(sim, kiosk_env):
    sim("pace-card", drop_after_commands=10, drop_repeat=True, return_after_ms=300)
    p = read_card("--can", "012345", "--retries", "2", "--wait", "3", env=kiosk_env)
    assert p.returncode == 3, p.stderr
    assert "giving up" in p.stderr and "Traceback" not in p.stderr


def test_no_card_is_exit_3(pcsc, kiosk_env):
    assert not _card_present()
    p = read_card("--can", "012345", "--wait", "0.5", env=kiosk_env)
    assert p.returncode == 3 and "no card" in p.stderr


def test_emulator_stopped_and_restarted_without_restarting_the_app(sim, pki_dir):
    """The reader object lives on; the 'reader' (vpcd card) goes away and comes back."""
    from drivers.chip.connection import PcscConnection
    from drivers.chip.passive import load_trust_store
    from drivers.chip.reader import ChipReader, Credentials
    trust = load_trust_store(pki_dir / "csca")
    s = sim("pace-card")
    conn = PcscConnection(READER)
    assert ChipReader(conn).read_identity(Credentials(can="012345"), trust=trust).chip_authentication == "genuine"
    s.stop()
    from drivers.chip.errors import ChipError
    with pytest.raises(ChipError):
        ChipReader(conn).read_identity(Credentials(can="012345"), trust=trust)
    conn.close()
    sim("bac-only-lifetime")
    conn = PcscConnection(READER, wait_seconds=5)
    r = ChipReader(conn).read_identity(Credentials(id_number="040058001234", date_of_birth=__import__("datetime")
                                                   .date(1958, 7, 2)), trust=trust)
    assert r.access_method == "bac" and r.passive_authentication == "verified"
    conn.close()


def test_chip_source_feeds_checkin_with_flags(sim, pki_dir, service):
    """QR first (the number), then the card on the reader: a visit, flagged when the chip is a clone."""
    import queue
    from drivers.chip.passive import load_trust_store
    from drivers.chip.source import ChipSource
    events, statuses = queue.Queue(), []
    src = ChipSource(READER, trust=load_trust_store(pki_dir / "csca"), poll_seconds=0.1)
    src.start(events.put, statuses.append)
    try:
        sim("clone")
        end = time.monotonic() + 5
        while not any(s.detail == "need_qr" for s in statuses) and time.monotonic() < end:
            time.sleep(0.05)
        assert any(s.detail == "need_qr" for s in statuses), statuses
        src.expect("001085012345")
        scan = events.get(timeout=10)
        assert scan.source == "chip" and scan.document.chip_authentication == "clone_suspected"
        out = service.handle(scan)
        assert out.ok and "clone_suspected" in out.flags
        assert out.patient["masked_id"].endswith("2345")
    finally:
        src.stop()


def _pcscd_pids() -> list[int]:
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "pcscd":
                pids.append(int(comm.parent.name))
        except OSError:
            pass
    return pids


def test_chip_source_survives_pcscd_restart(sim, pki_dir):
    """The reader 'unplugged and plugged again': pcscd restarted under a running source."""
    import queue
    import signal
    from drivers.chip.source import ChipSource
    if os.geteuid() != 0:
        pytest.skip("restarting pcscd needs root")
    events, statuses = queue.Queue(), []
    src = ChipSource(READER, poll_seconds=0.1)
    src.start(events.put, statuses.append)
    try:
        sim("pace-card")
        src.expect("001085012345")
        assert events.get(timeout=10).document.access_method == "pace-can"
        (pid,) = _pcscd_pids()
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + 10
        while _pcscd_pids() and time.monotonic() < end:
            time.sleep(0.05)
        end = time.monotonic() + 5
        while not any(s.detail == "no_reader" for s in statuses) and time.monotonic() < end:
            time.sleep(0.05)
        assert any(s.detail == "no_reader" for s in statuses), statuses
        # started again the one way the tests start it: with --disable-polkit where polkit does not serve
        assert subprocess.run(["bash", str(ROOT / "tests/services.d/pcscd.sh")]).returncode == 0
        (pid,) = _pcscd_pids()
        want = subprocess.run(["bash", "-c", f'source "{ROOT}/tests/services.d/lib/pcscd-start.sh"; pcscd_test_flags'],
                              capture_output=True, text=True, check=True).stdout.split()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        assert all(flag in argv for flag in want), (argv, want)
        src.expect("001085012345")
        assert events.get(timeout=20).document.chip_authentication == "genuine"
    finally:
        src.stop()
