//! HEVC and VP9 maps, the exact measure, the parse-only scan, segment-parallel scans and
//! segment-parallel reads of selected frames, on fixtures generated with x264, x265 and libvpx.
//!
//! No fixture exists for two cases the patch supports: x265 cannot encode HEVC tiles, and
//! libvpx never emits VP9 `show_existing_frame`; the code paths are shared with what is tested
//! (tiles are decoded by the serial CTU loop, and a re-shown frame is a new reference to the
//! decoded frame, which carries its map as side data).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// x265 with the given CTB size, WPP on; `closed` GOPs make clean cut points for segments.
fn hevc_fixture(name: &str, ctu: u32, closed: bool) -> PathBuf {
    let params = format!(
        "ctu={ctu}:wpp=1:keyint=16:min-keyint=16:bframes=3:open-gop={}:log-level=error",
        u8::from(!closed)
    );
    motion_clip(
        name,
        320,
        240,
        48,
        "yuv420p",
        &["-c:v", "libx265", "-x265-params", &params],
    )
}

/// libvpx-vp9, two-pass with alt-ref frames (hidden frames in superframes), in MP4 as the
/// reference tool needs (it treats every WebM frame as a keyframe).
fn vp9_fixture(name: &str, profile2: bool) -> PathBuf {
    let pix_fmt = if profile2 { "yuv420p10le" } else { "yuv420p" };
    let profile = if profile2 { "2" } else { "0" };
    motion_clip_two_pass(
        name,
        motion_args(
            320,
            240,
            48,
            pix_fmt,
            &[
                "-c:v",
                "libvpx-vp9",
                "-profile:v",
                profile,
                "-b:v",
                "400k",
                "-g",
                "16",
                "-auto-alt-ref",
                "1",
                "-lag-in-frames",
                "16",
            ],
        ),
    )
}

/// H.264 with short closed GOPs, for segment-parallel scans.
fn h264_short_gops() -> PathBuf {
    motion_clip(
        "h264_gop12",
        320,
        240,
        48,
        "yuv420p",
        &["-c:v", "libx264", "-g", "12", "-bf", "3", "-crf", "26"],
    )
}

fn all_fixtures() -> Vec<(&'static str, PathBuf)> {
    vec![
        ("hevc_ctb64", hevc_fixture("hevc_ctb64", 64, false)),
        ("hevc_ctb32", hevc_fixture("hevc_ctb32", 32, true)),
        ("vp9_p0", vp9_fixture("vp9_p0", false)),
        ("vp9_p2", vp9_fixture("vp9_p2", true)),
    ]
}

fn grid(frame: &Value) -> (usize, usize, usize, usize) {
    let g = &frame["grid"];
    let n = |k: &str| {
        g[k].as_u64()
            .unwrap_or_else(|| panic!("grid.{k} in {frame}")) as usize
    };
    (n("rows"), n("cols"), n("sub_rows"), n("sub_cols"))
}

fn assert_same_maps(label: &str, a: &Scan, b: &Scan) {
    assert_eq!(a.cells, b.cells, "{label}: cells differ");
    assert_eq!(
        a.sub
            .as_slice()
            .map(|s| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>()),
        b.sub
            .as_slice()
            .map(|s| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>()),
        "{label}: sub-grids differ"
    );
}

#[test]
fn every_shown_frame_has_a_map_of_the_codec_grid() {
    for (name, video) in all_fixtures() {
        let scan = scan(&video, &[]);
        assert_eq!(
            scan.frames.len(),
            ffprobe_frame_count(&video),
            "{name}: one record per shown frame"
        );
        let (rows, cols, sub_rows, sub_cols) = grid(&scan.frames[0]);
        let (block, sub_rows_expected, sub_cols_expected) = if name.starts_with("hevc") {
            let ctu = if name.ends_with("64") { 64 } else { 32 };
            (ctu, 240usize.div_ceil(4), 320usize.div_ceil(4))
        } else {
            (64, 16 * 240usize.div_ceil(64), 16 * 320usize.div_ceil(64))
        };
        assert_eq!(
            (rows, cols),
            (240usize.div_ceil(block), 320usize.div_ceil(block)),
            "{name}: block grid"
        );
        assert_eq!(
            (sub_rows, sub_cols),
            (sub_rows_expected, sub_cols_expected),
            "{name}: sub-grid"
        );
        assert_eq!(scan.cells.shape(), &[scan.frames.len(), rows, cols]);
        for i in 0..scan.frames.len() {
            let cells = scan.cell_sum(i) as f64;
            assert!(
                (scan.sub_sum(i) - cells).abs() <= 0.5,
                "{name} frame {i}: sub-grid sum {} != block sum {cells}",
                scan.sub_sum(i)
            );
        }
    }
}

#[test]
fn block_sums_follow_packet_sizes() {
    // Σcells / packet bits, per frame: the reference doc measured medians of 0.93 (HEVC, CABAC
    // counted in bytes, SAO and slice headers outside) and 0.98 (VP9; superframes holding a
    // hidden frame count only the shown frame's bits, hence low minima).
    for (name, video) in all_fixtures() {
        let scan = scan(&video, &[]);
        let ratios: Vec<f64> = (0..scan.frames.len())
            .filter_map(|i| {
                let packet = scan.frames[i]["packet_bits"].as_f64()?;
                (packet >= 8.0 * 1024.0).then(|| scan.cell_sum(i) as f64 / packet)
            })
            .collect();
        assert!(!ratios.is_empty(), "{name}: no frame of at least 1 KB");
        let median = median(&ratios);
        eprintln!(
            "{name}: median Σcells/packet bits {median:.4} over {} frames",
            ratios.len()
        );
        assert!(
            ratios.iter().all(|r| *r <= 1.0),
            "{name}: a frame costs more than its packet: {ratios:?}"
        );
        let band = if name.starts_with("hevc") {
            0.80..=1.0
        } else {
            0.90..=1.0
        };
        assert!(
            band.contains(&median),
            "{name}: median ratio {median} outside {band:?}"
        );
    }
}

#[test]
fn vp9_fixtures_hold_hidden_frames() {
    for (name, video) in all_fixtures()
        .into_iter()
        .filter(|(n, _)| n.starts_with("vp9"))
    {
        let split = common::ffmpeg([
            "-v".as_ref(),
            "error".as_ref(),
            "-i".as_ref(),
            video.as_os_str(),
            "-c".as_ref(),
            "copy".as_ref(),
            "-bsf:v".as_ref(),
            "vp9_superframe_split".as_ref(),
            "-f".as_ref(),
            "framecrc".as_ref(),
            "-".as_ref(),
        ]);
        split.expect_success();
        let decoded_frames = split
            .stdout_str()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count();
        assert!(
            decoded_frames > ffprobe_frame_count(&video),
            "{name}: no hidden (alt-ref) frame: {decoded_frames} frames in the superframes"
        );
    }
}

#[test]
fn maps_do_not_depend_on_threads_scan_mode_or_segments() {
    let mut fixtures = all_fixtures();
    fixtures.push(("h264_gop12", h264_short_gops()));
    for (name, video) in fixtures {
        let serial = scan(&video, &["--segments", "1"]);
        for extra in [
            &[
                "--segments",
                "1",
                "--threads",
                "2",
                "--thread-type",
                "slice",
            ][..],
            &[
                "--segments",
                "1",
                "--threads",
                "2",
                "--thread-type",
                "frame",
            ],
            &["--segments", "1", "--pixels", "--size", "64x48"],
            &["--segments", "2"],
            &[
                "--segments",
                "3",
                "--threads",
                "2",
                "--thread-type",
                "frame",
            ],
        ] {
            let other = scan(&video, extra);
            assert_same_maps(&format!("{name} {extra:?}"), &serial, &other);
            assert_eq!(
                serial.bytes("frames.json"),
                other.bytes("frames.json"),
                "{name} {extra:?}: frames.json differs"
            );
        }
    }
}

#[test]
fn segments_cut_at_clean_keyframes_only() {
    // Closed GOPs split; open GOPs (x265's default CRA with leading pictures) do not.
    let closed = codecprep_core::probe(hevc_fixture("hevc_ctb32", 32, true)).expect("probe");
    assert!(codecprep_core::plan_segments(&closed, 1).len() > 1);
    let open = codecprep_core::probe(hevc_fixture("hevc_ctb64", 64, false)).expect("probe");
    let open_cuts = codecprep_core::plan_segments(&open, 1);
    for segment in &open_cuts[1..] {
        let first = &open.packets[segment.frames.start];
        assert!(first.keyframe, "cut at a non-keyframe: {segment:?}");
    }
}

#[test]
fn maps_equal_the_reference_tool() {
    let Some(python) = reference_python() else {
        return;
    };
    for (name, video) in all_fixtures() {
        let ours = scan(&video, &[]);
        let reference = reference_maps(&python, &video);
        assert_eq!(
            ours.cells, reference.cells,
            "{name}: block maps differ from the reference"
        );
        let frames = ours.frames.len();
        let identical_sub = (0..frames)
            .filter(|&i| {
                let a = ours.sub.index_axis(ndarray::Axis(0), i);
                let b = reference.sub.index_axis(ndarray::Axis(0), i);
                a.iter()
                    .zip(b.iter())
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            })
            .count();
        eprintln!("{name}: {identical_sub}/{frames} sub-grids identical to the reference");
        assert_eq!(
            identical_sub, frames,
            "{name}: sub-grids differ from the reference"
        );
    }
}

/// `data_bits - Σcells` per frame under the exact measure.
fn exact_overheads(video: &Path) -> (Scan, Vec<(i64, i64)>) {
    let scan = scan(video, &["--measure", "exact"]);
    let overheads = (0..scan.frames.len())
        .map(|i| {
            let data = scan.frames[i]["data_bits"].as_i64().expect("data_bits");
            let segments = scan.frames[i]["segments"].as_i64().expect("segments");
            (data - scan.cell_sum(i), segments)
        })
        .collect();
    (scan, overheads)
}

#[test]
fn exact_costs_add_up_to_the_coded_data() {
    // Bounds per independently started part (slice, WPP row, tile): CABAC reads 9 bits before
    // the first block and leaves at most 7 bits of the last byte after its terminating bin;
    // CAVLC costs cover the slice data exactly; a VP9 tile adds its marker bit, the bool
    // decoder's start-up byte and the encoder's padding.
    let mut cases: Vec<(String, PathBuf, i64, i64)> = vec![
        ("h264_cabac".into(), h264_fixture("h264_cabac"), 8, 16),
        ("h264_slices4".into(), h264_fixture("h264_slices4"), 8, 16),
        ("h264_mbaff".into(), h264_fixture("h264_mbaff"), 8, 16),
        ("h264_cavlc".into(), h264_fixture("h264_cavlc"), 0, 0),
    ];
    for (name, video) in all_fixtures() {
        let (low, high) = if name.starts_with("hevc") {
            (8, 16)
        } else {
            (1, 24)
        };
        cases.push((name.to_owned(), video, low, high));
    }
    for (name, video, low, high) in cases {
        let (scan, overheads) = exact_overheads(&video);
        let worst = overheads.iter().map(|(o, s)| o / s).max().unwrap_or(0);
        eprintln!("{name}: exact overhead at most {worst} bits per segment");
        for (i, (overhead, segments)) in overheads.iter().enumerate() {
            assert!(
                (low * segments..=high * segments).contains(overhead),
                "{name} frame {i}: data_bits - Σcells = {overhead} for {segments} segments, \
                 outside {low}..={high} per segment"
            );
            let cells = scan.cell_sum(i) as f64;
            assert!(
                (scan.sub_sum(i) - cells).abs() <= 0.5,
                "{name} frame {i}: exact sub-grid sum {} != block sum {cells}",
                scan.sub_sum(i)
            );
            assert_eq!(
                scan.frames[i]["measure"], "exact",
                "{name}: measure recorded"
            );
        }
    }
}

#[test]
fn exact_cabac_costs_are_not_whole_bytes() {
    let video = h264_fixture("h264_cabac");
    let exact = scan(&video, &["--measure", "exact"]);
    let reference = scan(&video, &[]);
    assert!(reference.cells.iter().all(|c| c % 8 == 0));
    assert!(exact.cells.iter().any(|c| c % 8 != 0));
}

/// Serial `Reader::read_frames`, and `read_selected` with the given workers, of `ids`.
fn serial_and_selected(
    video: &Path,
    ids: &[usize],
    request: Option<codecprep_core::PixelRequest>,
    workers: usize,
) -> (
    Vec<codecprep_core::FrameRecord>,
    Vec<codecprep_core::FrameRecord>,
    codecprep_core::SelectStats,
) {
    let info = codecprep_core::probe(video).expect("probe");
    let serial = codecprep_core::Reader::open(video, codecprep_core::ReaderOptions::default())
        .expect("open")
        .read_frames(ids, request)
        .expect("serial read");
    let options = codecprep_core::SelectOptions {
        workers,
        ..Default::default()
    };
    let (selected, stats) = codecprep_core::read_selected::<_, codecprep_core::Error>(
        video, &info, ids, request, &options, Ok,
    )
    .expect("selected read");
    (serial, selected, stats)
}

fn assert_same_records(
    label: &str,
    a: &[codecprep_core::FrameRecord],
    b: &[codecprep_core::FrameRecord],
) {
    assert_eq!(a.len(), b.len(), "{label}: record count");
    for (x, y) in a.iter().zip(b) {
        let at = format!("{label}: frame {}", x.index);
        assert_eq!(x.index, y.index, "{at}: index");
        assert_eq!(x.pict_type, y.pict_type, "{at}: picture type");
        assert_eq!(x.pts_time, y.pts_time, "{at}: time");
        assert_eq!(x.map, y.map, "{at}: map");
        assert!(x.pixels == y.pixels, "{at}: pixels differ");
        assert_eq!(x.warnings, y.warnings, "{at}: warnings");
    }
}

#[test]
fn parallel_reads_of_selected_frames_equal_serial_reads() {
    use codecprep_core::{PixelFormat, PixelRequest};
    let native = Some(PixelRequest {
        format: PixelFormat::Bgr,
        width: 0,
        height: 0,
    });
    let scaled = Some(PixelRequest {
        format: PixelFormat::Rgb,
        width: 88,
        height: 50,
    });
    // Several GOPs (segments), and single-GOP H.264 in frames, MBAFF and CAVLC (one session
    // that skips pictures).
    for (name, video) in [
        ("h264_gop12", h264_short_gops()),
        ("hevc_ctb32", hevc_fixture("hevc_ctb32", 32, true)),
        ("vp9_p0", vp9_fixture("vp9_p0", false)),
        ("h264_cabac", h264_fixture("h264_cabac")),
        ("h264_mbaff", h264_fixture("h264_mbaff")),
        ("h264_cavlc", h264_fixture("h264_cavlc")),
    ] {
        let several_gops = !["h264_cabac", "h264_mbaff", "h264_cavlc"].contains(&name);
        let n = ffprobe_frame_count(&video);
        let every_third: Vec<usize> = (0..n).step_by(3).collect();
        let sparse = vec![n - 1, 3, 5, 17, 18, 30, 5];
        let late = vec![n - 2];
        let all: Vec<usize> = (0..n).collect();
        for (what, ids) in [
            ("every third", &every_third),
            ("sparse", &sparse),
            ("late", &late),
            ("all", &all),
        ] {
            for (request, workers) in [(native, 3), (scaled, 2), (native, 1), (None, 2)] {
                let label = format!("{name} {what}, {workers} workers, {request:?}");
                let (serial, selected, stats) = serial_and_selected(&video, ids, request, workers);
                assert_eq!(stats.fallback, None, "{label}: fell back");
                assert_same_records(&label, &serial, &selected);
                if several_gops && workers > 1 && what != "late" {
                    assert!(stats.segments > 1, "{label}: {stats:?}");
                }
                // Only the segment holding the one late frame is decoded.
                if several_gops && what == "late" {
                    assert!(stats.frames_decoded < n / 2, "{label}: {stats:?}");
                }
                // Unwanted H.264 non-reference pictures are skipped; nothing else is.
                if name.starts_with("h264") && (what == "every third" || what == "sparse") {
                    assert!(stats.frames_skipped > 0, "{label}: {stats:?}");
                } else if !name.starts_with("h264") || what == "all" {
                    assert_eq!(stats.frames_skipped, 0, "{label}: {stats:?}");
                }
            }
        }
    }
}

#[test]
fn a_worker_moving_on_from_a_skipped_picture_decodes_the_next_job_fully() {
    // One worker runs the jobs one after another with one decoder. A job can end on an
    // unwanted non-reference picture, sent with the decoder skipping; the next job, which
    // may want the non-reference B-frame right after its keyframe, must not inherit that
    // setting (it once did: the frame went missing and every such read fell back to the
    // slow serial decode). Every spacing and phase of regular samples over 12-frame GOPs
    // with B-pyramids crosses such a boundary somewhere.
    let video = h264_short_gops();
    let n = ffprobe_frame_count(&video);
    for step in 2..=6 {
        for phase in 0..step {
            let ids: Vec<usize> = (phase..n).step_by(step).collect();
            let label = format!("every {step} frames from {phase}");
            let (serial, selected, stats) = serial_and_selected(&video, &ids, None, 1);
            assert_eq!(stats.fallback, None, "{label}: fell back");
            assert!(stats.frames_skipped > 0, "{label}: {stats:?}");
            assert_same_records(&label, &serial, &selected);
        }
    }
}

#[test]
fn damaged_files_are_read_as_the_serial_read_does() {
    // Reads that split the file or skip pictures check every frame (error concealment may draw
    // on pictures they did not decode), so a damaged file makes them redo the plain serial
    // read, with one GOP or several.
    for (name, damaged, segmented) in [
        ("one gop", corrupt_mdat().path, false),
        (
            "gop 12",
            corrupted_copy("corrupt_gop12", &h264_short_gops()).path,
            true,
        ),
    ] {
        let ids: Vec<usize> = (0..ffprobe_frame_count(&damaged)).collect();
        let request = Some(codecprep_core::PixelRequest::default());
        for workers in [1, 2] {
            let (serial, selected, stats) = serial_and_selected(&damaged, &ids, request, workers);
            assert!(
                stats.fallback.is_some(),
                "{name} ({} GOPs), {workers} workers: {stats:?}",
                if segmented { "several" } else { "one" }
            );
            assert!(
                serial.iter().any(|r| !r.warnings.is_empty()),
                "{name}: no damage seen"
            );
            assert_same_records(&format!("{name}, {workers} workers"), &serial, &selected);
        }
    }
}

#[test]
fn selected_reads_report_progress_and_stop_when_cancelled() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    let video = h264_short_gops();
    let info = codecprep_core::probe(&video).expect("probe");
    let ids: Vec<usize> = (0..info.frame_count).step_by(5).collect();
    // (done, total, whether the flag was already set) per report.
    let seen = Mutex::new(Vec::new());
    let cancel = AtomicBool::new(false);
    let progress = |done: usize, total: usize| {
        seen.lock()
            .unwrap()
            .push((done, total, cancel.load(Ordering::Relaxed)));
        if done >= 10 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let options = codecprep_core::SelectOptions {
        workers: 2,
        progress: Some(&progress),
        cancel: Some(&cancel),
        ..Default::default()
    };
    let err = codecprep_core::read_selected::<_, codecprep_core::Error>(
        &video,
        &info,
        &ids,
        Some(codecprep_core::PixelRequest::default()),
        &options,
        Ok,
    )
    .expect_err("cancelled");
    assert!(
        matches!(err.kind(), codecprep_core::ErrorKind::Cancelled),
        "{err}"
    );
    let seen = seen.into_inner().unwrap();
    // Each worker stops at its next frame once the flag is set.
    let after = seen.iter().filter(|&&(_, _, set)| set).count();
    assert!(after <= 1, "{seen:?}");
    let (done, total, _) = seen[seen.len() - 1];
    assert!(done < total, "{seen:?}");
    assert!(
        seen.iter()
            .all(|&(done, total, _)| done <= total && total > 0)
    );

    // Without cancelling, the count reaches the total: every frame decoded or skipped.
    cancel.store(false, Ordering::Relaxed);
    let seen = Mutex::new((0usize, 0usize));
    let count = |done: usize, total: usize| {
        let mut max = seen.lock().unwrap();
        *max = (max.0.max(done), total);
        assert!(done <= total);
    };
    let options = codecprep_core::SelectOptions {
        workers: 2,
        progress: Some(&count),
        ..Default::default()
    };
    let (records, stats) = codecprep_core::read_selected::<_, codecprep_core::Error>(
        &video, &info, &ids, None, &options, Ok,
    )
    .expect("read");
    assert_eq!(records.len(), ids.len());
    let (done, total) = *seen.lock().unwrap();
    assert_eq!(done, total);
    // (A packet decoded before the last wanted frame may show a later frame.)
    assert!(
        total <= stats.frames_decoded + stats.frames_skipped,
        "{stats:?}"
    );
    assert!(total >= stats.frames_decoded, "{stats:?}");
}
