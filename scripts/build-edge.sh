#!/usr/bin/env bash
# Builds the edge worker into edge/build with worker-build, pointing it at local tools so
# it never tries to download anything (see ../shared/notes/edge-toolchain.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/node_modules/.bin"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export WASM_OPT_BIN="$bin/wasm-opt"
export ESBUILD_BIN="$bin/esbuild"
cd edge
worker-build --release
