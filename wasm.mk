# WebAssembly builds and the npm package (pkg/). Included from the Makefile.
#
#   make wasm           single-threaded build -> pkg/dist/web   (Node, bundlers, edge workers, pages)
#   make wasm-threads   threaded build        -> pkg/dist/web-threads (cross-origin-isolated pages)
#   make test-js        both builds, then pkg/test: fixture replay in Node, API shape, workerd, Chromium
#
# Tools a fresh machine lacks are installed on first use: wasm-bindgen-cli (exactly the version
# Cargo.toml pins, into target/tools), the npm dev dependencies of pkg/ (binaryen's wasm-opt,
# workerd, playwright-core) and Debian's chromium. ../shared/WASM-NOTES.md explains each choice.

WASM_TARGET := wasm32-unknown-unknown
WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
WASM_TOOLS := target/tools
WASM_BINDGEN := $(WASM_TOOLS)/bin/wasm-bindgen
WASM_OPT := pkg/node_modules/.bin/wasm-opt
WASM_DIST := pkg/dist
WASM_ST_DIR := target/wasm-st
WASM_MT_DIR := target/wasm-mt
CHROMIUM := /usr/bin/chromium
# Size over speed is not wanted: the evaluator's speed matters as much as the download.
# V8 runs a wasm function in baseline code (Liftoff) until it is hot, then optimises it in the
# background (TurboFan) and swaps the new code in at the function's next call: a loop that
# runs once over a whole file keeps its baseline code to the end of that call. Such loops
# call a function per batch or item (the lexer's `run_batch`, the parser's `parse_item`,
# `drop_batch` of values), kept out of their callers by the `--no-inline` patterns (which
# must come before -O3); and no function is inlined into its only caller past 1,000 units
# of size, because a giant function called once per run (the module checker's driver grew
# to 86 KB) is optimised for nothing and occupies a compile thread for most of a second
# (docs/wasm.md, issue 17).
WASM_OUT_OF_LINE := run_batch parse_item drop_batch
WASM_NO_INLINE := $(foreach f,$(WASM_OUT_OF_LINE),'--no-inline=*::$(f)')
# A renamed function would leave its pattern matching nothing, silently: each build checks
# that the glue's module (names still in it) has every one of them.
define wasm_check_out_of_line
	@for f in $(WASM_OUT_OF_LINE); do grep -q -a "::$$f" $(1) \
	  || { echo "wasm.mk: no function *::$$f in $(1) for WASM_OUT_OF_LINE (renamed?)"; exit 1; }; done
endef
WASM_OPT_FLAGS := $(WASM_NO_INLINE) --one-caller-inline-max-function-size 1000 -O3 --enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-reference-types --enable-multivalue
# The release profile keeps line tables for native profiling; the wasm builds drop them (smaller
# modules, faster links) without touching Cargo.toml's profile.
WASM_PROFILE_ENV := CARGO_PROFILE_RELEASE_DEBUG=0

# Both builds: an 8 MiB shadow stack in linear memory (the default 1 MiB overflowed at about
# 1,000 levels of nesting in the parser, before V8's own stack limit, corrupting memory instead
# of raising a catchable RangeError) and the stack pointer exported, so that the JS glue can
# reset it if the host ever aborts a call midway (bind.js `guard`).
WASM_STACK_SIZE := 8388608
WASM_STACK_FLAGS := -C link-arg=-zstack-size=$(WASM_STACK_SIZE) -C link-arg=--export=__stack_pointer

# wasm-bindgen-rayon's worker helper spawns each pool thread from its own URL and imports
# the glue by URL inside it, which no bundler survives (Vite, esbuild, webpack rename, split
# or inline both): pkg/build.mjs replaces it with pkg/src/start-workers.js, whose threads run
# the glue and pkg/src/pool-worker.js bundled into one string, from a Blob URL. It also
# bundles `ligature/worker`'s engine worker for each build (dist/<build>/engine-worker*.js).
PKG_BUILD := node pkg/build.mjs

# The threaded build's flags (WASM-NOTES.md item 2): atomics alone do not make the memory shared
# with this compiler, hence the explicit linker arguments. Given to that one command only, never
# in .cargo/config.toml, where they would leak into the single-threaded build.
WASM_MT_RUSTFLAGS := -C target-feature=+atomics,+bulk-memory,+mutable-globals \
  -C link-arg=--shared-memory -C link-arg=--max-memory=1073741824 -C link-arg=--import-memory \
  -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
  -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base $(WASM_STACK_FLAGS)

.PHONY: wasm wasm-threads test-js bench-wasm wasm-tools wasm-bindgen-cli pkg-deps chromium

wasm-bindgen-cli: ## Install wasm-bindgen-cli at Cargo.toml's pinned version into target/tools (about 5 min)
	@if [ "$$($(WASM_BINDGEN) --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) into $(WASM_TOOLS)"; \
	  $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --root $(WASM_TOOLS) --force; \
	fi

pkg-deps: pkg/node_modules/.package-lock.json ## npm dev dependencies of pkg/ (binaryen, workerd, playwright-core)

pkg/node_modules/.package-lock.json: pkg/package.json pkg/package-lock.json
	cd pkg && npm ci --no-audit --no-fund
	@touch $@

chromium: ## Debian's chromium for the threaded-build test (only if missing)
	@if [ ! -x $(CHROMIUM) ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; fi

wasm-tools: setup wasm-bindgen-cli pkg-deps

wasm: wasm-tools ## Single-threaded wasm build + JS glue into pkg/dist/web (Node, edge, pages)
	RUSTFLAGS='$(WASM_STACK_FLAGS)' $(WASM_PROFILE_ENV) $(CARGO) build --lib --release --target $(WASM_TARGET) \
	  --target-dir $(WASM_ST_DIR)
	rm -rf $(WASM_DIST)/web
	$(WASM_BINDGEN) --target web --out-dir $(WASM_DIST)/web --out-name ligature \
	  $(WASM_ST_DIR)/$(WASM_TARGET)/release/ligature.wasm
	$(PKG_BUILD) engine $(WASM_DIST)/web
	$(call wasm_check_out_of_line,$(WASM_DIST)/web/ligature_bg.wasm)
	$(WASM_OPT) $(WASM_OPT_FLAGS) $(WASM_DIST)/web/ligature_bg.wasm -o $(WASM_DIST)/web/ligature_bg.wasm
	@ls -l $(WASM_DIST)/web/ligature_bg.wasm | awk '{print "pkg/dist/web/ligature_bg.wasm: " $$5 " bytes"}'
	@gzip -9 -c $(WASM_DIST)/web/ligature_bg.wasm | wc -c | awk '{print "gzipped: " $$1 " bytes"}'

wasm-threads: wasm-tools ## Threaded wasm build (nightly, build-std, shared memory) into pkg/dist/web-threads
	RUSTFLAGS='$(WASM_MT_RUSTFLAGS)' $(WASM_PROFILE_ENV) $(CARGO) +$(TOOLCHAIN) build --lib --release \
	  --target $(WASM_TARGET) --features threads -Z build-std=panic_abort,std --target-dir $(WASM_MT_DIR)
	rm -rf $(WASM_DIST)/web-threads
	$(WASM_BINDGEN) --target web --out-dir $(WASM_DIST)/web-threads --out-name ligature \
	  $(WASM_MT_DIR)/$(WASM_TARGET)/release/ligature.wasm
	$(PKG_BUILD) pool $(WASM_DIST)/web-threads $(WASM_STACK_SIZE)
	$(PKG_BUILD) engine $(WASM_DIST)/web-threads
	$(call wasm_check_out_of_line,$(WASM_DIST)/web-threads/ligature_bg.wasm)
	$(WASM_OPT) $(WASM_OPT_FLAGS) --enable-threads $(WASM_DIST)/web-threads/ligature_bg.wasm \
	  -o $(WASM_DIST)/web-threads/ligature_bg.wasm
	@ls -l $(WASM_DIST)/web-threads/ligature_bg.wasm | awk '{print "pkg/dist/web-threads/ligature_bg.wasm: " $$5 " bytes"}'

test-js: wasm wasm-threads chromium build ## npm package tests: fixtures in Node, API shape, workerd, threads in Chromium vs the CLI, ligature/worker, Vite/esbuild/webpack apps
	cd pkg && node --test --test-concurrency=1 test/

bench-wasm: wasm wasm-threads chromium build ## wasm benchmarks: native vs Node, threads vs not in Chromium, size, workerd validation, stopping ligature/worker calls, threads through a Vite build
	node benches/wasm_bench.mjs
	node benches/worker_bench.mjs
