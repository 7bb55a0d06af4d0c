"""Child process for the power-cut test: check in distinct patients forever, until killed."""

import sys
from datetime import timedelta

from kiosk.checkin import CheckinService
from kiosk.domain import ScanEvent
from kiosk.roster import DEMO_KEY

db_path, start = sys.argv[1], int(sys.argv[2])
service = CheckinService(db_path, facility_code="40123", roster_key=DEMO_KEY, rescan_window=timedelta(0))
i = start
print("ready", flush=True)
while True:
    payload = f"0401950{i % 100000:05d}||Người Thử {i}|12051995|Nữ|Xã Thử, Nghệ An|03062021"
    result = service.handle(ScanEvent(payload.encode(), "serial"))
    assert result.ok, result
    i += 1
