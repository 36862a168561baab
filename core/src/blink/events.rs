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

#[cfg(test)]
mod tests {
    use super::super::companions::testing::frames;
    use super::*;

    #[test]
    fn gaps_shorter_than_the_limit_join_and_equal_ones_split() {
        let intervals = [
            (35.0, 40.0),  // exactly 10 s after the first event's end: its own event
            (0.0, 10.0),   //
            (19.99, 25.0), // 9.99 s after: joins
            (60.0, 61.0),
            (50.0, 50.0), // empty interval, 10 s after 40 would split; it is 10 s exactly
        ];
        assert_eq!(
            cluster_events(&intervals, 10.0),
            [vec![1, 2], vec![0], vec![4], vec![3]]
        );
        // A larger gap joins everything.
        assert_eq!(cluster_events(&intervals, 10.01), [vec![1, 2, 0, 4, 3]]);
    }

    #[test]
    fn overlapping_touching_and_contained_intervals_join_even_without_a_gap() {
        let intervals = [(0.0, 100.0), (10.0, 20.0), (100.0, 105.0), (105.5, 110.0)];
        assert_eq!(cluster_events(&intervals, 0.0), [vec![0, 1, 2], vec![3]]);
        // The long clip keeps the event open past the short one inside it.
        assert_eq!(cluster_events(&intervals, 1.0), [vec![0, 1, 2, 3]]);
        // An end before its start counts as the start.
        assert_eq!(cluster_events(&[(5.0, 1.0), (5.5, 6.0)], 1.0), [vec![0, 1]]);
        assert!(cluster_events(&[], 10.0).is_empty());
    }

    #[test]
    fn scenes_change_when_the_view_changes_and_repeat_views_are_listed_once() {
        let (a, b, c) = (0u64, u64::MAX, 0xffff_ffff_0000_0000u64);
        // Camera 1: view a (with 2 bits of noise), then b, then a again; times out of order.
        let first = frames(
            [0, 1000, 2000, 3000, 4000, 5000],
            &[a, a ^ 0b11, a ^ 0b1, b, b ^ 0b100, a],
        );
        let mut first = first;
        first.swap(0, 5);
        // Camera 2, corrected 2.5 s later: view c, then view a (seen by camera 1 already).
        let second = frames([0, 500, 1000], &[c, c, a ^ 0b1000]);
        let scenes = event_scenes(&[(100.0, &first), (102.5, &second)], 4);
        let found: Vec<(f64, f64, usize, usize)> = scenes
            .iter()
            .map(|s| (s.start, s.end, s.clip, s.frame))
            .collect();
        assert_eq!(
            found,
            [
                (100.0, 103.0, 0, 5), // a: frames at 0..2 s, until b starts at 3 s
                (102.5, 103.5, 1, 0), // c, until a appears at 1 s
                (103.0, 105.0, 0, 3), // b, until a returns at 5 s
            ]
        );
        // A stricter threshold splits view a where its noise reaches 2 bits.
        let strict = event_scenes(&[(100.0, &first)], 1);
        let starts: Vec<f64> = strict.iter().map(|s| s.start).collect();
        assert_eq!(starts, [100.0, 101.0, 103.0], "{strict:?}");
        assert!(event_scenes(&[(0.0, &[])], 4).is_empty());
    }
}
