#!/usr/bin/env python3
"""GStreamer benchmark (`make bench`): bitcostdec in scan-only mode against avdec_h264, both on
one thread, on the 720p H.264 bench clip (scripts/bench_scan.py generates it), medians of
interleaved runs. Prints frames/s by wall time and by CPU time (user + sys, the fairer measure
on a loaded machine) and the ratios; the target is scan-only at >= 1.5x avdec_h264's frames/s.

Usage: bench_gst.py [--runs N] [--plugin-dir DIR]   (DIR holds libgstcodecprep.so)
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import CLIPS, ROOT, clip  # noqa: E402

TARGET = 1.5


def run(pipeline, env):
    """Wall and CPU seconds of one gst-launch-1.0 run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(["gst-launch-1.0", "-q", *pipeline], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--plugin-dir", default=str(ROOT / "target" / "release"))
    args = parser.parse_args()
    if not (Path(args.plugin_dir) / "libgstcodecprep.so").is_file():
        sys.exit(f"bench_gst.py: no libgstcodecprep.so in {args.plugin_dir} (make build)")
    video = clip("h264_720p")
    frames = CLIPS["h264_720p"][1]
    env = dict(os.environ, GST_PLUGIN_PATH=args.plugin_dir)
    head = ["filesrc", f"location={video}", "!", "qtdemux", "!", "h264parse", "!"]
    pipelines = {
        "bitcostdec scan-only": head + ["bitcostdec", "scan-only=true", "max-threads=1", "!",
                                        "fakesink", "sync=false"],
        "avdec_h264": head + ["avdec_h264", "max-threads=1", "!", "fakesink", "sync=false"],
    }
    times = {name: [] for name in pipelines}
    for _ in range(args.runs):
        for name, pipeline in pipelines.items():
            times[name].append(run(pipeline, env))
    load = os.getloadavg()
    print(f"720p H.264, {frames} frames, {args.runs} interleaved runs "
          f"(load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores)")
    fps = {}
    for name, runs in times.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        fps[name] = (frames / wall, frames / cpu)
        print(f"  {name:22s} {fps[name][0]:8.1f} frames/s wall  {fps[name][1]:8.1f} frames/s CPU")
    scan, avdec = fps["bitcostdec scan-only"], fps["avdec_h264"]
    print(f"  ratio scan-only / avdec_h264: {scan[0] / avdec[0]:.2f}x wall, "
          f"{scan[1] / avdec[1]:.2f}x CPU (target >= {TARGET}x)")


if __name__ == "__main__":
    main()
