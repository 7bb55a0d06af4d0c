"""Child process for the stay power-cut test: check in patients and raise stay notifications until killed.

Identity fields are sealed under the data key given, as on a device (kiosk.app.build).
"""

import sys
from datetime import timedelta
from pathlib import Path

from kiosk import store
from kiosk.privacy import datakey
from kiosk.services import stay_notification as sn
from kiosk.services.checkin import CheckinService
from kiosk.clock import SystemClock
from kiosk.domain import ScanEvent
from kiosk.eligibility.roster import DEMO_KEY

db_path, key_file, start = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
key = datakey.read(key_file)
db = store.connect(db_path)
datakey.bind(db.conn, key)
db.conn.close()
service = CheckinService(store.connect(db_path, key=key), facility_code="40123", roster_key=DEMO_KEY,
                         rescan_window=timedelta(0))
clock = SystemClock()
i = start
print("ready", flush=True)
while True:
    name = "".join("abcdeghikl"[int(d)] for d in str(i)).capitalize()
    v = service.handle(ScanEvent(f"0402010{i % 100000:05d}||Người Lưu {name}|01011990|Nam|Xã Thử|03062021".encode(),
                                 "serial"))
    assert v.ok, v
    sn.start(service.db, v.visit_id, "theo dõi", clock=clock, facility_code="40123", address_of_stay="Trạm xã Thử")
    i += 1
