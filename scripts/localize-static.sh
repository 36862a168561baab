#!/usr/bin/env bash
# Makes a static libcodecprep.a safe to link into programs that also use a system FFmpeg,
# OpenCV or another Rust static library:
#
#   scripts/localize-static.sh IN.a OUT.a
#
# cargo's staticlib bundles the patched FFmpeg and Rust's std with all their global symbols
# (av_*, avcodec_*, ff_*, sws_*, rust_*...), which would clash with, or worse silently replace,
# the system's copies. This script partially links what the codecprep_* entry points need
# into one relocatable object (`ld -r`, pulling archive members the way a final link does),
# then makes every defined global symbol local except codecprep_* (`objcopy
# --keep-global-symbols`) and drops the embedded LLVM bitcode. Undefined references (libc, libm, libgcc_s...) stay as they are;
# a program linking OUT.a adds them (pkg-config --static --libs codecprep).
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 IN.a OUT.a" >&2; exit 2; }
in=$1
out=$2
[ -f "$in" ] || { echo "localize-static.sh: error: $in not found" >&2; exit 1; }
for tool in ld objcopy nm ar; do
  command -v "$tool" >/dev/null || { echo "localize-static.sh: error: $tool not found (binutils)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The public entry points: every defined global codecprep_* symbol of the archive.
nm --defined-only --extern-only "$in" 2>/dev/null \
  | awk '$2 ~ /^[TDBR]$/ && $3 ~ /^codecprep_/ { print $3 }' | sort -u >"$work/keep"
[ -s "$work/keep" ] || { echo "localize-static.sh: error: no codecprep_* symbols in $in" >&2; exit 1; }

undefined=()
while read -r sym; do undefined+=("--undefined=$sym"); done <"$work/keep"

# One relocatable object holding what the entry points reach (and what that reaches).
ld -r "${undefined[@]}" -o "$work/codecprep.o" "$in"
# Rust's objects embed LLVM bitcode (.llvmbc, .llvmcmd) for cross-language LTO; a program
# linking the archive has no use for it, and binutils' auto-loaded LLVM plugin of another
# LLVM version fails on it ("LLVM ERROR: Invalid encoding"), so it goes.
objcopy --keep-global-symbols="$work/keep" --remove-section=.llvmbc --remove-section=.llvmcmd \
  "$work/codecprep.o" "$work/codecprep-local.o"

# Check: the only defined globals left are the entry points.
leaked=$(nm --defined-only --extern-only "$work/codecprep-local.o" | awk '$3 !~ /^codecprep_/ { print $3 }' | head -n 5)
if [ -n "$leaked" ]; then
  echo "localize-static.sh: error: global symbols left besides codecprep_*: $leaked" >&2
  exit 1
fi

rm -f "$out.tmp"
ar rcs "$out.tmp" "$work/codecprep-local.o"
mv -f "$out.tmp" "$out"
