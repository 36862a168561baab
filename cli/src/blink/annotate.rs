//! Stage 5, `annotate`: per event and clip, cameras, start and end in UTC and local time,
//! duration, activity and loudness statistics, duplicates and companions, and the best camera
//! (and audio) per second, as `annotations.json` and `annotations.csv`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use codecprep_core::blink::naming::{format_time, zone_name};
use codecprep_core::blink::timeline::{
    SeriesStats, Track, best_audio_per_second, best_video_per_second, stats,
};
use codecprep_core::blink::workdir::{Workdir, fingerprint, write_atomic, write_json};
use jiff::tz::TimeZone;
use serde::Serialize;

use super::cluster::{ClusterResult, Event};
use super::dedupe::{Analysed, DedupeResult, DuplicateRecord};
use super::error::BlinkError;

pub const STAGE: &str = "annotate";
pub const JSON_FILE: &str = "annotations.json";
pub const CSV_FILE: &str = "annotations.csv";

#[derive(Debug, Clone, Serialize)]
pub struct Related {
    pub path: PathBuf,
    /// Reason of a duplicate; empty for companions.
    pub reason: String,
    pub score: f32,
    /// Clock offset of a companion (how much its camera is ahead of this clip's).
    pub offset_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClipAnnotation {
    pub path: PathBuf,
    pub camera: Option<String>,
    pub time_source: Option<String>,
    pub start: f64,
    pub start_utc: String,
    pub start_local: String,
    pub end_utc: String,
    pub end_local: String,
    pub duration: f64,
    /// Bits per pixel per frame.
    pub activity: Option<SeriesStats>,
    /// RMS level per hop in dBFS.
    pub loudness_dbfs: Option<SeriesStats>,
    /// Copies of this clip left out of the events.
    pub duplicates: Vec<Related>,
    pub companions: Vec<Related>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventAnnotation {
    pub id: String,
    pub start_utc: String,
    pub start_local: String,
    pub end_utc: String,
    pub end_local: String,
    pub duration: f64,
    pub cameras: Vec<String>,
    pub scenes: usize,
    pub clips: Vec<ClipAnnotation>,
    /// For each second from the event's start: the camera with the most activity.
    pub best_camera_per_second: Vec<Option<String>>,
    /// For each second: the camera (or audio file) with the best audio.
    pub best_audio_per_second: Vec<Option<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Annotations {
    pub timezone: String,
    pub gap_s: f64,
    pub camera_offsets: BTreeMap<String, f64>,
    pub events: Vec<EventAnnotation>,
    pub duplicates: Vec<DuplicateRecord>,
}

/// Label of a clip in per-second lists: its camera, else its file name.
pub fn label(path: &Path, camera: Option<&str>) -> String {
    camera.map(str::to_string).unwrap_or_else(|| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    })
}

/// The tracks of an event's clips (in the event's order), for the per-second choices.
pub fn tracks<'a>(event: &Event, by_path: &HashMap<&Path, &Analysed<'a>>) -> Vec<Track<'a>> {
    event
        .clips
        .iter()
        .map(|c| {
            let a = by_path[c.path.as_path()];
            Track {
                start: c.start,
                duration: c.end - c.start,
                activity: a.signals.activity.as_ref(),
                loudness: a.signals.loudness.as_ref(),
            }
        })
        .collect()
}

pub fn run(
    workdir: &mut Workdir,
    clips: &[Analysed],
    dedupe: &DedupeResult,
    cluster: &ClusterResult,
    zone: &TimeZone,
) -> Result<Annotations, BlinkError> {
    let by_path: HashMap<&Path, &Analysed> =
        clips.iter().map(|c| (c.info.path.as_path(), c)).collect();
    let events = cluster
        .events
        .iter()
        .map(|event| annotate_event(event, &by_path, dedupe, zone))
        .collect();
    let annotations = Annotations {
        timezone: zone_name(zone),
        gap_s: cluster.gap_s,
        camera_offsets: dedupe.camera_offsets.clone(),
        events,
        duplicates: dedupe.duplicates.clone(),
    };
    workdir.begin_stage(STAGE, &fingerprint(&(cluster, dedupe, zone_name(zone))));
    write_json(&workdir.path(JSON_FILE), &annotations)?;
    write_atomic(&workdir.path(CSV_FILE), to_csv(&annotations).as_bytes())?;
    workdir.finish_stage(STAGE)?;
    Ok(annotations)
}

fn annotate_event(
    event: &Event,
    by_path: &HashMap<&Path, &Analysed>,
    dedupe: &DedupeResult,
    zone: &TimeZone,
) -> EventAnnotation {
    let tracks = tracks(event, by_path);
    let labels: Vec<String> = event
        .clips
        .iter()
        .map(|c| label(&c.path, c.camera.as_deref()))
        .collect();
    let named = |choice: Vec<Option<usize>>| -> Vec<Option<String>> {
        choice
            .into_iter()
            .map(|i| i.map(|i| labels[i].clone()))
            .collect()
    };
    let clips = event
        .clips
        .iter()
        .map(|c| {
            let a = by_path[c.path.as_path()];
            ClipAnnotation {
                path: c.path.clone(),
                camera: c.camera.clone(),
                time_source: a.info.time_source.map(|s| s.as_str().to_string()),
                start: c.start,
                start_utc: format_time(c.start, &TimeZone::UTC),
                start_local: format_time(c.start, zone),
                end_utc: format_time(c.end, &TimeZone::UTC),
                end_local: format_time(c.end, zone),
                duration: c.end - c.start,
                activity: a
                    .signals
                    .activity
                    .as_ref()
                    .and_then(|s| stats(&s.bits_per_pixel)),
                loudness_dbfs: a.signals.loudness.as_ref().and_then(|l| stats(&l.rms_dbfs)),
                duplicates: dedupe
                    .duplicates
                    .iter()
                    .filter(|d| d.kept == c.path)
                    .map(|d| Related {
                        path: d.clip.clone(),
                        reason: serde_json::to_value(d.reason)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                        score: d.score,
                        offset_s: None,
                    })
                    .collect(),
                companions: dedupe
                    .companions
                    .iter()
                    .filter_map(|p| {
                        if p.a == c.path {
                            Some((p.b.clone(), p.offset_s, p.score))
                        } else if p.b == c.path {
                            Some((p.a.clone(), -p.offset_s, p.score))
                        } else {
                            None
                        }
                    })
                    .map(|(path, offset, score)| Related {
                        path,
                        reason: String::new(),
                        score,
                        offset_s: Some(offset),
                    })
                    .collect(),
            }
        })
        .collect();
    EventAnnotation {
        id: event.id.clone(),
        start_utc: format_time(event.start, &TimeZone::UTC),
        start_local: format_time(event.start, zone),
        end_utc: format_time(event.end, &TimeZone::UTC),
        end_local: format_time(event.end, zone),
        duration: event.end - event.start,
        cameras: event.cameras.clone(),
        scenes: event.scenes.len(),
        clips,
        best_camera_per_second: named(best_video_per_second(event.start, event.end, &tracks)),
        best_audio_per_second: named(best_audio_per_second(event.start, event.end, &tracks)),
    }
}

/// One row per clip of every event (RFC 4180 quoting).
fn to_csv(annotations: &Annotations) -> String {
    let header = [
        "event",
        "event_start_utc",
        "event_end_utc",
        "event_duration_s",
        "clip",
        "camera",
        "start_utc",
        "start_local",
        "end_utc",
        "end_local",
        "duration_s",
        "activity_mean_bpp",
        "activity_max_bpp",
        "loudness_mean_dbfs",
        "loudness_max_dbfs",
        "duplicates",
        "companions",
    ];
    let mut out = header.join(",");
    out.push('\n');
    let num = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    let paths = |list: &[Related]| {
        list.iter()
            .map(|r| r.path.display().to_string())
            .collect::<Vec<_>>()
            .join(";")
    };
    for event in &annotations.events {
        for clip in &event.clips {
            let cells = [
                event.id.clone(),
                event.start_utc.clone(),
                event.end_utc.clone(),
                format!("{:.3}", event.duration),
                clip.path.display().to_string(),
                clip.camera.clone().unwrap_or_default(),
                clip.start_utc.clone(),
                clip.start_local.clone(),
                clip.end_utc.clone(),
                clip.end_local.clone(),
                format!("{:.3}", clip.duration),
                num(clip.activity.map(|s| s.mean)),
                num(clip.activity.map(|s| s.max)),
                num(clip.loudness_dbfs.map(|s| s.mean)),
                num(clip.loudness_dbfs.map(|s| s.max)),
                paths(&clip.duplicates),
                paths(&clip.companions),
            ];
            let quoted: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&quoted.join(","));
            out.push('\n');
        }
    }
    out
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
