#!/usr/bin/env bash
# Builds trailsight, fills a fresh SQLite database with two weeks of demo history (a real
# attack included), detects its insights and serves the dashboard on http://127.0.0.1:3000.
# Usage: scripts/demo.sh [--addr HOST:PORT]     Stop with Ctrl-C.
source "$(dirname "$0")/lib.sh"

ADDR="127.0.0.1:3000"
if [ "${1:-}" = "--addr" ]; then ADDR="$2"; fi

ensure_rust_tools
# The small release bundle (under 1 MB on the wire), not the 7 MB debug one the tests use.
build_site wasm-release
build_server

DB="$ROOT/target/demo.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
step "loading the demo history into $DB"
"$TRAILSIGHT_BIN" demo --db "sqlite://$DB"
case "$ADDR" in
  127.*|localhost:*|"[::1]:"*)
    # Demo keys for the AWS-compatible API, so the aws CLI works against the demo as it is.
    # Only on loopback: well-known keys must never open a server others can reach.
    export TRAILSIGHT_AWS_ACCESS_KEY_ID="${TRAILSIGHT_AWS_ACCESS_KEY_ID:-AKIATRAILSIGHTDEMO00}"
    export TRAILSIGHT_AWS_SECRET_ACCESS_KEY="${TRAILSIGHT_AWS_SECRET_ACCESS_KEY:-trailsight-demo-secret}"
    step "serving"
    echo "Open http://$ADDR/insights in your browser."
    echo "The aws CLI works too:"
    echo "  AWS_ACCESS_KEY_ID=$TRAILSIGHT_AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$TRAILSIGHT_AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 \\"
    echo "    aws cloudtrail lookup-events --event-category insight --max-items 5 --endpoint-url http://$ADDR"
    ;;
  *)
    # Reachable from other machines: sign-in is required, so make an admin with a fresh password.
    PASSWORD="$(head -c 18 /dev/urandom | base64 | tr -d '+/=')"
    printf '%s\n' "$PASSWORD" | "$TRAILSIGHT_BIN" users add admin --role admin --password-stdin --db "sqlite://$DB"
    step "serving"
    echo "Open http://$ADDR/insights and sign in as admin with the password $PASSWORD"
    ;;
esac
exec "$TRAILSIGHT_BIN" serve --db "sqlite://$DB" --addr "$ADDR" --site-root "$SITE_ROOT"
