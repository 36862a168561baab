#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-frame bit-cost statistics of a video from Python, through libcodecprep and ctypes
alone (no compiled glue, no third-party package).

    ctypes_scan.py VIDEO [--lib PATH/TO/libcodecprep.so.0]

Prints the same per-frame lines as examples/c/bitcost_stats.c:
    frame INDEX TYPE total_bits N data_bits N segments N max_block N mean_block X hot ROW,COL

Without --lib the library is found like any shared library (ldconfig, LD_LIBRARY_PATH).
The structures below mirror include/codecprep.h; keep them in step with it.
"""

import argparse
import ctypes
import ctypes.util
import sys

STATUS_OK = 0


class MapView(ctypes.Structure):
    """CodecPrepMapView: borrowed, valid only during the scan callback."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("frame_index", ctypes.c_int64),
        ("pts_time", ctypes.c_double),
        ("packet_bits", ctypes.c_uint64),
        ("total_bits", ctypes.c_int64),
        ("data_bits", ctypes.c_uint32),
        ("segments", ctypes.c_uint32),
        ("pict_type", ctypes.c_char),
        ("keyframe", ctypes.c_uint8),
        ("interlaced", ctypes.c_uint8),
        ("damaged", ctypes.c_uint8),
        ("codec", ctypes.c_uint32),
        ("measure", ctypes.c_uint32),
        ("grid_kind", ctypes.c_char_p),
        ("block_size", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("rows", ctypes.c_uint32),
        ("cols", ctypes.c_uint32),
        ("sub_rows", ctypes.c_uint32),
        ("sub_cols", ctypes.c_uint32),
        ("cells_stride", ctypes.c_size_t),
        ("sub_stride", ctypes.c_size_t),
        ("cells", ctypes.POINTER(ctypes.c_int32)),
        ("sub", ctypes.POINTER(ctypes.c_float)),
    ]


SCAN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(MapView), ctypes.c_void_p)


def load(path):
    name = path or ctypes.util.find_library("codecprep") or "libcodecprep.so.0"
    lib = ctypes.CDLL(name)
    lib.codecprep_version.restype = ctypes.c_char_p
    lib.codecprep_status_str.restype = ctypes.c_char_p
    lib.codecprep_status_str.argtypes = [ctypes.c_int]
    lib.codecprep_last_error.restype = ctypes.c_size_t
    lib.codecprep_last_error.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    lib.codecprep_reader_open.restype = ctypes.c_int
    lib.codecprep_reader_open.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.codecprep_reader_scan.restype = ctypes.c_int
    lib.codecprep_reader_scan.argtypes = [ctypes.c_void_p, ctypes.c_uint32, SCAN_CALLBACK, ctypes.c_void_p]
    lib.codecprep_reader_free.restype = None
    lib.codecprep_reader_free.argtypes = [ctypes.c_void_p]
    return lib


def check(lib, status, what):
    if status != STATUS_OK:
        size = lib.codecprep_last_error(None, 0)
        buf = ctypes.create_string_buffer(max(size, 1))
        lib.codecprep_last_error(buf, len(buf))
        reason = lib.codecprep_status_str(status).decode()
        raise RuntimeError(f"{what} failed ({reason}): {buf.value.decode(errors='replace')}")


def frame_line(view):
    """The statistics line of bitcost_stats.c for one map."""
    best, hot, total = None, (0, 0), 0
    for r in range(view.rows):
        base = r * view.cells_stride
        for c in range(view.cols):
            v = view.cells[base + c]
            total += v
            if best is None or v > best:
                best, hot = v, (r, c)
    blocks = view.rows * view.cols
    mean = total / blocks if blocks else 0.0
    return (
        f"frame {view.frame_index} {view.pict_type.decode()} total_bits {view.total_bits} "
        f"data_bits {view.data_bits} segments {view.segments} max_block {best} "
        f"mean_block {mean:.3f} hot {hot[0]},{hot[1]}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video")
    parser.add_argument("--lib", help="path of libcodecprep.so (default: the system's)")
    args = parser.parse_args()
    lib = load(args.lib)

    reader = ctypes.c_void_p()
    check(lib, lib.codecprep_reader_open(args.video.encode(), None, ctypes.byref(reader)), "open")
    lines = []

    @SCAN_CALLBACK
    def on_frame(view, _user_data):
        lines.append(frame_line(view.contents))
        return 0  # non-zero would stop the scan

    try:
        check(lib, lib.codecprep_reader_scan(reader, 0, on_frame, None), "scan")
    finally:
        lib.codecprep_reader_free(reader)
    print("\n".join(lines))
    print(f"libcodecprep {lib.codecprep_version().decode()}: {len(lines)} frames", file=sys.stderr)


if __name__ == "__main__":
    main()
