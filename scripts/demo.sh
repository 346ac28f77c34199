#!/usr/bin/env bash
# Builds trailsight, fills a fresh SQLite database with two weeks of demo history (a real
# attack included), detects its insights and serves the dashboard on http://127.0.0.1:3000.
# Usage: scripts/demo.sh [--addr HOST:PORT]     Stop with Ctrl-C.
source "$(dirname "$0")/lib.sh"

ADDR="127.0.0.1:3000"
if [ "${1:-}" = "--addr" ]; then ADDR="$2"; fi

ensure_rust_tools
build_site
build_server

DB="$ROOT/target/demo.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
step "loading the demo history into $DB"
"$TRAILSIGHT_BIN" demo --db "sqlite://$DB"
step "serving"
echo "Open http://$ADDR/insights in your browser."
exec "$TRAILSIGHT_BIN" serve --db "sqlite://$DB" --addr "$ADDR" --site-root "$SITE_ROOT"
