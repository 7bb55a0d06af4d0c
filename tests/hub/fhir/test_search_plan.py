"""The Encounter search for one station's day uses the (facility, day) index on PostgreSQL with a province's shape
of rows (460 stations) over 200 days (EXPLAIN of the very query the view runs; the timing is bench/'s job)."""

from __future__ import annotations

import pytest

pytest.importorskip("django")

from tests.hub import dashboard_data as dd  # noqa: E402


@pytest.fixture(scope="module")
def pg_hub(request, tmp_path_factory):
    return dd.module_database("postgres", request, tmp_path_factory)


def test_one_station_day_search_uses_the_facility_day_index(pg_hub):
    from django.db import connection

    from kiosk_hub.fhir import search, views
    from kiosk_hub.registry.models import Device

    dev = Device.objects.get(name="nghi-phong-1").pk
    with connection.cursor() as c:
        # A province's shape at a smaller scale: 460 stations, 3 visits a station a day over 200 days (276,000
        # rows; the real year is ~50 a station a day). What matters to the plan is that one station is a small
        # share of a day, as in a province.
        c.execute("""INSERT INTO registry_facility (code, name, district_code, district_name, province_code,
                                                    province_name)
                     SELECT (50000 + f)::text, 'Trạm ' || f, (500 + f / 20)::text, 'Huyện', '50', 'Tỉnh'
                     FROM generate_series(0, 459) AS f""")
        c.execute("""
            INSERT INTO ingest_visit (device_id, facility_id, record_id, idempotency_key, document, checked_in_at,
                                      day, queue_number, eligibility_code, payload, received_at)
            SELECT %s, (50000 + g %% 460)::text, g, 'k' || g, 'chip',
                   timestamptz '2025-10-01 01:00+00' + (g / 1380) * interval '1 day',
                   date '2025-10-01' + (g / 1380), 1 + (g / 460) %% 3, '000', '{}'::jsonb,
                   timestamptz '2025-10-01 01:00+00' + (g / 1380) * interval '1 day'
            FROM generate_series(0, 275999) AS g""", [dev])
        c.execute("ANALYZE ingest_visit")
    q = search.parse_encounter(__import__("django.http", fromlist=["QueryDict"]).QueryDict(
        "date=2026-03-01&location=Location/station-50123&_include=Encounter:patient"))
    qs = views.encounter_queryset(q, {"50123"})
    plans = [qs.explain(), views.page_of(qs, q).explain()]
    for plan in plans:
        assert "visit_facility_day" in plan, plan
        assert "Seq Scan on ingest_visit" not in plan, plan
    assert qs.count() == 3
