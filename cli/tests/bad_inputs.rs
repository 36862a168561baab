//! Bad inputs: `codecprep scan` and `codecprep probe` fail with exactly one stderr line
//! `codecprep: error: <path>: <cause>`, exit code 1, no panic, no hang, and leave no outputs.
//! A clip with corrupt slice data in the middle is not a failure: the scan goes on, marks the
//! damaged frames with warnings and exits 0.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use common::*;

/// Asserts the one-line error contract for a finished command about `path`.
fn assert_one_line_error(out: &Output, path: &Path) {
    assert_eq!(
        out.code,
        Some(1),
        "expected exit code 1 from `{}`, got {:?}\nstderr:\n{}",
        out.command,
        out.code,
        out.stderr
    );
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "`{}`: expected one stderr line, got:\n{}",
        out.command,
        out.stderr
    );
    let line = lines[0];
    assert!(
        line.starts_with("codecprep: error: "),
        "`{}`: stderr line {line:?}",
        out.command
    );
    let shown = path.display().to_string();
    assert!(
        line.contains(&shown),
        "`{}`: error line {line:?} does not name {shown}",
        out.command
    );
    let cause = line["codecprep: error: ".len()..].replacen(&shown, "", 1);
    assert!(
        cause.trim_start_matches(':').trim().len() >= 3,
        "`{}`: error line {line:?} gives no cause",
        out.command
    );
}

/// After a failed scan the output directory is absent or empty (no half-written outputs).
fn assert_no_outputs(dir: &Path) {
    if !dir.exists() {
        return;
    }
    let left: Vec<String> = fs::read_dir(dir)
        .expect("read out dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(
        left.is_empty(),
        "a failed scan left files in {}: {left:?}",
        dir.display()
    );
}

/// Runs `codecprep scan VIDEO --out OUT EXTRA...`.
fn scan_into(video: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "scan".as_ref(),
        video.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    codecprep(args)
}

fn check_bad_scan(name: &str) {
    let video = bad_input(name);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("out");
    let out = scan_into(&video, &out_dir, &[]);
    eprintln!("{name}: scan -> {:?}: {}", out.code, out.stderr.trim_end());
    assert_one_line_error(&out, &video);
    assert_no_outputs(&out_dir);

    // Same with pixels requested.
    let out_dir2 = tmp.path().join("out-pixels");
    let out = scan_into(&video, &out_dir2, &["--pixels", "--size", "64x48"]);
    assert_one_line_error(&out, &video);
    assert_no_outputs(&out_dir2);
}

fn check_bad_probe(name: &str) {
    let video = bad_input(name);
    let out = codecprep(["probe".as_ref(), video.as_os_str()]);
    eprintln!("{name}: probe -> {:?}: {}", out.code, out.stderr.trim_end());
    assert_one_line_error(&out, &video);
    assert!(
        out.stdout.is_empty(),
        "probe printed to stdout on failure: {}",
        out.stdout_str()
    );
}

macro_rules! bad_input_tests {
    ($($name:ident),* $(,)?) => {
        const COVERED: &[&str] = &[$(stringify!($name)),*];
        $(
            mod $name {
                #[test]
                fn scan_fails_cleanly() {
                    super::check_bad_scan(stringify!($name));
                }
                #[test]
                fn probe_fails_cleanly() {
                    super::check_bad_probe(stringify!($name));
                }
            }
        )*
    };
}

bad_input_tests!(missing, empty, text, random, truncated, audio_only, mpeg4);

#[test]
fn every_bad_input_is_covered() {
    assert_eq!(
        COVERED, BAD_INPUTS,
        "bad_input_tests! and BAD_INPUTS are out of step"
    );
}

#[test]
fn directory_as_input_fails_cleanly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let video = tmp.path().join("a-directory.mp4");
    fs::create_dir(&video).unwrap();
    let out_dir = tmp.path().join("out");
    let out = scan_into(&video, &out_dir, &[]);
    assert_one_line_error(&out, &video);
    assert_no_outputs(&out_dir);
}

#[test]
fn unwritable_out_fails_cleanly() {
    // --out names an existing regular file: nothing can be written below it.
    let video = h264_fixture("h264_odd");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_file = tmp.path().join("out");
    fs::write(&out_file, b"not a directory").unwrap();
    let out = scan_into(&video, &out_file, &[]);
    assert_one_line_error(&out, &out_file);
    assert_eq!(
        fs::read(&out_file).unwrap(),
        b"not a directory",
        "the file named by --out was changed"
    );
}

fn check_corrupt(extra: &[&str]) {
    let c = corrupt_mdat();
    let expected = ffprobe_frame_count(&c.path);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("out");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "scan".as_ref(),
        c.path.as_os_str(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    let out = codecprep(&args);
    eprintln!(
        "corrupt_mdat {extra:?}: {} bytes overwritten at offset {} (packet pts {}); exit {:?}; stderr:\n{}",
        c.len, c.offset, c.pts_time, out.code, out.stderr
    );
    out.expect_success();
    for f in ["frames.json", "cells.npy", "sub.npy"] {
        assert!(
            out_dir.join(f).is_file(),
            "corrupt_mdat: {f} missing after a successful scan"
        );
    }
    let frames: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("frames.json")).unwrap()).unwrap();
    let frames = frames.as_array().expect("frames.json array");
    let cells: ndarray::Array3<i32> = read_npy(&out_dir.join("cells.npy"));
    let sub: ndarray::Array3<f32> = read_npy(&out_dir.join("sub.npy"));
    let warned: Vec<(usize, f64, String)> = frames
        .iter()
        .enumerate()
        .filter(|(_, f)| f["warnings"].as_array().is_some_and(|w| !w.is_empty()))
        .map(|(i, f)| {
            (
                i,
                f["pts_time"].as_f64().unwrap_or(f64::NAN),
                f["warnings"].to_string(),
            )
        })
        .collect();
    eprintln!(
        "corrupt_mdat: {} frames (ffprobe {expected}); frames with warnings: {warned:?}",
        frames.len()
    );
    assert_eq!(
        frames.len(),
        expected,
        "corrupt_mdat: frame count vs ffprobe -count_frames"
    );
    assert_eq!(
        cells.shape()[0],
        frames.len(),
        "corrupt_mdat: cells.npy frames"
    );
    assert_eq!(sub.shape()[0], frames.len(), "corrupt_mdat: sub.npy frames");
    assert!(
        !warned.is_empty(),
        "corrupt_mdat: no frame carries a warning"
    );
    assert!(
        warned
            .iter()
            .any(|(_, pts, _)| (pts - c.pts_time).abs() < 1e-3),
        "corrupt_mdat: the corrupted frame (pts {}) carries no warning",
        c.pts_time
    );
}

/// Maps only (the scan mode that skips reconstruction).
#[test]
fn corrupt_slice_data_warns_and_goes_on() {
    check_corrupt(&[]);
}

/// With pixels (full reconstruction).
#[test]
fn corrupt_slice_data_warns_and_goes_on_with_pixels() {
    check_corrupt(&["--pixels", "--size", "160x120"]);
}

#[test]
fn truncated_faststart_keeps_the_decodable_frames() {
    // The index survives, half of the media data does not: the scan keeps every frame that
    // decodes (as many as ffprobe counts), warns, and exits 0.
    let video = truncated_faststart();
    let expected = ffprobe_frame_count(&video);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("out");
    let out = scan_into(&video, &out_dir, &[]);
    out.expect_success();
    let frames: serde_json::Value =
        serde_json::from_slice(&fs::read(out_dir.join("frames.json")).unwrap()).unwrap();
    let frames = frames.as_array().expect("frames.json array");
    let cells: ndarray::Array3<i32> = read_npy(&out_dir.join("cells.npy"));
    let warned: Vec<usize> = (0..frames.len())
        .filter(|&i| {
            frames[i]["warnings"]
                .as_array()
                .is_some_and(|w| !w.is_empty())
        })
        .collect();
    eprintln!(
        "truncated_faststart: {} frames (ffprobe {expected}), warnings on frames {warned:?}",
        frames.len()
    );
    assert_eq!(
        frames.len(),
        expected,
        "truncated_faststart: frames vs ffprobe -count_frames"
    );
    assert_eq!(
        cells.shape()[0],
        frames.len(),
        "truncated_faststart: cells.npy frames"
    );
    assert!(
        !warned.is_empty(),
        "truncated_faststart: no frame carries a warning"
    );
    let says_truncated = frames
        .iter()
        .any(|f| f["warnings"].to_string().contains("truncated"));
    assert!(
        says_truncated,
        "truncated_faststart: no warning says that the file is cut short"
    );
}

#[test]
fn errors_name_the_cause() {
    for (name, cause) in [
        ("missing", "no such file"),
        ("text", "not a media file"),
        ("truncated", "without its index"),
        ("audio_only", "no video stream"),
        ("mpeg4", "codec mpeg4 is not supported"),
    ] {
        let video = bad_input(name);
        let out = codecprep(["probe".as_ref(), video.as_os_str()]);
        assert!(
            out.stderr.contains(cause),
            "{name}: the error does not say {cause:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn a_grid_change_fails_at_the_same_frame_however_the_scan_is_split() {
    let video = resolution_change();
    let tmp = tempfile::tempdir().expect("tempdir");
    for segments in ["1", "2", "3"] {
        let out_dir = tmp.path().join(format!("out-{segments}"));
        let out = scan_into(&video, &out_dir, &["--segments", segments]);
        assert_one_line_error(&out, &video);
        assert!(
            out.stderr
                .contains("frame 20 changes the grid from 6x10 to 4x8 (resolution change"),
            "--segments {segments}: {}",
            out.stderr
        );
        assert_no_outputs(&out_dir);
    }
}
