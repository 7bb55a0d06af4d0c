"""/healthz (the process answers) and /readyz (the database answers and every migration is applied)."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    try:
        with connection.cursor() as c:
            c.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as e:
        return JsonResponse({"status": "unavailable", "database": "unreachable", "error": type(e).__name__},
                            status=503)
    if pending:
        return JsonResponse({"status": "unavailable", "database": "ok", "pending_migrations": len(pending)},
                            status=503)
    return JsonResponse({"status": "ok", "database": "ok", "engine": connection.vendor})
