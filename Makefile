# tollgate — the two commands: `make dev` (run everything locally) and `make test` (every test).
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
NODE_TEST := node --test --test-concurrency=1 --test-timeout=180000

.PHONY: help dev test tools edge origin lint test-rust test-e2e test-api bench bench-catalog bench-limits bench-snapshot bench-jwt bench-validation bench-cache bench-policies bench-rating bench-ingest clean

help:
	@echo "make dev    install what is missing, build, run origin + edge + demo upstream (Ctrl-C stops all)"
	@echo "make test   install what is missing, run every test (unit, wasm, workerd, PostgreSQL)"
	@echo "make bench  benchmark direct vs through the edge (needs wrk; installs it)"
	@echo "make bench-snapshot  the origin's snapshot with 1,000 APIs and 100,000 keys"
	@echo "make bench-catalog  route matching, snapshot size/build, Stripe changelog diff"
	@echo "make bench-limits  benchmark no limit vs strict vs fast rate limits at the edge"
	@echo "make bench-jwt  JWT verification cost per algorithm, native and inside workerd"
	@echo "make bench-validation  request validation cost per request (core) and edge req/s enforce vs off"
	@echo "make bench-cache  benchmark cache hits vs misses through the edge"
	@echo "make bench-rating  rating a month of 1,000,000 events for 10,000 consumers vs summing usage"
	@echo "make bench-ingest  usage events/s into the ledger, SQLite and PostgreSQL, batches of 100 and 1,000"
	@echo "make bench-policies  benchmark a typical policy set (headers, rewrite, CORS) vs none at the edge"

tools:
	@scripts/ensure-tools.sh

edge: tools
	@scripts/build-edge.sh

origin: tools
	$(CARGO) build -p tollgate-origin --bin tollgate

dev: tools edge origin
	@scripts/dev.sh

lint: tools
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p tollgate-core -p tollgate-edge --target wasm32-unknown-unknown -- -D warnings

test-rust: tools
	$(CARGO) build -p tollgate-core --target wasm32-unknown-unknown
	$(CARGO) test --workspace

test-e2e: edge origin
	@scripts/ensure-tools.sh browser
	$(NODE_TEST) tests/e2e/

test-api: origin
	@scripts/schemathesis.sh

test: lint test-rust test-e2e test-api

bench:
	@scripts/ensure-tools.sh bench
	@scripts/build-edge.sh
	$(CARGO) build --release -p tollgate-origin --bin tollgate
	@bench/edge-proxy.sh

bench-ingest:
	$(CARGO) build --release -p tollgate-origin --bin tollgate
	node bench/ingest.mjs

bench-snapshot:
	$(CARGO) build --release -p tollgate-origin --bin tollgate
	node bench/snapshot-scale.mjs

bench-rating:
	$(CARGO) bench -p tollgate-core --bench rating

bench-catalog:
	$(CARGO) bench -p tollgate-core --bench catalog
bench-jwt:
	$(CARGO) bench -p tollgate-core --bench jwt_verify
	@scripts/build-edge.sh
	$(CARGO) build --release -p tollgate-origin --bin tollgate
	node bench/jwt-verify.mjs

bench-limits:
	@scripts/ensure-tools.sh bench
	@scripts/build-edge.sh
	$(CARGO) build --release -p tollgate-origin --bin tollgate
	node bench/ratelimit.mjs
bench-policies:
	@scripts/ensure-tools.sh bench
	@scripts/build-edge.sh
	$(CARGO) build --release -p tollgate-origin --bin tollgate
	node bench/policies.mjs

bench-validation:
	@scripts/ensure-tools.sh bench
	$(CARGO) bench -p tollgate-core --bench validation
	@scripts/build-edge.sh
	$(CARGO) build --release -p tollgate-origin --bin tollgate
	node bench/validation.mjs

bench-cache:
	@scripts/ensure-tools.sh bench
	@scripts/build-edge.sh
	$(CARGO) build --release -p tollgate-origin --bin tollgate
	node bench/cache.mjs

clean:
	$(CARGO) clean
	rm -rf edge/build
