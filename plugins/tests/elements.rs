//! readinessgroup and canvaspack: canvases equal codec-video-prep's (the same
//! `run_preinfer` the CLI runs) pixel for pixel, streaming with bounded memory, refusals.

mod common;

use std::path::{Path, PathBuf};

use codecprep_core::preinfer::{CanvasFormat, PreinferConfig, run_preinfer};
use common::{Ending, fixture, init, run_to_end};
use gst::prelude::*;

/// Decoded RGB pixels of every `canvas_*.png` in `dir`, by name.
fn canvases(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the canvas directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let rgb = image::open(p)
                .expect("decode a canvas")
                .to_rgb8()
                .into_raw();
            (name, rgb)
        })
        .collect()
}

/// Canvases of `codec-video-prep --canvas_format png` with `settings` (CLI flag, value).
fn cli_canvases(video: &Path, settings: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    let out = tempfile::tempdir().expect("temporary directory");
    let mut config = PreinferConfig::new(video, out.path());
    config.canvas_format = CanvasFormat::Png;
    for (key, value) in settings {
        apply(&mut config, key, value);
    }
    run_preinfer(&config, None, None).expect("codec-video-prep runs");
    canvases(out.path())
}

fn apply(config: &mut PreinferConfig, key: &str, value: &str) {
    match key {
        "grouping-mode" => config.grouping_mode = value.parse().unwrap(),
        "group-size" => config.group_size = value.parse().unwrap(),
        "num-sampled-frames" => config.num_sampled_frames = value.parse().unwrap(),
        "readiness-sum-threshold-mode" => {
            config.readiness_sum_threshold_mode = value.parse().unwrap()
        }
        "frame-sampling-mode" => config.frame_sampling_mode = value.parse().unwrap(),
        "compat" => config.compat = value.parse().unwrap(),
        "iframe-score-clip-mode" => config.iframe_score_clip_mode = value.parse().unwrap(),
        other => panic!("no such test setting {other}"),
    }
}

/// Canvases of `demux ! parse ! bitcostdec ! readinessgroup ! canvaspack ! pngenc !
/// multifilesink` with the same settings.
fn gst_canvases(
    video: &Path,
    demux: &str,
    settings: &[(&str, &str)],
) -> (Vec<(String, Vec<u8>)>, Ending) {
    init();
    let out = tempfile::tempdir().expect("temporary directory");
    let props: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let description = format!(
        "filesrc location={} ! {demux} ! h264parse ! bitcostdec max-threads=1 ! readinessgroup {} \
         ! canvaspack ! pngenc ! multifilesink location={}/canvas_%03d.png",
        video.display(),
        props.join(" "),
        out.path().display()
    );
    let pipeline = gst::parse::launch(&description)
        .expect("valid pipeline")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    let ending = run_to_end(&pipeline);
    (canvases(out.path()), ending)
}

/// 96 frames of 320x240 H.264 with B-frames and two GOPs.
fn h264_clip(container: &str) -> PathBuf {
    fixture(
        &format!("gst-elements-h264-v1.{container}"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-frames:v",
            "96",
            "-an",
            "-c:v",
            "libx264",
            "-bf",
            "2",
            "-g",
            "48",
        ],
    )
}

fn assert_same(cli: &[(String, Vec<u8>)], gst: &[(String, Vec<u8>)], what: &str) {
    assert!(!cli.is_empty(), "{what}: the CLI wrote no canvases");
    let names = |c: &[(String, Vec<u8>)]| c.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(gst), names(cli), "{what}: canvas files differ");
    for ((name, a), (_, b)) in cli.iter().zip(gst) {
        let differing = a.iter().zip(b).filter(|(x, y)| x != y).count();
        assert!(
            a.len() == b.len() && differing == 0,
            "{what}: {name} differs in {differing} bytes"
        );
    }
}

#[test]
fn canvases_equal_the_clis_whole_video_modes() {
    let video = h264_clip("mp4");
    for settings in [
        vec![],
        vec![("num-sampled-frames", "40")],
        vec![("num-sampled-frames", "40"), ("compat", "none")],
        vec![
            ("iframe-score-clip-mode", "non_i_percentile"),
            ("num-sampled-frames", "30"),
        ],
    ] {
        let (gst, ending) = gst_canvases(&video, "qtdemux", &settings);
        assert!(matches!(ending, Ending::Eos), "{settings:?}: {ending:?}");
        assert_same(
            &cli_canvases(&video, &settings),
            &gst,
            &format!("{settings:?}"),
        );
    }
}

#[test]
fn canvases_equal_the_clis_streaming_modes() {
    let video = h264_clip("mp4");
    for settings in [
        vec![
            ("grouping-mode", "fixed"),
            ("group-size", "8"),
            ("frame-sampling-mode", "fps"),
        ],
        vec![
            ("readiness-sum-threshold-mode", "fixed"),
            ("frame-sampling-mode", "all_frames"),
        ],
    ] {
        let (gst, ending) = gst_canvases(&video, "qtdemux", &settings);
        assert!(matches!(ending, Ending::Eos), "{settings:?}: {ending:?}");
        assert_same(
            &cli_canvases(&video, &settings),
            &gst,
            &format!("{settings:?}"),
        );
    }
}

#[test]
fn matroska_input_gives_the_clis_canvases() {
    let video = h264_clip("mkv");
    let settings = [("num-sampled-frames", "40")];
    let (gst, ending) = gst_canvases(&video, "matroskademux", &settings);
    assert!(matches!(ending, Ending::Eos), "{ending:?}");
    assert_same(&cli_canvases(&video, &settings), &gst, "mkv");
}
