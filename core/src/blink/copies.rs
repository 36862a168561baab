//! Duplicates: byte-identical copies and re-encoded or re-muxed copies of one recording.
//!
//! Exporting the same Blink clip twice (once from the Sync Module's USB drive, once from the
//! cloud) or re-encoding it gives files with other bytes but the same pictures at the same
//! moments. Two clips are copies of one recording when
//! - their content hashes are equal (exact copy), or
//! - both have pictures, their durations agree, their starts agree when both have one, their
//!   perceptual hash sequences agree frame by frame at matching relative times, and their
//!   loudness envelopes agree when both carry sound.
//!
//! A camera filming a static scene twice gives the same pictures too: the start check tells
//! those apart when the clips have times, the audio check when they do not. The same moment
//! from another camera shows other pictures, so its hashes differ and it is never a copy (it
//! is a companion, see `companions`).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::companions::{NoAlignment, correlate_envelopes};
use super::features::{FrameHash, LoudnessEnvelope};

/// What the matching stages know about one clip.
#[derive(Debug, Clone, Copy)]
pub struct ClipView<'a> {
    /// Corrected or parsed UTC start (seconds since the Unix epoch) of the first video frame
    /// or audio sample; `None` when nothing told us.
    pub start: Option<f64>,
    /// Length in seconds.
    pub duration: f64,
    pub camera: Option<&'a str>,
    /// blake3 hex of the file bytes.
    pub content_hash: &'a str,
    /// Perceptual hashes of sampled frames, times relative to the first frame; empty for
    /// audio-only files.
    pub hashes: &'a [FrameHash],
    pub loudness: Option<&'a LoudnessEnvelope>,
    /// Larger is the better copy to keep (e.g. pixels times bitrate); ties keep the lower index.
    pub quality: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Same bytes.
    ExactCopy,
    /// Other bytes, same pictures at the same moments.
    Reencoded,
}

/// A clip that is a copy of another; it is left out of the later stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Duplicate {
    /// Index of the copy in the caller's slice.
    pub clip: usize,
    /// Index of the copy that is kept (never itself a duplicate).
    pub kept: usize,
    pub reason: DuplicateReason,
    /// How sure the match is, 0..1 (1 for exact copies).
    pub score: f32,
}

/// The thresholds of the re-encoded copy test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CopyRules {
    /// Starts further apart than this are different recordings. File names carry whole
    /// seconds and two exports of one clip may be named from slightly different clocks;
    /// Blink cameras do not start a new clip within a few seconds of the last one.
    pub start_tolerance_s: f64,
    /// Durations may differ by this much plus `duration_tolerance_ratio` of the longer one
    /// (re-muxing drops or pads a few frames and audio packets).
    pub duration_tolerance_s: f64,
    pub duration_tolerance_ratio: f64,
    /// How far the frame times of a copy may be shifted against the original (trimmed
    /// leading frames, other audio/video start offsets).
    pub max_shift_s: f64,
    /// Frames whose hashes differ by at most this fraction of the hash bits look the same.
    pub frame_match_ratio: f64,
    /// Fraction of compared frames that must look the same.
    pub min_agreement: f64,
    /// Least loudness correlation near zero lag when both clips carry sound.
    pub min_audio_correlation: f32,
}

impl Default for CopyRules {
    fn default() -> Self {
        Self {
            start_tolerance_s: 3.0,
            duration_tolerance_s: 0.5,
            duration_tolerance_ratio: 0.02,
            max_shift_s: 1.0,
            frame_match_ratio: 0.15,
            min_agreement: 0.8,
            min_audio_correlation: 0.5,
        }
    }
}

/// Duplicates among `clips` with the default rules, sorted by clip index.
pub fn find_duplicates(clips: &[ClipView]) -> Vec<Duplicate> {
    find_duplicates_with(clips, &CopyRules::default())
}

/// Duplicates among `clips`, sorted by clip index. In every group of copies (copies of copies
/// included) the best-quality clip is kept, the lowest index on ties; every other member
/// points at it.
pub fn find_duplicates_with(clips: &[ClipView], rules: &CopyRules) -> Vec<Duplicate> {
    let mut groups = UnionFind::new(clips.len());
    // Pair scores of re-encoded matches, keyed by (lower, higher) index.
    let mut scores: HashMap<(usize, usize), f32> = HashMap::new();

    // Exact copies first; then only one clip per content needs the costly comparison.
    let mut by_content: HashMap<&str, usize> = HashMap::new();
    let mut representative_of = Vec::with_capacity(clips.len());
    let mut representatives = Vec::new();
    for (index, clip) in clips.iter().enumerate() {
        let first = *by_content.entry(clip.content_hash).or_insert(index);
        representative_of.push(first);
        if first == index {
            representatives.push(index);
        } else {
            groups.join(first, index);
        }
    }
    for (n, &a) in representatives.iter().enumerate() {
        for &b in &representatives[n + 1..] {
            if let Some(score) = reencoded_score(&clips[a], &clips[b], rules) {
                groups.join(a, b);
                scores.insert((a, b), score);
            }
        }
    }

    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..clips.len() {
        members.entry(groups.root(index)).or_default().push(index);
    }
    let mut duplicates = Vec::new();
    for group in members.values().filter(|group| group.len() > 1) {
        let kept = *group
            .iter()
            .max_by(|&&x, &&y| {
                clips[x]
                    .quality
                    .total_cmp(&clips[y].quality)
                    .then(y.cmp(&x))
            })
            .expect("groups are not empty");
        for &clip in group.iter().filter(|&&clip| clip != kept) {
            let (reason, score) = if clips[clip].content_hash == clips[kept].content_hash {
                (DuplicateReason::ExactCopy, 1.0)
            } else {
                let pair = (representative_of[clip], representative_of[kept]);
                (DuplicateReason::Reencoded, evidence(pair, &scores))
            };
            duplicates.push(Duplicate {
                clip,
                kept,
                reason,
                score,
            });
        }
    }
    duplicates.sort_by_key(|duplicate| duplicate.clip);
    duplicates
}

/// The score that ties a clip to the kept one (both given by their content representatives):
/// their own match when they were compared directly, else the best match that put the clip
/// in the group.
fn evidence((clip, kept): (usize, usize), scores: &HashMap<(usize, usize), f32>) -> f32 {
    if let Some(&score) = scores.get(&(clip.min(kept), clip.max(kept))) {
        return score;
    }
    scores
        .iter()
        .filter(|((a, b), _)| *a == clip || *b == clip)
        .map(|(_, &score)| score)
        .fold(0.0, f32::max)
}

/// `Some(score)` when `b` looks like a re-encoded or re-muxed copy of `a`.
fn reencoded_score(a: &ClipView, b: &ClipView, rules: &CopyRules) -> Option<f32> {
    if a.hashes.is_empty() || b.hashes.is_empty() {
        return None;
    }
    let longer = a.duration.max(b.duration);
    let duration_tolerance = rules.duration_tolerance_s + rules.duration_tolerance_ratio * longer;
    if (a.duration - b.duration).abs() > duration_tolerance {
        return None;
    }
    if let (Some(x), Some(y)) = (a.start, b.start)
        && (x - y).abs() > rules.start_tolerance_s
    {
        return None;
    }
    let pictures = hash_agreement(a.hashes, b.hashes, rules)?;
    if let (Some(x), Some(y)) = (a.loudness, b.loudness) {
        // Both carry sound: a copy has the same sound at the same moments. Silence, clips too
        // short to compare and periodic sound say nothing either way.
        match correlate_envelopes(x, 0.0, y, 0.0, rules.max_shift_s) {
            Ok(audio) if audio.score < rules.min_audio_correlation => return None,
            Err(NoAlignment::Weak) => return None,
            _ => {}
        }
    }
    Some(pictures)
}

/// How well two hash sequences agree at matching relative times, for the best frame-time
/// shift within `max_shift_s`: `None` when too few frames look the same, else the fraction of
/// frames that do times their mean similarity (0..1).
fn hash_agreement(a: &[FrameHash], b: &[FrameHash], rules: &CopyRules) -> Option<f32> {
    let a = sorted_by_time(a);
    let b = sorted_by_time(b);
    let bits = a[0].hash.bits().max(1);
    let close_bits = (rules.frame_match_ratio * f64::from(bits)).round() as u32;
    let max_shift_ms = (rules.max_shift_s * 1000.0) as i64;

    if !probes_match(&a, &b, close_bits, max_shift_ms) {
        return None;
    }
    // Each candidate shift lines one frame of `a` up with one frame of `b`; the true shift
    // of a copy is one of them (up to a frame interval). Rounded to 10 ms (far below the
    // matching tolerance), so densely hashed clips give at most a few hundred to try.
    let mut shifts: Vec<i64> = vec![0];
    for x in &a {
        for y in &b {
            let shift = y.time_ms as i64 - x.time_ms as i64;
            if shift.abs() <= max_shift_ms {
                shifts.push((shift as f64 / 10.0).round() as i64 * 10);
            }
        }
    }
    shifts.sort_unstable();
    shifts.dedup();

    let tolerance_ms = matching_tolerance_ms(&a).max(matching_tolerance_ms(&b));
    let mut best: Option<(f64, f64)> = None;
    for shift in shifts {
        let mut compared = 0usize;
        let mut close = 0usize;
        let mut similarity = 0.0;
        for x in &a {
            let target = x.time_ms as i64 + shift;
            let Some(y) =
                nearest(&b, target).filter(|y| (y.time_ms as i64 - target).abs() <= tolerance_ms)
            else {
                continue;
            };
            compared += 1;
            let distance = x.hash.distance(&y.hash).unwrap_or(bits).min(bits);
            if distance <= close_bits {
                close += 1;
            }
            similarity += 1.0 - f64::from(distance) / f64::from(bits);
        }
        // Two frames at least, or one when a clip has a single hash.
        if compared < a.len().min(b.len()).min(2) {
            continue;
        }
        let agreement = close as f64 / compared as f64;
        let score = agreement * similarity / compared as f64;
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((agreement, score));
        }
    }
    let (agreement, score) = best?;
    (agreement >= rules.min_agreement).then_some(score as f32)
}

/// A cheap first look before the shift search (most pairs of clips are not copies): a copy
/// has a frame that looks like a's frame at a third or at two thirds of its hashes within the
/// allowed shift. Two probes, so one frame at a cut between scenes cannot hide a copy.
fn probes_match(a: &[&FrameHash], b: &[&FrameHash], close_bits: u32, max_shift_ms: i64) -> bool {
    let reach = max_shift_ms + matching_tolerance_ms(b);
    [a.len() / 3, 2 * a.len() / 3].into_iter().any(|probe| {
        let x = a[probe];
        b.iter()
            .filter(|y| (y.time_ms as i64 - x.time_ms as i64).abs() <= reach)
            .any(|y| x.hash.distance(&y.hash).is_some_and(|d| d <= close_bits))
    })
}

fn sorted_by_time(hashes: &[FrameHash]) -> Vec<&FrameHash> {
    let mut sorted: Vec<&FrameHash> = hashes.iter().collect();
    sorted.sort_by_key(|hash| hash.time_ms);
    sorted
}

/// Frames of two copies count as "the same moment" when within half the usual spacing of
/// hashed frames (at least 100 ms, so the frame interval of re-timed copies fits).
fn matching_tolerance_ms(sorted: &[&FrameHash]) -> i64 {
    let mut gaps: Vec<i64> = sorted
        .windows(2)
        .map(|pair| pair[1].time_ms as i64 - pair[0].time_ms as i64)
        .filter(|&gap| gap > 0)
        .collect();
    gaps.sort_unstable();
    let median = gaps.get(gaps.len() / 2).copied().unwrap_or(0);
    (median / 2).max(100)
}

/// The frame of a time-sorted sequence closest to `time_ms`.
fn nearest<'a>(sorted: &[&'a FrameHash], time_ms: i64) -> Option<&'a FrameHash> {
    let after = sorted.partition_point(|hash| (hash.time_ms as i64) < time_ms);
    let candidates = [after.checked_sub(1), Some(after)];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|index| sorted.get(index).copied())
        .min_by_key(|hash| (hash.time_ms as i64 - time_ms).abs())
}

/// Disjoint sets of clip indices (path halving, union by lower root so roots are stable).
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(len: usize) -> Self {
        Self {
            parent: (0..len).collect(),
        }
    }

    fn root(&mut self, mut index: usize) -> usize {
        while self.parent[index] != index {
            self.parent[index] = self.parent[self.parent[index]];
            index = self.parent[index];
        }
        index
    }

    fn join(&mut self, a: usize, b: usize) {
        let (x, y) = (self.root(a), self.root(b));
        self.parent[x.max(y)] = x.min(y);
    }
}

#[cfg(test)]
mod tests {
    use super::super::companions::testing::{Rng, Soundscape, flip, frames};
    use super::*;

    /// A 10-s clip with a hash per second of a scene in motion (every frame different).
    fn moving_words(rng: &mut Rng) -> Vec<u64> {
        (0..10).map(|_| rng.next_u64()).collect()
    }

    fn per_second(offset_ms: u64) -> impl Iterator<Item = u64> {
        (0..10).map(move |n| n * 1000 + offset_ms)
    }

    fn clip<'a>(
        start: Option<f64>,
        content_hash: &'a str,
        hashes: &'a [FrameHash],
        quality: f64,
    ) -> ClipView<'a> {
        ClipView {
            start,
            duration: 10.0,
            camera: Some("door"),
            content_hash,
            hashes,
            loudness: None,
            quality,
        }
    }

    #[test]
    fn exact_copies_keep_the_best_quality_then_the_lowest_index() {
        let mut rng = Rng::new(1);
        let hashes = frames(per_second(0), &moving_words(&mut rng));
        let audio_only: &[FrameHash] = &[];
        let clips = [
            clip(Some(0.0), "aa", &hashes, 1.0),
            clip(None, "aa", &hashes, 3.0),
            clip(Some(0.0), "aa", &hashes, 3.0),
            // Audio-only files are copies only by their bytes.
            clip(None, "bb", audio_only, 1.0),
            clip(None, "bb", audio_only, 1.0),
            clip(None, "cc", audio_only, 1.0),
        ];
        let duplicates = find_duplicates(&clips);
        let found: Vec<(usize, usize, DuplicateReason, f32)> = duplicates
            .iter()
            .map(|d| (d.clip, d.kept, d.reason, d.score))
            .collect();
        use DuplicateReason::ExactCopy;
        assert_eq!(
            found,
            [
                (0, 1, ExactCopy, 1.0),
                (2, 1, ExactCopy, 1.0),
                (4, 3, ExactCopy, 1.0)
            ]
        );
    }

    #[test]
    fn a_reencoded_copy_with_a_shifted_start_is_found() {
        let mut rng = Rng::new(2);
        let words = moving_words(&mut rng);
        let original = frames(per_second(0), &words);
        // The re-encode lost its first 40 ms, so its frames come 40 ms earlier; its hashes
        // differ by a few bits, it lacks the last hash, and its name is a second later.
        let noisy: Vec<u64> = words.iter().map(|&w| flip(&mut rng, w, 4)).collect();
        let reencoded = frames(per_second(0).map(|t| t.saturating_sub(40)), &noisy[..9]);
        let mut copy = clip(Some(1001.0), "re", &reencoded, 2.0);
        copy.duration = 9.96;
        let clips = [clip(Some(1000.0), "orig", &original, 1.0), copy];
        let duplicates = find_duplicates(&clips);
        assert_eq!(duplicates.len(), 1, "{duplicates:?}");
        let duplicate = &duplicates[0];
        assert_eq!(
            (duplicate.clip, duplicate.kept, duplicate.reason),
            (0, 1, DuplicateReason::Reencoded)
        );
        // 4 of 64 bits differ: about 0.94.
        assert!(
            duplicate.score > 0.9 && duplicate.score < 0.96,
            "{}",
            duplicate.score
        );
    }

    #[test]
    fn a_static_scene_recorded_again_is_not_a_copy() {
        let mut rng = Rng::new(3);
        let scene = rng.next_u64();
        let first_words: Vec<u64> = (0..10).map(|_| flip(&mut rng, scene, 1)).collect();
        let second_words: Vec<u64> = (0..10).map(|_| flip(&mut rng, scene, 1)).collect();
        let first = frames(per_second(0), &first_words);
        let second = frames(per_second(0), &second_words);
        // Same camera, 30 s later.
        let clips = [
            clip(Some(1000.0), "one", &first, 1.0),
            clip(Some(1030.0), "two", &second, 1.0),
        ];
        assert!(find_duplicates(&clips).is_empty());

        // Without times the pictures cannot tell; the sound can.
        let sound = Soundscape::random(&mut rng, 0.0, 100.0);
        let first_sound = sound.record(0.0, 10.0, 0.02, 1.0, &mut rng);
        let second_sound = sound.record(30.0, 10.0, 0.02, 1.0, &mut rng);
        let copy_sound = sound.record(0.0, 10.0, 0.02, 1.0, &mut rng);
        let mut untimed = [
            clip(None, "one", &first, 1.0),
            clip(None, "two", &second, 1.0),
        ];
        untimed[0].loudness = Some(&first_sound);
        untimed[1].loudness = Some(&second_sound);
        assert!(find_duplicates(&untimed).is_empty());
        // The same sound (a real copy with its audio re-encoded) makes it a copy.
        untimed[1].loudness = Some(&copy_sound);
        assert_eq!(find_duplicates(&untimed).len(), 1);
    }

    #[test]
    fn the_same_moment_from_another_camera_is_not_a_copy() {
        let mut rng = Rng::new(4);
        let door = frames(per_second(0), &moving_words(&mut rng));
        let drive = frames(per_second(0), &moving_words(&mut rng));
        let mut other = clip(Some(1000.0), "drive", &drive, 1.0);
        other.camera = Some("drive");
        let clips = [clip(Some(1000.0), "door", &door, 1.0), other];
        assert!(find_duplicates(&clips).is_empty());
    }

    #[test]
    fn durations_must_agree() {
        let mut rng = Rng::new(5);
        let words = moving_words(&mut rng);
        let hashes = frames(per_second(0), &words);
        let mut longer = clip(Some(0.0), "long", &hashes, 1.0);
        longer.duration = 30.0;
        let clips = [clip(Some(0.0), "short", &hashes, 1.0), longer];
        assert!(find_duplicates(&clips).is_empty());
        // Within 0.5 s + 2 %: a copy.
        let mut close = clip(Some(0.0), "close", &hashes, 1.0);
        close.duration = 10.6;
        assert_eq!(find_duplicates(&[clips[0], close]).len(), 1);
    }

    #[test]
    fn copies_of_copies_point_to_the_kept_clip() {
        let mut rng = Rng::new(6);
        let words = moving_words(&mut rng);
        let original = frames(per_second(0), &words);
        // Each generation flips other bits: the first 5 bits from the original, the second 6
        // more, so it is 11 bits (17 % of 64) from the original: too far for a direct match
        // (15 %), near enough to the first generation.
        let first_words: Vec<u64> = words.iter().map(|&w| w ^ 0x1f).collect();
        let first_generation = frames(per_second(20), &first_words);
        let second_words: Vec<u64> = first_words.iter().map(|&w| w ^ (0x3f << 5)).collect();
        let second_generation = frames(per_second(40), &second_words);
        let clips = [
            clip(Some(0.0), "gen2", &second_generation, 1.0),
            clip(Some(0.0), "orig", &original, 5.0),
            clip(Some(0.0), "gen1", &first_generation, 2.0),
            clip(Some(0.0), "gen2", &second_generation, 1.0),
        ];
        let duplicates = find_duplicates(&clips);
        let found: Vec<(usize, usize, DuplicateReason)> = duplicates
            .iter()
            .map(|d| (d.clip, d.kept, d.reason))
            .collect();
        use DuplicateReason::Reencoded;
        assert_eq!(
            found,
            [(0, 1, Reencoded), (2, 1, Reencoded), (3, 1, Reencoded)]
        );
        assert!(duplicates.iter().all(|d| d.score > 0.8), "{duplicates:?}");
        // Alone, the second generation and the original are not a copy of each other.
        assert!(find_duplicates(&clips[..2]).is_empty());
    }

    #[test]
    fn hashes_of_other_sizes_never_match() {
        let mut rng = Rng::new(7);
        let words = moving_words(&mut rng);
        let small = frames(per_second(0), &words);
        let large: Vec<FrameHash> = small
            .iter()
            .map(|frame| FrameHash {
                time_ms: frame.time_ms,
                hash: super::super::features::PerceptualHash {
                    side: 16,
                    words: vec![frame.hash.words[0]; 4],
                },
            })
            .collect();
        let clips = [
            clip(Some(0.0), "small", &small, 1.0),
            clip(Some(0.0), "large", &large, 1.0),
        ];
        assert!(find_duplicates(&clips).is_empty());
    }

    #[test]
    fn duplicate_reasons_are_snake_case_in_json() {
        let json = serde_json::to_string(&DuplicateReason::ExactCopy).unwrap();
        assert_eq!(json, "\"exact_copy\"");
        let json = serde_json::to_string(&DuplicateReason::Reencoded).unwrap();
        assert_eq!(json, "\"reencoded\"");
    }
}

/// Copies made and hashed for real: clips encoded by ffmpeg, frames decoded by ffmpeg, hashed
/// by `PerceptualHasher`.
#[cfg(test)]
mod encoded_tests {
    use std::path::Path;
    use std::process::Command;

    use super::super::phash::PerceptualHasher;
    use super::*;

    fn ffmpeg(args: &[&str], out: &Path) -> bool {
        Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(args)
            .arg(out)
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Hashes of two frames per second, decoded to 160x120 greyscale.
    fn hashes(path: &Path, side: u32) -> Vec<FrameHash> {
        let output = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(path)
            .args(["-vf", "fps=2,scale=160:120,format=gray"])
            .args(["-f", "rawvideo", "pipe:1"])
            .output()
            .unwrap();
        assert!(output.status.success(), "ffmpeg could not decode {path:?}");
        let hasher = PerceptualHasher::new(side).unwrap();
        output
            .stdout
            .chunks_exact(160 * 120)
            .enumerate()
            .map(|(n, frame)| FrameHash {
                time_ms: n as u64 * 500,
                hash: hasher.hash(&image::GrayImage::from_raw(160, 120, frame.to_vec()).unwrap()),
            })
            .collect()
    }

    #[test]
    fn encoded_copies_are_found_and_other_views_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let made = ffmpeg(
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=25:duration=4",
            ]
            .into_iter()
            .chain(["-c:v", "libx264", "-crf", "20", "-pix_fmt", "yuv420p"])
            .collect::<Vec<_>>(),
            &path("original.mp4"),
        );
        if !made {
            eprintln!("skipping: ffmpeg could not make the clips");
            return;
        }
        let original = path("original.mp4");
        let original = original.to_str().unwrap();
        // A smaller, lower-quality HEVC re-encode that lost its first 0.5 s. (Its hashed frames
        // are then shown at the original's hashed moments; a copy whose hashed frames fall
        // between them matches only as far as the picture holds still in between.)
        let reencoded = ffmpeg(
            &["-ss", "0.5", "-i", original, "-vf", "scale=256:192"]
                .into_iter()
                .chain([
                    "-c:v",
                    "libx265",
                    "-crf",
                    "34",
                    "-x265-params",
                    "log-level=error",
                ])
                .collect::<Vec<_>>(),
            &path("reencoded.mp4"),
        );
        // Another view of the same moment.
        let other = ffmpeg(
            &["-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25"]
                .into_iter()
                .chain(["-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
                .collect::<Vec<_>>(),
            &path("other.mp4"),
        );
        assert!(reencoded && other, "ffmpeg could not encode the clips");

        for side in [8, 16] {
            let original = hashes(&path("original.mp4"), side);
            let reencoded = hashes(&path("reencoded.mp4"), side);
            let other = hashes(&path("other.mp4"), side);
            let view = |start: f64, duration: f64, name: &'static str, hashes| ClipView {
                start: Some(start),
                duration,
                camera: Some("door"),
                content_hash: name,
                hashes,
                loudness: None,
                quality: 1.0,
            };
            let clips = [
                view(1000.0, 4.0, "original", &original),
                view(1000.5, 3.5, "reencoded", &reencoded),
                view(1000.0, 4.0, "other", &other),
                // The original's pictures a minute later (a static scene again).
                view(1060.0, 4.0, "again", &original),
            ];
            let duplicates = find_duplicates(&clips);
            let found: Vec<(usize, usize)> = duplicates.iter().map(|d| (d.clip, d.kept)).collect();
            assert_eq!(found, [(1, 0)], "side {side}: {duplicates:?}");
            assert!(duplicates[0].score > 0.9, "side {side}: {duplicates:?}");
        }
    }
}
