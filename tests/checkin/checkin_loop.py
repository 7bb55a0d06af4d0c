"""Child process for the power-cut test: check in distinct patients forever, until killed.

Identity fields are sealed under the data key given, as on a device (service_from_config).
"""

import sys
from datetime import timedelta
from pathlib import Path

from kiosk import store
from kiosk.privacy import datakey
from kiosk.services.checkin import CheckinService
from kiosk.domain import ScanEvent
from kiosk.eligibility.roster import DEMO_KEY

db_path, key_file, start = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
key = datakey.read(key_file)
db = store.connect(db_path)
datakey.bind(db.conn, key)
db.conn.close()
service = CheckinService(store.connect(db_path, key=key), facility_code="40123", roster_key=DEMO_KEY,
                         rescan_window=timedelta(0))
i = start
print("ready", flush=True)
while True:
    payload = f"0401950{i % 100000:05d}||Người Thử {i}|12051995|Nữ|Xã Thử, Nghệ An|03062021"
    result = service.handle(ScanEvent(payload.encode(), "serial"))
    assert result.ok, result
    i += 1
