#!/usr/bin/env bash
# A live source grouped as it streams: fixed groups of 8 frames sampled at 4 frames per
# second, packed into canvases, written as PNG files (stops after FRAMES frames).
#
#   examples/gst/live_groups.sh OUT_DIR [FRAMES]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: $0 OUT_DIR [FRAMES]}
frames=${2:-100}
mkdir -p "$out"
# A GST_PLUGIN_PATH given by the caller comes first (the tests point it at a fresh build).
export GST_PLUGIN_PATH="${GST_PLUGIN_PATH:+$GST_PLUGIN_PATH:}$root/target/release"
exec gst-launch-1.0 -q -e videotestsrc is-live=true num-buffers="$frames" pattern=ball \
  ! video/x-raw,width=320,height=240,framerate=25/1 ! x264enc tune=zerolatency \
  ! h264parse ! bitcostdec ! readinessgroup grouping-mode=fixed group-size=8 \
    frame-sampling-mode=fps ! canvaspack ! pngenc ! multifilesink location="$out/canvas_%03d.png"
