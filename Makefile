# powerpost-analytics — `make test` and `make demo` are all a fresh machine needs.
SHELL := /bin/bash
export CHROMEDRIVER ?= /usr/bin/chromedriver
# Not node_modules/.bin: the node22/node24 packages put a `node` there; tests pick runtimes explicitly.
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: setup build test test-native test-size test-wasm test-rust-app test-package test-frameworks types demo bench fuzz clean

setup:
	@bash scripts/setup.sh

build: setup
	node scripts/build-pkg.mjs

test: setup
	$(MAKE) --no-print-directory test-native
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory test-size
	$(MAKE) --no-print-directory test-wasm
	$(MAKE) --no-print-directory test-rust-app
	$(MAKE) --no-print-directory test-package

test-native:
	cargo test --quiet
	cargo test --quiet --doc --features observe
	# The README's proxy defaults against the proxy's constants (they exist with the feature).
	cargo test --quiet --features proxy --test readme_defaults
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --target wasm32-unknown-unknown -- -D warnings
	cargo clippy --quiet --target wasm32-unknown-unknown --all-features -- -D warnings
	cargo clippy --quiet --target wasm32-unknown-unknown --features proxy --all-targets -- -D warnings

# The size gate: each entry of the built pkg/ against tests/size/budgets.json.
test-size:
	node --test tests/size/size.test.mjs

test-wasm:
	node tests/run-wasm-tests.mjs node chrome firefox node-proxy

# A Rust app depending on the crate: builds for wasm32, gets no exports from the crate, looks up.
test-rust-app:
	node tests/rust-app/check.mjs

# Each test fails by name after 5 minutes and each child process inside it after 3; the whole
# file after 30 (--test-timeout applies to the file's process too).
test-package:
	node --test --test-concurrency=1 --test-timeout=1800000 tests/package/package.test.mjs

# Writes pkg-template/types/data.d.ts from the Rust types (src/ts.rs); `make test` fails while
# the checked-in file differs.
types:
	UPDATE_TYPES=1 cargo test --quiet --lib ts::the_checked_in_declarations

# The README's proxy snippets in real Next.js, SvelteKit, Astro and Nuxt apps, built without the
# key and served with it. Not part of `make test`: it installs the frameworks from the npm registry.
test-frameworks: setup
	$(MAKE) --no-print-directory build
	node tests/frameworks/check.mjs

bench: setup
	@test -f pkg/package.json || $(MAKE) --no-print-directory build
	node --expose-gc bench/bench.mjs

# Long property-based fuzzing of the pure core (make test runs a bounded number of cases).
fuzz:
	PROPTEST_CASES=$${PROPTEST_CASES:-200000} cargo test --release --quiet properties -- --nocapture

demo: setup
	@test -f pkg/package.json || $(MAKE) --no-print-directory build
	node scripts/demo.mjs

clean:
	rm -rf pkg target/wasm-pack-out
