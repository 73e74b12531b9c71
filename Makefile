# Thin wrappers named for their purpose. CI runs `make test` (.ci/run).
# Cross builds and qemu tests: cross/ (recipe in CROSS.md); the tools they need are installed once
# by cross/setup.sh under $TRACKSEED_TOOLS (default ~/.cache/trackseed-cross).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
# `make test` must run its steps in the order given, failing fast, even under `make -j`.
.NOTPARALLEL:

CROSS_TARGETS := mips-unknown-linux-musl mipsel-unknown-linux-musl \
                 armv7-unknown-linux-musleabihf aarch64-unknown-linux-musl
# Targets `make size` builds and checks against their budgets in cross/size.sh: all four. In
# `make test`, qemu-test has already built two of them; the other two cost ~10 s each warm
# (make size took 18 s after qemu-test), ~75 s each cold.
TARGETS ?= $(CROSS_TARGETS)
# The router targets `make test` runs under qemu (cross/test.sh): big-endian 32-bit MIPS, and
# aarch64 rather than armv7: it is the only router target with SHA-1 code of its own (the Armv8
# SHA instructions; MIPS and ARMv7 share the portable code), and its unit tests take 41-45 s
# under qemu against armv7's 81-100 s (mips: 43-50 s). `make cross-test` runs all four.
QEMU_TEST_TARGETS := mips-unknown-linux-musl aarch64-unknown-linux-musl
# Test logs `make test` adds up in its closing line.
TEST_LOGS := target/cargo-test.log $(QEMU_TEST_TARGETS:%=target/qemu-test-%.log) \
             target/ipk-test.log

.PHONY: bench run test deps check fmt-check clippy forbid cargo-test qemu-test fuzz \
        cross-setup cross cross-test size ipk ipk-test clean

## run: the tracker with its embedded default config (TCP+UDP 6969, dual-stack)
run:
	cargo run --release

## test: everything CI checks, in order, stopping at the first failure
test: deps check cargo-test qemu-test size ipk-test fuzz
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

## qemu-test: unit tests and the smoke test of the release binary under qemu, for big-endian
## MIPS and aarch64 ($(QEMU_TEST_TARGETS)); logs in target/qemu-test-TARGET.log
qemu-test: cross-setup
	@$(call qemu_tests,$(QEMU_TEST_TARGETS),qemu-test)

cross-setup:
	cross/setup.sh

## fuzz: every parser's fuzz target for FUZZ_SECONDS each (default 10; tests/fuzz/run.sh)
FUZZ_SECONDS ?= 10
fuzz: cross-setup
	tests/fuzz/run.sh $(FUZZ_SECONDS)

## cross: static release builds for all four router targets
cross: cross-setup
	for t in $(CROSS_TARGETS); do cross/build.sh $$t; done

## cross-test: cross/test.sh for all four router targets; logs in target/cross-test-TARGET.log
cross-test: cross-setup
	@$(call qemu_tests,$(CROSS_TARGETS),cross-test)

# $(call qemu_tests,TARGETS,NAME): cross/test.sh for each of TARGETS, logged to
# target/NAME-TARGET.log. Every target runs even if one fails (each run takes a minute or two,
# and one run should tell everything); the closing lines repeat each target's result and time,
# and the step fails if any target did.
define qemu_tests
mkdir -p target; \
failed=""; \
for t in $(1); do \
  cross/test.sh $$t 2>&1 | tee target/$(2)-$$t.log || failed="$$failed $$t"; \
done; \
for t in $(1); do tail -n 1 target/$(2)-$$t.log; done; \
if [ -n "$$failed" ]; then echo "$(2): FAILED:$$failed" >&2; exit 1; fi
endef

## size: build $(TARGETS) (default: all four) and fail if a stripped binary is over its budget
## (cross/size.sh: 600 KiB for MIPS, 480 KiB for ARM)
size: cross-setup
	for t in $(TARGETS); do cross/build.sh $$t; done
	cross/size.sh $(TARGETS)

## ipk-test: the .ipk of the mipsel build `size` just made, unpacked, its binary run under qemu
# (cargo-test ran before any cross build existed, so there the test could only skip).
ipk-test:
	@mkdir -p target
	TRACKSEED_REQUIRE_CROSS=1 cargo test --test openwrt ipk_of_the_mipsel_build 2>&1 \
	  | tee target/ipk-test.log

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
## sendfile against pread + write, sent the seeder's way (`bench sendfile`; SENDFILE_BENCH_ARGS),
## then trackseed, rtorrent and transmission-daemon seeding a 1 GiB file to libtorrent on loopback
## and their memory with 1, 100 and 1000 torrents, the static build's too (`bench seeding`, ~5½
## minutes, installs rtorrent/transmission/python3-libtorrent as root; SEEDING_BENCH_ARGS)
BENCH := cargo run --release --manifest-path tools/bench/Cargo.toml --
STATIC_BIN := target/cross/x86_64-unknown-linux-musl/release/trackseed
bench: cross-setup
	$(BENCH) $(BENCH_ARGS)
	cross/build.sh x86_64-unknown-linux-musl
	$(BENCH) --servers trackseed --only memory --trackseed $(CURDIR)/$(STATIC_BIN)
	$(BENCH) hash-latency $(HASH_BENCH_ARGS)
	$(BENCH) sendfile --nodelay --msg-more $(SENDFILE_BENCH_ARGS)
	$(BENCH) seeding --rss-trackseed $(CURDIR)/$(STATIC_BIN) $(SEEDING_BENCH_ARGS)

clean:
	cargo clean
