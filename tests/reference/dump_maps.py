#!/usr/bin/env python3
"""Dump the reference tool's bit-cost maps of every frame of a video, for differential tests.

Run with the reference virtualenv's python (see scripts/reference-env.sh):

    "$CODECPREP_REFERENCE_BIN/python" tests/reference/dump_maps.py VIDEO OUTDIR

Decodes the whole video once with the reference's native reader
(cv_reader_fast.read_video_fast, one slice thread, bit cost on) and writes:

  OUTDIR/ref_cells.npy   int32 (frames, rows, cols): H.264 mb_bit_cost without its last
                         (always zero, stride padding) column; HEVC/VP9 ctu_bit_cost
  OUTDIR/ref_sub.npy     float32 (frames, sub_rows, sub_cols): sub_mb_bit_cost
  OUTDIR/ref_frames.json per frame: frame_idx, pict_type, width, height, codec_name,
                         bitcost_none (true when the frame carried no map)

Exits 1 with a message on stderr when the reader fails, when any frame has no map, or when the
maps disagree in shape. ref_frames.json is written even then (for diagnosis); the .npy files
are written only on success.
"""

import argparse
import json
import os
import sys


def fail(msg):
    print(f"dump_maps.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def load_reader():
    try:
        from codec_video_prep import cv_reader_fast
    except ImportError as exc:  # pragma: no cover - environment problem
        fail(f"cannot import codec_video_prep.cv_reader_fast ({exc}); run scripts/reference-env.sh "
             "and use its python")
    return cv_reader_fast


def block_map(bitcost, codec):
    """The reference's block map as (rows, cols) without stride padding."""
    import numpy as np

    if "mb_bit_cost" in bitcost:
        mb = np.asarray(bitcost["mb_bit_cost"], dtype=np.int32)
        width = int(bitcost.get("mb_width", mb.shape[1] - 1))
        if mb.shape[1] != width + 1:
            fail(f"unexpected H.264 map shape {mb.shape} for mb_width {width}")
        if np.any(mb[:, width:] != 0):
            fail("the H.264 map's padding column is not zero")
        return mb[:, :width]
    if "ctu_bit_cost" in bitcost:
        ctu = np.asarray(bitcost["ctu_bit_cost"], dtype=np.int32)
        width = int(bitcost.get("ctb_width", ctu.shape[1]))
        return ctu[:, :width]
    fail(f"bitcost of a {codec} frame has neither mb_bit_cost nor ctu_bit_cost "
         f"(keys: {sorted(bitcost)})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video")
    ap.add_argument("outdir")
    ap.add_argument("--threads", type=int, default=1, help="reader thread_count (default 1)")
    ap.add_argument("--thread-type", default="slice", choices=["slice", "frame", "auto"])
    args = ap.parse_args()

    import numpy as np

    if not os.path.isfile(args.video):
        fail(f"{args.video}: no such file")
    reader = load_reader()
    try:
        items = reader.read_video_fast(args.video, thread_count=args.threads, export_bitcost=1,
                                       thread_type=args.thread_type)
    except Exception as exc:  # the reader raises OSError/RuntimeError on bad input
        fail(f"{args.video}: reference reader failed: {type(exc).__name__}: {exc}")
    if not items:
        fail(f"{args.video}: the reference reader returned no frames")

    os.makedirs(args.outdir, exist_ok=True)
    frames, cells, subs, missing = [], [], [], []
    for pos, item in enumerate(items):
        bitcost = item.get("bitcost")
        frames.append({
            "frame_idx": int(item["frame_idx"]),
            "pict_type": item.get("pict_type", "?"),
            "width": int(item.get("width", 0)),
            "height": int(item.get("height", 0)),
            "codec_name": item.get("codec_name", ""),
            "bitcost_none": bitcost is None,
        })
        if int(item["frame_idx"]) != pos:
            fail(f"{args.video}: frame {pos} reported frame_idx {item['frame_idx']}")
        if bitcost is None:
            missing.append(pos)
            continue
        cells.append(block_map(bitcost, item.get("codec_name", "?")))
        subs.append(np.asarray(bitcost["sub_mb_bit_cost"], dtype=np.float32))

    with open(os.path.join(args.outdir, "ref_frames.json"), "w", encoding="utf-8") as fh:
        json.dump(frames, fh, indent=1)
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        fail(f"{args.video}: {len(missing)} of {len(items)} frames have no bit-cost map "
             f"(bitcost is None): {shown}")
    for name, arrs in (("cell", cells), ("sub", subs)):
        shapes = {a.shape for a in arrs}
        if len(shapes) != 1:
            fail(f"{args.video}: {name} maps differ in shape between frames: {sorted(shapes)}")

    np.save(os.path.join(args.outdir, "ref_cells.npy"), np.stack(cells).astype(np.int32))
    np.save(os.path.join(args.outdir, "ref_sub.npy"), np.stack(subs).astype(np.float32))
    print(f"{args.video}: {len(items)} frames, cells {cells[0].shape}, sub {subs[0].shape}, "
          f"codec {frames[0]['codec_name']}")


if __name__ == "__main__":
    main()
