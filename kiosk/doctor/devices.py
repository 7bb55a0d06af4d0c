"""The devices, through the drivers' own `probe()`: the doctor checks what the kiosk will really open.

Each check builds the driver the configuration names (drivers.sources,
drivers.printer, drivers.voice; building opens nothing), asks its probe and
words the answer. So a HID scanner is probed as a HID scanner, the camera at
`camera.device` when that is set, and the reader with the driver's own
matching of `reader.name`.
"""

from __future__ import annotations

from drivers import sources
from drivers.chip.connection import PCSCD_SOCKET
from drivers.printer import printer_from_config
from drivers.protocols import Probe, ProbeDetail
from drivers.voice import voice_from_config
from kiosk.doctor.base import FAILURE, OK, SKIPPED, WARNING, Env, Finding
from kiosk.errors import UsageError


def _not_installed(device: str, e: ImportError) -> Probe:
    return Probe(device, False, False, "not_installed", details={"missing": e.name or "?"})


def check_pcscd(env: Env) -> Finding:
    t = env.t
    try:
        chip = sources.make_chip(env.config, enabled_only=False)
    except ImportError as e:  # the chip library's optional dependencies (the `chip` extra)
        p = Probe("reader", False, False, "not_installed",
                  details={"missing": e.name or "?", "socket": PCSCD_SOCKET.exists()})
    else:
        assert chip is not None
        p = chip.probe()
    d = dict(p.details)
    readers = d.get("readers", [])
    names = ", ".join(readers) if isinstance(readers, list) else ""
    if p.problem == "not_installed":
        sock = bool(d.get("socket"))
        return Finding("pcscd", WARNING if sock else FAILURE,
                       t("pcscd.not_installed_socket" if sock else "pcscd.not_installed_no_socket"),
                       t("pcscd.not_installed_action"), {"socket": sock})
    if p.problem == "pcscd_down":
        return Finding("pcscd", FAILURE, t("pcscd.down", error=f"{d.get('error')}: {d.get('message', '')}"),
                       t("pcscd.down_action"), {"error": d.get("error")})
    details = {"readers": d.get("readers", []), "configured": d.get("configured", "")}
    if p.problem == "no_reader":
        return Finding("pcscd", WARNING, t("pcscd.no_reader"), t("pcscd.no_reader_action"), details)
    if p.problem == "no_match":
        return Finding("pcscd", WARNING, t("pcscd.no_match", wanted=d.get("configured"), readers=names),
                       t("pcscd.no_match_action"), details)
    return Finding("pcscd", OK, t("pcscd.ok", readers=names), details=details)


def check_scanner(env: Env) -> Finding:
    t = env.t
    kind = env.config["scanner.kind"]
    if kind == "none":
        return Finding("scanner", SKIPPED, t("scanner.none"))
    try:
        scanner = sources.make_scanner(env.config)
    except UsageError as e:
        return Finding("scanner", FAILURE, t("scanner.misconfigured", error=e), t("scanner.misconfigured_action"))
    assert scanner is not None
    p = scanner.probe()
    d = dict(p.details)
    if p.simulated:
        return Finding("scanner", WARNING, t("scanner.simulated", kind=kind), t("scanner.simulated_action"))
    if kind == "hid":
        return _hid_finding(env, p, d)
    port = d.get("port", "")
    if p.problem == "port_missing":
        return Finding("scanner", FAILURE, t("scanner.port_missing", port=port), t("scanner.port_missing_action"), d)
    if p.problem:
        action = t("scanner.permission_action") if p.problem == "permission" else t("scanner.busy_action")
        return Finding("scanner", FAILURE, t("scanner.unopenable", port=port, error=d.get("message", "")), action,
                       d)
    return Finding("scanner", OK, t("scanner.ok", port=port, device=d.get("device", "")), details=d)


def _hid_finding(env: Env, p: Probe, d: dict[str, ProbeDetail]) -> Finding:
    t = env.t
    wanted = d.get("vid_pid") or d.get("name")
    if p.problem == "not_installed":
        return Finding("scanner", FAILURE, t("scanner.hid_not_installed"), t("scanner.hid_not_installed_action"), d)
    if p.problem == "permission":
        return Finding("scanner", FAILURE, t("scanner.hid_permission", wanted=wanted),
                       t("scanner.hid_permission_action"), d)
    if p.problem == "not_found":
        return Finding("scanner", FAILURE, t("scanner.hid_not_found", wanted=wanted),
                       t("scanner.hid_not_found_action"), d)
    # Found and readable, but keyboard mode drops every Vietnamese letter: CCCD QRs will be refused.
    return Finding("scanner", WARNING, t("scanner.hid_found", device=d.get("device_name", "")),
                   t("scanner.hid_found_action"), d)


def check_camera(env: Env) -> Finding:
    t = env.t
    if not env.config["camera.enabled"]:
        return Finding("camera", SKIPPED, t("camera.none"))
    try:
        camera = sources.make_camera(env.config)
    except ImportError as e:  # numpy/OpenCV: the optional `camera` extra
        p = _not_installed("camera", e)
        node = str(env.config["camera.device"] or f"/dev/video{env.config['camera.index']}")
    else:
        assert camera is not None
        p = camera.probe()
        node = str(p.details["device"])
    d = {"device": node, **p.details}
    if p.problem == "video_file":
        return Finding("camera", WARNING, t("camera.video_file", node=node), t("camera.video_file_action"), d)
    if p.problem == "missing":
        return Finding("camera", FAILURE, t("camera.missing", node=node), t("camera.missing_action"), d)
    if p.problem == "permission":
        return Finding("camera", FAILURE, t("camera.unopenable", node=node), t("camera.permission_action"), d)
    if p.problem == "not_installed":
        return Finding("camera", FAILURE, t("camera.not_installed", node=node), t("camera.not_installed_action"), d)
    if p.problem == "no_frame":
        return Finding("camera", FAILURE, t("camera.no_frame", node=node), t("camera.no_frame_action"), d)
    return Finding("camera", OK, t("camera.ok", node=node), details=d)


def check_printer(env: Env) -> Finding:
    t = env.t
    kind = env.config["printer.kind"]
    printer = printer_from_config(env.config)
    if printer is None:
        return Finding("printer", SKIPPED, t("printer.none"))
    p = printer.probe()
    d = dict(p.details)
    if p.simulated:
        return Finding("printer", WARNING, t("printer.simulated"), t("printer.simulated_action"), d)
    if p.problem == "offline":
        return Finding("printer", FAILURE, t("printer.offline", kind=kind), t("printer.offline_action"), d)
    if p.problem == "paper_out":
        return Finding("printer", FAILURE, t("printer.paper_out"), t("printer.paper_action"), d)
    if p.problem == "paper_low":
        return Finding("printer", WARNING, t("printer.paper_low"), t("printer.paper_action"), d)
    return Finding("printer", OK, t("printer.ok", kind=kind), details=d)


def check_voice(env: Env) -> Finding:
    t = env.t
    voice = voice_from_config(env.config)
    if voice is None:
        return Finding("voice", SKIPPED, t("voice.none"))
    try:
        p = voice.probe()
    finally:
        voice.close()
    if p.problem:
        return Finding("voice", WARNING, t("voice.not_installed"), t("voice.not_installed_action"), dict(p.details))
    return Finding("voice", OK, t("voice.ok", voice=env.config["voice.voice"]), details=dict(p.details))
