#!/usr/bin/env bash
# Scan-only bit-cost statistics of a video with the codecprep GStreamer plugin: bitcostdec
# parses the stream without reconstructing pixels and attaches the bit-cost meta to every
# (pixel-less) buffer; fakesink prints one line per frame.
#
#   examples/gst/scan_bitcost.sh clip.mp4 [h264parse|h265parse|vp9parse]
#
# Build the plugin first (scripts/cargo.sh build --release -p gst-plugin-codecprep).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
video=${1:?usage: $0 VIDEO [PARSER]}
parser=${2:-h264parse}
# A GST_PLUGIN_PATH given by the caller comes first (the tests point it at a fresh build).
export GST_PLUGIN_PATH="${GST_PLUGIN_PATH:+$GST_PLUGIN_PATH:}$root/target/release"
exec gst-launch-1.0 filesrc location="$video" ! qtdemux ! "$parser" \
  ! bitcostdec scan-only=true max-threads=1 \
  ! fakesink silent=false sync=false -v
