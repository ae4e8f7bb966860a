# phantom-unix — the two commands: `make run` boots the kernel in QEMU,
# `make test` runs every test. Both install what is missing first
# (scripts/setup.sh). See README.md and docs/testing.md.

SHELL  := /bin/bash
CARGO  ?= cargo
KERNEL_TARGET := x86_64-unknown-none

# `make run` knobs:
#   MODULES   boot modules, one quoted spec each: MODULES="'echo a b' /path/prog"
#             (default: none, and `init=/bin/init` from the root file system,
#             which starts the shell on the console; without a terminal, the
#             shell runs the demo script /etc/demo.sh and the machine stops)
#   APPEND    kernel command line:                APPEND='log=debug'
#   QEMUFLAGS more `cargo xtask qemu` flags:       QEMUFLAGS='--kvm --timeout 30'
MODULES   ?=
APPEND    ?=
QEMUFLAGS ?=

.PHONY: all setup build run test bench fmt fmt-check clippy check clean

all: build

setup:
	@scripts/setup.sh

build: setup
	$(CARGO) xtask build

# Boots the kernel (building it first); with a terminal, the keyboard goes to
# the serial console. Exits with the kernel's shutdown status.
run: setup
	@if [ -n "$(MODULES)" ]; then init=""; modules="$(MODULES)"; \
	elif [ -t 0 ]; then init="init=/bin/init"; modules=""; \
	else echo "make run: no terminal: the shell runs /etc/demo.sh, then the machine stops"; \
		init=""; modules="'init /etc/demo.sh'"; fi; \
	eval "$(CARGO) xtask qemu --append '$$init $(APPEND)' $(QEMUFLAGS) -- $$modules"

# Host unit tests of the default members, the kernel's and ulibc's host unit
# tests, then the QEMU integration tests against a freshly built image (TCG).
test: setup
	$(CARGO) test
	$(CARGO) test -p kernel
	cd unix/user && $(CARGO) test -p ulibc --target x86_64-unknown-linux-gnu
	$(CARGO) xtask build
	$(CARGO) test -p tests

# Benchmarks (in-kernel and Linux side by side) — filled in by the
# benchmarks issue.
bench: setup
	$(CARGO) run -p bench --release

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

# Host crates (all targets, tests crate included), then the kernel: its host
# unit tests and the bare-metal image.
clippy: setup
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy -p tests --all-targets -- -D warnings
	$(CARGO) clippy -p kernel --tests -- -D warnings
	$(CARGO) clippy -p kernel --release --target $(KERNEL_TARGET) -- -D warnings
	$(CARGO) clippy -p kernel --release --target $(KERNEL_TARGET) --no-default-features -- -D warnings

check: fmt-check clippy

clean:
	$(CARGO) clean
