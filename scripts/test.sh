#!/usr/bin/env bash
# Runs every test: the Rust unit and integration tests, the AWS API tests (the real aws CLI
# and boto3 against a real server), then the browser tests (Playwright driving Debian's
# Chromium against a real server with demo data). Installs what is missing first: the wasm
# target, wasm-bindgen-cli, Chromium, the npm packages of end2end, of the test OpenID
# provider (server/tests/oidc) and of the AWS SDK for JavaScript client (server/tests/aws_api/js),
# a Python virtualenv.
source "$(dirname "$0")/lib.sh"

ensure_rust_tools
if ! command -v chromium >/dev/null 2>&1; then
  step "installing Debian's chromium (browser tests)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d end2end/node_modules/@playwright/test ]; then
  step "installing the end2end npm packages"
  (cd end2end && npm ci --no-audit --no-fund)
fi
# The real OpenID provider the single sign-on browser test signs in through (oidc-provider);
# reinstalled when its lockfile changes. Without it that test fails (it is never skipped).
if ! cmp -s server/tests/oidc/package-lock.json server/tests/oidc/node_modules/.installed-lock.json; then
  step "installing the OpenID provider's npm packages (single sign-on tests)"
  (cd server/tests/oidc && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.installed-lock.json)
fi
# The AWS SDK for JavaScript v3, the non-botocore client of the AWS API tests (test_js_sdk.py);
# reinstalled when its lockfile changes. Without it that test fails (it is never skipped).
if ! cmp -s server/tests/aws_api/js/package-lock.json server/tests/aws_api/js/node_modules/.installed-lock.json; then
  step "installing the AWS SDK for JavaScript (AWS API tests)"
  (cd server/tests/aws_api/js && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.installed-lock.json)
fi

build_site
build_server

# ensure_venv VENV REQUIREMENTS: a virtualenv holding exactly REQUIREMENTS (rebuilt when they change).
ensure_venv() {
  if ! cmp -s "$2" "$1/requirements.txt"; then
    python3 -m venv "$1"
    "$1/bin/pip" install -q -r "$2"
    cp "$2" "$1/requirements.txt"
  fi
}

step "moto (an S3-compatible server from PyPI, for the S3 ingest test)"
ensure_venv "$TARGET_DIR/s3-venv" server/tests/s3/requirements.txt

step "Rust tests"
# The storage tests also run against Postgres when one listens on this machine (as on the
# project's machines and in CI); elsewhere cargo lists them as ignored, with the reason.
if [ -z "${TRAILSIGHT_TEST_POSTGRES_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
   && pg_isready -q -h 127.0.0.1 -p 5432; then
  export TRAILSIGHT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/test"
fi
if [ -z "${TRAILSIGHT_TEST_POSTGRES_URL:-}" ] && [ "${CI:-}" = true ]; then
  echo "CI=true but no Postgres answers on 127.0.0.1:5432 (pg_isready) and TRAILSIGHT_TEST_POSTGRES_URL is not set:" >&2
  echo "start one (trust auth, user postgres, database test) or set TRAILSIGHT_TEST_POSTGRES_URL" >&2
  exit 1
fi
echo "Postgres tests: ${TRAILSIGHT_TEST_POSTGRES_URL:-skipped (no server on 127.0.0.1:5432)}"
# The frontend is excluded: it only exists for wasm32 (and would merge app's features).
cargo test --workspace --exclude frontend

step "AWS API tests (the real aws CLI and boto3 from PyPI, the AWS SDK for JavaScript from npm)"
VENV="$TARGET_DIR/aws-venv"
ensure_venv "$VENV" server/tests/aws_api/requirements.txt
VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" "$VENV/bin/pytest" -q -p no:cacheprovider server/tests/aws_api

step "browser tests (Playwright, Chromium)"
(cd end2end && npx playwright test)
