//! Events (clips of one happening across cameras, on the corrected timeline) and the visually
//! distinct scenes within an event.

use serde::{Deserialize, Serialize};

use super::features::FrameHash;

/// Groups `(start, end)` intervals (seconds on the corrected timeline) into events: an
/// interval joins the event being built when it overlaps or touches it, or starts less than
/// `gap_s` after its latest end. Events are sorted by start, and so are the indices in each.
/// An end before its start counts as the start.
pub fn cluster_events(intervals: &[(f64, f64)], gap_s: f64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..intervals.len()).collect();
    order.sort_by(|&p, &q| {
        intervals[p]
            .0
            .total_cmp(&intervals[q].0)
            .then(intervals[p].1.total_cmp(&intervals[q].1))
            .then(p.cmp(&q))
    });
    let mut events: Vec<Vec<usize>> = Vec::new();
    let mut event_end = f64::NEG_INFINITY;
    for index in order {
        let (start, end) = intervals[index];
        let end = end.max(start);
        match events.last_mut() {
            Some(event) if start <= event_end || start - event_end < gap_s => {
                event.push(index);
                event_end = event_end.max(end);
            }
            _ => {
                events.push(vec![index]);
                event_end = end;
            }
        }
    }
    events
}

/// A stretch of one clip that shows one view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    /// Corrected time of the scene's first hashed frame.
    pub start: f64,
    /// Corrected time of the clip's next scene's first frame, or of the clip's last hashed
    /// frame for its last scene.
    pub end: f64,
    /// Index of the clip in the caller's slice.
    pub clip: usize,
    /// The scene's representative (its first frame): index into that clip's hashes.
    pub frame: usize,
}

/// The visually distinct scenes of an event: `clips` are `(corrected start, hashes)`.
///
/// Each clip is one camera's view, so scenes are found per clip: walking its frames in time,
/// a new scene begins when a frame's hash is more than `max_distance` bits from the current
/// scene's representative (its first frame). Merging all cameras on one timeline instead
/// would start a "scene" at every switch between cameras. Then across the event only
/// distinct scenes are listed: a scene whose representative is within `max_distance` of a
/// scene already listed (the same view seen again, by this clip or another clip of that
/// camera) is left out, so the earliest appearance of each view stands for it. Hashes of
/// different sizes never match. Sorted by start, then clip.
pub fn event_scenes(clips: &[(f64, &[FrameHash])], max_distance: u32) -> Vec<Scene> {
    let mut runs: Vec<Scene> = Vec::new();
    for (clip, &(start, hashes)) in clips.iter().enumerate() {
        let mut order: Vec<usize> = (0..hashes.len()).collect();
        order.sort_by_key(|&frame| hashes[frame].time_ms);
        let time = |frame: usize| start + hashes[frame].time_ms as f64 / 1000.0;
        let mut current: Option<Scene> = None;
        for &frame in &order {
            match &mut current {
                Some(scene) if looks_alike(&hashes[scene.frame], &hashes[frame], max_distance) => {
                    scene.end = time(frame);
                }
                _ => {
                    if let Some(mut scene) = current.take() {
                        scene.end = time(frame);
                        runs.push(scene);
                    }
                    current = Some(Scene {
                        start: time(frame),
                        end: time(frame),
                        clip,
                        frame,
                    });
                }
            }
        }
        runs.extend(current);
    }
    runs.sort_by(|p, q| p.start.total_cmp(&q.start).then(p.clip.cmp(&q.clip)));

    let mut distinct: Vec<Scene> = Vec::new();
    for scene in runs {
        let hash = &clips[scene.clip].1[scene.frame];
        let seen = distinct
            .iter()
            .any(|other| looks_alike(&clips[other.clip].1[other.frame], hash, max_distance));
        if !seen {
            distinct.push(scene);
        }
    }
    distinct
}

fn looks_alike(a: &FrameHash, b: &FrameHash, max_distance: u32) -> bool {
    a.hash
        .distance(&b.hash)
        .is_some_and(|distance| distance <= max_distance)
}
