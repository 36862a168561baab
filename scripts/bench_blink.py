#!/usr/bin/env python3
"""blink-stitch extract benchmark (`make bench`): time per clip of `blink-stitch extract`
(content hash, bit-cost activity in scan mode, perceptual hashes of sampled frames, loudness
envelope through GStreamer, thumbnail) against a full decode of the same clips by FFmpeg
(`ffmpeg -threads 1 -i CLIP -f null -`), measured in one run, interleaved, medians.

The clips are generated: 10-second 1080p H.264 + AAC clips at a Blink-like bit rate, laid out
as a Sync Module USB tree. `extract` runs with its default workers (one per core, clips in
parallel), FFmpeg decodes the clips one after another with one thread. Two ratios:
CPU time per clip (user + sys of the process and its children: what the work costs, robust on
a shared machine) and wall time per clip (the whole extract over N clips / N, against the
sequential decodes / N: what a user waits). The load average is printed before and after.
Target: extract at most 0.5x the full decode's time.
Usage: bench_blink.py BLINK_STITCH_BIN [--clips N] [--runs N] [--workers N]
"""

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("CODECPREP_BENCH_DIR", ROOT / "target" / "bench-fixtures"))
SECONDS = 10
SIZE = "1920x1080"
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "3000k", "-g", "50",
          "-c:a", "aac", "-b:a", "96k"]


def clip(index):
    """The index-th benchmark clip (different content per index), cached by recipe."""
    recipe = (index, SECONDS, SIZE, ENCODE)
    tag = hashlib.sha1(repr(recipe).encode()).hexdigest()[:10]
    path = CACHE / f"blink_1080p_{index}-{tag}.mp4"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.mp4")
    print(f"generating {path.name}", file=sys.stderr)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=25,hue=h={index * 40}",
         "-f", "lavfi", "-i", f"anoisesrc=a=0.1:seed={index}:r=48000",
         "-t", str(SECONDS), *ENCODE, str(tmp)],
        check=True,
    )
    tmp.rename(path)
    return path


def measured(cmd):
    """(wall seconds, CPU seconds of the command and all its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("blink_stitch")
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, help="extract's --workers (default: its own)")
    args = parser.parse_args()
    clips = [clip(i) for i in range(args.clips)]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work) / "tree" / "24-01" / "24-01-05"
        tree.mkdir(parents=True)
        for i, c in enumerate(clips):
            shutil.copy(c, tree / f"10-{i:02d}-00_DrivewayG8T1ABC123_{i + 1:03d}.mp4")
        samples = {"extract_wall": [], "extract_cpu": [], "ffmpeg_wall": [], "ffmpeg_cpu": []}
        for run in range(args.runs):  # interleaved, so machine noise hits both columns
            out = Path(work) / f"out{run}"
            workers = ["--workers", str(args.workers)] if args.workers else []
            wall, cpu = measured([args.blink_stitch, "extract", "-i", str(Path(work) / "tree"),
                                  "--out", str(out), *workers, "--json"])
            shutil.rmtree(out)
            samples["extract_wall"].append(wall / len(clips))
            samples["extract_cpu"].append(cpu / len(clips))
            walls, cpus = [], []
            for c in clips:
                w, u = measured(["ffmpeg", "-v", "error", "-nostdin", "-threads", "1", "-i", str(c),
                                 "-f", "null", "-"])
                walls.append(w)
                cpus.append(u)
            samples["ffmpeg_wall"].append(sum(walls) / len(clips))
            samples["ffmpeg_cpu"].append(sum(cpus) / len(clips))
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"{args.clips} clips of {SECONDS} s {SIZE} H.264 + AAC, {args.runs} interleaved runs, "
          f"{os.cpu_count()} cores, load average {load:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end")
    print(f"{'per clip':<40} {'CPU s':>8} {'wall s':>8}")
    label = f"blink-stitch extract (--workers {args.workers or 'default'})"
    print(f"{label:<40} {med['extract_cpu']:8.3f} "
          f"{med['extract_wall']:8.3f}")
    print(f"{'ffmpeg -threads 1 full decode':<40} {med['ffmpeg_cpu']:8.3f} {med['ffmpeg_wall']:8.3f}")
    print(f"extract / full decode: {med['extract_cpu'] / med['ffmpeg_cpu']:.2f}x CPU, "
          f"{med['extract_wall'] / med['ffmpeg_wall']:.2f}x wall (target <= 0.5x)")


if __name__ == "__main__":
    main()
