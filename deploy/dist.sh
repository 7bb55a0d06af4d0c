#!/usr/bin/env bash
# `make dist`: the application wheel, the deploy/ bundle and their SHA-256 sums in dist/.
# The wheel is reproducible for a given commit (SOURCE_DATE_EPOCH = the commit time).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
rm -rf build dist/*.whl dist/*.tar.gz dist/SHA256SUMS
mkdir -p dist
log=$(mktemp)
if ! "$VENV/bin/python" -m pip wheel --quiet --no-deps --wheel-dir dist . >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "dist: building the wheel failed" >&2
    exit 1
fi
rm -f "$log"
rm -rf build ./*.egg-info
wheel=$(find dist -maxdepth 1 -name '*.whl' | head -n1)
[[ -n $wheel ]] || { echo "dist: no wheel was built" >&2; exit 1; }
version=$(basename "$wheel" .whl | cut -d- -f2)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
    -czf "dist/kiosk-deploy-$version.tar.gz" deploy
(cd dist && sha256sum ./*.whl ./*.tar.gz | sed 's# \./# #' >SHA256SUMS)
echo "dist: $(basename "$wheel") and kiosk-deploy-$version.tar.gz"
cat dist/SHA256SUMS
