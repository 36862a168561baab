//! `codec-video-prep` / `cv-preinfer` / `codecprep preinfer` without the reference tool:
//! outputs, modes the reference gets wrong, `--compat none` corrections, bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::{Array1, Array2, Array3};
use serde_json::Value;

/// A small H.264 clip (B-frames) of `frames` frames, cached.
fn clip(frames: u32) -> PathBuf {
    common::motion_clip(
        &format!("preinfer_cli_h264_{frames}"),
        320,
        240,
        frames,
        "yuv420p",
        &["-c:v", "libx264", "-g", "48", "-crf", "26", "-bf", "3"],
    )
}

fn bin(name: &str) -> &'static str {
    match name {
        "codec-video-prep" => env!("CARGO_BIN_EXE_codec-video-prep"),
        "cv-preinfer" => env!("CARGO_BIN_EXE_cv-preinfer"),
        _ => env!("CARGO_BIN_EXE_codecprep"),
    }
}

fn run(program: &str, args: &[&str]) -> common::Output {
    let mut cmd = Command::new(bin(program));
    if program == "codecprep" {
        cmd.arg("preinfer");
    }
    cmd.args(args);
    let out = common::run_with_timeout(&mut cmd, common::CLI_TIMEOUT);
    assert!(!out.timed_out, "{} timed out", out.command);
    assert_ne!(
        out.code,
        Some(101),
        "panic: {}\n{}",
        out.command,
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out
}

fn prep(video: &Path, out: &Path, extra: &[&str]) -> common::Output {
    let mut args = vec![
        "--video".to_owned(),
        video.to_string_lossy().into_owned(),
        "--out_dir".to_owned(),
        out.to_string_lossy().into_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run("codec-video-prep", &refs)
}

/// Entries of a directory (names), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn default_run_writes_the_reference_outputs() {
    let video = clip(60);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = prep(&video, &out, &[]);
    o.expect_success();
    let stdout = o.stdout_str();
    let (line, json) = stdout.split_once('\n').unwrap();
    assert!(line.starts_with("[timing] total="), "{line}");
    assert!(line.contains(" cv_reader=") && line.contains(" canvas_save="));
    let record: Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        record["meta_path"],
        out.join("meta.json").to_string_lossy().as_ref()
    );
    assert!(record["timings"]["total"].as_f64().unwrap() > 0.0);

    let m = common::preinfer_meta(&out);
    // 1024 samples of a 60-frame video: every frame once (keyframes re-enter).
    let ids: Array1<i32> = common::read_npy(&out.join("frame_ids.npy"));
    assert_eq!(ids.to_vec(), (0..60).collect::<Vec<i32>>());
    assert_eq!(m["sampled_frames"], 60);
    assert_eq!(m["processed_hw"], serde_json::json!([252, 308]));
    assert_eq!(m["decode_backend"], "cv_reader_pixels");
    let total_images = m["total_images"].as_u64().unwrap() as usize;
    assert_eq!(total_images, 4 * m["num_groups"].as_u64().unwrap() as usize);
    let pos: Array2<i32> = common::read_npy(&out.join("src_patch_position.npy"));
    assert_eq!(pos.shape(), &[total_images * 396, 3]);
    // The anchor canvas of group 0 is frame ids[start] in place.
    assert_eq!(pos.row(0).to_vec(), vec![0, 0, 0]);
    assert_eq!(pos.row(395).to_vec(), vec![0, 17, 21]);
    let names = listing(&out);
    assert_eq!(names.len(), total_images + 3, "{names:?}");
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "staging left: {names:?}"
    );
    let img = image::open(out.join("canvas_000.jpg")).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (308, 252));
    // Keys in the reference's order, codecprep's additions at the end.
    let text = std::fs::read_to_string(out.join("meta.json")).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  \""))
        .filter_map(|l| l.split_once('"').map(|(k, _)| k))
        .collect();
    assert_eq!(
        &keys[..4],
        &["video", "video_hash", "codec_selector_version", "config"]
    );
    assert_eq!(
        &keys[keys.len() - 6..],
        &[
            "groups",
            "timing_sec",
            "group_processing_timing_sec",
            "timings",
            "dropped_frames",
            "codecprep"
        ]
    );
}

#[test]
fn aliases_json_quiet_and_npy_canvases() {
    let video = clip(60);
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let v = video.to_string_lossy().into_owned();
    let o = run(
        "cv-preinfer",
        &[
            "--video",
            &v,
            "--out_dir",
            a.to_str().unwrap(),
            "--json",
            "--canvas_format",
            "npy",
        ],
    );
    o.expect_success();
    let record: Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = record["canvas_files"].as_array().unwrap();
    assert_eq!(files[0], "canvas_000.npy");
    let canvas: Array3<u8> = common::read_npy(&a.join("canvas_000.npy"));
    assert_eq!(canvas.shape(), &[252, 308, 3]);

    let b = dir.path().join("b");
    let o = run(
        "codecprep",
        &[
            "--video",
            &v,
            "--out_dir",
            b.to_str().unwrap(),
            "--quiet",
            "--canvas_format",
            "npy",
        ],
    );
    o.expect_success();
    assert!(o.stdout.is_empty());
    // Same job, same outputs.
    for name in ["frame_ids.npy", "src_patch_position.npy", "canvas_003.npy"] {
        assert_eq!(
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn sampling_modes_the_reference_lacks_or_gets_wrong() {
    let video = clip(90);
    let dir = tempfile::tempdir().unwrap();
    let ids_of = |mode: &str| -> Vec<i32> {
        let out = dir.path().join(mode);
        prep(
            &video,
            &out,
            &[
                "--frame_sampling_mode",
                mode,
                "--canvas_format",
                "png",
                "--compat",
                "none",
            ],
        )
        .expect_success();
        let ids: Array1<i32> = common::read_npy(&out.join("frame_ids.npy"));
        ids.to_vec()
    };
    let fps = ids_of("fps");
    let peak = ids_of("pkt_peak");
    let size_peak = ids_of("pkt_size_peak");
    // pkt_peak is real packet-peak sampling (the reference silently did fps sampling).
    assert_eq!(peak, size_peak);
    assert_ne!(peak, fps);
    let both = ids_of("fps_plus_pkt_size_peak");
    assert!(both.len() >= fps.len());
    let all = ids_of("all_frames");
    assert_eq!(all, (0..90).collect::<Vec<i32>>());
}

#[test]
fn yaml_config_with_flag_override() {
    let video = clip(60);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let yaml = dir.path().join("job.yaml");
    std::fs::write(
        &yaml,
        format!(
            "video: {}\nout_dir: {}\ngrouping_mode: fixed\ngroup_size: 10\ncanvas_format: png\n",
            video.display(),
            out.display()
        ),
    )
    .unwrap();
    run(
        "codec-video-prep",
        &[
            "--config",
            yaml.to_str().unwrap(),
            "--group_size",
            "20",
            "--quiet",
        ],
    )
    .expect_success();
    let m = common::preinfer_meta(&out);
    assert_eq!(m["grouping_mode"], "fixed");
    assert_eq!(m["num_groups"], 3);
    assert_eq!(m["canvas_files"][0], "canvas_000.png");
}

#[test]
fn compat_none_keeps_the_readiness_tail_and_short_videos() {
    let video = clip(60);
    let dir = tempfile::tempdir().unwrap();
    // min 8 frames, max 9: the groups leave a tail the reference drops.
    let args = [
        "--min_group_frames",
        "8",
        "--max_group_frames",
        "9",
        "--canvas_format",
        "png",
    ];
    let r = dir.path().join("reference");
    prep(&video, &r, &args).expect_success();
    let rm = common::preinfer_meta(&r);
    let last_end = common::group_bounds(&rm).last().unwrap().1;
    let dropped = rm["dropped_frames"].as_array().unwrap();
    if last_end < 60 {
        assert_eq!(dropped.len(), 1, "the dropped tail is reported");
        assert_eq!(dropped[0]["end"], 60);
        assert_eq!(dropped[0]["start"], last_end);
    }
    let n = dir.path().join("none");
    let mut none_args = args.to_vec();
    none_args.extend(["--compat", "none"]);
    prep(&video, &n, &none_args).expect_success();
    let nm = common::preinfer_meta(&n);
    assert_eq!(
        common::group_bounds(&nm).last().unwrap().1,
        60,
        "tail merged"
    );
    assert!(nm["dropped_frames"].as_array().unwrap().is_empty());
    assert_eq!(nm["codecprep"]["compat"], "none");

    // 6 frames: no group of 8 frames; the reference fails, compat none makes one group.
    let short = clip(6);
    let r = dir.path().join("short-ref");
    let o = prep(&short, &r, &[]);
    assert_eq!(o.code, Some(1));
    assert!(o.stderr.contains("no canvases produced"), "{}", o.stderr);
    assert_eq!(o.stderr.trim().lines().count(), 1);
    assert!(!r.exists(), "nothing written for a failed run");
    let n = dir.path().join("short-none");
    prep(&short, &n, &["--compat", "none"]).expect_success();
    assert_eq!(
        common::group_bounds(&common::preinfer_meta(&n)),
        vec![(0, 6, "tail_flush".to_owned())]
    );
    // Fixed groups of 3: the reference skips groups under 4 frames.
    let f = dir.path().join("fixed3");
    let o = prep(
        &video,
        &f,
        &["--grouping_mode", "fixed", "--group_size", "3"],
    );
    assert_eq!(o.code, Some(1));
    let f = dir.path().join("fixed3-none");
    prep(
        &video,
        &f,
        &[
            "--grouping_mode",
            "fixed",
            "--group_size",
            "3",
            "--compat",
            "none",
        ],
    )
    .expect_success();
    assert_eq!(common::preinfer_meta(&f)["num_groups"], 20);
}

#[test]
fn compat_none_changes_scores_not_the_job() {
    let video = clip(60);
    let dir = tempfile::tempdir().unwrap();
    let (r, n) = (dir.path().join("r"), dir.path().join("n"));
    prep(&video, &r, &["--canvas_format", "png"]).expect_success();
    prep(&video, &n, &["--canvas_format", "png", "--compat", "none"]).expect_success();
    let (rm, nm) = (common::preinfer_meta(&r), common::preinfer_meta(&n));
    assert_eq!(rm["sampled_frames"], nm["sampled_frames"]);
    assert_eq!(rm["processed_hw"], nm["processed_hw"]);
    // Without the zero padding column, the right-most blocks score more.
    let threshold = |m: &Value| m["readiness_sum_threshold"].as_f64().unwrap();
    assert_ne!(threshold(&rm), threshold(&nm));
}

#[test]
fn bad_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["missing", "empty", "text", "audio_only", "mpeg4"] {
        let video = common::bad_input(name);
        let out = dir.path().join(name);
        let o = prep(&video, &out, &[]);
        assert_eq!(o.code, Some(1), "{name}: {}", o.stderr);
        let lines: Vec<&str> = o.stderr.trim().lines().collect();
        assert_eq!(lines.len(), 1, "{name}: {}", o.stderr);
        assert!(
            lines[0].starts_with("codec-video-prep: error: "),
            "{}",
            lines[0]
        );
        let file_name = video.file_name().unwrap().to_string_lossy().into_owned();
        assert!(lines[0].contains(&file_name), "{name}: {}", lines[0]);
        assert!(!out.exists(), "{name}: out_dir created");
    }
}

#[test]
fn bad_numbers_and_unwritable_out_dir() {
    let video = clip(60);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    for (flag, value) in [
        ("--num_sampled_frames", "0"),
        ("--images_per_group", "0"),
        ("--group_size", "-1"),
        ("--thread_count", "-2"),
        ("--bitcost_pct", "120"),
    ] {
        let o = prep(&video, &out, &[flag, value]);
        assert_eq!(o.code, Some(2), "{flag} {value}: {}", o.stderr);
        assert!(o.stderr.contains(flag), "{flag}: {}", o.stderr);
        assert!(!out.exists());
    }
    let o = prep(&video, &out, &["--grouping_mode", "sideways"]);
    assert_eq!(o.code, Some(2));
    // The reference clamps these.
    prep(
        &video,
        &out,
        &[
            "--patch",
            "0",
            "--block_size",
            "-3",
            "--max_pixels",
            "3136",
            "--quiet",
            "--grouping_mode",
            "fixed",
            "--group_size",
            "8",
            "--num_sampled_frames",
            "8",
        ],
    )
    .expect_success();
    assert_eq!(common::preinfer_meta(&out)["patch"], 1);

    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let under_file = file.join("out");
    let o = prep(&video, &under_file, &[]);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(
        o.stderr.contains(&*under_file.to_string_lossy()),
        "{}",
        o.stderr
    );
}

#[test]
fn mask_videos_show_each_sampled_frames_own_patches() {
    let video = clip(90);
    let dir = tempfile::tempdir().unwrap();
    for compat in ["reference", "none"] {
        let out = dir.path().join(compat);
        prep(
            &video,
            &out,
            &[
                "--save_mask_video",
                "--num_sampled_frames",
                "30",
                "--compat",
                compat,
            ],
        )
        .expect_success();
        let m = common::preinfer_meta(&out);
        assert_eq!(m["mask_video_sbs"], "sampled_masked_sbs.mp4");
        assert_eq!(m["mask_video_only"], "sampled_masked_only.mp4");
        assert!(m["timings"]["save_mask_video"].as_f64().unwrap() > 0.0);
        let hw: Vec<u64> = serde_json::from_value(m["processed_hw"].clone()).unwrap();
        let (h, w) = (hw[0], hw[1]);
        let sampled = m["sampled_frames"].as_u64().unwrap();
        let in_groups: u64 = m["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["group_frame_count"].as_u64().unwrap())
            .sum();
        // The reference zips the sampled frames with the processed groups' masks.
        let frames = if compat == "reference" {
            in_groups.min(sampled)
        } else {
            sampled
        };
        let only = common::video_stream(&out.join("sampled_masked_only.mp4"));
        let sbs = common::video_stream(&out.join("sampled_masked_sbs.mp4"));
        assert_eq!(only, (frames, w, h, "4/1".to_owned()), "{compat}");
        assert_eq!(sbs, (frames, 2 * w, h, "4/1".to_owned()), "{compat}");
        assert!(
            listing(&out).iter().all(|n| !n.starts_with('.')),
            "{compat}: temporary files left"
        );
        if compat == "reference" {
            continue;
        }
        // Corrected pairing: the right half of sampled frame i shows exactly the patches
        // of frame ids[i] that the canvases show (30 distinct ids of 90 frames).
        let ids: Array1<i32> = common::read_npy(&out.join("frame_ids.npy"));
        let pos: Array2<i32> = common::read_npy(&out.join("src_patch_position.npy"));
        let p = m["patch"].as_u64().unwrap() as usize;
        let (w, h) = (w as usize, h as usize);
        let grey = common::grey_frames(&out.join("sampled_masked_sbs.mp4"), 2 * w, h);
        let (mut agree, mut judged) = (0, 0);
        for (i, frame) in grey.iter().enumerate() {
            let kept: std::collections::HashSet<(i32, i32)> = pos
                .rows()
                .into_iter()
                .filter(|r| r[0] == ids[i])
                .map(|r| (r[1], r[2]))
                .collect();
            for ph in 0..h / p {
                for pw in 0..w / p {
                    let mean = |x0: usize| {
                        let mut sum = 0u64;
                        for y in ph * p..(ph + 1) * p {
                            for x in x0 + pw * p..x0 + (pw + 1) * p {
                                sum += u64::from(frame[y * 2 * w + x]);
                            }
                        }
                        sum as f64 / (p * p) as f64
                    };
                    let (left, right) = (mean(0), mean(w));
                    // Dark patches look the same kept or not.
                    if left < 32.0 {
                        continue;
                    }
                    judged += 1;
                    let shown = right > left / 2.0;
                    agree += usize::from(shown == kept.contains(&(ph as i32, pw as i32)));
                }
            }
        }
        assert!(judged > 1000, "{judged}");
        assert!(
            agree as f64 >= 0.98 * judged as f64,
            "masks agree on {agree} of {judged} patches"
        );
    }
}

#[test]
fn heatmap_png_and_mp4() {
    let video = clip(60);
    let dir = tempfile::tempdir().unwrap();
    let heatmap = |args: &[&str]| {
        let mut cmd = Command::new(bin("codecprep"));
        cmd.arg("heatmap").arg(&video).args(args);
        common::run_with_timeout(&mut cmd, common::CLI_TIMEOUT)
    };
    let png = dir.path().join("frame.png");
    let png_arg = png.to_str().unwrap();
    for grid in ["sub", "cells"] {
        let o = heatmap(&["--out", png_arg, "--frame", "7", "--grid", grid]);
        o.expect_success();
        assert!(
            o.stdout_str().contains("frame 7 of 60"),
            "{}",
            o.stdout_str()
        );
        let img = image::open(&png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (320, 240));
        // Coloured: the overlay is not grey.
        assert!(img.pixels().any(|px| px[0].abs_diff(px[2]) > 40));
    }
    let mp4 = dir.path().join("all.mp4");
    heatmap(&["--out", mp4.to_str().unwrap(), "--measure", "exact"]).expect_success();
    assert_eq!(
        common::video_stream(&mp4),
        (60, 320, 240, "25/1".to_owned())
    );
    // Usage errors: unknown extension, --frame with MP4; a frame past the end fails cleanly.
    assert_eq!(heatmap(&["--out", "x.gif"]).code, Some(2));
    assert_eq!(
        heatmap(&["--out", mp4.to_str().unwrap(), "--frame", "1"]).code,
        Some(2)
    );
    let o = heatmap(&["--out", png_arg, "--frame", "60"]);
    assert_eq!(o.code, Some(1));
    assert!(o.stderr.contains("frame 60 does not exist"), "{}", o.stderr);
    assert_eq!(listing(dir.path()), vec!["all.mp4", "frame.png"]);
}

#[test]
fn run_preinfer_reports_every_decoded_frame_and_stops_when_cancelled() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use codecprep_core::preinfer::{PreinferConfig, PreinferError, Progress, Stage, run_preinfer};
    let video = clip(90);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let config = PreinferConfig::new(&video, &out);
    let cancel = AtomicBool::new(false);
    let seen = Mutex::new(Vec::new());
    let progress = |p: Progress| {
        if p.stage == Stage::Decode {
            seen.lock().unwrap().push((p.done, p.total));
            if p.done == 20 {
                cancel.store(true, Ordering::Relaxed);
            }
        }
    };
    let err = run_preinfer(&config, Some(&progress), Some(&cancel)).unwrap_err();
    assert!(matches!(err, PreinferError::Cancelled), "{err}");
    let reports = seen.lock().unwrap().len();
    // Every worker stops at its next decoded frame.
    assert!((20..=20 + 4).contains(&reports), "{reports} decode reports");
    assert!(!out.exists(), "a cancelled run wrote {}", out.display());

    cancel.store(false, Ordering::Relaxed);
    seen.lock().unwrap().clear();
    let result = run_preinfer(&config, Some(&progress), None).unwrap();
    let seen = seen.into_inner().unwrap();
    let total = seen[0].1;
    // A report per decoded frame (skipped pictures count with the next one).
    assert!(
        seen.len() <= total && seen.len() > total / 2,
        "{} of {total}",
        seen.len()
    );
    assert_eq!(seen.iter().map(|&(done, _)| done).max(), Some(total));
    let decode = result.meta.get("codecprep").unwrap().get("decode").unwrap();
    let count = |key: &str| match decode.get(key) {
        Some(codecprep_core::preinfer::Json::Int(n)) => *n as usize,
        other => panic!("{key}: {other:?}"),
    };
    assert!(count("frames_decoded") <= total);
    assert!(count("frames_decoded") + count("frames_skipped") >= total);
}
