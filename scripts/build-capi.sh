#!/usr/bin/env bash
# Builds libcodecprep with cargo (through scripts/cargo.sh, so the patched static FFmpeg is
# linked) and puts the installable files into OUTDIR; meson.build's custom target runs it.
#
#   scripts/build-capi.sh OUTDIR SOVERSION [PREBUILT_DIR]
#
# OUTDIR receives libcodecprep.so.SOVERSION (the cdylib, whose SONAME capi/build.rs sets),
# libcodecprep.so (a symlink to it, for -lcodecprep) and libcodecprep.a (FFmpeg's and Rust's
# symbols made local by scripts/localize-static.sh). With PREBUILT_DIR the libraries are
# taken from there (a cargo profile directory such as target/release) instead of building:
# the test suite uses that to exercise the meson install without running cargo inside cargo.
set -euo pipefail

[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: $0 OUTDIR SOVERSION [PREBUILT_DIR]" >&2; exit 2; }
out=$1
soversion=$2
prebuilt=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "$prebuilt" ]; then
  "$root/scripts/cargo.sh" build --release --locked -p codecprep-capi >&2
  prebuilt=${CARGO_TARGET_DIR:-$root/target}/release
fi
for lib in libcodecprep.so libcodecprep.a; do
  [ -f "$prebuilt/$lib" ] || { echo "build-capi.sh: error: $prebuilt/$lib not found" >&2; exit 1; }
done

mkdir -p "$out"
cp -f "$prebuilt/libcodecprep.so" "$out/libcodecprep.so.$soversion.tmp"
mv -f "$out/libcodecprep.so.$soversion.tmp" "$out/libcodecprep.so.$soversion"
ln -sfn "libcodecprep.so.$soversion" "$out/libcodecprep.so"
"$root/scripts/localize-static.sh" "$prebuilt/libcodecprep.a" "$out/libcodecprep.a"
