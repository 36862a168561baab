#!/usr/bin/env bash
# Runs cargo with the environment that links the patched static FFmpeg (built or reused by
# ffmpeg/build.sh). Every cargo invocation of the Makefile goes through here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$("$root/ffmpeg/build.sh")
export FFMPEG_DIR="$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
exec cargo "$@"
