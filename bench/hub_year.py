"""A year of a province in the hub's PostgreSQL database, generated server-side (generate_series):
visits with their idempotency entries, the DailyUse aggregate, stay notifications, DeviceStatus and
HeartbeatDay rows for the enrolled devices. Synthetic data only: no real person.

Secondary indexes and constraints of the big tables are dropped during the load and rebuilt after
(and foreign-key triggers are off: session_replication_role = replica), as a bulk load would do.
"""

from __future__ import annotations

import time

BIG = ("ingest_visit", "ingest_idempotency")


def _drop_indexes(c, table: str) -> list[str]:
    """Drop every index and unique/foreign constraint except the primary key; return the SQL to rebuild."""
    rebuild = []
    for name, definition in c.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')", [table]).fetchall():
        rebuild.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        c.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, definition in c.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", [table, table]).fetchall():
        rebuild.append(definition)
        c.execute(f"DROP INDEX {name}")
    return rebuild


def generate(url: str, visits: int, stays: int, log=print) -> dict:
    """Fill the database at `url` (migrated, facilities imported, devices enrolled). Returns timings."""
    import psycopg

    t0 = time.monotonic()
    timings = {}
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("SET maintenance_work_mem = '512MB'")
        c.execute("SET session_replication_role = replica")
        ndev = c.execute("SELECT count(*) FROM registry_device").fetchone()[0]
        if ndev == 0:
            raise RuntimeError("enrol the devices before generating the year")
        c.execute("DROP TABLE IF EXISTS bench_dev")
        c.execute("CREATE UNLOGGED TABLE bench_dev AS SELECT (row_number() OVER (ORDER BY id)) - 1 AS rn, id, "
                  "facility_id FROM registry_device")
        rebuild = [sql for t in BIG for sql in _drop_indexes(c, t)]
        # One year up to yesterday (Vietnam time is UTC+7): visits spread evenly over days, 07:00-11:00.
        t = time.monotonic()
        c.execute(f"""
            INSERT INTO ingest_visit (device_id, facility_id, record_id, idempotency_key, document, checked_in_at,
                                      day, queue_number, eligibility_code, payload, purged_at, received_at)
            SELECT d.id, d.facility_id, g, k, doc, ts, (ts AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, 1 + (g / {ndev}) % 90,
                   '000',
                   jsonb_build_object('visit_id', g, 'facility_code', d.facility_id,
                                      'visit_date', (ts AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, 'document', doc,
                                      'queue_number', 1 + (g / {ndev}) % 90, 'source', 'serial',
                                      'eligibility', jsonb_build_object('result_code', '000')),
                   ts + interval '200 days', ts + interval '2 minutes'
            FROM generate_series(1, {visits}) g
            JOIN bench_dev d ON d.rn = g % {ndev}
            CROSS JOIN LATERAL (SELECT md5('v' || g)::uuid::text AS k,
                (ARRAY['chip','cccd_qr','bhyt_qr','mrz','manual','chip','bhyt_qr'])[1 + (hashint4(g::int) & 2147483647) % 7] AS doc,
                date_trunc('day', now()) - interval '1 day' * (365 - (g::bigint * 365 / {visits}))
                  + interval '1 second' * ((hashint4(g::int + 1) & 2147483647) % 14400) AS ts) x
        """)
        timings["visits_s"] = round(time.monotonic() - t, 1)
        log(f"  visits: {visits:,} rows in {timings['visits_s']} s")
        t = time.monotonic()
        c.execute("""
            INSERT INTO ingest_idempotency (device_id, key, kind, request_hash, status, response, created_at)
            SELECT device_id, idempotency_key, 'visit', md5(idempotency_key) || md5(idempotency_key), 201,
                   jsonb_build_object('id', 'V' || id, 'kind', 'visit', 'received_at', received_at), received_at
            FROM ingest_visit
        """)
        timings["idempotency_s"] = round(time.monotonic() - t, 1)
        log(f"  idempotency entries in {timings['idempotency_s']} s")
        t = time.monotonic()
        for sql in rebuild:
            c.execute(sql)
        timings["indexes_s"] = round(time.monotonic() - t, 1)
        log(f"  indexes and constraints rebuilt in {timings['indexes_s']} s")
        t = time.monotonic()
        c.execute("DELETE FROM ingest_dailyuse")
        c.execute("INSERT INTO ingest_dailyuse (facility_id, day, document, visits) "
                  "SELECT facility_id, day, document, count(*) FROM ingest_visit GROUP BY 1, 2, 3")
        # Stays: most sent on time, some late, a few still open (overdue or due soon).
        c.execute(f"""
            INSERT INTO ingest_staynotification (device_id, facility_id, record_id, idempotency_key, started_at,
                deadline_at, created_at, state, sent_at, acknowledged_at, payload, purged_at, received_at)
            SELECT d.id, d.facility_id, g, md5('s' || g)::uuid::text, ts, ts + interval '12 hours', ts,
                   CASE WHEN g % 500 = 0 THEN 'received' WHEN g % 3 = 0 THEN 'acknowledged' ELSE 'sent' END,
                   CASE WHEN g % 500 = 0 THEN NULL WHEN g % 20 = 0 THEN ts + interval '13 hours'
                        ELSE ts + interval '1 hour' END,
                   CASE WHEN g % 3 = 0 AND g % 500 <> 0 THEN ts + interval '2 hours' END,
                   jsonb_build_object('notification_id', g, 'facility_code', d.facility_id, 'reason', 'bench'),
                   NULL, ts + interval '5 minutes'
            FROM generate_series(1, {stays}) g
            JOIN bench_dev d ON d.rn = g % {ndev}
            CROSS JOIN LATERAL (SELECT now() - interval '1 day' * (365 - (g::bigint * 365 / {stays}))
                                       - interval '6 hours' AS ts) x
        """)
        c.execute("DELETE FROM registry_heartbeatday")
        c.execute("""
            INSERT INTO registry_heartbeatday (device_id, date, count, worst_backlog, min_disk_free_mb, fault_count,
                                               clock_unsynced_count, first_at, last_at)
            SELECT d.id, day::date, 288, 3, 9000, 0, 0, day, day + interval '23 hours 55 minutes'
            FROM bench_dev d CROSS JOIN generate_series(now() - interval '365 days', now() - interval '1 day',
                                                        interval '1 day') day
        """)
        c.execute("DELETE FROM registry_devicestatus")
        c.execute("""
            INSERT INTO registry_devicestatus (device_id, received_at, app_version, roster_version, roster_as_of,
                outbox, backlog, oldest_unsent_at, clock_synced, disk_free_mb, devices, visits_today, open_stays,
                earliest_stay_deadline)
            SELECT d.id, now() - interval '1 second' * (CASE WHEN d.rn % 50 = 0 THEN 7200 ELSE d.rn % 300 END),
                   '1.4.0', 42, to_char(now(), 'YYYY-MM-DD'), '{"queued": 0, "acknowledged": 120}'::jsonb, 0, NULL,
                   d.rn % 97 <> 0, 9000,
                   CASE WHEN d.rn % 61 = 0 THEN '{"scanner": "fault", "chip": "ok", "camera": "ok", "printer": "ok"}'
                        ELSE '{"scanner": "ok", "chip": "ok", "camera": "ok", "printer": "ok"}' END::jsonb,
                   '{"chip": 10, "bhyt_qr": 5}'::jsonb, d.rn % 4, CASE WHEN d.rn % 4 > 0 THEN now() + interval '3 hours' END
            FROM bench_dev d
        """)
        c.execute("DROP TABLE bench_dev")
        c.execute("SET session_replication_role = DEFAULT")
        timings["aggregates_s"] = round(time.monotonic() - t, 1)
        log(f"  daily use, {stays:,} stays, heartbeat days, device status in {timings['aggregates_s']} s")
        t = time.monotonic()
        c.execute("VACUUM ANALYZE")
        timings["analyze_s"] = round(time.monotonic() - t, 1)
        size = c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    timings["total_s"] = round(time.monotonic() - t0, 1)
    timings["database_size"] = size
    log(f"  year generated in {timings['total_s']} s, database {size}")
    return timings
