#!/usr/bin/env bash
# Builds every phantom-unix user program (release, i686-unknown-linux-gnu,
# static ELF32 ET_EXEC, no interpreter) into
#   <repo>/target/user/i686-unknown-linux-gnu/release/<program>
# and checks each binary's ELF shape with tools/check-elf.py (when python3 is
# there). Extra arguments go to `cargo build`, e.g. `./build.sh --quiet`.
# Prints the paths of the programs built, one per line, on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/user}"
cargo build --release "$@" >&2
out="$CARGO_TARGET_DIR/i686-unknown-linux-gnu/release"
progs=()
for src in programs/src/bin/*.rs; do
    progs+=("$out/$(basename "$src" .rs)")
done
if command -v python3 >/dev/null 2>&1; then
    python3 tools/check-elf.py "${progs[@]}" >&2
else
    echo "build.sh: python3 missing: ELF shape not checked" >&2
fi
printf '%s\n' "${progs[@]}"
