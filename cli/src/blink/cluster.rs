//! Stage 4, `cluster`: clips (duplicates left out) into multi-camera events on the corrected
//! timeline, and each event's frames into visually distinct scenes, into `events.json`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use codecprep_core::blink::events::{cluster_events, event_scenes};
use codecprep_core::blink::workdir::{Workdir, fingerprint, read_json, write_json};
use serde::{Deserialize, Serialize};

use super::dedupe::{Analysed, DedupeResult};
use super::error::BlinkError;

pub const STAGE: &str = "cluster";
pub const EVENTS_FILE: &str = "events.json";
/// Hash bits (of 64) two frames may differ by and still be one scene.
pub const SCENE_MAX_DISTANCE: u32 = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventClip {
    pub path: PathBuf,
    /// Key of the clip's outputs under `clips/`.
    pub key: String,
    pub camera: Option<String>,
    /// Corrected start and end, seconds since the epoch.
    pub start: f64,
    pub end: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneRecord {
    pub start: f64,
    pub end: f64,
    /// The clip whose frame shows the scene, and that frame's time within it.
    pub clip: PathBuf,
    pub time_in_clip: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `event-NNN`, numbered by start time.
    pub id: String,
    pub start: f64,
    pub end: f64,
    /// Sorted by start.
    pub clips: Vec<EventClip>,
    pub cameras: Vec<String>,
    pub scenes: Vec<SceneRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterResult {
    pub gap_s: f64,
    pub events: Vec<Event>,
    /// Clips without any time (no name, container or mtime time): in no event.
    pub without_time: Vec<PathBuf>,
}

pub fn run(
    workdir: &mut Workdir,
    clips: &[Analysed],
    dedupe: &DedupeResult,
    gap_s: f64,
) -> Result<ClusterResult, BlinkError> {
    let kept: Vec<&Analysed> = clips
        .iter()
        .filter(|c| !dedupe.is_duplicate(&c.info.path))
        .collect();
    let inputs = fingerprint(&(
        gap_s,
        kept.iter().map(|c| &c.signals.key).collect::<Vec<_>>(),
        dedupe,
    ));
    let path = workdir.path(EVENTS_FILE);
    if workdir.is_complete(STAGE, &inputs)
        && let Ok(done) = read_json::<ClusterResult>(&path)
    {
        return Ok(done);
    }
    let mut timed = Vec::new();
    let mut without_time = Vec::new();
    for clip in kept {
        match dedupe.corrected(clip.info) {
            Some(start) => timed.push((clip, start, start + clip.info.duration())),
            None => without_time.push(clip.info.path.clone()),
        }
    }
    let intervals: Vec<(f64, f64)> = timed.iter().map(|&(_, s, e)| (s, e)).collect();
    let mut events = Vec::new();
    for (n, members) in cluster_events(&intervals, gap_s).into_iter().enumerate() {
        let mut members: Vec<_> = members.into_iter().map(|i| timed[i]).collect();
        members.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.info.path.cmp(&b.0.info.path)));
        let hashed: Vec<(f64, &[_])> = members
            .iter()
            .map(|(c, start, _)| (*start, c.signals.hashes.as_slice()))
            .collect();
        let scenes = event_scenes(&hashed, SCENE_MAX_DISTANCE)
            .into_iter()
            .map(|s| SceneRecord {
                start: s.start,
                end: s.end,
                clip: members[s.clip].0.info.path.clone(),
                time_in_clip: members[s.clip].0.signals.hashes[s.frame].time_ms as f64 / 1000.0,
            })
            .collect();
        let cameras: BTreeSet<String> = members
            .iter()
            .filter_map(|(c, _, _)| c.info.camera.clone())
            .collect();
        events.push(Event {
            id: format!("event-{:03}", n + 1),
            start: members.iter().map(|m| m.1).fold(f64::INFINITY, f64::min),
            end: members
                .iter()
                .map(|m| m.2)
                .fold(f64::NEG_INFINITY, f64::max),
            clips: members
                .iter()
                .map(|(c, start, end)| EventClip {
                    path: c.info.path.clone(),
                    key: c.signals.key.clone(),
                    camera: c.info.camera.clone(),
                    start: *start,
                    end: *end,
                })
                .collect(),
            cameras: cameras.into_iter().collect(),
            scenes,
        });
    }
    let result = ClusterResult {
        gap_s,
        events,
        without_time,
    };
    workdir.begin_stage(STAGE, &inputs);
    write_json(&path, &result)?;
    workdir.finish_stage(STAGE)?;
    Ok(result)
}
