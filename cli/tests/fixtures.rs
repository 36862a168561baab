//! The test fixtures and oracles themselves (no `codecprep` run): every generated clip is coded
//! the way its name says and stays small, the bad inputs are what they claim, and the reference
//! tool's maps (when installed) pass the same sum checks the scan tests apply to codecprep.

mod common;

use std::fs;

use common::*;

/// Upper bound on a fixture's size: they are generated on every fresh checkout.
const MAX_FIXTURE_BYTES: u64 = 100 * 1024;

#[test]
fn h264_fixtures_are_coded_as_named() {
    for name in H264_FIXTURES {
        let video = h264_fixture(name);
        let size = fs::metadata(&video).unwrap().len();
        assert!(
            size <= MAX_FIXTURE_BYTES,
            "{name}: {size} bytes, over {MAX_FIXTURE_BYTES}"
        );
        let stream = ffprobe_stream(&video);
        assert_eq!(stream["codec_name"], "h264", "{name}: codec");
        let frames = ffprobe_frame_count(&video);
        let hdr = h264_headers(&video);
        check_fixture_coding(name, &hdr, &stream, frames);
        let packets = packets_of(&video);
        assert_eq!(packets.len(), frames, "{name}: packets vs frames");
        let big = packets.iter().filter(|p| p.size >= 1024).count();
        eprintln!(
            "{name}: {size} bytes, {}x{}, {frames} frames ({big} packets >= 1 KB), {} slices, \
             mb grid {}x{}, cabac {}, mbaff {}, profile {}",
            stream["width"],
            stream["height"],
            hdr.slices,
            hdr.frame_mb_rows,
            hdr.mb_width,
            hdr.cabac,
            hdr.mbaff,
            stream["profile"]
        );
    }
}

#[test]
fn bad_inputs_are_bad() {
    assert!(!bad_input("missing").exists());
    assert_eq!(fs::metadata(bad_input("empty")).unwrap().len(), 0);
    let audio = ffprobe([
        "-show_entries".as_ref(),
        "stream=codec_type,codec_name".as_ref(),
        "-of".as_ref(),
        "csv".as_ref(),
        bad_input("audio_only").as_os_str(),
    ]);
    assert_eq!(String::from_utf8_lossy(&audio).trim(), "stream,aac,audio");
    let mpeg4 = ffprobe_stream(&bad_input("mpeg4"));
    assert_eq!(mpeg4["codec_name"], "mpeg4");
    // The truncated clip has lost its index: ffprobe cannot open it.
    for name in ["truncated", "random", "text", "empty"] {
        let mut cmd = std::process::Command::new("ffprobe");
        cmd.args(["-v", "error", "-show_streams"])
            .arg(bad_input(name));
        let out = run_with_timeout(&mut cmd, TOOL_TIMEOUT);
        assert!(
            out.code != Some(0)
                || out.stdout.is_empty()
                || !out.stdout_str().contains("codec_type=video"),
            "{name}: ffprobe opens it as a video:\n{}",
            out.stdout_str()
        );
    }
}

#[test]
fn corrupt_fixture_decodes_with_errors() {
    let c = corrupt_mdat();
    let clean = h264_fixture("h264_cabac");
    assert_eq!(
        ffprobe_frame_count(&c.path),
        ffprobe_frame_count(&clean),
        "corrupt_mdat: frames lost"
    );
    let out = ffmpeg([
        "-v".as_ref(),
        "error".as_ref(),
        "-i".as_ref(),
        c.path.as_os_str(),
        "-f".as_ref(),
        "null".as_ref(),
        "-".as_ref(),
    ]);
    assert!(
        !out.stderr.trim().is_empty(),
        "corrupt_mdat: ffmpeg decodes it without a complaint"
    );
    eprintln!(
        "corrupt_mdat: packet at pts {} damaged; ffmpeg says:\n{}",
        c.pts_time, out.stderr
    );
}

/// The reference's own maps meet the checks the scan tests apply (Σcells vs slice bits,
/// Σsub vs Σcells): shows that the oracles are right before blaming codecprep.
#[test]
fn reference_maps_pass_the_sum_checks() {
    let Some(python) = reference_python() else {
        return;
    };
    for name in H264_FIXTURES {
        let video = h264_fixture(name);
        let r = reference_maps(&python, &video);
        let n = r.cells.shape()[0];
        assert_eq!(
            n,
            ffprobe_frame_count(&video),
            "{name}: reference frame count"
        );
        assert!(
            r.frames.iter().all(|f| f["bitcost_none"] == false),
            "{name}: reference frames without maps"
        );
        let hdr = h264_headers(&video);
        assert_eq!(
            &r.cells.shape()[1..],
            &[hdr.frame_mb_rows, hdr.mb_width],
            "{name}: reference grid"
        );
        let mut packets = packets_of(&video);
        packets.sort_by(|a, b| a.pts_time.total_cmp(&b.pts_time));
        let mut ratios = Vec::new();
        let mut worst_sub: f64 = 0.0;
        for (i, p) in packets.iter().enumerate() {
            let cells: i64 = r
                .cells
                .index_axis(ndarray::Axis(0), i)
                .iter()
                .map(|&v| i64::from(v))
                .sum();
            let sub: f64 = r
                .sub
                .index_axis(ndarray::Axis(0), i)
                .iter()
                .map(|&v| f64::from(v))
                .sum();
            if is_cavlc(name) {
                assert!(
                    sub <= cells as f64 + 1e-3 && sub >= 0.99 * cells as f64,
                    "{name}: frame {i} Σsub {sub} Σcells {cells}"
                );
                worst_sub = worst_sub.max((cells as f64 - sub) / (cells as f64).max(1.0));
            } else {
                assert!(
                    (sub - cells as f64).abs() <= 1e-3,
                    "{name}: frame {i} Σsub {sub} Σcells {cells}"
                );
            }
            if p.size >= 1024 {
                let r = cells as f64 / slice_nal_bits(&p.data) as f64;
                assert!(
                    (0.85..=1.0).contains(&r),
                    "{name}: reference frame {i} Σcells/slice bits {r:.4}"
                );
                ratios.push(r);
            }
        }
        eprintln!(
            "{name}: reference: {n} frames, Σcells/slice bits (>= 1 KB packets, {}) min {:.4} median {:.4} max {:.4}; worst Σsub shortfall {worst_sub:.5}",
            ratios.len(),
            ratios.iter().copied().fold(f64::INFINITY, f64::min),
            median(&ratios),
            ratios.iter().copied().fold(0.0, f64::max)
        );
    }
}
