"""Property tests for what privacy code parses: sealed values, key files, backup files."""

import os
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kiosk.store import backup
from kiosk.privacy import datakey
from kiosk.errors import KioskError

KEY = datakey.DataKey(bytes(range(32)))


@given(st.text(max_size=200))
def test_seal_open_round_trip_and_context_binding(text):
    sealed = KEY.seal(text, "patients.full_name")
    assert datakey.is_sealed(sealed)
    assert KEY.open(sealed, "patients.full_name") == text
    with pytest.raises(datakey.DecryptError):
        KEY.open(sealed, "patients.address")


@given(st.text(max_size=120))
def test_any_sealed_looking_text_opens_or_is_refused(text):
    value = datakey.PREFIX + text
    try:
        KEY.open(value, "patients.full_name")
    except datakey.DecryptError:
        pass  # the only acceptable failure: never another exception, never garbage


@given(st.binary(min_size=0, max_size=200))
def test_flipping_any_bit_of_a_sealed_value_is_refused(noise):
    sealed = KEY.seal("Nguyễn Thị Hồng Nhung", "patients.full_name")
    body = bytearray(sealed[len(datakey.PREFIX):].encode())
    if not noise:
        return
    i = noise[0] % len(body)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = alphabet[(alphabet.index(body[i]) + 1 + noise[-1] % 63) % 64]
    body[i] = replacement
    tampered = datakey.PREFIX + body.decode()
    try:
        got = KEY.open(tampered, "patients.full_name")
    except datakey.DecryptError:
        return
    # base64 padding bits of the last character can change without changing the bytes
    assert got == "Nguyễn Thị Hồng Nhung"


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=100))
def test_key_file_parser_refuses_anything_but_a_key(tmp_path, content):
    p = tmp_path / "k"
    p.write_bytes(content)
    os.chmod(p, 0o640)
    try:
        k = datakey.read(p)
    except KioskError:
        return
    assert bytes.fromhex(content.decode().strip()) == k.master


@pytest.fixture(scope="module")
def a_backup(tmp_path_factory):
    d = tmp_path_factory.mktemp("b")
    conn = sqlite3.connect(d / "x.db")
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(os.urandom(50).hex(),) for _ in range(3000)])
    conn.commit()
    bk = os.urandom(32)
    info = backup.write_backup(conn, KEY, bk, d / "b.tkb")
    return (d / "b.tkb").read_bytes(), bk, info


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_or_truncated_backup_is_refused_never_half_read(a_backup, tmp_path_factory, data):
    blob, bk, _ = a_backup
    kind = data.draw(st.sampled_from(["flip", "truncate", "append", "swap"]))
    b = bytearray(blob)
    if kind == "flip":
        i = data.draw(st.integers(0, len(b) - 1))
        b[i] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "truncate":
        b = b[:data.draw(st.integers(0, len(b) - 1))]
    elif kind == "append":
        b += data.draw(st.binary(min_size=1, max_size=64))
    else:  # swap two 1 MiB chunks' positions is impossible here (one chunk); swap two byte ranges instead
        i = data.draw(st.integers(200, len(b) - 40))
        b[i:i + 16], b[i + 16:i + 32] = b[i + 16:i + 32], b[i:i + 16]
        if bytes(b) == blob:
            return
    p = tmp_path_factory.mktemp("d") / "b.tkb"
    p.write_bytes(bytes(b))
    with pytest.raises(KioskError):
        backup.read_backup(p, bk)


def test_intact_backup_round_trips(a_backup, tmp_path):
    blob, bk, info = a_backup
    p = tmp_path / "b.tkb"
    p.write_bytes(blob)
    header, master, image = backup.read_backup(p, bk)
    assert master == KEY.master and len(image) == info["db_bytes"]
