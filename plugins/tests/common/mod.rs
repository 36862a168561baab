//! Helpers of the plugin tests: the statically registered plugin, fixtures encoded with the
//! system ffmpeg (cached under `target/test-fixtures/`), running pipelines, and the maps
//! `codecprep scan` reports (through codecprep-core's `Reader`, which the CLI's scan uses).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use codecprep_core::{Reader, ReaderOptions};
use gst::prelude::*;
use gstcodecprep::BitcostMeta;

/// Longest a test pipeline may run before the test fails as hung.
pub const PIPELINE_TIMEOUT: Duration = Duration::from_secs(60);

/// Initialises GStreamer and registers the plugin from this crate (not from a .so).
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        gst::init().expect("gst::init");
        gstcodecprep::plugin_register_static().expect("register the codecprep plugin");
    });
}

fn fixture_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("test-fixtures");
    std::fs::create_dir_all(&dir).expect("create the fixture directory");
    dir
}

/// `name` encoded by `ffmpeg -y <args> <file>` once; later calls reuse the file. The name
/// must change whenever the arguments do.
pub fn fixture(name: &str, args: &[&str]) -> PathBuf {
    let path = fixture_dir().join(name);
    if path.is_file() {
        return path;
    }
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Unique per process and call, so parallel tests never write the same temporary file;
    // the extension stays last because ffmpeg picks the muxer from it.
    let tmp = fixture_dir().join(format!(".tmp-{}-{n}-{name}", std::process::id()));
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(args)
        .arg(&tmp)
        .output()
        .expect("run ffmpeg (install it with scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "ffmpeg failed for {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &path).expect("move the fixture into place");
    path
}

/// A moving test pattern, `frames` frames at 25 fps, encoded with `codec` arguments.
fn clip(name: &str, size: &str, frames: u32, codec: &[&str]) -> PathBuf {
    let source = format!("testsrc2=size={size}:rate=25");
    let frames = frames.to_string();
    let mut args = vec!["-f", "lavfi", "-i", &source, "-frames:v", &frames, "-an"];
    args.extend_from_slice(codec);
    fixture(name, &args)
}

/// H.264 in MP4 with B-frames (so output order differs from decode order).
pub fn h264_mp4() -> PathBuf {
    clip(
        "gst-h264-v1.mp4",
        "320x240",
        40,
        &["-c:v", "libx264", "-bf", "2", "-g", "20"],
    )
}

pub fn hevc_mp4() -> PathBuf {
    clip(
        "gst-hevc-v1.mp4",
        "320x240",
        30,
        &[
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error:bframes=2",
        ],
    )
}

pub fn vp9_mp4() -> PathBuf {
    clip(
        "gst-vp9-v1.mp4",
        "320x240",
        30,
        &["-c:v", "libvpx-vp9", "-deadline", "realtime"],
    )
}

/// Raw H.264 Annex B with an access-unit delimiter before every access unit.
pub fn h264_annexb() -> PathBuf {
    clip(
        "gst-h264-aud-v1.h264",
        "160x128",
        20,
        &[
            "-c:v",
            "libx264",
            "-bf",
            "2",
            "-bsf:v",
            "h264_metadata=aud=insert",
            "-f",
            "h264",
        ],
    )
}

/// Access units of an Annex B stream whose units each start with an AUD (NAL type 9).
pub fn split_access_units(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 4 < data.len() {
        if data[i..i + 4] == [0, 0, 0, 1] && data[i + 4] & 0x1F == 9 {
            starts.push(i);
            i += 4;
        } else {
            i += 1;
        }
    }
    starts.push(data.len());
    starts.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

/// One frame's maps as the meta (or the reader) reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct Maps {
    pub index: u64,
    pub dims: (usize, usize, usize, usize),
    pub cells: Vec<i32>,
    pub sub: Vec<f32>,
}

pub fn maps_of(meta: &BitcostMeta) -> Maps {
    let (rows, cols) = meta.grid_dims();
    let (sub_rows, sub_cols) = meta.sub_dims();
    Maps {
        index: meta.frame_index(),
        dims: (rows, cols, sub_rows, sub_cols),
        cells: meta.cells().iter().copied().collect(),
        sub: meta.sub().iter().copied().collect(),
    }
}

/// The maps `codecprep scan` reports for `path`.
pub fn scan_maps(path: &Path) -> Vec<Maps> {
    let mut reader = Reader::open(path, ReaderOptions::default()).expect("open with the reader");
    let mut maps = Vec::new();
    reader
        .scan(None, |record| {
            let map = record.map.expect("a map on every frame");
            maps.push(Maps {
                index: record.index as u64,
                dims: (map.rows(), map.cols(), map.sub_rows(), map.sub_cols()),
                cells: map.cells().to_vec(),
                sub: map.sub().to_vec(),
            });
            Ok::<_, codecprep_core::Error>(std::ops::ControlFlow::Continue(()))
        })
        .expect("scan");
    maps
}

/// How a pipeline ended.
#[derive(Debug)]
pub enum Ending {
    Eos,
    Error(String),
}

/// Runs `pipeline` to the end, at most `PIPELINE_TIMEOUT`; panics if it hangs.
pub fn run_to_end(pipeline: &gst::Pipeline) -> Ending {
    let bus = pipeline.bus().expect("pipeline bus");
    let ending = match pipeline.set_state(gst::State::Playing) {
        Err(_) => bus
            .timed_pop_filtered(gst::ClockTime::from_seconds(5), &[gst::MessageType::Error])
            .map(|m| describe_error(&m))
            .map_or(Ending::Error("state change failed".into()), Ending::Error),
        Ok(_) => {
            let timeout = gst::ClockTime::from_seconds(PIPELINE_TIMEOUT.as_secs());
            let msg = bus
                .timed_pop_filtered(timeout, &[gst::MessageType::Eos, gst::MessageType::Error])
                .expect("the pipeline neither finished nor failed in time (hang)");
            match msg.view() {
                gst::MessageView::Eos(_) => Ending::Eos,
                _ => Ending::Error(describe_error(&msg)),
            }
        }
    };
    pipeline
        .set_state(gst::State::Null)
        .expect("stop the pipeline");
    ending
}

fn describe_error(msg: &gst::Message) -> String {
    match msg.view() {
        gst::MessageView::Error(e) => format!(
            "{} from {:?}: {:?}",
            e.error(),
            msg.src().map(|s| s.path_string()),
            e.debug()
        ),
        _ => format!("{msg:?}"),
    }
}

/// Builds `description` (which must contain an appsink named `sink`), runs it, and returns
/// the maps of every buffer the sink received, with how the pipeline ended.
pub fn collect_maps(description: &str) -> (Vec<Maps>, Ending) {
    init();
    let pipeline = gst::parse::launch(description)
        .expect("valid pipeline description")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    let sink = pipeline
        .by_name("sink")
        .expect("an element named sink")
        .downcast::<gst_app::AppSink>()
        .expect("sink is an appsink");
    let collected = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = collected.clone();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                let meta = buffer
                    .meta::<BitcostMeta>()
                    .expect("every output buffer carries the bit-cost meta");
                store.lock().unwrap().push(maps_of(&meta));
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    let ending = run_to_end(&pipeline);
    let maps = std::mem::take(&mut *collected.lock().unwrap());
    (maps, ending)
}
