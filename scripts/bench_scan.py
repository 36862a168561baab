#!/usr/bin/env python3
"""Scan benchmarks (`make bench`): codecprep scan against the reference tool's native reader
and FFmpeg, measured in one run on generated clips, medians of several interleaved runs.

Prints frames/s, ratios and CPU seconds (the ratios are noisy on a busy machine; CPU
seconds are not); the targets the project tracks are printed beside them:
  * scan on one core >= 1.3x the reference's frames/s on 720p H.264, >= 1.0x on 720p HEVC
  * 2 segments >= 1.7x one segment
  * peak memory of a 10,000-frame 640x360 scan < 150 MB
Usage: bench_scan.py CODECPREP_BIN [--runs N]   (env CODECPREP_REFERENCE_BIN: reference venv)
"""

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("CODECPREP_BENCH_DIR", ROOT / "target" / "bench-fixtures"))

# name -> (size, frames, keyframe interval, encoder arguments). The 720p clips are encoded at
# typical streaming bit rates (the reference doc's 720p film clip runs at 1.2 Mbit/s), with
# closed GOPs of 2 s so that segments have clean cut points.
CLIPS = {
    "h264_720p": (
        "1280x720",
        1000,
        50,
        ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-b:v", "1500k"],
    ),
    "hevc_720p": (
        "1280x720",
        1000,
        50,
        ["-c:v", "libx265", "-preset", "ultrafast", "-b:v", "1200k",
         "-x265-params", "open-gop=0:log-level=error"],
    ),
    # Memory only: plain test pattern (the mandelbrot overlay is slow to render for 10,000
    # frames) at a small bit rate.
    "h264_360p_10k": (
        "640x360",
        10000,
        250,
        ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "500k"],
    ),
}


def clip(name):
    size, frames, gop, codec = CLIPS[name]
    # the encoder arguments are part of the name, so changing them makes a new clip
    tag = hashlib.sha1(repr((size, frames, gop, codec)).encode()).hexdigest()[:10]
    path = CACHE / f"{name}-{tag}.mp4"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    w, h = size.split("x")
    tmp = path.with_suffix(".tmp.mp4")
    src = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25"]
    if frames <= 3000:
        src += [
            "-f", "lavfi", "-i", f"mandelbrot=size={int(w) // 3}x{int(h) // 3}:rate=25",
            "-filter_complex", f"[0][1]overlay=x='mod(t*{int(w) // 4},{2 * int(w) // 3})':y=40",
        ]
    print(f"generating {path.name} ({frames} frames {size})", file=sys.stderr)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *src, "-frames:v", str(frames), "-g", str(gop), *codec,
         str(tmp)],
        check=True,
    )
    tmp.rename(path)
    return path


def timed(cmd, env=None):
    """Wall time of a command, its peak RSS in KB and its CPU seconds (user + system), from
    GNU time."""
    with tempfile.NamedTemporaryFile("r") as usage:
        start = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", usage.name, *cmd], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        elapsed = time.perf_counter() - start
        rss, user, system = usage.read().strip().splitlines()[-1].split()
        return elapsed, int(rss), float(user) + float(system)


REFERENCE_SNIPPET = """
import sys, time
from codec_video_prep import cv_reader_fast
start = time.perf_counter()
items = cv_reader_fast.read_video_fast(sys.argv[1], thread_count=1, export_bitcost=1)
print(time.perf_counter() - start, len(items))
"""


def reference_time(python, video):
    out = subprocess.run([python, "-c", REFERENCE_SNIPPET, str(video)], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("codecprep")
    parser.add_argument("--runs", type=int, default=5)
    # Where scans write their ~230 MB of maps (default: the system's temporary directory).
    # The reference's read_video_fast keeps its arrays in memory; `--work-dir /dev/shm` takes
    # the disk out of the comparison.
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()
    ref_bin = os.environ.get("CODECPREP_REFERENCE_BIN", "")
    ref_python = Path(ref_bin) / "python" if ref_bin else None
    if ref_python and not ref_python.exists():
        ref_python = None
    if ref_python is None:
        print("reference tool not available: its columns are skipped", file=sys.stderr)

    with tempfile.TemporaryDirectory(dir=args.work_dir) as work:
        out = Path(work) / "scan"
        print(f"scan outputs written under {work}")

        def scan(video, *extra):
            # The previous run's output is removed and the removal written out first: otherwise
            # the filesystem's work of freeing hundreds of megabytes lands in this run's time.
            shutil.rmtree(out, ignore_errors=True)
            os.sync()
            return timed([args.codecprep, "scan", str(video), "--out", str(out), *extra])

        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'clip':<12} {'what':<34} {'median s':>9} {'frames/s':>9}")
        for name in ("h264_720p", "hevc_720p"):
            video = clip(name)
            frames = CLIPS[name][1]
            samples = {"ours": [], "reference": [], "ffmpeg": [], "seg1": [], "seg2": []}
            cpu = {"seg1": [], "seg2": []}
            ratios = []
            for _ in range(args.runs):  # interleaved, so machine noise hits every column
                wall1, _, cpu1 = scan(video, "--segments", "1", "--threads", "1")
                samples["ours"].append(wall1)
                cpu["seg1"].append(cpu1)
                if ref_python:
                    samples["reference"].append(reference_time(ref_python, video))
                samples["ffmpeg"].append(timed(
                    ["ffmpeg", "-v", "error", "-threads", "1", "-i", str(video), "-f", "null", "-"])[0])
                wall2, _, cpu2 = scan(video, "--segments", "2", "--threads", "1")
                samples["seg2"].append(wall2)
                cpu["seg2"].append(cpu2)
                ratios.append(wall1 / wall2)
            samples["seg1"] = samples["ours"]
            med = {k: statistics.median(v) for k, v in samples.items() if v}
            labels = {
                "ours": "codecprep scan, 1 segment, 1 thread",
                "reference": "reference read_video_fast, 1 thread",
                "ffmpeg": "ffmpeg -threads 1 full decode",
                "seg2": "codecprep scan, 2 segments",
            }
            for key, label in labels.items():
                if key in med:
                    print(f"{name:<12} {label:<34} {med[key]:9.3f} {frames / med[key]:9.0f}")
            target = 1.3 if name.startswith("h264") else 1.0
            if "reference" in med:
                ratio = med["reference"] / med["ours"]
                print(f"{name:<12} scan speed / reference: {ratio:.2f}x (target >= {target}x)")
            print(f"{name:<12} scan speed / ffmpeg full decode: {med['ffmpeg'] / med['ours']:.2f}x")
            print(f"{name:<12} 2 segments / 1 segment: {med['seg1'] / med['seg2']:.2f}x (target >= 1.7x); "
                  f"median of the per-run ratios {statistics.median(ratios):.2f}x")
            print(f"{name:<12} CPU s (user + system), 1 segment: {statistics.median(cpu['seg1']):.2f}; "
                  f"2 segments: {statistics.median(cpu['seg2']):.2f}")

        long_clip = clip("h264_360p_10k")
        peaks = [scan(long_clip, "--segments", "1")[1] for _ in range(3)]
        peaks2 = [scan(long_clip, "--segments", "2")[1] for _ in range(3)]
        print(f"h264_360p_10k peak memory, 1 segment: {statistics.median(peaks) / 1024:.1f} MB; "
              f"2 segments: {statistics.median(peaks2) / 1024:.1f} MB (target < 150 MB)")


if __name__ == "__main__":
    main()
