# Ligature: build, test and benchmark entry points. `make help` lists them.
# `make test` is what CI runs (.ci/run); it installs what a fresh machine lacks.

TOOLCHAIN := $(shell sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
CARGO ?= cargo
EXAMPLE ?= examples/deploy.lig

.PHONY: help setup build test test-rust lint fmt wasm-check example bench bench-peers bench-robustness bench-cancel bench-quick bless ready clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

setup: ## Install the pinned toolchain (with rust-src, clippy, rustfmt, wasm32) if missing
	@if ! rustup run $(TOOLCHAIN) rustc --version >/dev/null 2>&1 \
	    || ! rustup +$(TOOLCHAIN) target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
	    || ! rustup +$(TOOLCHAIN) component list --installed 2>/dev/null | grep -q clippy; then \
	  echo "installing toolchain $(TOOLCHAIN)"; \
	  rustup toolchain install $(TOOLCHAIN) --profile minimal \
	    --component rust-src,clippy,rustfmt --target wasm32-unknown-unknown; \
	fi

build: setup ## Build the CLI (release)
	$(CARGO) build --release

example: build ## Run the main job on the example: evaluate examples/deploy.lig to JSON
	./target/release/ligature eval $(EXAMPLE) --format json

test: setup lint test-rust wasm-check test-js ## Run every test (what CI runs): Rust, then the npm package (Node, workerd, Chromium)

test-rust: ## Unit tests, fixture corpus (1 and N threads), CLI tests, tidy checks
	$(CARGO) test --all-targets

lint: setup ## rustfmt and clippy (warnings are errors)
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

wasm-check: setup ## The library builds for the browser (no threads)
	$(CARGO) build --lib --target wasm32-unknown-unknown

bless: ## Regenerate expected fixture outputs (review the diff!)
	BLESS=1 $(CARGO) test --test fixtures

bench: build bench-wasm ## Benchmarks: generated workloads through the release CLI (MB/s, memory, phases, 1 vs 2 threads), incremental re-evaluation
	python3 benches/run.py
	$(CARGO) bench --bench incremental

bench-robustness: build ## Adversarial inputs (issue 16) through the release CLI: code, time and peak memory of each
	python3 benches/robustness.py

bench-cancel: setup ## Time from a deadline (or a cancel) to R3008 in every phase, natively, on services 140,000 (5.7 MB)
	$(CARGO) bench --bench cancel

bench-peers: build ## The workloads through jrsonnet and nickel too, when installed (cargo install jrsonnet nickel-lang-cli)
	python3 benches/peers.py

ready: test bench ## Everything before a merge

clean:
	$(CARGO) clean
include wasm.mk
