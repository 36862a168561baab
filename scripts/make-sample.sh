#!/usr/bin/env bash
# Generates the demo sample video with the system ffmpeg (libx264 + aac):
#   scripts/make-sample.sh OUT.mp4
# 10 s, 640x360, 25 fps, H.264 High with B-frames, plus a 440 Hz sine audio track. The picture
# has static parts (the colour bars and gradients of testsrc2), a moving, evolving Mandelbrot
# patch sweeping across, and a Game of Life panel in the lower right corner, so bit cost
# differs clearly between regions and over time. Idempotent: an existing OUT is left alone.
set -euo pipefail

usage() { echo "usage: $0 OUT.mp4" >&2; exit 2; }
[ $# -eq 1 ] || usage
out=$1
[ -n "$out" ] || usage

if [ -s "$out" ]; then
  echo "make-sample.sh: $out exists, leaving it" >&2
  exit 0
fi
command -v ffmpeg >/dev/null || { echo "make-sample.sh: error: ffmpeg not found (apt-get install ffmpeg)" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
tmp="$(dirname "$out")/.make-sample.$$.$(basename "$out")"
trap 'rm -f "$tmp"' EXIT

duration=10
graph="\
[0:v]format=yuv420p[bg];\
[1:v]format=yuv420p[fractal];\
[2:v]scale=192:144:flags=neighbor,format=yuv420p[life];\
[bg][fractal]overlay=x='20+(W-w-40)*(0.5-0.5*cos(t*2*PI/5))':y='40+30*sin(t*2*PI/3)'[a];\
[a][life]overlay=x=W-w-16:y=H-h-16[v]"

ffmpeg -nostdin -hide_banner -v error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=25:duration=$duration" \
  -f lavfi -i "mandelbrot=size=176x176:rate=25:start_scale=3:end_scale=0.05" \
  -f lavfi -i "life=size=96x72:rate=25:mold=10:ratio=0.3:seed=7:death_color=#202020:life_color=#f0f0f0" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$duration" \
  -filter_complex "$graph" -map "[v]" -map 3:a \
  -t "$duration" \
  -c:v libx264 -profile:v high -preset medium -crf 23 -bf 3 -g 250 -pix_fmt yuv420p \
  -c:a aac -b:a 96k \
  -movflags +faststart \
  "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "make-sample.sh: wrote $out" >&2
