"""The UI process records its devices' states in the store, where kiosk-sync's heartbeat reads them."""

from __future__ import annotations

import threading

from drivers.protocols import DeviceStatus
from kiosk.services import device_status


def states(service) -> dict[str, str]:
    return device_status.read(service.db)  # the test's own connection; the bridge writes on its desk thread's


def test_start_then_driver_reports_from_their_threads(qtbot, bridge, seeded, printer):
    # A previous run left the camera "ok": this run has no camera, so it must not stay "ok".
    device_status.record(seeded.db, "camera", "ok", seeded.clock.now())
    bridge.start_devices({"scanner": True, "chip": True, "camera": False, "printer": True})
    # The simulated printer answers the start-up question: connected, paper in.
    qtbot.waitUntil(lambda: states(seeded) == {"scanner": "fault", "chip": "fault", "camera": "absent",
                                               "printer": "ok"}, timeout=5000)
    # Drivers call back on their own threads: the scanner opens, the chip reader is unplugged.
    for s in (DeviceStatus("scanner", True, "/dev/ttyACM0"), DeviceStatus("reader", False, "no_reader")):
        t = threading.Thread(target=bridge.on_status, args=(s,))
        t.start()
        t.join()
    qtbot.waitUntil(lambda: states(seeded)["scanner"] == "ok" and states(seeded)["chip"] == "fault", timeout=5000)
    # The reader comes back (a card-level problem is still a working reader); the scanner is pulled out.
    bridge.on_status(DeviceStatus("reader", True, "access_denied"))
    bridge.on_status(DeviceStatus("scanner", False, "/dev/ttyACM0: SerialException"))
    qtbot.waitUntil(lambda: states(seeded) == {"scanner": "fault", "chip": "ok", "camera": "absent",
                                               "printer": "ok"}, timeout=5000)


def test_printer_state_follows_printing(qtbot, bridge, seeded, printer, kiosk, scanner):
    from tests.documents.payloads import cccd
    printer.paper_out = True
    scanner.scan(cccd())
    qtbot.waitUntil(lambda: kiosk.last_outcome is not None, timeout=5000)
    done = []
    bridge.ticket(kiosk.last_outcome, None, "vi", "Trạm Y tế xã Thử").success(done.append).run(bridge)
    qtbot.waitUntil(lambda: len(done) == 1, timeout=5000)
    assert done[0].printer_problem == "paper_out" and done[0].printed is None
    qtbot.waitUntil(lambda: states(seeded)["printer"] == "fault", timeout=5000)
    printer.paper_out = False
    bridge.ticket(kiosk.last_outcome, None, "vi", "Trạm Y tế xã Thử", reprint=True).success(done.append).run(bridge)
    qtbot.waitUntil(lambda: len(done) == 2, timeout=5000)
    assert done[1].printer_problem is None and done[1].printed is not None
    qtbot.waitUntil(lambda: states(seeded)["printer"] == "ok", timeout=5000)


def test_state_of_maps_driver_reports():
    assert device_status.state_of("reader", True, "no_card") == ("chip", "ok")
    assert device_status.state_of("reader", False, "no_reader") == ("chip", "fault")
    assert device_status.state_of("printer", True, "paper_out") == ("printer", "fault")
    assert device_status.state_of("printer", True, "paper_low") == ("printer", "ok")
    assert device_status.state_of("camera", False, "") == ("camera", "fault")
