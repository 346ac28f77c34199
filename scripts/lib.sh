# Shared by scripts/demo.sh and scripts/test.sh: install what the build needs, then build.
# Sourced, not run. Every step is skipped when already done, so a second run is fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
# CI keeps its build cache outside the fresh clone; people keep it in ./target.
if [ "${CI:-}" = "true" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/trailsight/target}"
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# The browser bundle always lands here, wherever cargo builds.
SITE_ROOT="$ROOT/target/site"

step() { printf '\n==> %s\n' "$*"; }

ensure_rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  # wasm-bindgen's CLI must be exactly the version of the crate in Cargo.lock.
  local want
  want="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    step "installing wasm-bindgen-cli $want (about 2 minutes, once)"
    # Not --locked: its own lockfile pins a yanked crate.
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

# Builds the browser bundle into target/site/pkg: trailsight.js + trailsight.wasm. The profile
# is `dev` (fast to build: the tests) or `wasm-release` (small: what people are served).
# The frontend is built in its own cargo call: building it together with the server would
# merge the `hydrate` and `ssr` features of the app crate.
build_site() {
  local profile="${1:-dev}" dir
  step "building the browser bundle ($profile)"
  cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"
  dir="$([ "$profile" = dev ] && echo debug || echo "$profile")"
  mkdir -p "$SITE_ROOT/pkg"
  wasm-bindgen --target web --no-typescript --out-name trailsight \
    --out-dir "$SITE_ROOT/pkg" "$TARGET_DIR/wasm32-unknown-unknown/$dir/frontend.wasm"
  # leptos asks for /pkg/trailsight.wasm when LEPTOS_OUTPUT_NAME is set (.cargo/config.toml).
  mv -f "$SITE_ROOT/pkg/trailsight_bg.wasm" "$SITE_ROOT/pkg/trailsight.wasm"
  if [ "$profile" != dev ]; then
    # The release bundle is shrunk further by binaryen's wasm-opt (from npm: no download from
    # elsewhere), installed once under scripts/tools.
    if ! cmp -s scripts/tools/package-lock.json scripts/tools/node_modules/.installed-lock.json; then
      step "installing wasm-opt (binaryen, from npm; once)"
      (cd scripts/tools && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.installed-lock.json)
    fi
    # About half a minute: skipped when the bundle is the one optimised last time.
    local before
    before="$(sha256sum "$SITE_ROOT/pkg/trailsight.wasm" | cut -c1-64)"
    if [ "$before" = "$(cat "$TARGET_DIR/wasm-opt.input.sha256" 2>/dev/null)" ] && [ -f "$TARGET_DIR/wasm-opt.output.wasm" ]; then
      cp "$TARGET_DIR/wasm-opt.output.wasm" "$SITE_ROOT/pkg/trailsight.wasm"
    else
      step "shrinking the bundle with wasm-opt"
      scripts/tools/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
        --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$SITE_ROOT/pkg/trailsight.wasm" -o "$SITE_ROOT/pkg/trailsight.wasm"
      cp "$SITE_ROOT/pkg/trailsight.wasm" "$TARGET_DIR/wasm-opt.output.wasm"
      printf '%s' "$before" > "$TARGET_DIR/wasm-opt.input.sha256"
    fi
  fi
  # What a browser downloads (the server compresses it on the fly).
  echo "browser bundle: wasm $(( $(wc -c < "$SITE_ROOT/pkg/trailsight.wasm") / 1024 )) KiB," \
    "$(( $(gzip -9c "$SITE_ROOT/pkg/trailsight.wasm" | wc -c) / 1024 )) KiB gzipped; js $(( $(wc -c < "$SITE_ROOT/pkg/trailsight.js") / 1024 )) KiB"
  # Content-hashed copies, named in hash.txt (which leptos reads): pages then ask for
  # trailsight.<hash>.js/.wasm, which browsers may cache for a year (see server/src/web.rs).
  local js_hash wasm_hash
  js_hash="$(sha256sum "$SITE_ROOT/pkg/trailsight.js" | cut -c1-16)"
  wasm_hash="$(sha256sum "$SITE_ROOT/pkg/trailsight.wasm" | cut -c1-16)"
  find "$SITE_ROOT/pkg" -name 'trailsight.????????????????.*' -delete
  cp "$SITE_ROOT/pkg/trailsight.js" "$SITE_ROOT/pkg/trailsight.$js_hash.js"
  cp "$SITE_ROOT/pkg/trailsight.wasm" "$SITE_ROOT/pkg/trailsight.$wasm_hash.wasm"
  printf 'js: %s\nwasm: %s\n' "$js_hash" "$wasm_hash" > "$SITE_ROOT/pkg/hash.txt"
}

build_server() {
  step "building the trailsight server"
  cargo build -p server
  TRAILSIGHT_BIN="$TARGET_DIR/debug/trailsight"
  export TRAILSIGHT_BIN
}
