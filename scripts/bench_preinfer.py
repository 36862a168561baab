#!/usr/bin/env python3
"""Preinfer benchmarks (`make bench`): the whole `codec-video-prep` command against the
reference tool's CLI, measured in the same run on generated clips, medians of interleaved runs.

Prints wall time and peak memory (GNU time's maximum RSS) of both commands and their ratios;
the targets the project tracks are printed beside them:
  * 720p H.264, 3000 frames, --num_sampled_frames 1024: wall <= 0.4x the reference's
  * 640x360 H.264, 300 frames, defaults:                 wall <= 0.5x the reference's
  * peak memory <= 0.5x the reference's on both
The machine is shared: absolute numbers move with its load, the interleaved ratios less so.
A run whose meta.json records a fallback to the serial decode is reported on stderr.
Usage: bench_preinfer.py CODEC_VIDEO_PREP_BIN [--runs N]
       (env CODECPREP_REFERENCE_BIN: the reference venv's bin directory)
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scan  # noqa: E402  (clip generation and timing are shared with the scan bench)

# Same recipe style as bench_scan's clips: closed 2 s GOPs with B-frames at streaming bit rates.
bench_scan.CLIPS.update({
    "h264_720p_3000": (
        "1280x720",
        3000,
        50,
        ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-b:v", "1500k"],
    ),
    "h264_360p_300": (
        "640x360",
        300,
        50,
        ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-b:v", "700k"],
    ),
})

# (clip, extra flags, wall target, memory target)
CASES = [
    ("h264_720p_3000", ["--num_sampled_frames", "1024"], 0.4, 0.5),
    ("h264_360p_300", [], 0.5, 0.5),
]


def warn_fallback(clip, out_dir):
    """Says when codec-video-prep gave up its segment-parallel, skipping decode for the serial
    one: the outputs are the same, only slower, so nothing else would show it."""
    meta = json.loads((out_dir / "meta.json").read_text())
    reason = meta.get("codecprep", {}).get("decode", {}).get("serial_fallback")
    if reason:
        print(f"{clip}: codec-video-prep fell back to a serial decode: {reason}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("codec_video_prep")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = max(3, args.runs)
    ref_bin = os.environ.get("CODECPREP_REFERENCE_BIN", "")
    reference = Path(ref_bin) / "codec-video-prep" if ref_bin else None
    if reference is not None and not reference.exists():
        reference = None
    if reference is None:
        print("reference tool not available: ratios are skipped", file=sys.stderr)

    print(f"{'clip':<16} {'command':<18} {'median wall s':>13} {'peak MB':>9}")
    with tempfile.TemporaryDirectory() as work:
        for name, extra, wall_target, mem_target in CASES:
            video = bench_scan.clip(name)
            commands = {"codec-video-prep": [args.codec_video_prep]}
            if reference is not None:
                commands["reference"] = [str(reference)]
            walls = {k: [] for k in commands}
            peaks = {k: [] for k in commands}
            for run in range(runs):  # interleaved, so machine noise hits both commands
                for key, cmd in commands.items():
                    out = Path(work) / f"{name}-{key}-{run}"
                    wall, peak, _ = bench_scan.timed(
                        [*cmd, "--video", str(video), "--out_dir", str(out), *extra])
                    walls[key].append(wall)
                    peaks[key].append(peak)
                    if key == "codec-video-prep":
                        warn_fallback(name, out)
            med_wall = {k: statistics.median(v) for k, v in walls.items()}
            med_peak = {k: statistics.median(v) / 1024 for k, v in peaks.items()}
            for key in commands:
                print(f"{name:<16} {key:<18} {med_wall[key]:13.3f} {med_peak[key]:9.1f}")
            if reference is not None:
                wall_ratio = med_wall["codec-video-prep"] / med_wall["reference"]
                mem_ratio = med_peak["codec-video-prep"] / med_peak["reference"]
                print(f"{name:<16} wall / reference: {wall_ratio:.2f}x (target <= {wall_target}x); "
                      f"peak memory / reference: {mem_ratio:.2f}x (target <= {mem_target}x)")


if __name__ == "__main__":
    main()
