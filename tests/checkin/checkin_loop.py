"""Child process for the power-cut test: check in distinct patients forever, until killed.

Built as a device builds it (kiosk.app.build): identity fields sealed under the data key file given.
"""

import sys
from pathlib import Path

from kiosk import config
from kiosk.app import build
from kiosk.domain import ScanEvent

db_path, key_file, start = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
defaults = config.load(None, str(db_path.parent), env={})
cfg = config.Config({**defaults.values, "storage.database": str(db_path), "privacy.data_key_file": key_file,
                     "facility.code": "40123", "checkin.rescan_window_minutes": 0})
service = build(cfg, "none").checkin_service()
i = start
print("ready", flush=True)
while True:
    payload = f"0401950{i % 100000:05d}||Người Thử {i}|12051995|Nữ|Xã Thử, Nghệ An|03062021"
    result = service.handle(ScanEvent(payload.encode(), "serial"))
    assert result.ok, result
    i += 1
