#!/usr/bin/env bash
# Starts the server the browser tests run against: a fresh database with the demo history
# of a fixed seed and end time. TRAILSIGHT_BIN is set by scripts/test.sh.
set -euo pipefail
port="$1"
here="$(cd "$(dirname "$0")" && pwd)"
bin="${TRAILSIGHT_BIN:-$here/../target/debug/trailsight}"
db_dir="$(mktemp -d)"
trap 'rm -rf "$db_dir"' EXIT
"$bin" demo --db "sqlite://$db_dir/e2e.db" --seed 7 --end 2026-03-10T18:00:00Z >&2
"$bin" serve --db "sqlite://$db_dir/e2e.db" --addr "127.0.0.1:$port" \
  --site-root "$here/../target/site" --detect-every 0
