#!/usr/bin/env bash
# Runs bench/edge-proxy.mjs (see there). Expects release binaries and edge/build.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node bench/edge-proxy.mjs
