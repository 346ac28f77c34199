#!/usr/bin/env bash
# Starts the server the browser tests run against: a fresh database with the demo history
# of a fixed seed and end time. TRAILSIGHT_BIN is set by scripts/test.sh.
set -euo pipefail
port="$1"
here="$(cd "$(dirname "$0")" && pwd)"
bin="${TRAILSIGHT_BIN:-$here/../target/debug/trailsight}"
db="${E2E_DB:?set by playwright.config.ts}"
rm -f "$db" "$db-wal" "$db-shm"
"$bin" demo --db "sqlite://$db" --seed 7 --end 2026-03-10T18:00:00Z >&2
exec "$bin" serve --db "sqlite://$db" --addr "127.0.0.1:$port" \
  --site-root "$here/../target/site" --detect-every 0
