#!/usr/bin/env bash
# Creates, once, a Python virtualenv holding the reference tool (PyPI codec-video-prep 0.2.5)
# for differential tests, and prints the venv's bin directory on stdout.
#
#   export CODECPREP_REFERENCE_BIN=$(scripts/reference-env.sh)
#   cargo test -p codecprep-cli --test scan_h264
#
# Location: $CODECPREP_REFERENCE_VENV, else ${XDG_CACHE_HOME:-$HOME/.cache}/codecprep/reference-venv.
# Needs python3 (3.10-3.13, x86_64 Linux: the reference ships manylinux wheels only) with the
# venv module, and a reachable package index. The reference also runs the system ffprobe and
# ffmpeg, so those must be on PATH when it is used. Messages go to stderr; exit 1 on failure.
set -euo pipefail

version=0.2.5
venv=${CODECPREP_REFERENCE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/codecprep/reference-venv}
py=${PYTHON:-python3}

fail() { echo "reference-env.sh: error: $*" >&2; exit 1; }

# Quick path: already installed with the right version and importable native reader.
ready() {
  [ -x "$venv/bin/python" ] || return 1
  "$venv/bin/python" - "$version" >/dev/null 2>&1 <<'PY'
import sys
from importlib import metadata
assert metadata.version("codec-video-prep") == sys.argv[1]
import numpy  # noqa: F401
from codec_video_prep import cv_reader_fast  # noqa: F401
PY
}

if ! ready; then
  [ "$(uname -m)" = x86_64 ] || fail "the reference tool ships x86_64 Linux wheels only (this is $(uname -m))"
  command -v "$py" >/dev/null || fail "$py not found (install python3 and python3-venv)"
  "$py" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)' \
    || fail "$("$py" -V 2>&1) is not supported by codec-video-prep $version (needs CPython 3.10-3.13); set PYTHON=python3.X"
  if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$(dirname "$venv")"
    "$py" -m venv "$venv" >&2 \
      || fail "could not create a virtualenv at $venv (is python3-venv installed?)"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "codec-video-prep==$version" numpy >&2 \
    || fail "pip could not install codec-video-prep==$version into $venv (is the package index reachable?)"
  ready || fail "codec-video-prep $version is installed in $venv but its native reader (cv_reader_fast) does not import"
fi

for tool in ffmpeg ffprobe; do
  command -v "$tool" >/dev/null || echo "reference-env.sh: warning: $tool is not on PATH; the reference tool needs it" >&2
done

echo "$venv/bin"
