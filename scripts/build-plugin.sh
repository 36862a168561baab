#!/usr/bin/env bash
# Builds the GStreamer plugin with cargo (through scripts/cargo.sh, so the patched static
# FFmpeg is linked) and copies libgstcodecprep.so into OUTDIR; meson.build's custom target
# runs it.
#
#   scripts/build-plugin.sh OUTDIR [PREBUILT_DIR]
#
# With PREBUILT_DIR the plugin is taken from there (a cargo profile directory such as
# target/release) instead of building.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$1
prebuilt=${2:-}
if [ -z "$prebuilt" ]; then
  "$root/scripts/cargo.sh" build --release --locked -p gst-plugin-codecprep >&2
  prebuilt="$root/target/release"
fi
[ -f "$prebuilt/libgstcodecprep.so" ] || { echo "build-plugin.sh: no libgstcodecprep.so in $prebuilt" >&2; exit 1; }
cp "$prebuilt/libgstcodecprep.so" "$out/libgstcodecprep.so"
