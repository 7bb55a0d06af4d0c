"""Property tests: parse(render(doc)) == doc for generated documents; any bytes or mutation → document or ParseError.

Expected warnings of generated documents come from a small oracle written
here, not from the parser's own functions.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

from kiosk import documents
from kiosk.documents import BhytQr, CccdQr, MrzTd1, ParseError, bhyt, mrz
from kiosk.documents.tables import load_bhyt_groups, provinces
from tests.documents.payloads import CCCD_1, MRZ_REFERENCE, bhyt as bhyt_payload

SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VI_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
LETTERS = VI_LETTERS + VI_LETTERS.upper()
PROVINCES = sorted(provinces())
GROUPS = load_bhyt_groups()

word = st.text(alphabet=LETTERS, min_size=1, max_size=8)
names = st.lists(word, min_size=1, max_size=5).map(" ".join).filter(lambda s: len(s) <= 100)
address = st.text(alphabet=LETTERS + "0123456789 ,./-", max_size=120).map(str.strip)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31))


# --- oracle: what the reference says an ID number implies ------------------------------------------

def id_oracle(id_number: str, dob: str | None, sex: str | None) -> list[str]:
    out = []
    g = int(id_number[3])
    if not (id_number[0] == "0" and id_number[1:3] in PROVINCES):
        out.append("id_province_unknown")
    if sex and sex != ("female" if g % 2 else "male"):
        out.append("id_sex_mismatch")
    if dob:
        century = 1900 + 100 * (g // 2)
        if not century <= int(dob[:4]) < century + 100:
            out.append("id_century_mismatch")
        elif int(dob[2:4]) != int(id_number[4:6]):
            out.append("id_birth_year_mismatch")
    return out


@st.composite
def cccd_docs(draw):
    dob = draw(days)
    sex = draw(st.sampled_from(["male", "female"]))
    consistent = draw(st.booleans())
    if consistent:
        g = (dob.year - 1900) // 100 * 2 + (sex == "female")
        id_number = "0" + draw(st.sampled_from(PROVINCES)) + str(g) + f"{dob.year % 100:02d}" + \
            draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    else:
        id_number = draw(st.from_regex(r"[0-9]{12}", fullmatch=True))
    old = draw(st.one_of(st.none(), st.from_regex(r"[0-9]{9}", fullmatch=True)))
    issued = draw(days)
    addr = draw(address)
    extras = draw(st.lists(st.text(alphabet=LETTERS + "0123456789 ", max_size=30).map(str.strip), max_size=4))
    warnings = id_oracle(id_number, dob.isoformat(), sex)
    if issued < dob:
        warnings.append("issue_date_before_birth")
    if not addr:
        warnings.append("address_missing")
    return CccdQr(id_number, old, draw(names), dob.isoformat(), sex, addr, issued.isoformat(), extras, warnings)


@st.composite
def bhyt_docs(draw):
    layout = draw(st.sampled_from(["old", "new"]))
    sin = draw(st.from_regex(r"[0-9]{10}", fullmatch=True))
    warnings = []
    if draw(st.booleans()):
        group = draw(st.sampled_from(sorted(GROUPS.groups)))
        level = draw(st.sampled_from(GROUPS.groups[group]))
        province = draw(st.sampled_from(PROVINCES))
        card = f"{group}{level}{province}{sin}"
    else:
        group, level, province, card = None, None, None, sin
        if layout == "new":
            level = draw(st.one_of(st.none(), st.integers(1, 5)))
    dob = draw(st.one_of(days.map(date.isoformat), st.integers(1900, 2199).map(str)))
    valid_from = draw(days)
    valid_to = draw(st.one_of(st.none(), st.integers(0, 3000).map(lambda n: valid_from + timedelta(days=n))))
    valid_to = None if valid_to is None or valid_to.year > 2199 else valid_to
    facility = draw(st.sampled_from(PROVINCES)) + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    management = draw(st.from_regex(r"[0-9]{4}", fullmatch=True)) + sin
    check = draw(st.from_regex(r"[0-9a-f]{15,16}-7102", fullmatch=True))
    return BhytQr(
        card_number=card, beneficiary_group=group, benefit_level=level, province_code=province,
        social_insurance_number=sin, full_name=draw(names), date_of_birth=dob,
        sex=draw(st.sampled_from(["male", "female"])),
        address=draw(st.one_of(st.none(), address.filter(bool))), facility_code=facility,
        valid_from=valid_from.isoformat(), valid_to=valid_to and valid_to.isoformat(),
        issue_date=draw(days).isoformat(), management_code=management,
        guardian_name=draw(st.one_of(st.none(), names)), living_area=draw(st.sampled_from([None, "K1", "K2", "K3"])),
        five_year_date=draw(st.one_of(st.none(), days.map(date.isoformat))), check_string=check,
        issuing_place=draw(st.one_of(st.none(), names)) if layout == "new" else None,
        warnings=warnings, layout=layout)


@st.composite
def mrz_docs(draw):
    dob = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    sex = draw(st.sampled_from(["male", "female"]))
    with_id = draw(st.booleans())
    if with_id:
        g = (dob.year - 1900) // 100 * 2 + (sex == "female")
        id_number = "0" + draw(st.sampled_from(PROVINCES)) + str(g) + f"{dob.year % 100:02d}" + \
            draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
        number = id_number[3:]
    else:
        id_number, number = None, draw(st.from_regex(r"[0-9]{9}", fullmatch=True))
    # Cards exist from 2016: an expiry is a birthday at 14/25/40/60 from 2016 to 2115, or none (for life).
    ages = [a for a in (14, 25, 40, 60) if 2016 <= dob.year + a <= 2115 and (dob.month, dob.day) != (2, 29)]
    choices = ages + ([None] if with_id or dob.year <= date.today().year - 58 else [])
    assume(choices)  # a 29 February birthday with no ID number, young enough to need an expiry: no such card here
    age = draw(st.sampled_from(choices))
    expiry = None if age is None else dob.replace(year=dob.year + age)
    upper = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=6)
    surname = draw(upper)
    given = " ".join(draw(st.lists(upper, max_size=3)))
    if len(surname) + 2 + len(given) > 30:
        given = ""
    return MrzTd1(number, id_number, dob.isoformat(), sex, expiry and expiry.isoformat(), surname, given, True, [])


# --- round trips ------------------------------------------------------------------------------------

@SETTINGS
@given(cccd_docs())
def test_cccd_round_trip(doc):
    text = documents.render(doc)
    assert documents.parse(text) == doc
    assert documents.parse(text.encode("utf-8") + b"\r\n") == doc


@SETTINGS
@given(bhyt_docs(), st.sampled_from(["$", "#"]), st.sampled_from(["-", "–"]))
def test_bhyt_round_trip(doc, terminator, dash):
    assert documents.parse(bhyt.render(doc, terminator, dash)) == doc
    assert json.loads(json.dumps(doc.to_json())) == doc.to_json()


@SETTINGS
@given(mrz_docs(), st.sampled_from(["\n", "\r\n", ""]))
def test_mrz_round_trip(doc, separator):
    assert documents.parse(mrz.render(doc, separator)) == doc


# --- never anything but a document or ParseError ----------------------------------------------------

def parse_or_refuse(data):
    try:
        doc = documents.parse(data)
    except ParseError as e:
        assert str(e) and "\n" not in str(e)
        return None
    assert isinstance(doc, (CccdQr, BhytQr, MrzTd1))
    json.dumps(doc.to_json(), ensure_ascii=False)
    doc.identity()
    return doc


@SETTINGS
@given(st.binary(max_size=4096))
@example(b"\xff" * 70_000)
@example(b"|" * 65_536)
def test_arbitrary_bytes(data):
    parse_or_refuse(data)


@SETTINGS
@given(st.text(max_size=2000))
def test_arbitrary_text(text):
    parse_or_refuse(text)


VALID = [CCCD_1, bhyt_payload(), bhyt_payload("old"), MRZ_REFERENCE, MRZ_REFERENCE.replace("\n", "")]
mutation = st.tuples(st.sampled_from(["insert", "delete", "replace", "repeat"]), st.integers(0, 10_000),
                     st.text(alphabet=st.sampled_from(list("|$#<-– \r\n0123456789abcfF/ạ\x00\ufeff")) | st.characters(),
                             min_size=1, max_size=4), st.integers(1, 10_000))


@SETTINGS
@given(st.sampled_from(VALID), st.lists(mutation, min_size=1, max_size=6))
def test_mutated_payloads(payload, mutations):
    for op, pos, text, n in mutations:
        pos %= len(payload) + 1
        if op == "insert":
            payload = payload[:pos] + text + payload[pos:]
        elif op == "delete":
            payload = payload[:pos] + payload[pos + n % 20:]
        elif op == "replace":
            payload = payload[:pos] + text + payload[pos + len(text):]
        else:  # a huge field: repeat a chunk many times
            payload = payload[:pos] + text * n + payload[pos:]
        if not payload:
            payload = "|"
    parse_or_refuse(payload)
    parse_or_refuse(payload.encode("utf-8", "surrogatepass"))
