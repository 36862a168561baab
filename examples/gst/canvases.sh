#!/usr/bin/env bash
# Canvases of a video through the codecprep GStreamer plugin, equal to
# `codec-video-prep --canvas_format png` with the same settings:
#
#   examples/gst/canvases.sh clip.mp4 OUT_DIR [readinessgroup properties...]
#   examples/gst/canvases.sh clip.mp4 out num-sampled-frames=64 grouping-mode=fixed
#
# Build the plugin first (scripts/cargo.sh build --release -p gst-plugin-codecprep).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
video=${1:?usage: $0 VIDEO OUT_DIR [PROPERTY=VALUE...]}
out=${2:?usage: $0 VIDEO OUT_DIR [PROPERTY=VALUE...]}
shift 2
mkdir -p "$out"
# A GST_PLUGIN_PATH given by the caller comes first (the tests point it at a fresh build).
export GST_PLUGIN_PATH="${GST_PLUGIN_PATH:+$GST_PLUGIN_PATH:}$root/target/release"
exec gst-launch-1.0 -q filesrc location="$video" ! qtdemux ! h264parse ! bitcostdec \
  ! readinessgroup "$@" ! canvaspack ! pngenc ! multifilesink location="$out/canvas_%03d.png"
