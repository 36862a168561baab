//! Stage 3, `dedupe`: duplicates (exact and re-encoded copies, each with its reason, score and
//! kept file), companions (the same moment from another camera) and each camera's clock
//! offset, into `dedupe.json`. Nothing is deleted or moved; duplicates are only left out of
//! the later stages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use codecprep_core::blink::companions::{camera_offsets, find_companions};
use codecprep_core::blink::copies::{ClipView, DuplicateReason, find_duplicates};
use codecprep_core::blink::probe::ClipInfo;
use codecprep_core::blink::workdir::{Workdir, fingerprint, read_json, write_json};
use serde::{Deserialize, Serialize};

use super::error::BlinkError;
use super::extract::ClipSignals;

pub const STAGE: &str = "dedupe";
pub const DEDUPE_FILE: &str = "dedupe.json";
/// Largest clock disagreement between cameras that companion matching searches, in seconds.
pub const MAX_SKEW_S: f64 = 15.0;

/// A clip the later stages work on: its probe record and its signals.
#[derive(Debug, Clone, Copy)]
pub struct Analysed<'a> {
    pub info: &'a ClipInfo,
    pub signals: &'a ClipSignals,
}

impl<'a> Analysed<'a> {
    /// The matching stages' view of the clip; `start` given by the caller (parsed or corrected).
    pub fn view(&self, start: Option<f64>) -> ClipView<'a> {
        ClipView {
            start,
            duration: self.info.duration(),
            camera: self.info.camera.as_deref(),
            content_hash: &self.signals.content_hash,
            hashes: &self.signals.hashes,
            loudness: self.signals.loudness.as_ref(),
            quality: quality(self.info),
        }
    }
}

/// Pixels times bit rate: the larger, the better copy to keep.
fn quality(info: &ClipInfo) -> f64 {
    let Some(media) = &info.media else {
        return 0.0;
    };
    let pixels = media
        .video
        .as_ref()
        .map_or(1.0, |v| f64::from(v.width) * f64::from(v.height));
    let rate = media.bit_rate.map_or_else(
        || info.bytes as f64 * 8.0 / info.duration().max(1e-3),
        |b| b as f64,
    );
    pixels * rate
}

/// The clips with finished, usable signals, in inventory order.
pub fn analysed<'a>(
    clips: &'a [ClipInfo],
    signals: &'a [Option<ClipSignals>],
) -> Vec<Analysed<'a>> {
    clips
        .iter()
        .zip(signals)
        .filter_map(|(info, s)| match s {
            Some(signals) if info.usable() && signals.usable() => Some(Analysed { info, signals }),
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateRecord {
    pub clip: PathBuf,
    pub kept: PathBuf,
    pub reason: DuplicateReason,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanionRecord {
    pub a: PathBuf,
    pub b: PathBuf,
    /// How much b's camera clock is ahead of a's.
    pub offset_s: f64,
    pub score: f32,
}

/// The content of `dedupe.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DedupeResult {
    pub duplicates: Vec<DuplicateRecord>,
    pub companions: Vec<CompanionRecord>,
    /// Seconds to subtract from each camera's times to put it on the common timeline.
    pub camera_offsets: BTreeMap<String, f64>,
}

impl DedupeResult {
    pub fn is_duplicate(&self, path: &Path) -> bool {
        self.duplicates.iter().any(|d| d.clip == path)
    }

    /// The clip's time on the corrected timeline.
    pub fn corrected(&self, info: &ClipInfo) -> Option<f64> {
        let offset = info
            .camera
            .as_ref()
            .and_then(|c| self.camera_offsets.get(c))
            .copied()
            .unwrap_or(0.0);
        info.time.map(|t| t - offset)
    }
}

/// Computes (or, when its inputs did not change, reloads) the dedupe result.
pub fn run(workdir: &mut Workdir, clips: &[Analysed]) -> Result<DedupeResult, BlinkError> {
    let inputs = fingerprint(
        &clips
            .iter()
            .map(|c| (&c.signals.key, &c.info.time, &c.info.camera))
            .collect::<Vec<_>>(),
    );
    let path = workdir.path(DEDUPE_FILE);
    if workdir.is_complete(STAGE, &inputs)
        && let Ok(done) = read_json::<DedupeResult>(&path)
    {
        return Ok(done);
    }
    let views: Vec<ClipView> = clips.iter().map(|c| c.view(c.info.time)).collect();
    let duplicates = find_duplicates(&views);
    let skip: Vec<usize> = duplicates.iter().map(|d| d.clip).collect();
    let companions = find_companions(&views, &skip, MAX_SKEW_S);
    let result = DedupeResult {
        camera_offsets: camera_offsets(&views, &companions),
        duplicates: duplicates
            .iter()
            .map(|d| DuplicateRecord {
                clip: clips[d.clip].info.path.clone(),
                kept: clips[d.kept].info.path.clone(),
                reason: d.reason,
                score: d.score,
            })
            .collect(),
        companions: companions
            .iter()
            .map(|c| CompanionRecord {
                a: clips[c.a].info.path.clone(),
                b: clips[c.b].info.path.clone(),
                offset_s: c.offset_s,
                score: c.score,
            })
            .collect(),
    };
    workdir.begin_stage(STAGE, &inputs);
    write_json(&path, &result)?;
    workdir.finish_stage(STAGE)?;
    Ok(result)
}
