"""Messages people read, in Vietnamese (default) and English.

The core returns message keys; screens, the CLI and tickets render them.
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "idle.prompt": {
        "vi": "Quét mã QR trên thẻ CCCD hoặc đặt thẻ lên đầu đọc",
        "en": "Scan the QR code on your ID card or place the card on the reader",
    },
    "idle.title": {"vi": "Xin chào", "en": "Welcome"},
    "result.queue": {"vi": "Số thứ tự của bạn", "en": "Your queue number"},
    "result.existing": {"vi": "Bạn đã lấy số trước đó", "en": "You already have a number"},
    "result.id": {"vi": "Số định danh", "en": "ID number"},
    "result.bhyt": {"vi": "Bảo hiểm y tế", "en": "Health insurance"},
    "refused.title": {"vi": "Không đọc được thẻ", "en": "The card could not be read"},
    "refused.unreadable": {
        "vi": "Mã QR không đúng định dạng thẻ CCCD hoặc BHYT. Vui lòng quét lại hoặc gặp nhân viên tiếp đón.",
        "en": "This QR code is not an ID or health-insurance card. Please scan again or ask the receptionist.",
    },
    "refused.no_identity": {
        "vi": "Thẻ không có số định danh hoặc số BHXH. Vui lòng gặp nhân viên tiếp đón.",
        "en": "The card has no ID or social-insurance number. Please ask the receptionist.",
    },
    "refused.storage": {
        "vi": "Máy chưa lưu được lượt khám. Vui lòng gặp nhân viên tiếp đón.",
        "en": "The kiosk could not save your visit. Please ask the receptionist.",
    },
    "eligibility.source.roster": {"vi": "theo danh sách ngày {date}", "en": "per the roster of {date}"},
    "eligibility.source.gateway": {"vi": "tra cứu trực tuyến lúc {time}", "en": "checked online at {time}"},
    "eligibility.source.none": {"vi": "chưa tra cứu được", "en": "not checked yet"},
    "eligibility.covered": {"vi": "Được hưởng BHYT {percent}%", "en": "Covered at {percent}%"},
    "eligibility.not_covered": {"vi": "Không được hưởng BHYT", "en": "Not covered"},
    "eligibility.pending": {"vi": "Chưa xác minh được BHYT lúc này", "en": "Cannot verify insurance now"},
    "clock.unsynced": {"vi": "Đồng hồ máy chưa đồng bộ", "en": "The device clock is not synchronised"},
    "scanner.disconnected": {"vi": "Máy quét chưa kết nối", "en": "Scanner disconnected"},
}


def t(key: str, lang: str = "vi", **params: object) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["vi"]
    return text.format(**params) if params else text
