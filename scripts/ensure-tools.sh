#!/usr/bin/env bash
# Installs what building and testing tollgate needs, skipping whatever is already present:
# the wasm32 Rust target, worker-build and wasm-bindgen-cli at pinned versions, the npm
# packages from package-lock.json, and (with `bench`/`browser` arguments) Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

if ! worker-build --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
  step "installing worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: its lock file pins a webpki-roots release missing from crates.io.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages (wrangler, miniflare, esbuild, binaryen)"
  npm ci --no-audit --no-fund
fi

apt_need=()
for arg in "$@"; do
  case "$arg" in
    bench) command -v wrk >/dev/null || apt_need+=(wrk) ;;
    browser) command -v chromium >/dev/null || apt_need+=(chromium) ;;
  esac
done
if [ ${#apt_need[@]} -gt 0 ]; then
  step "installing Debian packages: ${apt_need[*]}"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y "${apt_need[@]}" || { $sudo_cmd apt-get update && $sudo_cmd apt-get install -y "${apt_need[@]}"; }
fi
