//! Stage 2, `extract`: per clip, the content hash, per-frame activity from bit cost,
//! perceptual hashes of sampled frames, the audio loudness envelope and a thumbnail.
//!
//! Each clip's results land in `clips/<key>/signals.json` (+ `thumbnail.png`), and the state
//! file records the clip as finished right after, so an interrupted run redoes only the clips
//! that were in flight.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use codecprep_core::blink::audio::{DEFAULT_HOP_S, loudness_envelope};
use codecprep_core::blink::probe::ClipInfo;
use codecprep_core::blink::video_signals::{
    ActivitySource, VideoSignalOptions, extract_video_signals,
};
use codecprep_core::blink::workdir::{
    Workdir, file_blake3, fingerprint, read_json, write_atomic, write_json,
};
use codecprep_core::blink::{ActivitySeries, FrameHash, LoudnessEnvelope};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::BlinkError;
use super::inventory::{Inventory, clip_key};
use super::progress;
use super::settings::Settings;

pub const STAGE: &str = "extract";
/// Test hook: abort the process (as a crash would) after this many clips were finished.
pub const CRASH_AFTER_ENV: &str = "BLINK_STITCH_CRASH_AFTER_CLIPS";
/// Seconds between hashed frames.
pub const HASH_EVERY_S: f64 = 0.5;
/// Side of the perceptual hash (8 x 8 = 64 bits).
pub const HASH_SIDE: u32 = 8;
/// Longest side of thumbnails.
pub const THUMBNAIL_MAX_SIDE: u32 = 320;

/// Everything `extract` learnt about one clip.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClipSignals {
    pub key: String,
    pub path: PathBuf,
    /// blake3 of the file's bytes.
    pub content_hash: String,
    pub activity: Option<ActivitySeries>,
    pub hashes: Vec<FrameHash>,
    pub loudness: Option<LoudnessEnvelope>,
    /// Relative to the work directory.
    pub thumbnail: Option<String>,
    /// What could not be extracted (the clip then stays out of the later stages).
    pub errors: Vec<String>,
}

impl ClipSignals {
    pub fn usable(&self) -> bool {
        self.errors.is_empty()
    }
}

pub fn signals_path(workdir: &Path, key: &str) -> PathBuf {
    workdir.join("clips").join(key).join("signals.json")
}

/// The signals of every usable clip of `inventory`, in inventory order (`None` where
/// extraction is not finished).
pub fn load(workdir: &Path, inventory: &Inventory) -> Vec<Option<ClipSignals>> {
    inventory
        .clips
        .iter()
        .map(|clip| {
            clip.usable()
                .then(|| read_json(&signals_path(workdir, &clip_key(clip))).ok())
                .flatten()
        })
        .collect()
}

/// What `extract` did in this run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExtractReport {
    pub clips: usize,
    pub extracted: usize,
    pub already_done: usize,
    pub failed: Vec<(PathBuf, Vec<String>)>,
}

/// Extracts every usable clip not finished yet.
pub fn run(
    settings: &Settings,
    pool: &rayon::ThreadPool,
    inventory: &Inventory,
    workdir: &mut Workdir,
) -> Result<ExtractReport, BlinkError> {
    workdir.begin_stage(STAGE, &fingerprint(&(1u32, HASH_EVERY_S, HASH_SIDE)));
    let (total, pending) = pending(workdir, inventory);
    let options = VideoSignalOptions {
        hash_every_s: HASH_EVERY_S,
        hash_side: HASH_SIDE,
        thumbnail_max_side: THUMBNAIL_MAX_SIDE,
        threads: settings.threads_per_job(pending.len()),
        activity_source: ActivitySource::BitCost,
    };
    let mut report = ExtractReport {
        clips: total,
        already_done: total - pending.len(),
        ..ExtractReport::default()
    };
    let crash_after: Option<usize> = std::env::var(CRASH_AFTER_ENV)
        .ok()
        .and_then(|v| v.parse().ok());
    let bar = progress::bar(STAGE, pending.len() as u64, settings.show_progress());
    let finished = AtomicUsize::new(0);
    let shared = Mutex::new(&mut *workdir);
    let root = shared
        .lock()
        .map(|w| w.root().to_path_buf())
        .unwrap_or_default();
    let results: Vec<Result<ClipSignals, BlinkError>> = pool.install(|| {
        pending
            .par_iter()
            .map(|(clip, key)| {
                bar.set_message(file_name(&clip.path));
                let signals = extract_clip(clip, key, &root, &options)?;
                write_json(&signals_path(&root, key), &signals)?;
                shared
                    .lock()
                    .map_err(|_| BlinkError::stage(STAGE, "a worker panicked"))?
                    .finish_item(STAGE, key)?;
                bar.inc(1);
                let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
                if crash_after == Some(n) {
                    eprintln!("blink-stitch: {CRASH_AFTER_ENV}={n}: aborting as a crash would");
                    std::process::abort();
                }
                Ok(signals)
            })
            .collect()
    });
    bar.finish_and_clear();
    for result in results {
        let signals = result?;
        if !signals.usable() {
            report
                .failed
                .push((signals.path.clone(), signals.errors.clone()));
        }
        report.extracted += 1;
    }
    workdir.finish_stage(STAGE)?;
    Ok(report)
}

/// The number of usable clips, and those whose extraction is not finished (with their keys).
pub fn pending<'a>(
    workdir: &Workdir,
    inventory: &'a Inventory,
) -> (usize, Vec<(&'a ClipInfo, String)>) {
    let usable: Vec<&ClipInfo> = inventory.clips.iter().filter(|c| c.usable()).collect();
    let pending = usable
        .iter()
        .map(|c| (*c, clip_key(c)))
        .filter(|(_, key)| {
            !(workdir.is_item_done(STAGE, key) && signals_path(workdir.root(), key).is_file())
        })
        .collect();
    (usable.len(), pending)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One clip's signals. Failures of a signal are recorded on the clip, not raised: only an
/// output that cannot be written stops the stage.
fn extract_clip(
    clip: &ClipInfo,
    key: &str,
    root: &Path,
    options: &VideoSignalOptions,
) -> Result<ClipSignals, BlinkError> {
    let mut signals = ClipSignals {
        key: key.to_string(),
        path: clip.path.clone(),
        content_hash: String::new(),
        activity: None,
        hashes: Vec::new(),
        loudness: None,
        thumbnail: None,
        errors: Vec::new(),
    };
    // The audio decodes in a GStreamer child process and the hash only reads the file: both
    // run beside the video pass (on another core when there is one) instead of after it.
    let (hash, video, audio) = std::thread::scope(|scope| {
        let audio = clip
            .has_audio()
            .then(|| scope.spawn(|| loudness_envelope(&clip.path, DEFAULT_HOP_S)));
        let hash = scope.spawn(|| file_blake3(&clip.path));
        let video = clip
            .has_video()
            .then(|| extract_video_signals(&clip.path, options));
        let join = |e| BlinkError::stage(STAGE, format!("{}: {e}", clip.path.display()));
        let hash = hash
            .join()
            .map_err(|_| join("the hashing thread panicked"))?;
        let audio = match audio {
            Some(thread) => Some(
                thread
                    .join()
                    .map_err(|_| join("the audio thread panicked"))?,
            ),
            None => None,
        };
        Ok::<_, BlinkError>((hash, video, audio))
    })?;
    match hash {
        Ok(hash) => signals.content_hash = hash,
        Err(e) => signals.errors.push(e.to_string()),
    }
    match video {
        Some(Ok(video)) => {
            let relative = format!("clips/{key}/thumbnail.png");
            write_atomic(&root.join(&relative), &png_bytes(&video.thumbnail)?)?;
            signals.thumbnail = Some(relative);
            signals.activity = Some(video.activity);
            signals.hashes = video.hashes;
        }
        Some(Err(e)) => signals.errors.push(format!("video signals: {e}")),
        None => {}
    }
    match audio {
        Some(Ok(envelope)) => signals.loudness = envelope,
        Some(Err(e)) => signals.errors.push(format!("audio loudness: {e}")),
        None => {}
    }
    Ok(signals)
}

fn png_bytes(image: &image::RgbImage) -> Result<Vec<u8>, BlinkError> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| BlinkError::stage(STAGE, format!("cannot encode a thumbnail: {e}")))?;
    Ok(bytes.into_inner())
}
