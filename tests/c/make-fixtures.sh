#!/usr/bin/env bash
# Generates the videos the C tests and examples use, with the system ffmpeg:
#
#   tests/c/make-fixtures.sh DIR [STAMP]
#
# Good clips: h264.mp4 (320x240, 60 frames, High profile with B-frames) and hevc.mp4
# (x265, 48 frames). Bad inputs (the foundation issue's list): empty.mp4, text.mp4,
# random.mp4 (64 KiB of deterministic pseudo-random bytes), audio_only.m4a, mpeg4.mp4
# (MPEG-4 Part 2); "missing.mp4" is never created. Files that exist are kept, new ones are
# written under a temporary name and renamed, so concurrent runs never see half a file.
# STAMP, when given, is touched at the end (meson's custom target output).
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 DIR [STAMP]" >&2; exit 2; }
dir=$1
stamp=${2:-}
mkdir -p "$dir"
command -v ffmpeg >/dev/null || { echo "make-fixtures.sh: error: ffmpeg not found (apt-get install ffmpeg)" >&2; exit 1; }

# produce NAME COMMAND...: runs COMMAND with the temporary output path as last argument.
produce() {
  local name=$1; shift
  [ -e "$dir/$name" ] && return 0
  local tmp="$dir/.tmp-$$-$name"
  "$@" "$tmp"
  mv -f "$tmp" "$dir/$name"
}

encode() { ffmpeg -nostdin -hide_banner -v error -y "$@"; }

moving_source=(
  -f lavfi -i "testsrc2=size=320x240:rate=25"
  -f lavfi -i "mandelbrot=size=96x96:rate=25"
  -filter_complex "[0][1]overlay=x='mod(t*106,224)':y='48+36*sin(t*4)',format=yuv420p"
  -an
)

produce h264.mp4 encode "${moving_source[@]}" -frames:v 60 \
  -c:v libx264 -preset medium -profile:v high -g 48 -crf 26 -bf 3 -f mp4
produce hevc.mp4 encode "${moving_source[@]}" -frames:v 48 \
  -c:v libx265 -x265-params log-level=error -g 48 -crf 28 -f mp4
produce audio_only.m4a encode -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=1" \
  -c:a aac -b:a 64k -f mp4
produce mpeg4.mp4 encode "${moving_source[@]}" -frames:v 24 -c:v mpeg4 -q:v 5 -f mp4

write_empty() { : >"$1"; }
write_text() {
  for _ in $(seq 20); do
    printf 'This is a text file, not a video.\nIt merely has an .mp4 name.\n'
  done >"$1"
}
write_random() {
  python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(1).randbytes(65536))' >"$1"
}
produce empty.mp4 write_empty
produce text.mp4 write_text
produce random.mp4 write_random
[ -z "$stamp" ] || touch "$stamp"
