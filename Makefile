# Thin wrappers named for their purpose. CI runs `make test` (.ci/run).
# Cross builds and qemu tests: cross/ (recipe in CROSS.md); the tools they need are installed once
# by cross/setup.sh under $TRACKSEED_TOOLS (default ~/.cache/trackseed-cross).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
# `make test` must run its steps in the order given, failing fast, even under `make -j`.
.NOTPARALLEL:

CROSS_TARGETS := mips-unknown-linux-musl mipsel-unknown-linux-musl \
                 armv7-unknown-linux-musleabihf aarch64-unknown-linux-musl
# Targets `make size` builds and checks against the budget in cross/size.sh.
TARGETS ?= mipsel-unknown-linux-musl
# Test logs `make test` adds up in its closing line.
TEST_LOGS := target/cargo-test.log target/mips-test.log
# The big-endian target `make test` runs under qemu.
QEMU_TEST_TARGET := mips-unknown-linux-musl

.PHONY: bench run test deps check fmt-check clippy forbid cargo-test mips-test fuzz \
        cross-setup cross cross-test size ipk clean

## run: the tracker with its embedded default config (TCP+UDP 6969, dual-stack)
run:
	cargo run --release

## test: everything CI checks, in order, stopping at the first failure
test: deps check cargo-test mips-test size fuzz
	@tests/summary.sh $(TEST_LOGS)

## deps: the Debian packages the tests need (installs them when root)
deps:
	tests/deps.sh

## check: formatting, lints, forbidden macros
check: fmt-check clippy forbid

fmt-check:
	cargo fmt --all -- --check
	cargo fmt --manifest-path tools/bench/Cargo.toml -- --check

clippy:
	cargo clippy --all-targets -- -D warnings
	cargo clippy --manifest-path tools/bench/Cargo.toml --all-targets -- -D warnings

## forbid: no dbg!, todo! or unimplemented! left in src/ or tests/
# The pattern is spelled with [!] so that it never matches this recipe line itself.
forbid:
	@if grep -rnE --exclude-dir=target '\b(dbg|todo|unimplemented)[!]' src tests tools; then \
	  echo "forbid: remove the macros listed above" >&2; exit 1; \
	fi

## cargo-test: unit, integration, smoke and real-client tests, natively
cargo-test:
	@mkdir -p target
	cargo test --all-targets 2>&1 | tee target/cargo-test.log

## mips-test: unit tests and the smoke test of a big-endian MIPS build, under qemu
mips-test: cross-setup
	@mkdir -p target
	cross/test.sh $(QEMU_TEST_TARGET) 2>&1 | tee target/mips-test.log

cross-setup:
	cross/setup.sh

## fuzz: every parser's fuzz target for FUZZ_SECONDS each (default 10; tests/fuzz/run.sh)
FUZZ_SECONDS ?= 10
fuzz: cross-setup
	tests/fuzz/run.sh $(FUZZ_SECONDS)

## cross: static release builds for all four router targets
cross: cross-setup
	for t in $(CROSS_TARGETS); do cross/build.sh $$t; done

## cross-test: cross/test.sh for all four router targets (stops at the first failure)
cross-test: cross-setup
	for t in $(CROSS_TARGETS); do cross/test.sh $$t; done

## size: build $(TARGETS) and fail if a stripped binary is over budget
size: cross-setup
	for t in $(TARGETS); do cross/build.sh $$t; done
	cross/size.sh $(TARGETS)

## ipk: an OpenWrt package for opkg (OpenWrt 24.10 and older) of a static release build, in
## target/ipk/trackseed_VERSION_ARCH.ipk: `make ipk ARCH=mipsel_24kc` (ARCH is opkg's
## architecture name: mipsel_24kc, mips_24kc, arm_cortex-a7_neon-vfpv4, aarch64_cortex-a53...;
## openwrt/build-ipk.sh, openwrt/README.md). An unknown or missing ARCH lists the known ones.
ipk:
	openwrt/build-ipk.sh --target-of "$(ARCH)" >/dev/null
	cross/setup.sh
	openwrt/build-ipk.sh "$(ARCH)"

## bench: trackseed vs Debian's opentracker vs a do-nothing tracker on loopback (tools/bench;
## BENCH_ARGS=--quick for a smoke run), then the static x86_64 musl build's idle memory,
## bytes per peer and size (the router build's figures, measured natively), then announce
## latency while the publisher hashes a 1 GiB file (`bench hash-latency`; HASH_BENCH_ARGS,
## e.g. --hash-slice-ms 2,5,20; cold-cache runs need root), then uploads of a 1 GiB file by
## sendfile against pread + write, sent the seeder's way (`bench sendfile`; SENDFILE_BENCH_ARGS)
BENCH := cargo run --release --manifest-path tools/bench/Cargo.toml --
STATIC_BIN := target/cross/x86_64-unknown-linux-musl/release/trackseed
bench: cross-setup
	$(BENCH) $(BENCH_ARGS)
	cross/build.sh x86_64-unknown-linux-musl
	$(BENCH) --servers trackseed --only memory --trackseed $(CURDIR)/$(STATIC_BIN)
	$(BENCH) hash-latency $(HASH_BENCH_ARGS)
	$(BENCH) sendfile --nodelay --msg-more $(SENDFILE_BENCH_ARGS)

clean:
	cargo clean
