//! One record per discovered file: what the container says, the camera and the time with
//! their sources, and any problem that keeps the file out of later stages.
//!
//! A bad file (unreadable, empty, not media) never stops the run: it becomes a record with a
//! problem, which `preflight` shows and the later stages skip.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::discover::{Found, MediaKind};
use super::naming::{self, CameraSource, NamingRules, TimeSource};
use crate::ffmpeg::{MediaFacts, media_facts};

/// Everything the stages know about a file before `extract`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipInfo {
    pub path: PathBuf,
    pub root: PathBuf,
    pub kind: MediaKind,
    pub bytes: u64,
    /// Modification time in seconds since the epoch (also part of the resume key).
    pub mtime: Option<f64>,
    pub camera: Option<String>,
    pub camera_source: Option<CameraSource>,
    pub serial: Option<String>,
    /// Start of the recording in seconds since the epoch (UTC).
    pub time: Option<f64>,
    pub time_source: Option<TimeSource>,
    pub media: Option<MediaFacts>,
    /// Why the file is left out of the later stages; empty for usable files.
    pub problems: Vec<String>,
    /// What was assumed or filled in automatically.
    pub adjustments: Vec<String>,
}

impl ClipInfo {
    /// The file can go through the later stages.
    pub fn usable(&self) -> bool {
        self.problems.is_empty() && self.media.is_some()
    }

    /// Duration in seconds (container, else the longest stream), 0 when unknown.
    pub fn duration(&self) -> f64 {
        self.media.as_ref().map_or(0.0, media_duration)
    }

    pub fn has_video(&self) -> bool {
        self.media.as_ref().is_some_and(|m| m.video.is_some())
    }

    pub fn has_audio(&self) -> bool {
        self.media.as_ref().is_some_and(|m| m.audio.is_some())
    }
}

fn media_duration(media: &MediaFacts) -> f64 {
    media
        .duration
        .or_else(|| media.video.as_ref().and_then(|v| v.duration))
        .or_else(|| media.audio.as_ref().and_then(|a| a.duration))
        .unwrap_or(0.0)
}

/// Probes one discovered file and settles its camera and time (file name, then the
/// container's `creation_time`, then the file's mtime).
pub fn probe_clip(found: &Found, rules: &NamingRules) -> ClipInfo {
    let naming = naming::from_name(&found.path, &found.root, rules);
    let mut clip = ClipInfo {
        path: found.path.clone(),
        root: found.root.clone(),
        kind: found.kind,
        bytes: 0,
        mtime: None,
        camera: naming.camera,
        camera_source: naming.camera_source,
        serial: naming.serial,
        time: naming.time,
        time_source: naming.time_source,
        media: None,
        problems: Vec::new(),
        adjustments: naming.notes,
    };
    match std::fs::metadata(&found.path) {
        Ok(meta) => {
            clip.bytes = meta.len();
            clip.mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64());
        }
        Err(err) => clip
            .problems
            .push(format!("cannot read its metadata: {err}")),
    }
    if clip.problems.is_empty() {
        inspect_media(&found.path, &mut clip);
    }
    if clip.time.is_none() {
        let created = clip
            .media
            .as_ref()
            .and_then(|m| m.creation_time.as_deref())
            .and_then(naming::parse_creation_time);
        if let Some(time) = created {
            clip.time = Some(time);
            clip.time_source = Some(TimeSource::CreationTime);
            clip.adjustments
                .push("no time in the name: using the container's creation_time".into());
        } else if let Some(time) = clip.mtime {
            clip.time = Some(time);
            clip.time_source = Some(TimeSource::FileMtime);
            clip.adjustments
                .push("no time in the name or container: using the file's mtime".into());
        }
    }
    if clip.camera.is_none() {
        clip.adjustments
            .push("no camera in the name or folders: camera unknown".into());
    }
    clip
}

/// Fills `media` or records why the file is not usable.
fn inspect_media(path: &Path, clip: &mut ClipInfo) {
    if clip.bytes == 0 {
        clip.problems.push("empty file".into());
        return;
    }
    // Opening first gives the clearer message for permission problems than FFmpeg's.
    if let Err(err) = File::open(path) {
        clip.problems.push(format!("unreadable: {err}"));
        return;
    }
    match media_facts(path) {
        Ok(media) => {
            if media.video.is_none() && media.audio.is_none() {
                clip.problems.push("no audio or video stream".into());
            } else if media_duration(&media) <= 0.0 {
                clip.problems.push("duration unknown or zero".into());
            } else if clip.kind == MediaKind::Video && media.video.is_none() {
                clip.adjustments
                    .push("no video stream: treated as standalone audio".into());
                clip.kind = MediaKind::Audio;
            }
            clip.media = Some(media);
        }
        Err(err) => clip
            .problems
            .push(format!("not a readable media file: {err}")),
    }
}
