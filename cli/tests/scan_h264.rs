//! `codecprep scan` on H.264: one map per frame, the right grid, costs that add up to the
//! slice data, sub-grids that add up to the blocks, threading that changes nothing, pixels equal
//! to FFmpeg's, and maps equal to the reference tool's (when it is installed).
//!
//! Fixtures are generated with the system ffmpeg (libx264) and cached in target/test-fixtures.
//! The differential tests need `CODECPREP_REFERENCE_BIN=$(scripts/reference-env.sh)`; without
//! it they print a skip message and pass.
//!
//! PAFF (field pictures) has no fixture: no encoder available here makes them (x264 codes
//! interlaced content as MBAFF only). The patch supports them: each field's macroblocks are
//! written into the frame rows of its parity, as FFmpeg numbers them, so the frame's map covers
//! the whole frame.

mod common;

use common::*;

/// Lowest accepted Σcells / slice-NAL bits for frames whose packet has at least 1 KB.
const MIN_RATIO: f64 = 0.85;
const MIN_PACKET_BYTES: u64 = 1024;

/// The whole structural check of one fixture's default scan.
fn check_maps(name: &str) {
    let video = h264_fixture(name);
    let stream = ffprobe_stream(&video);
    let width = stream["width"].as_u64().expect("width") as usize;
    let height = stream["height"].as_u64().expect("height") as usize;
    let expected_frames = ffprobe_frame_count(&video);
    let hdr = h264_headers(&video);
    check_fixture_coding(name, &hdr, &stream, expected_frames);

    // Grid: frame macroblock rows (pairs for MBAFF) x mb_width, no padding column.
    let cols = width.div_ceil(16);
    let rows = if hdr.frame_mbs_only {
        height.div_ceil(16)
    } else {
        2 * height.div_ceil(32)
    };
    assert_eq!(
        (hdr.frame_mb_rows, hdr.mb_width),
        (rows, cols),
        "{name}: SPS dims vs display size"
    );

    let s = scan(&video, &[]);
    let n = s.frames.len();
    assert_eq!(
        n, expected_frames,
        "{name}: frames.json has {n} frames, ffprobe counts {expected_frames}"
    );
    assert_eq!(s.cells.shape(), &[n, rows, cols], "{name}: cells.npy shape");
    assert_eq!(
        s.sub.shape(),
        &[n, 4 * rows, 4 * cols],
        "{name}: sub.npy shape"
    );

    // frames.json, frame by frame.
    let mut last_pts = f64::NEG_INFINITY;
    let mut types = String::new();
    for (i, f) in s.frames.iter().enumerate() {
        assert_eq!(
            f["index"].as_u64(),
            Some(i as u64),
            "{name}: frame {i} index: {f}"
        );
        let pts = f["pts_time"]
            .as_f64()
            .unwrap_or_else(|| panic!("{name}: frame {i} pts_time: {f}"));
        assert!(
            pts > last_pts,
            "{name}: pts_time not increasing at frame {i} ({pts} after {last_pts})"
        );
        last_pts = pts;
        let pt = f["pict_type"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: frame {i} pict_type: {f}"));
        assert!(
            matches!(pt, "I" | "P" | "B"),
            "{name}: frame {i} pict_type {pt}"
        );
        types.push_str(pt);
        assert!(
            f["keyframe"].is_boolean(),
            "{name}: frame {i} keyframe: {f}"
        );
        assert!(
            f["packet_bits"].is_u64(),
            "{name}: frame {i} packet_bits: {f}"
        );
        assert!(
            f["total_bits"].is_i64() || f["total_bits"].is_u64(),
            "{name}: frame {i} total_bits: {f}"
        );
        assert_eq!(f["measure"], "reference", "{name}: frame {i} measure");
        let g = &f["grid"];
        assert!(g["kind"].is_string(), "{name}: frame {i} grid.kind: {g}");
        assert_eq!(
            g["block_size"].as_u64(),
            Some(16),
            "{name}: frame {i} grid: {g}"
        );
        assert_eq!(
            (
                g["rows"].as_u64(),
                g["cols"].as_u64(),
                g["sub_rows"].as_u64(),
                g["sub_cols"].as_u64()
            ),
            (
                Some(rows as u64),
                Some(cols as u64),
                Some(4 * rows as u64),
                Some(4 * cols as u64)
            ),
            "{name}: frame {i} grid: {g}"
        );
        let w = f["warnings"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: frame {i} warnings: {f}"));
        assert!(
            w.is_empty(),
            "{name}: frame {i} of a clean clip has warnings: {w:?}"
        );
        assert_eq!(
            f["total_bits"].as_i64(),
            Some(s.cell_sum(i)),
            "{name}: frame {i} total_bits is not Σcells"
        );
    }
    assert_eq!(
        s.frames[0]["keyframe"], true,
        "{name}: frame 0 is not a keyframe"
    );
    assert!(types.starts_with('I'), "{name}: first frame is {types}");
    assert!(types.contains('B'), "{name}: no B-frames in {types}");

    // Σcells against the bits of the frame's slice NAL units.
    let packets = packets_of(&video);
    let mut ratios = Vec::new();
    for (i, f) in s.frames.iter().enumerate() {
        let pts = f["pts_time"].as_f64().unwrap();
        let p = packets
            .iter()
            .min_by(|a, b| {
                (a.pts_time - pts)
                    .abs()
                    .total_cmp(&(b.pts_time - pts).abs())
            })
            .unwrap();
        assert!(
            (p.pts_time - pts).abs() < 1e-3,
            "{name}: no packet with pts {pts} (frame {i})"
        );
        assert_eq!(
            f["packet_bits"].as_u64(),
            Some(p.size * 8),
            "{name}: frame {i} packet_bits is not 8 x its packet's size"
        );
        if p.size < MIN_PACKET_BYTES {
            continue;
        }
        let bits = slice_nal_bits(&p.data);
        let ratio = s.cell_sum(i) as f64 / bits as f64;
        assert!(
            (MIN_RATIO..=1.0).contains(&ratio),
            "{name}: frame {i} ({}): Σcells {} / slice bits {bits} = {ratio:.4}, outside {MIN_RATIO}..1.0",
            types.as_bytes()[i] as char,
            s.cell_sum(i)
        );
        ratios.push(ratio);
    }
    assert!(
        !ratios.is_empty(),
        "{name}: no packet of at least {MIN_PACKET_BYTES} bytes"
    );

    // Sub-grid sums.
    let mut worst_rel: f64 = 0.0;
    for i in 0..n {
        let (c, sub) = (s.cell_sum(i) as f64, s.sub_sum(i));
        if is_cavlc(name) {
            assert!(
                sub <= c + 1e-3,
                "{name}: frame {i}: Σsub {sub} > Σcells {c}"
            );
            assert!(
                sub >= 0.99 * c,
                "{name}: frame {i}: Σsub {sub} more than 1% below Σcells {c}"
            );
            if c > 0.0 {
                worst_rel = worst_rel.max((c - sub) / c);
            }
        } else {
            assert!(
                (sub - c).abs() <= 1e-3,
                "{name}: frame {i}: Σsub {sub} != Σcells {c}"
            );
        }
    }
    let negatives = s.cells.iter().filter(|&&v| v < 0).count();
    eprintln!(
        "{name}: {n} frames {width}x{height}, grid {rows}x{cols}; Σcells/slice bits over {} frames \
         >= 1 KB: min {:.4} median {:.4} max {:.4}; negative cells {negatives}; \
         worst Σsub shortfall {:.5}",
        ratios.len(),
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        median(&ratios),
        ratios.iter().copied().fold(0.0, f64::max),
        worst_rel
    );
}

/// cells.npy and sub.npy are byte-identical whatever the threading.
fn check_threads(name: &str) {
    let video = h264_fixture(name);
    let one = scan(&video, &["--threads", "1"]);
    for extra in [
        ["--threads", "2", "--thread-type", "slice"],
        ["--threads", "2", "--thread-type", "frame"],
    ] {
        let other = scan(&video, &extra);
        for file in ["cells.npy", "sub.npy"] {
            assert!(
                one.bytes(file) == other.bytes(file),
                "{name}: {file} differs between --threads 1 and {}",
                extra.join(" ")
            );
        }
        assert_eq!(
            one.frames.len(),
            other.frames.len(),
            "{name}: frame count with {}",
            extra.join(" ")
        );
    }
}

/// Maps equal the reference tool's: cells always, sub exactly for CABAC, and for CAVLC the
/// fraction of identical sub-grids is reported and must be 1.
fn check_reference(name: &str) {
    let Some(python) = reference_python() else {
        return;
    };
    let video = h264_fixture(name);
    let s = scan(&video, &[]);
    let r = reference_maps(&python, &video);
    let n = s.frames.len();
    assert_eq!(
        r.cells.shape()[0],
        n,
        "{name}: reference has {} frames, codecprep {n}",
        r.cells.shape()[0]
    );
    assert_eq!(
        r.cells.shape(),
        s.cells.shape(),
        "{name}: cells shape vs reference"
    );
    assert_eq!(
        r.sub.shape(),
        s.sub.shape(),
        "{name}: sub shape vs reference"
    );
    for (i, rf) in r.frames.iter().enumerate() {
        let ours = s.frames[i]["pict_type"].as_str().unwrap_or("?");
        assert_eq!(
            rf["pict_type"].as_str(),
            Some(ours),
            "{name}: frame {i} pict_type vs reference"
        );
    }

    let mut cell_bad = Vec::new();
    let mut sub_same = 0usize;
    let mut sub_bad = Vec::new();
    for i in 0..n {
        let (c, rc) = (
            s.cells.index_axis(ndarray::Axis(0), i),
            r.cells.index_axis(ndarray::Axis(0), i),
        );
        if c != rc {
            let diff = c.iter().zip(rc.iter()).filter(|(a, b)| a != b).count();
            let first = c
                .indexed_iter()
                .find(|(ix, v)| **v != rc[*ix])
                .map(|(ix, v)| {
                    format!(
                        "mb (row {}, col {}): {v} vs reference {}",
                        ix.0, ix.1, rc[ix]
                    )
                })
                .unwrap_or_default();
            cell_bad.push(format!("frame {i}: {diff} cells differ, first {first}"));
        }
        let (u, ru) = (
            s.sub.index_axis(ndarray::Axis(0), i),
            r.sub.index_axis(ndarray::Axis(0), i),
        );
        if u.iter()
            .zip(ru.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits())
        {
            sub_same += 1;
        } else {
            let diff = u
                .iter()
                .zip(ru.iter())
                .filter(|(a, b)| a.to_bits() != b.to_bits())
                .count();
            let maxd = u
                .iter()
                .zip(ru.iter())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            sub_bad.push(format!(
                "frame {i}: {diff} sub cells differ (max |Δ| {maxd})"
            ));
        }
    }
    let frac = sub_same as f64 / n as f64;
    eprintln!(
        "{name}: vs reference: cells identical on {}/{n} frames; sub identical on {sub_same}/{n} \
         frames (fraction {frac:.4})",
        n - cell_bad.len()
    );
    for line in sub_bad.iter().take(5) {
        eprintln!("{name}:   {line}");
    }
    assert!(
        cell_bad.is_empty(),
        "{name}: cells differ from the reference:\n{}",
        cell_bad.join("\n")
    );
    if is_cavlc(name) {
        assert_eq!(
            frac, 1.0,
            "{name}: CAVLC sub-grid identical on only {sub_same}/{n} frames"
        );
    } else {
        assert!(
            sub_bad.is_empty(),
            "{name}: sub differs from the reference:\n{}",
            sub_bad.join("\n")
        );
    }
}

macro_rules! per_fixture {
    ($($fixture:ident),* $(,)?) => {
    /// Fixtures that have the per-fixture tests below.
    const COVERED: &[&str] = &[$(stringify!($fixture)),*];
    $(
        mod $fixture {
            #[test]
            fn maps_cover_every_frame_and_add_up() {
                super::check_maps(stringify!($fixture));
            }
            #[test]
            fn threading_does_not_change_maps() {
                super::check_threads(stringify!($fixture));
            }
            #[test]
            fn matches_reference_tool() {
                super::check_reference(stringify!($fixture));
            }
        }
    )*};
}

per_fixture!(
    h264_cabac,
    h264_cavlc,
    h264_mbaff,
    h264_cavlc_mbaff,
    h264_slices4,
    h264_10bit,
    h264_odd
);

#[test]
fn every_h264_fixture_is_covered() {
    assert_eq!(
        COVERED, H264_FIXTURES,
        "per_fixture! and H264_FIXTURES are out of step"
    );
}

// ------------------------------------------------------------------------------------------
// Pixels

fn check_pixels(name: &str, size: Option<(u32, u32)>, extra: &[&str], deblock: bool, rgb: bool) {
    let video = h264_fixture(name);
    let size_arg = size.map(|(w, h)| format!("{w}x{h}"));
    let mut args: Vec<&str> = vec!["--pixels"];
    if let Some(s) = &size_arg {
        args.extend(["--size", s]);
    }
    args.extend(extra);
    let s = scan(&video, &args);
    let px = s.pixels();
    let n = s.frames.len();
    let stream = ffprobe_stream(&video);
    let (w, h) = size.map_or_else(
        || {
            (
                stream["width"].as_u64().unwrap() as usize,
                stream["height"].as_u64().unwrap() as usize,
            )
        },
        |(w, h)| (w as usize, h as usize),
    );
    assert_eq!(px.shape(), &[n, h, w, 3], "{name}: pixels.npy shape");
    let mut want = ffmpeg_bgr(&video, size, deblock);
    assert_eq!(
        want.len(),
        n * h * w * 3,
        "{name}: ffmpeg produced {} bytes for {n} frames",
        want.len()
    );
    if rgb {
        for p in want.chunks_exact_mut(3) {
            p.swap(0, 2);
        }
    }
    let got = px.as_slice().expect("pixels.npy in standard (C) order");
    if got != want.as_slice() {
        let frame_len = h * w * 3;
        let bad: Vec<usize> = (0..n)
            .filter(|&i| {
                got[i * frame_len..(i + 1) * frame_len] != want[i * frame_len..(i + 1) * frame_len]
            })
            .collect();
        let maxd = got
            .iter()
            .zip(&want)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap_or(0);
        panic!(
            "{name}: pixels ({}) differ from ffmpeg's on {} of {n} frames (first {:?}, max |Δ| {maxd})",
            args.join(" "),
            bad.len(),
            bad.first()
        );
    }
    // Asking for pixels does not change the maps.
    let plain = scan(&video, &[]);
    assert!(
        plain.bytes("cells.npy") == s.bytes("cells.npy"),
        "{name}: --pixels changed cells.npy"
    );
    assert!(
        plain.bytes("sub.npy") == s.bytes("sub.npy"),
        "{name}: --pixels changed sub.npy"
    );
}

#[test]
fn pixels_cabac_scaled() {
    check_pixels("h264_cabac", Some((160, 120)), &[], false, false);
}

#[test]
fn pixels_cabac_native() {
    check_pixels("h264_cabac", None, &[], false, false);
}

#[test]
fn pixels_10bit_scaled() {
    check_pixels("h264_10bit", Some((160, 120)), &[], false, false);
}

#[test]
fn pixels_10bit_native() {
    check_pixels("h264_10bit", None, &[], false, false);
}

#[test]
fn pixels_odd_size_native() {
    check_pixels("h264_odd", None, &[], false, false);
}

#[test]
fn pixels_rgb_order() {
    check_pixels("h264_cabac", Some((160, 120)), &["--rgb"], false, true);
}

#[test]
fn pixels_with_deblocking() {
    check_pixels("h264_cabac", Some((160, 120)), &["--deblock"], true, false);
}

// ------------------------------------------------------------------------------------------
// The exact measure

fn check_exact(name: &str) {
    let video = h264_fixture(name);
    let reference = scan(&video, &[]);
    let exact = scan(&video, &["--measure", "exact"]);
    let n = reference.frames.len();
    assert_eq!(
        exact.frames.len(),
        n,
        "{name}: frame count with --measure exact"
    );
    assert_eq!(
        exact.cells.shape(),
        reference.cells.shape(),
        "{name}: cells shape with --measure exact"
    );
    assert_eq!(
        exact.sub.shape(),
        reference.sub.shape(),
        "{name}: sub shape with --measure exact"
    );
    let packets = packets_of(&video);
    let mut ratios = Vec::new();
    for (i, f) in exact.frames.iter().enumerate() {
        assert_eq!(f["measure"], "exact", "{name}: frame {i} measure");
        let (c, sub) = (exact.cell_sum(i) as f64, exact.sub_sum(i));
        assert!(
            (sub - c).abs() <= 0.01 * c.max(1.0),
            "{name}: exact frame {i}: Σsub {sub} vs Σcells {c}"
        );
        let pts = f["pts_time"].as_f64().unwrap();
        let p = packets
            .iter()
            .find(|p| (p.pts_time - pts).abs() < 1e-3)
            .expect("packet for frame");
        if p.size >= MIN_PACKET_BYTES {
            let r = c / slice_nal_bits(&p.data) as f64;
            assert!(
                (MIN_RATIO..=1.0).contains(&r),
                "{name}: exact frame {i}: Σcells/slice bits {r:.4}"
            );
            ratios.push(r);
        }
    }
    let total = |s: &Scan| (0..n).map(|i| s.cell_sum(i)).sum::<i64>();
    eprintln!(
        "{name}: exact measure: Σ over clip {} (reference measure {}), Σcells/slice bits median {:.4}",
        total(&exact),
        total(&reference),
        median(&ratios)
    );
}

#[test]
fn exact_measure_cabac() {
    check_exact("h264_cabac");
}

#[test]
fn exact_measure_cavlc() {
    check_exact("h264_cavlc");
}
