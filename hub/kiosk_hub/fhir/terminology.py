"""The project's code systems, served as FHIR CodeSystem resources at /fhir/R4/CodeSystem/{id}.

Kept here as data: the hub does not import the kiosk package. The result codes are the national gateway's
(maKetQua, shared/reference/bhyt-eligibility.md) plus the kiosk's own K-codes (docs/eligibility.md); the groups
and their levels are QĐ 1351/QĐ-BHXH as the kiosk's kiosk/documents/data/bhyt_groups.json has them.
"""

from __future__ import annotations

from . import systems

RESULT_CODES = {
    "000": ("Thông tin thẻ chính xác", "card information correct"),
    "001": ("Thẻ do BHXH Bộ Quốc phòng quản lý", "card managed by the defence-ministry insurer: check card and ID"),
    "002": ("Thẻ do BHXH Bộ Công an quản lý", "card managed by the public-security insurer: check card and ID"),
    "003": ("Thẻ cũ hết giá trị, đã được cấp thẻ mới", "old card expired, a new card was issued"),
    "004": ("Thẻ cũ còn giá trị, đã được cấp thẻ mới", "old card still valid, a new card was issued"),
    "010": ("Thẻ hết giá trị sử dụng", "card expired"),
    "050": ("Không có thông tin thẻ", "no card information"),
    "051": ("Mã thẻ không đúng", "card number wrong"),
    "052": ("Mã tỉnh không đúng", "province code wrong"),
    "053": ("Mã quyền lợi không đúng", "benefit code wrong"),
    "054": ("Cán bộ tra cứu chưa đăng ký tại cơ sở", "lookup officer's ID not registered for this facility"),
    "055": ("Họ tên cán bộ tra cứu không khớp", "lookup officer's name does not match their ID"),
    "060": ("Họ tên không đúng", "name does not match the card"),
    "061": ("Họ tên không đúng (đúng ký tự đầu)", "name wrong (first letter right)"),
    "070": ("Ngày sinh không đúng", "date of birth does not match the card"),
    "100": ("Lỗi khi đọc dữ liệu thẻ", "error reading card data"),
    "101": ("Lỗi máy chủ", "server error"),
    "110": ("Thẻ đã thu hồi", "card revoked"),
    "120": ("Thẻ đã báo giảm", "card reported as decreased"),
    "121": ("Báo giảm: chuyển đi tỉnh khác", "decreased: moved to another province"),
    "122": ("Báo giảm: chuyển nơi tham gia trong tỉnh", "decreased: moved within the province"),
    "123": ("Báo giảm: tham gia lại tại cùng đơn vị", "decreased: re-enrolled at the same unit"),
    "124": ("Báo giảm: dừng tham gia", "decreased: stopped participating"),
    "130": ("Trẻ em không xuất trình thẻ", "child did not present a card"),
    "205": ("Lỗi sai định dạng tham số", "wrong parameter format"),
    "401": ("Lỗi xác thực", "authentication error"),
    "K01": ("Thẻ chưa đến hạn sử dụng", "card not yet valid on the visit date"),
    "K02": ("Chưa kiểm tra được (không có trong danh sách, không tra cứu trực tuyến được)",
            "cannot verify now (not on the roster and no online answer)"),
    "K03": ("Đăng ký KCB ban đầu ở tỉnh khác", "registered in another province (or at a provincial/central "
            "facility): not at the right level at this station"),
}
USABLE = frozenset({"000", "001", "002", "003", "004"})

BENEFIT_LEVELS = {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}
GROUP_LEVELS = {
    **dict.fromkeys(("CC", "TE"), 1),
    **dict.fromkeys(("CK", "CB", "KC", "HN", "DT", "DK", "XD", "BT", "TS"), 2),
    **dict.fromkeys(("HT", "TC", "CN"), 3),
    **dict.fromkeys(("DN", "HX", "CH", "NN", "TK", "HC", "XK", "TB", "NO", "CT", "XB", "TN", "CS", "XN", "MS",
                     "HD", "TQ", "TA", "TY", "HG", "LS", "PV", "HS", "SV", "GB", "GD"), 4),
    **dict.fromkeys(("QN", "CA", "CY"), 5),
}

# The kiosk's default services (kiosk/config.py ui.services); a station may configure others: their codes
# still flow to serviceType, with the code as the display.
SERVICES = {
    "kham_benh": ("Khám bệnh", "General check-up"),
    "tiem_chung": ("Tiêm chủng", "Vaccination"),
    "kham_thai": ("Khám thai", "Antenatal check-up"),
}

QUEUE_STATES = {
    "waiting": ("Đang chờ", "waiting"),
    "being_seen": ("Đang khám", "being seen (called)"),
    "done": ("Đã xong", "done"),
    "left": ("Đã bỏ về", "left without waiting to the end"),
    "cancelled": ("Đã huỷ", "cancelled at the desk"),
}
# One R4 Encounter.status per kiosk queue state (docs/fhir.md says why).
ENCOUNTER_STATUS = {"waiting": "arrived", "being_seen": "in-progress", "done": "finished",
                    "left": "cancelled", "cancelled": "entered-in-error"}

IDENTITY_FLAGS = {
    "chip_verified": ("Chip đã xác thực", "identity read from the chip and its signature verified"),
    "clone_suspected": ("Nghi chip giả", "chip suspected cloned (chip authentication failed)"),
    "identity_mismatch": ("Thông tin không khớp", "a re-scan of the same number carried another name"),
}

ELIGIBILITY_SOURCES = {
    "roster": ("Danh sách thẻ tại trạm", "the station's local copy of the insurance roster"),
    "gateway": ("Cổng giám định BHYT", "the national BHXH gateway, online"),
    "none": ("Chưa kiểm tra", "not checked"),
}

DOCUMENTS = {
    "chip": ("Chip CCCD", "chip of the ID card"),
    "cccd_qr": ("QR CCCD", "QR of the ID card"),
    "bhyt_qr": ("QR thẻ BHYT", "QR of the BHYT card"),
    "mrz": ("MRZ", "machine-readable zone of the ID card"),
    "manual": ("Nhập tay", "typed at the desk"),
}


def _groups() -> dict:
    return {g: (f"Nhóm {g}, mức hưởng {lvl} ({BENEFIT_LEVELS[lvl]}%)", f"group {g}, benefit level {lvl} "
                f"({BENEFIT_LEVELS[lvl]}%)") for g, lvl in GROUP_LEVELS.items()}


# id -> (title, description, concepts)
CODE_SYSTEMS = {
    "eligibility-result": ("BHYT eligibility result codes", "The national gateway's maKetQua and the kiosk's "
                           "K-codes; 000-004 are usable.", RESULT_CODES),
    "beneficiary-group": ("BHYT beneficiary groups", "The two letters opening a legacy card number, with their "
                          "benefit level (QĐ 1351/QĐ-BHXH).", _groups()),
    "service": ("Station services", "What a patient chose at the kiosk (the kiosk's default services).", SERVICES),
    "queue-state": ("Kiosk queue states", "The receptionist's queue states (kiosk/desk.py).", QUEUE_STATES),
    "identity-flag": ("Identity flags", "What the kiosk noticed about the identity presented.", IDENTITY_FLAGS),
    "eligibility-source": ("Eligibility sources", "Where the eligibility answer came from.", ELIGIBILITY_SOURCES),
    "document": ("Identifying documents", "How the person was identified at the kiosk.", DOCUMENTS),
}


def display(system_id: str, code: str) -> str:
    entry = CODE_SYSTEMS[system_id][2].get(code)
    return entry[0] if entry else code


def coding(system_id: str, code: str) -> dict:
    return {"system": systems.codesystem(system_id), "code": code, "display": display(system_id, code)}


def codesystem_resource(system_id: str) -> dict | None:
    if system_id not in CODE_SYSTEMS:
        return None
    title, description, concepts = CODE_SYSTEMS[system_id]
    return {
        "resourceType": "CodeSystem", "id": system_id, "url": systems.codesystem(system_id),
        "name": "".join(w.capitalize() for w in system_id.split("-")), "title": title, "status": "active",
        "experimental": False, "description": description, "caseSensitive": True, "content": "complete",
        "count": len(concepts),
        "concept": [{"code": code, "display": vi, "definition": en,
                     "designation": [{"language": "en", "value": en}]} for code, (vi, en) in concepts.items()],
    }
