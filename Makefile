# Ligature: build, test and benchmark entry points. `make help` lists them.
# `make test` is what CI runs (.ci/run); it installs what a fresh machine lacks.

TOOLCHAIN := $(shell sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
CARGO ?= cargo
EXAMPLE ?= examples/deploy.lig

.PHONY: help setup build test test-rust neovim bench-lsp lint fmt wasm-check example bench bench-peers bench-robustness bench-cancel bench-quick bench-persist bench-remote bench-export bless ready clean \
  playground test-www www-deps www-build wasm-dist bench-playground bench-plugins test-editors editors-deps

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

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

test: setup lint test-rust wasm-check test-js test-www test-editors ## Run every test (what CI runs): Rust, the npm package (Node, workerd, Chromium), the playground, the editor extension

test-rust: neovim ## Unit tests, fixture corpus (1 and N threads), CLI tests, tidy checks, the language server in headless Neovim
	$(CARGO) test --all-targets

neovim: ## Debian's Neovim for the language server's real-client test (only if missing)
	@if ! command -v nvim >/dev/null 2>&1; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y neovim; fi

lint: setup ## rustfmt and clippy (warnings are errors)
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

wasm-check: setup ## The library builds for the browser (no threads)
	$(CARGO) build --lib --target wasm32-unknown-unknown

bless: ## Regenerate expected fixture outputs (review the diff!)
	BLESS=1 $(CARGO) test --test fixtures

bench: build bench-wasm bench-playground bench-plugins ## Benchmarks: generated workloads through the release CLI (MB/s, memory, phases, 1 vs 2 threads), incremental re-evaluation, wasm, the playground, the bundler plugins
	python3 benches/run.py
	$(CARGO) bench --bench incremental

bench-export: build ## `ligature types` on a 100,000-line schema (benches/gen.py schema): JSON Schema and TypeScript of every type, best of 5, peak memory (goal: under 0.5 s each)
	python3 benches/run.py --types

bench-plugins: pkg-deps ## ligature/vite: the time a Vite build spends per small .lig module, against the same data as .json modules (goal: under 5 ms)
	@if [ ! -f pkg/dist/web/ligature_bg.wasm ]; then $(MAKE) wasm; fi
	node benches/plugins_bench.mjs

bench-persist: build ## The persistent module cache (--cache) on 1,000 modules: uncached, cold, warm, after a leaf edit
	python3 benches/persist.py

bench-remote: build ## Remote imports: 200 modules behind a local server delaying each response 20 ms (default, one at a time, cached, local)
	python3 benches/remote.py

bench-robustness: build ## Adversarial inputs (issue 16) through the release CLI: code, time and peak memory of each
	python3 benches/robustness.py

bench-cancel: setup ## Time from a deadline (or a cancel) to R3008 in every phase, natively, on services 140,000 (5.7 MB)
	$(CARGO) bench --bench cancel

bench-lsp: ## The language server on 10,000 bindings: one-character edit to diagnostics (goal < 15 ms), hover (< 5 ms), peak memory (< 300 MB)
	$(CARGO) build --release --bin ligature
	$(CARGO) run --release --example lsp_bench

bench-peers: build ## The workloads through jrsonnet and nickel too, when installed (cargo install jrsonnet nickel-lang-cli)
	python3 benches/peers.py

# The browser playground (www/, issue 18): a Vite project on the npm package's worker client.
PORT ?= 5173
WWW_DEPS := www/node_modules/.package-lock.json

www-deps: $(WWW_DEPS) ## npm dependencies of www/ (Vite, CodeMirror, the local package)

$(WWW_DEPS): www/package.json www/package-lock.json
	cd www && npm ci --no-audit --no-fund
	@touch $@

wasm-dist: ## Both wasm builds, only when missing (make wasm wasm-threads rebuild them)
	@if [ ! -f pkg/dist/web/ligature_bg.wasm ] || [ ! -f pkg/dist/web/engine-worker-source.js ]; then $(MAKE) wasm; fi
	@if [ ! -f pkg/dist/web-threads/ligature_bg.wasm ] || [ ! -f pkg/dist/web-threads/engine-worker-source.js ]; then $(MAKE) wasm-threads; fi

www-build: wasm-dist www-deps ## Build the playground's static files into www/dist
	cd www && node_modules/.bin/vite build --logLevel warn

playground: www-build ## Build what is missing and serve the playground on http://127.0.0.1:$(PORT)/ (PORT= to choose)
	@echo "playground: http://127.0.0.1:$(PORT)/ (cross-origin isolated: the threaded engine)"
	cd www && node_modules/.bin/vite preview --host 127.0.0.1 --port $(PORT) --strictPort

test-www: www-build chromium ## The playground: its examples through the package, the page in headless Chromium
	cd www && node --test --test-concurrency=1 test/

bench-playground: www-build chromium pkg-deps ## The playground in headless Chromium: first result, first-view size, a 10,000-binding edit, compute at 2 threads vs 1
	node benches/playground_bench.mjs

# The VS Code extension (editors/vscode/, issue 22): its grammar under vscode-textmate, its bundle and types.
EDITORS_DEPS := editors/vscode/node_modules/.package-lock.json

editors-deps: $(EDITORS_DEPS) ## npm dependencies of editors/vscode/ (the language client, esbuild, tsc, vscode-textmate)

$(EDITORS_DEPS): editors/vscode/package.json editors/vscode/package-lock.json
	cd editors/vscode && npm ci --no-audit --no-fund
	@touch $@

test-editors: $(EDITORS_DEPS) ## The VS Code extension: its grammar over every .lig file, its bundle, its types, how it starts `ligature lsp`
	cd editors/vscode && node --test test/*.test.mjs

ready: test bench ## Everything before a merge

clean:
	$(CARGO) clean
include wasm.mk
