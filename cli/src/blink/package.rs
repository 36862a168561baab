//! Stage 6, `package`: per event, under `events/<id>/`, a stitched MP4 following the most
//! active camera second by second with the best audio, a contact sheet PNG, optionally a
//! mosaic MP4 of all cameras and canvases of the stitched clip, and a versioned
//! `manifest.json` with checksums of everything. Each finished event is recorded in the state
//! file, so a rerun packages only the events that changed or were not finished.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use codecprep_core::blink::naming::format_time;
use codecprep_core::blink::package::{
    Cut, MosaicTile, OutputFile, StitchOptions, StitchPlan, contact_sheet, event_canvases, mosaic,
    stitch_with, write_manifest,
};
use codecprep_core::blink::timeline::{Track, best_audio_per_second, best_video_per_second};
use codecprep_core::blink::workdir::{Workdir, fingerprint};
use jiff::tz::TimeZone;
use serde::Serialize;

use super::annotate::{label, tracks};
use super::cluster::{ClusterResult, Event};
use super::dedupe::Analysed;
use super::error::BlinkError;
use super::progress;
use super::settings::Settings;

pub const STAGE: &str = "package";
pub const STITCHED: &str = "stitched.mp4";
pub const MOSAIC: &str = "mosaic.mp4";
pub const CONTACT_SHEET: &str = "contact_sheet.png";
pub const CANVASES: &str = "canvases";
/// Thumbnails per row of the contact sheet.
const SHEET_COLUMNS: u32 = 4;

#[derive(Debug, Clone, Default, Serialize)]
pub struct PackageReport {
    pub events: usize,
    pub packaged: Vec<String>,
    pub already_done: Vec<String>,
}

/// The folder of one event's package.
pub fn event_dir(workdir: &Path, event: &Event) -> PathBuf {
    workdir.join("events").join(&event.id)
}

pub fn run(
    settings: &Settings,
    workdir: &mut Workdir,
    clips: &[Analysed],
    cluster: &ClusterResult,
    zone: &TimeZone,
) -> Result<PackageReport, BlinkError> {
    let by_path: HashMap<&Path, &Analysed> =
        clips.iter().map(|c| (c.info.path.as_path(), c)).collect();
    let options = (settings.mosaic, settings.canvases);
    workdir.begin_stage(STAGE, &fingerprint(&(1u32, options)));
    let mut report = PackageReport {
        events: cluster.events.len(),
        ..PackageReport::default()
    };
    let bar = progress::bar(STAGE, cluster.events.len() as u64, settings.show_progress());
    for event in &cluster.events {
        let item = format!("{}:{}", event.id, fingerprint(event));
        let dir = event_dir(workdir.root(), event);
        if workdir.is_item_done(STAGE, &item) && dir.join("manifest.json").is_file() {
            report.already_done.push(event.id.clone());
            bar.inc(1);
            continue;
        }
        bar.set_message(event.id.clone());
        package_event(settings, event, &by_path, workdir.root(), zone)?;
        workdir.finish_item(STAGE, &item)?;
        report.packaged.push(event.id.clone());
        bar.inc(1);
    }
    bar.finish_and_clear();
    workdir.finish_stage(STAGE)?;
    Ok(report)
}

fn package_event(
    settings: &Settings,
    event: &Event,
    by_path: &HashMap<&Path, &Analysed>,
    workdir: &Path,
    zone: &TimeZone,
) -> Result<(), BlinkError> {
    let dir = &event_dir(workdir, event);
    let fail = |e: &dyn std::fmt::Display| BlinkError::stage(STAGE, format!("{}: {e}", event.id));
    std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    let tracks = tracks(event, by_path);
    let mut outputs: Vec<OutputFile> = Vec::new();
    // Events are packaged one after another, so the encoder may use every core.
    let encode = StitchOptions {
        threads: u32::try_from(settings.cores).unwrap_or(0),
        progress: None,
        cancel: None,
    };

    if let Some(plan) = stitch_plan(event, &tracks, by_path) {
        stitch_with(&plan, &dir.join(STITCHED), &encode).map_err(|e| fail(&e))?;
        outputs.push(OutputFile::new(STITCHED, "stitched_video"));
        if settings.mosaic {
            let tiles: Vec<MosaicTile> = event
                .clips
                .iter()
                .filter(|c| by_path[c.path.as_path()].info.has_video())
                .map(|c| MosaicTile {
                    source: c.path.clone(),
                    at: c.start - event.start,
                    label: label(&c.path, c.camera.as_deref()),
                })
                .collect();
            mosaic(
                &tiles,
                plan.duration,
                plan.width,
                plan.height,
                plan.fps,
                &dir.join(MOSAIC),
            )
            .map_err(|e| fail(&e))?;
            outputs.push(OutputFile::new(MOSAIC, "mosaic_video"));
        }
        if settings.canvases {
            let canvases = event_canvases(&dir.join(STITCHED), &dir.join(CANVASES), None)
                .map_err(|e| fail(&e))?;
            outputs.push(OutputFile::new(canvases.meta_path, "canvas_meta"));
            for name in canvases.canvas_files {
                outputs.push(OutputFile::new(canvases.out_dir.join(name), "canvas"));
            }
        }
    }

    let thumbnails: Vec<(String, image::RgbImage)> = event
        .clips
        .iter()
        .filter_map(|c| {
            let a = by_path[c.path.as_path()];
            let relative = a.signals.thumbnail.as_ref()?;
            let image = image::open(workdir.join(relative)).ok()?.to_rgb8();
            let when = format_time(c.start, zone);
            // HH:MM:SS of the local time.
            let clock = when.get(11..19).unwrap_or(&when);
            Some((
                format!("{} {clock}", label(&c.path, c.camera.as_deref())),
                image,
            ))
        })
        .collect();
    if !thumbnails.is_empty() {
        contact_sheet(&thumbnails, SHEET_COLUMNS, &dir.join(CONTACT_SHEET))
            .map_err(|e| fail(&e))?;
        outputs.push(OutputFile::new(CONTACT_SHEET, "contact_sheet"));
    }
    write_manifest(dir, &outputs).map_err(|e| fail(&e))?;
    Ok(())
}

/// The stitched clip's plan: the most active camera's video and the best audio, second by
/// second, merged into cuts; `None` when no clip of the event has video.
pub fn stitch_plan(
    event: &Event,
    tracks: &[Track],
    by_path: &HashMap<&Path, &Analysed>,
) -> Option<StitchPlan> {
    let infos: Vec<_> = event
        .clips
        .iter()
        .map(|c| by_path[c.path.as_path()].info)
        .collect();
    let largest = infos
        .iter()
        .filter_map(|i| i.media.as_ref()?.video.as_ref())
        .max_by_key(|v| u64::from(v.width) * u64::from(v.height))?;
    // A clip without video (or audio) competes only for the other kind of track.
    let (video_tracks, audio_tracks): (Vec<Track>, Vec<Track>) = tracks
        .iter()
        .zip(&infos)
        .map(|(t, i)| {
            let video = Track {
                activity: t.activity.filter(|_| i.has_video()),
                ..*t
            };
            let audio = Track {
                loudness: t.loudness.filter(|_| i.has_audio()),
                ..*t
            };
            (video, audio)
        })
        .unzip();
    let video_choice = best_video_per_second(event.start, event.end, &video_tracks);
    let audio_choice = best_audio_per_second(event.start, event.end, &audio_tracks);
    let has = |i: usize, video: bool| {
        if video {
            infos[i].has_video()
        } else {
            infos[i].has_audio()
        }
    };
    let cuts = |choice: &[Option<usize>], video: bool| -> Vec<Cut> {
        runs(choice)
            .into_iter()
            .filter(|&(track, _, _)| has(track, video))
            .filter_map(|(track, first, last)| {
                let clip = &event.clips[track];
                // The run's seconds, clipped to the event and to the clip's own extent.
                let from = (event.start + first as f64).max(clip.start);
                let to = (event.start + last as f64 + 1.0)
                    .min(event.end)
                    .min(clip.end);
                (to > from).then(|| Cut {
                    source: clip.path.clone(),
                    source_start: from - clip.start,
                    duration: to - from,
                    at: from - event.start,
                })
            })
            .collect()
    };
    Some(StitchPlan {
        video: cuts(&video_choice, true),
        audio: cuts(&audio_choice, false),
        duration: event.end - event.start,
        width: largest.width,
        height: largest.height,
        fps: largest.frame_rate.unwrap_or((25, 1)),
    })
}

/// Runs of one chosen track: (track, first second, last second).
fn runs(choice: &[Option<usize>]) -> Vec<(usize, usize, usize)> {
    let mut out: Vec<(usize, usize, usize)> = Vec::new();
    for (second, pick) in choice.iter().enumerate() {
        let Some(track) = *pick else { continue };
        match out.last_mut() {
            Some(last) if last.0 == track && last.2 + 1 == second => last.2 = second,
            _ => out.push((track, second, second)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn runs_merge_consecutive_seconds() {
        let choice = [Some(0), Some(0), None, Some(1), Some(1), Some(0)];
        assert_eq!(runs(&choice), vec![(0, 0, 1), (1, 3, 4), (0, 5, 5)]);
    }
}
