//! `codecprep doctor` and `codecprep probe`.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn doctor_exits_zero() {
    let out = codecprep(["doctor"]);
    eprintln!(
        "doctor stdout:\n{}\ndoctor stderr:\n{}",
        out.stdout_str(),
        out.stderr
    );
    out.expect_success();
}

fn check_probe(name: &str) {
    let video = h264_fixture(name);
    let out = codecprep(["probe".as_ref(), video.as_os_str()]);
    out.expect_success();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: probe output is not JSON ({e}):\n{}",
            out.stdout_str()
        )
    });
    let stream = ffprobe_stream(&video);
    assert_eq!(v["codec"], "h264", "{name}: codec in {v}");
    assert_eq!(v["width"], stream["width"], "{name}: width in {v}");
    assert_eq!(v["height"], stream["height"], "{name}: height in {v}");
    let count = ffprobe_frame_count(&video);
    assert_eq!(
        v["frame_count"].as_u64(),
        Some(count as u64),
        "{name}: frame_count in {v}"
    );
    let keys = field(
        &v,
        &[
            "keyframes",
            "keyframe_indices",
            "keyframe_ids",
            "key_frames",
        ],
    );
    let keys: Vec<u64> = keys
        .as_array()
        .unwrap_or_else(|| panic!("{name}: keyframe list is not an array: {keys}"))
        .iter()
        .map(|k| {
            k.as_u64()
                .unwrap_or_else(|| panic!("{name}: keyframe index {k}"))
        })
        .collect();
    assert_eq!(
        keys.first(),
        Some(&0),
        "{name}: keyframes {keys:?} do not start with 0"
    );
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "{name}: keyframes {keys:?} not increasing"
    );
    assert!(
        keys.iter().all(|&k| k < count as u64),
        "{name}: keyframes {keys:?} beyond {count} frames"
    );
    let want: Vec<u64> = ffprobe_keyframes(&video)
        .into_iter()
        .map(|k| k as u64)
        .collect();
    if keys != want {
        eprintln!(
            "{name}: note: probe keyframes {keys:?}, ffprobe -show_frames key_frame {want:?}"
        );
    }
}

#[test]
fn probe_cabac() {
    check_probe("h264_cabac");
}

#[test]
fn probe_mbaff() {
    check_probe("h264_mbaff");
}

#[test]
fn probe_odd_size() {
    check_probe("h264_odd");
}
