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
        "avoid-keyframes" => config.avoid_keyframes = value.parse().unwrap(),
        other => panic!("no such test setting {other}"),
    }
}

/// Canvases of `demux ! parse ! bitcostdec ! readinessgroup ! canvaspack ! pngenc !
/// multifilesink` with the same settings.
fn gst_canvases(
    video: &Path,
    demux: &str,
    parser: &str,
    settings: &[(&str, &str)],
) -> (Vec<(String, Vec<u8>)>, Ending) {
    init();
    let out = tempfile::tempdir().expect("temporary directory");
    let props: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let description = format!(
        "filesrc location={} ! {demux} ! {parser} ! bitcostdec ! readinessgroup {} \
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

/// Runs `video` through the elements and checks that it plays to its end and gives the
/// CLI's canvases byte for byte.
fn assert_gst_matches_cli(
    video: &Path,
    demuxer: &str,
    parser: &str,
    settings: &[(&str, &str)],
    what: &str,
) {
    let (gst, ending) = gst_canvases(video, demuxer, parser, settings);
    assert!(matches!(ending, Ending::Eos), "{what}: {ending:?}");
    assert_same(&cli_canvases(video, settings), &gst, what);
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
        assert_gst_matches_cli(
            &video,
            "qtdemux",
            "h264parse",
            &settings,
            &format!("{settings:?}"),
        );
    }
}

#[test]
fn canvases_equal_the_clis_streaming_modes() {
    let video = h264_clip("mp4");
    // Without keyframe avoidance these settings group as the frames arrive.
    for settings in [
        vec![
            ("grouping-mode", "fixed"),
            ("group-size", "8"),
            ("frame-sampling-mode", "fps"),
            ("avoid-keyframes", "false"),
        ],
        vec![
            ("readiness-sum-threshold-mode", "fixed"),
            ("frame-sampling-mode", "all_frames"),
        ],
        vec![
            ("readiness-sum-threshold-mode", "fixed"),
            ("num-sampled-frames", "50"),
            ("avoid-keyframes", "false"),
            ("compat", "none"),
        ],
        vec![
            ("grouping-mode", "fixed"),
            ("group-size", "6"),
            ("frame-sampling-mode", "fps"),
            ("avoid-keyframes", "true"),
        ],
    ] {
        assert_gst_matches_cli(
            &video,
            "qtdemux",
            "h264parse",
            &settings,
            &format!("{settings:?}"),
        );
    }
}

#[test]
fn matroska_input_gives_the_clis_canvases() {
    let video = h264_clip("mkv");
    let settings = [("num-sampled-frames", "40")];
    assert_gst_matches_cli(&video, "matroskademux", "h264parse", &settings, "mkv");
}

#[test]
fn hevc_and_vp9_canvases_equal_the_clis() {
    let settings = [("num-sampled-frames", "20")];
    for (video, parser) in [
        (common::hevc_mp4(), "h265parse"),
        (common::vp9_mp4(), "vp9parse"),
    ] {
        assert_gst_matches_cli(&video, "qtdemux", parser, &settings, parser);
    }
}

fn run(description: &str) -> Ending {
    init();
    let pipeline = gst::parse::launch(description)
        .expect("valid pipeline")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    run_to_end(&pipeline)
}

fn assert_error(ending: Ending, expected: &str) {
    match ending {
        Ending::Error(e) => assert!(e.contains(expected), "unexpected error: {e}"),
        Ending::Eos => panic!("the pipeline ended without the error {expected:?}"),
    }
}

/// The error linking `description` gives.
fn link_error(description: &str) -> String {
    init();
    match gst::parse::launch(description) {
        Ok(_) => panic!("{description} linked"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn wrong_caps_are_refused_at_negotiation() {
    let e = link_error("videotestsrc ! video/x-raw,format=RGB ! readinessgroup ! fakesink");
    assert!(e.contains("can't handle caps"), "{e}");
    let e = link_error("videotestsrc ! video/x-raw,format=I420 ! canvaspack ! fakesink");
    assert!(e.contains("can't handle caps"), "{e}");
    // Scan-only output has no pixels to group.
    let e = link_error(
        "videotestsrc ! x264enc ! h264parse ! bitcostdec scan-only=true ! video/x-codecprep-bitcost ! readinessgroup ! fakesink",
    );
    assert!(e.contains("could not link"), "{e}");
    // Raw video without the bit-cost meta.
    assert_error(
        run("videotestsrc num-buffers=3 ! video/x-raw,format=I420 ! readinessgroup ! fakesink"),
        "bit-cost meta",
    );
}

#[test]
fn live_sources_refuse_whole_video_modes() {
    assert_error(
        run(
            "videotestsrc is-live=true num-buffers=30 ! video/x-raw,width=64,height=64 \
             ! x264enc tune=zerolatency ! h264parse ! bitcostdec ! readinessgroup \
             frame-sampling-mode=fps ! fakesink",
        ),
        "needs the whole video",
    );
}

#[test]
fn garbage_and_truncated_input_fail_or_group_what_is_there() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let garbage = dir.path().join("garbage.mp4");
    std::fs::write(
        &garbage,
        (0..200_000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .expect("write garbage");
    let ending = run(&format!(
        "filesrc location={} ! qtdemux ! h264parse ! bitcostdec ! readinessgroup \
         ! canvaspack ! fakesink",
        garbage.display()
    ));
    assert!(matches!(ending, Ending::Error(_)), "{ending:?}");
    // An MP4 cut before its index is refused by the demuxer.
    let full = std::fs::read(h264_clip("mp4")).expect("read the clip");
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &full[..full.len() / 3]).expect("write the truncated clip");
    assert_error(
        run(&format!(
            "filesrc location={} ! qtdemux ! h264parse ! bitcostdec ! readinessgroup \
             ! canvaspack ! fakesink",
            truncated.display()
        )),
        "no playable streams",
    );
    // A Matroska file cut between its clusters still plays: the frames that are there are
    // grouped as the CLI groups them (the announced duration is longer than the stream).
    let full = std::fs::read(h264_clip("mkv")).expect("read the clip");
    let truncated = dir.path().join("truncated.mkv");
    std::fs::write(&truncated, &full[..full.len() / 2]).expect("write the truncated clip");
    assert_gst_matches_cli(
        &truncated,
        "matroskademux",
        "h264parse",
        &[],
        "truncated mkv",
    );
}

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

#[test]
fn streaming_memory_stays_bounded_over_10000_frames() {
    init();
    let pipeline = gst::parse::launch(
        "videotestsrc num-buffers=10000 pattern=ball ! video/x-raw,width=64,height=64,framerate=25/1 \
         ! x264enc speed-preset=ultrafast key-int-max=50 ! h264parse ! bitcostdec max-threads=1 \
         ! readinessgroup grouping-mode=fixed group-size=8 frame-sampling-mode=all_frames \
           avoid-keyframes=false patch=8 max-pixels=0 max-dim=64 \
         ! canvaspack ! appsink name=sink sync=false",
    )
    .expect("valid pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    let samples = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u64, u64)>::new()));
    let store = samples.clone();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let offset = sample.buffer().map_or(0, |b| b.offset());
                let mut store = store.lock().unwrap();
                if offset % 500 == 0 {
                    store.push((offset, rss_kib()));
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    let ending = run_to_end(&pipeline);
    assert!(matches!(ending, Ending::Eos), "{ending:?}");
    let samples = samples.lock().unwrap().clone();
    // 10,000 frames in groups of 8, 4 canvases each.
    // 10,000 frames in groups of 8 make 1,250 groups of 4 canvases: offsets 0..5000.
    let offsets: Vec<u64> = samples.iter().map(|s| s.0).collect();
    assert_eq!(offsets, (0..10).map(|i| i * 500).collect::<Vec<u64>>());
    let early = samples[samples.len() / 4].1;
    let late = samples.last().unwrap().1;
    assert!(
        late < early + 20 * 1024,
        "resident memory grew from {early} KiB to {late} KiB over the stream"
    );
}

/// A directory holding only the plugin this test run built (`cargo test` leaves the
/// cdylib in the test binaries' directory, next to unrelated libraries).
fn plugin_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let built = exe
            .parent()
            .expect("deps directory")
            .join("libgstcodecprep.so");
        assert!(built.is_file(), "no plugin at {}", built.display());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("gst-plugin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the plugin directory");
        std::fs::copy(&built, dir.join("libgstcodecprep.so")).expect("copy the plugin");
        dir
    })
    .clone()
}

#[test]
fn gst_inspect_is_clean_for_every_element() {
    // The cdylib cargo builds next to the test binaries' directory.
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    assert!(
        dir.join("libgstcodecprep.so").is_file(),
        "no plugin in {}",
        dir.display()
    );
    for element in ["bitcostdec", "readinessgroup", "canvaspack"] {
        let out = std::process::Command::new("gst-inspect-1.0")
            .arg(element)
            .env("GST_PLUGIN_PATH", dir)
            .env(
                "GST_REGISTRY",
                dir.join(format!("inspect-registry-{element}.bin")),
            )
            .output()
            .expect("run gst-inspect-1.0");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{element}: {stderr}");
        assert!(
            !stderr.contains("CRITICAL") && !stderr.contains("WARNING"),
            "{element}: {stderr}"
        );
        assert!(stdout.contains("Pad Templates"), "{element}: {stdout}");
    }
}

/// Runs an example script with `args`; panics with its output when it fails.
fn run_example(script: &str, args: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let out = std::process::Command::new(root.join("examples/gst").join(script))
        .args(args)
        .env("GST_PLUGIN_PATH", plugin_dir())
        .env("GST_REGISTRY", plugin_dir().join("registry.bin"))
        .output()
        .expect("run the example");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn example_scripts_do_what_they_say() {
    let video = h264_clip("mp4");
    let dir = tempfile::tempdir().expect("temporary directory");
    let settings = [("num-sampled-frames", "40")];
    let out = dir.path().join("canvases");
    run_example(
        "canvases.sh",
        &[
            video.to_str().unwrap(),
            out.to_str().unwrap(),
            "num-sampled-frames=40",
        ],
    );
    assert_same(
        &cli_canvases(&video, &settings),
        &canvases(&out),
        "canvases.sh",
    );
    let live = dir.path().join("live");
    run_example("live_groups.sh", &[live.to_str().unwrap(), "100"]);
    // 100 frames at 25 fps sampled at 4 fps: 16 positions, 2 groups of 8, 4 canvases each.
    assert_eq!(canvases(&live).len(), 8);
    run_example("scan_bitcost.sh", &[video.to_str().unwrap()]);
}

#[test]
fn rust_example_reads_the_meta_from_an_appsink() {
    // `cargo test` builds the examples next to the test binaries.
    let exe = std::env::current_exe().expect("test binary path");
    let example = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory")
        .join("examples/bitcost_appsink");
    assert!(
        example.is_file(),
        "no example at {} (a plain `cargo test` of the crate builds it)",
        example.display()
    );
    let out = std::process::Command::new(&example)
        .arg(h264_clip("mkv"))
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 96 frames in GOPs of 48: two keyframes.
    assert!(stdout.contains("96 frames, 2 keyframes"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("frame ")).count(),
        96
    );
}

#[test]
fn live_readiness_groups_stream_with_a_running_bit_rate_and_report_latency() {
    init();
    let pipeline = gst::parse::launch(
        "videotestsrc is-live=true num-buffers=120 pattern=ball \
         ! video/x-raw,width=128,height=96,framerate=25/1 ! x264enc tune=zerolatency \
         ! h264parse ! bitcostdec ! readinessgroup name=group frame-sampling-mode=all_frames \
           readiness-sum-threshold-mode=clamped_sqrt_bpppf min-group-frames=8 \
           max-group-frames=16 ! canvaspack ! appsink name=sink sync=false",
    )
    .expect("valid pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    let group = pipeline.by_name("group").unwrap();
    let group_src = group.static_pad("src").unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let latency = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (counter, seen_latency) = (count.clone(), latency.clone());
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                if counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                    let mut q = gst::query::Latency::new();
                    if group_src.query(&mut q) {
                        *seen_latency.lock().unwrap() = Some(q.result());
                    }
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    let ending = run_to_end(&pipeline);
    assert!(matches!(ending, Ending::Eos), "{ending:?}");
    // 120 frames, groups of 8 to 16: at least 7 groups of 4 canvases.
    let canvases = count.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        canvases >= 7 * 4 && canvases.is_multiple_of(4),
        "{canvases} canvases"
    );
    // Readiness groups are decided after max-group-frames + 1 frames at most.
    let (live, min, _) = latency.lock().unwrap().expect("latency answered");
    assert!(live);
    assert!(min >= gst::ClockTime::from_mseconds(18 * 40), "{min}");
}
