#!/usr/bin/env bash
# Run the suite: start what the tests need, then pytest. Extra arguments go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
VENV=${VENV:-.venv}
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
# Services the tests need are started by tests/services.d/*.sh (each idempotent).
for s in tests/services.d/*.sh; do
    [[ -e "$s" ]] || continue
    bash "$s" || echo "tests/run.sh: $s failed; tests that need it will fail or skip with a reason" >&2
done
if (($#)); then
    "$VENV/bin/python" -m pytest "$@"
else
    "$VENV/bin/python" -m pytest -m "not slow"
fi
rc=$?
# pytest exits 5 when nothing was collected: that is a failure of the suite, not a pass.
exit $rc
