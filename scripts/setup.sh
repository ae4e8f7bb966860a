#!/usr/bin/env bash
# Installs what building and booting phantom-unix needs, only when missing:
#   - QEMU (Debian package qemu-system-x86), via apt-get;
#   - the rustup targets x86_64-unknown-none (kernel) and
#     i686-unknown-linux-gnu (user programs);
#   - the rustup components clippy, rustfmt and llvm-tools.
# Idempotent, and quick when everything is there (no network then).
# Auto-install of toolchain parts is disabled on the project's machines, so
# targets and components are added explicitly.
set -euo pipefail
# From the repo root, so rustup sees the project's toolchain (if it pins one).
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- Debian packages: QEMU, gcc -----------------------------------------------
missing_packages=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing_packages+=(qemu-system-x86)
command -v gcc >/dev/null 2>&1 || missing_packages+=(gcc)
if [ "${#missing_packages[@]}" -gt 0 ]; then
    say "missing: installing Debian's ${missing_packages[*]}"
    command -v apt-get >/dev/null 2>&1 ||
        die "no apt-get here: install ${missing_packages[*]} (QEMU >= 7.2) yourself"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install ${missing_packages[*]} as root"
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing_packages[@]}"
    command -v qemu-system-x86_64 >/dev/null 2>&1 || die "QEMU still missing after apt-get install"
    command -v gcc >/dev/null 2>&1 || die "gcc still missing after apt-get install"
fi

# --- Rust targets and components ----------------------------------------------
command -v rustup >/dev/null 2>&1 ||
    die "rustup not found: install Rust (stable) with rustup first"

installed_targets=$(rustup target list --installed)
for target in x86_64-unknown-none i686-unknown-linux-gnu; do
    if ! grep -qx "$target" <<<"$installed_targets"; then
        say "adding rustup target $target"
        rustup target add "$target"
    fi
done

# Installed components are listed with the host triple: clippy-x86_64-unknown-linux-gnu.
installed_components=$(rustup component list --installed)
for component in clippy rustfmt llvm-tools; do
    if ! grep -Eq "^${component}(-preview)?-" <<<"$installed_components"; then
        say "adding rustup component $component"
        rustup component add "$component"
    fi
done
