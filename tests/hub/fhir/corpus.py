"""Generated visit payloads for the FHIR tests: the awkward people and cards a station sees, plus a Hypothesis
strategy for any payload the contract allows (1.1.0, with the 1.2.0 fields sometimes present)."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, datetime, timedelta, timezone

from hypothesis import strategies as st

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý", "Tôn Nữ"]
MIDDLE = ["Thị", "Văn", "Hữu", "Đức", "Thị Ngọc", "Minh", "Quốc", "Thanh", "Xuân", "Bảo"]
GIVEN = ["Lan", "Anh", "Hùng", "Dũng", "Thuỷ", "Hương", "Phượng", "Khánh", "Nguyệt", "Thảo", "Tường Vy", "Ỷ"]
GROUPS = ["HS", "TE", "DN", "HT", "CC", "GD", "QN", "CK", "SV", "HC"]
SERVICES = ["kham_benh", "tiem_chung", "kham_thai", "xet_nghiem_rieng"]
RESULTS = ["000", "003", "004", "010", "060", "070", "110", "121", "K01", "K02", "K03"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def case(kind: str, rng: random.Random, day: date = date(2026, 11, 26)) -> dict:
    """One visit payload of a named kind (the corpus the issue lists)."""
    name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    sin = _digits(rng, 10)
    group = rng.choice(GROUPS)
    level = {"TE": 1, "CC": 1, "CK": 2, "HT": 3, "QN": 5}.get(group, 4)
    card15 = f"{group}{level}40{sin}"
    p = {"visit_id": rng.randint(1, 10**9), "facility_code": "27001", "visit_date": day.isoformat(),
         "queue_number": rng.randint(1, 300), "source": "serial",
         "created_at": f"{day.isoformat()}T02:{rng.randint(10, 59)}:00Z", "clock_synced": True,
         "document": rng.choice(["chip", "cccd_qr", "bhyt_qr", "mrz", "manual"]),
         "patient": {"id_number": "0" + _digits(rng, 11), "social_insurance_number": sin, "card_number": card15,
                     "full_name": name, "date_of_birth": f"{rng.randint(1930, 2005)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                     "sex": rng.choice(["male", "female"])},
         "eligibility": {"result_code": "000", "benefit_percent": {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}[level],
                         "source": "roster", "as_of": (day - timedelta(days=1)).isoformat()}}
    pt, el = p["patient"], p["eligibility"]
    if kind == "year_only":
        pt["date_of_birth"] = str(rng.randint(1930, 1990))
    elif kind == "nfd_long_name":
        pt["full_name"] = unicodedata.normalize("NFD", "Tôn Nữ Thị Ngọc Phượng Hoàng Thị Xuân Quỳnh Như Ý Nguyễn")
    elif kind == "passport":
        p["document"] = "manual"
        pt.update(id_number=None, social_insurance_number=None, card_number=None, full_name="SMITH JOHN ANDREW",
                  passport_number="C" + _digits(rng, 7), nationality="USA", date_of_birth="1980-02-29")
        p["eligibility"] = {"result_code": "K02", "benefit_percent": None, "source": "none", "as_of": None}
    elif kind == "child_under_6":
        p["document"] = "bhyt_qr"
        child_sin = _digits(rng, 10)
        pt.update(id_number=None, social_insurance_number=child_sin, card_number=f"TE140{child_sin}",
                  date_of_birth=(day - timedelta(days=rng.randint(30, 5 * 365))).isoformat())
        el.update(benefit_percent=100)
    elif kind == "expired_card":
        el.update(result_code="010", benefit_percent=0)
        p["card"] = {"valid_from": "2024-01-01", "valid_to": "2025-12-31", "beneficiary_group": group}
    elif kind == "replaced_card":
        el.update(result_code=rng.choice(["003", "004"]))
        p["card"] = {"valid_from": "2026-01-01", "valid_to": "2026-12-31", "registered_facility": "27002"}
    elif kind == "id_as_card":   # Decree 188/2025: the 12-digit ID number is the card number
        pt.update(card_number=None)
        p["document"] = "chip"
    elif kind == "contract_1_2":
        pt["old_id_number"] = _digits(rng, 9)
        pt["address"] = "Xóm 3, xã Nghi Phong, Nghệ An"
        p.update(services=["kham_benh", "xet_nghiem_rieng"], flags={"chip_verified": True, "clone_suspected": False},
                 status=rng.choice(["waiting", "being_seen", "done", "left", "cancelled"]),
                 card={"valid_from": "2026-01-01", "valid_to": "2026-12-31", "beneficiary_group": group,
                       "registered_facility": {"code": "27001", "name": "Trạm Y tế xã Nghi Phong"}})
    elif kind == "one_word_name":
        pt["full_name"] = "Ỷ"
    elif kind == "gateway":
        el.update(source="gateway", as_of=f"{day.isoformat()}T02:11:00Z")
    return p


KINDS = ("plain", "year_only", "nfd_long_name", "passport", "child_under_6", "expired_card", "replaced_card",
         "id_as_card", "contract_1_2", "one_word_name", "gateway")


def corpus(n_each: int = 4, seed: int = 15) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    return [(k, case(k, rng)) for k in KINDS for _ in range(n_each)]


# --- Hypothesis -----------------------------------------------------------------------------------------------

_letters = st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"))
word = st.text(_letters, min_size=1, max_size=8).map(str.capitalize)
full_name = st.lists(word, min_size=1, max_size=9).map(" ".join)
digits = lambda n: st.text(st.sampled_from("0123456789"), min_size=n, max_size=n)  # noqa: E731
birth = st.one_of(st.none(), st.integers(1900, 2026).map(str),
                  st.dates(date(1900, 1, 1), date(2026, 11, 26)).map(date.isoformat))


@st.composite
def payloads(draw) -> dict:
    group = draw(st.sampled_from(GROUPS))
    sin = draw(digits(10))
    card = draw(st.one_of(st.none(), st.just(f"{group}{draw(st.integers(1, 5))}40{sin}"), st.just(sin),
                          digits(12)))
    id_number = draw(st.one_of(st.none(), digits(12)))
    if id_number is None and card is None:
        sin_or_none = sin
    else:
        sin_or_none = draw(st.one_of(st.none(), st.just(sin)))
    p = {"visit_id": draw(st.integers(1, 2**40)), "facility_code": "27001", "visit_date": "2026-11-26",
         "queue_number": draw(st.integers(1, 999)), "created_at": "2026-11-26T02:30:00Z",
         "patient": {"id_number": id_number, "social_insurance_number": sin_or_none, "card_number": card,
                     "full_name": draw(full_name), "date_of_birth": draw(birth),
                     "sex": draw(st.sampled_from(["male", "female", None]))},
         "eligibility": {"result_code": draw(st.sampled_from(RESULTS)),
                         "benefit_percent": draw(st.one_of(st.none(), st.sampled_from([0, 80, 95, 100]))),
                         "source": draw(st.sampled_from(["roster", "gateway", "none"])),
                         "as_of": draw(st.one_of(st.none(), st.just("2026-11-25")))}}
    if draw(st.booleans()):
        p["patient"]["full_name"] = unicodedata.normalize("NFD", p["patient"]["full_name"])
    if draw(st.booleans()):   # contract 1.2.0 fields
        p["services"] = draw(st.lists(st.sampled_from(SERVICES), unique=True, max_size=3))
        p["flags"] = draw(st.lists(st.sampled_from(["chip_verified", "clone_suspected", "identity_mismatch"]),
                                   unique=True))
        p["status"] = draw(st.sampled_from(["waiting", "being_seen", "done", "left", "cancelled"]))
        p["card"] = {"valid_from": "2026-01-01", "valid_to": draw(st.sampled_from(["2026-12-31", "2025-12-31"])),
                     "beneficiary_group": group, "registered_facility": draw(digits(5))}
        p["patient"]["old_id_number"] = draw(st.one_of(st.none(), digits(9)))
    return p


def at(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc)
