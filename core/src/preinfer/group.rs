//! Grouping (§10-12): the readiness threshold, readiness statistics of a window, the
//! readiness group builder and fixed grouping.

use super::config::{Compat, ThresholdMode};
use super::npmath::{linspace_trunc, mean_f64, round_half_even};
use super::pyjson::Json;
use super::select::{selected_sum, top_k, window_candidates};

/// Groups shorter than this are never processed by the reference.
pub const MIN_PROCESSED_GROUP: usize = 4;

/// Readiness statistics of a window of frames (§11.1).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadinessStats {
    pub candidate_block_count: usize,
    pub topk_sum: f32,
    pub topk_mean: f32,
    pub topk_density: f64,
    pub selected_time_bins: usize,
    pub selected_time_bin_ratio: f64,
    pub selected_unique_frames: usize,
    pub selected_unique_frame_ratio: f64,
    pub block_budget: usize,
    /// Sorted positions of the frames the top-k blocks come from (absent when nothing
    /// could be selected).
    pub selected_t_rel: Option<Vec<usize>>,
}

impl ReadinessStats {
    /// The all-zero statistics of a window where nothing can be selected.
    fn empty(block_budget: usize) -> Self {
        Self {
            candidate_block_count: 0,
            topk_sum: 0.0,
            topk_mean: 0.0,
            topk_density: 0.0,
            selected_time_bins: 0,
            selected_time_bin_ratio: 0.0,
            selected_unique_frames: 0,
            selected_unique_frame_ratio: 0.0,
            block_budget,
            selected_t_rel: None,
        }
    }

    /// The reference's readiness dict.
    pub fn to_json(&self) -> Json {
        let mut j = Json::object()
            .with("candidate_block_count", self.candidate_block_count)
            .with("topk_candidate_block_score_sum", self.topk_sum)
            .with("topk_candidate_block_score_mean", self.topk_mean)
            .with("topk_candidate_block_score_density", self.topk_density)
            .with("selected_time_bins", self.selected_time_bins)
            .with("selected_time_bin_ratio", self.selected_time_bin_ratio)
            .with("selected_unique_frames", self.selected_unique_frames)
            .with(
                "selected_unique_frame_ratio",
                self.selected_unique_frame_ratio,
            )
            .with("block_budget", self.block_budget);
        if let Some(t) = &self.selected_t_rel {
            j.set("selected_t_rel", t.clone());
        }
        j
    }
}

/// Edges of the coverage bins of a window of `len` frames: trunc(linspace(1, max(2, len),
/// bins + 1)).
pub fn coverage_edges(len: usize, bins: usize) -> Vec<i64> {
    linspace_trunc(1.0, len.max(2) as f64, bins.max(1) + 1)
}

/// How many coverage bins the positions `ts` hit.
pub fn bins_hit(ts: &[usize], edges: &[i64]) -> usize {
    (0..edges.len() - 1)
        .filter(|&i| {
            let lo = edges[i];
            let hi = if edges[i + 1] <= lo {
                lo + 1
            } else {
                edges[i + 1]
            };
            ts.iter().any(|&t| (lo..hi).contains(&(t as i64)))
        })
        .count()
}

/// §11.1 on `window` (per-frame block scores, position 0 the anchor): the top `budget`
/// blocks among all blocks of positions >= 1 (bad frames included, as in the reference).
pub fn readiness_stats(window: &[&[f32]], budget: usize, coverage_bins: usize) -> ReadinessStats {
    let len = window.len();
    let mut candidates = window_candidates(window, |_| true);
    let count = candidates.len();
    if budget == 0 || count == 0 {
        return ReadinessStats::empty(budget);
    }
    let chosen = top_k(&mut candidates, budget);
    let k = chosen.len();
    let sum = selected_sum(chosen, k == count);
    let mut ts: Vec<usize> = chosen.iter().map(|c| c.t as usize).collect();
    ts.sort_unstable();
    ts.dedup();
    let nb = coverage_bins.max(1);
    let bins = bins_hit(&ts, &coverage_edges(len, nb));
    ReadinessStats {
        candidate_block_count: count,
        topk_sum: sum,
        topk_mean: sum / k as f32,
        topk_density: f64::from(sum) / len as f64,
        selected_time_bins: bins,
        selected_time_bin_ratio: bins as f64 / nb as f64,
        selected_unique_frames: ts.len(),
        selected_unique_frame_ratio: ts.len() as f64 / (len.max(2) - 1) as f64,
        block_budget: budget,
        selected_t_rel: Some(ts),
    }
}

/// Bits per pixel per frame (§10): `bit_rate / fps / (w * h)`, 0 without a bit rate.
pub fn bpppf(bit_rate: f64, fps: f64, width: usize, height: usize) -> f64 {
    if bit_rate <= 0.0 {
        return 0.0;
    }
    let fps_safe = if fps > 0.0 { fps } else { 1.0 };
    (bit_rate / fps_safe.max(1e-6)) / (width * height).max(1) as f64
}

/// `bpppf` raised to `min` and lowered to `max` (each bound only if positive).
pub fn clamp_bpppf(value: f64, min: f64, max: f64) -> f64 {
    let mut v = value;
    if min > 0.0 {
        v = v.max(min);
    }
    if max > 0.0 {
        v = v.min(max);
    }
    v
}

/// `sqrt(clamped bpppf)`, 1 for (near) zero.
pub fn norm_factor(clamped: f64) -> f64 {
    if clamped > 1e-12 { clamped.sqrt() } else { 1.0 }
}

/// The threshold estimate (§10): the mean top-k sum of consecutive `group_size` chunks
/// with at least max(4, bins + 1) frames. With `Compat::None` a short last chunk is left
/// out unless it is the only one.
pub fn estimate_threshold(
    scores: &[&[f32]],
    group_size: usize,
    budget: usize,
    coverage_bins: usize,
    compat: Compat,
) -> f64 {
    let min_len = MIN_PROCESSED_GROUP.max(coverage_bins + 1);
    let chunk = group_size.max(1);
    let chunks: Vec<&[&[f32]]> = scores.chunks(chunk).collect();
    let full_chunks = chunks.iter().filter(|c| c.len() == chunk).count();
    let sums: Vec<f64> = chunks
        .iter()
        .filter(|c| c.len() >= min_len)
        .filter(|c| compat == Compat::Reference || c.len() == chunk || full_chunks == 0)
        .map(|c| f64::from(readiness_stats(c, budget, coverage_bins).topk_sum))
        .collect();
    if sums.is_empty() {
        0.0
    } else {
        mean_f64(&sums)
    }
}

/// The threshold a mode resolves to; `estimate` is only run when needed.
pub fn resolve_threshold(
    mode: ThresholdMode,
    given: f64,
    norm_sum_threshold: f64,
    factor: f64,
    estimate: impl FnOnce() -> f64,
) -> f64 {
    match mode {
        ThresholdMode::Legacy if given > 0.0 => given,
        ThresholdMode::Legacy | ThresholdMode::Auto => estimate(),
        ThresholdMode::Fixed => given,
        ThresholdMode::ClampedSqrtBpppf => norm_sum_threshold * factor,
    }
}

/// Resolved group length limits and the reference's `group_limit_debug`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupLimits {
    pub min_frames: usize,
    pub max_frames: usize,
    pub debug: Json,
}

/// `min_g = max(4, min_group_frames)` (or from seconds at `sample_fps`),
/// `max_g = max(min_g, max_group_frames)` (likewise).
pub fn group_limits(
    min_group_frames: i64,
    max_group_frames: i64,
    min_group_sec: f64,
    max_group_sec: f64,
    sample_fps: f64,
) -> GroupLimits {
    let from_sec = |sec: f64| round_half_even(sec * sample_fps) as i64;
    let (min_raw, min_source) = if min_group_sec > 0.0 {
        (from_sec(min_group_sec), "seconds")
    } else {
        (min_group_frames, "frames")
    };
    let min_frames = min_raw.max(MIN_PROCESSED_GROUP as i64) as usize;
    let (max_raw, max_source) = if max_group_sec > 0.0 {
        (from_sec(max_group_sec), "seconds")
    } else {
        (max_group_frames, "frames")
    };
    let max_frames = (max_raw.max(0) as usize).max(min_frames);
    let debug = Json::object()
        .with("sample_fps", sample_fps)
        .with("min_group_frames_resolved", min_frames)
        .with("max_group_frames_resolved", max_frames)
        .with("min_group_source", min_source)
        .with("max_group_source", max_source)
        .with("min_group_sec_input", min_group_sec)
        .with("max_group_sec_input", max_group_sec)
        .with("min_group_frames_input", min_group_frames)
        .with("max_group_frames_input", max_group_frames);
    GroupLimits {
        min_frames,
        max_frames,
        debug,
    }
}

/// One group of consecutive sampled positions `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    pub group_idx: usize,
    pub start: usize,
    pub end: usize,
    pub stop_reason: &'static str,
    /// Readiness statistics (`None` in fixed mode: `{}` in meta.json).
    pub readiness: Option<ReadinessStats>,
}

impl GroupSpec {
    pub fn frame_count(&self) -> usize {
        self.end - self.start
    }

    pub fn readiness_json(&self) -> Json {
        self.readiness
            .as_ref()
            .map_or_else(Json::object, ReadinessStats::to_json)
    }

    pub fn to_json(&self) -> Json {
        Json::object()
            .with("group_idx", self.group_idx)
            .with("start", self.start)
            .with("end", self.end)
            .with("frame_count", self.frame_count())
            .with("stop_reason", self.stop_reason)
            .with("readiness", self.readiness_json())
    }
}

/// Sampled positions no canvas shows, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    pub start: usize,
    pub end: usize,
    pub reason: &'static str,
}

/// §12: chunks of `group_size`, the last one shorter.
pub fn fixed_groups(n: usize, group_size: usize) -> Vec<GroupSpec> {
    let gs = group_size.max(1);
    (0..n)
        .step_by(gs)
        .enumerate()
        .map(|(group_idx, start)| GroupSpec {
            group_idx,
            start,
            end: (start + gs).min(n),
            stop_reason: "fixed_group_size",
            readiness: None,
        })
        .collect()
}

/// Settings of the readiness builder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReadinessParams {
    pub threshold: f64,
    pub budget: usize,
    pub coverage_bins: usize,
    pub images_per_group: usize,
    pub delta_ratio: f64,
    pub min_frames: usize,
    pub max_frames: usize,
    pub compat: Compat,
}

/// Groups and the positions left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub groups: Vec<GroupSpec>,
    pub dropped: Vec<Dropped>,
}

/// What the readiness builder decided for the frames from a group's start on.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadinessStep {
    /// The next group holds the first `len` frames.
    Group {
        len: usize,
        stop_reason: &'static str,
        stats: ReadinessStats,
    },
    /// The remaining frames (the whole window, at the end of the video) are fewer than
    /// `max(4, min_frames)`: the reference drops them, `Compat::None` merges them (see
    /// [`readiness_groups`]).
    Tail,
}

/// How many frames from a group's start [`readiness_step`] needs before it can decide
/// without knowing whether the video ends: one more than `max_frames`, so that a group
/// ending exactly at the end of the video is told apart (`tail_flush`).
pub fn readiness_lookahead(p: &ReadinessParams) -> usize {
    p.max_frames.max(MIN_PROCESSED_GROUP.max(p.min_frames)) + 1
}

/// §11.2 for one group: `window` holds the scores of the frames from the group's start on;
/// `complete` says the window reaches the end of the video. Returns `None` while the window
/// is shorter than [`readiness_lookahead`] and not complete. A stream can thus be grouped
/// with a delay of at most `max_frames + 1` sampled frames.
pub fn readiness_step(
    window: &[&[f32]],
    p: &ReadinessParams,
    complete: bool,
) -> Option<ReadinessStep> {
    let n = window.len();
    if !complete && n < readiness_lookahead(p) {
        return None;
    }
    if n < MIN_PROCESSED_GROUP.max(p.min_frames) {
        return Some(ReadinessStep::Tail);
    }
    let stats = |end: usize| readiness_stats(&window[..end], p.budget, p.coverage_bins);
    let coverage_needed = p.coverage_bins.min(p.images_per_group.saturating_sub(1));
    let mut end = p.min_frames.min(n);
    let max_end = p.max_frames.min(n);
    let mut prev: Option<f64> = None;
    let mut chosen: Option<(usize, ReadinessStats)> = None;
    let mut reason = "max_group_frames";
    while end <= max_end {
        let st = stats(end);
        let cur = f64::from(st.topk_sum);
        let cov_ok = st.selected_time_bins >= coverage_needed;
        let thr_ok = cur >= p.threshold;
        let gain = prev.map_or(1.0, |pv| (cur - pv) / pv.abs().max(1e-6));
        if thr_ok && cov_ok {
            chosen = Some((end, st));
            reason = "readiness_threshold";
            if prev.is_some() && gain < p.delta_ratio {
                reason = "readiness_threshold_low_gain";
                break;
            }
        }
        prev = Some(cur);
        end += 1;
    }
    let (len, stats) = match chosen {
        Some(c) => c,
        None => {
            if complete && max_end >= n {
                reason = "tail_flush";
            }
            (max_end, stats(max_end))
        }
    };
    Some(ReadinessStep::Group {
        len,
        stop_reason: reason,
        stats,
    })
}

/// §11.2: each group grows from `min_frames` while it is ready (threshold met and enough
/// coverage) and each added frame raises the top-k sum by at least `delta_ratio`; at most
/// `max_frames`. The reference drops a remainder shorter than `max(4, min_frames)`; with
/// `Compat::None` it joins the last group instead (stop reason `tail_merged`), or becomes
/// the only group of a short video.
pub fn readiness_groups(scores: &[&[f32]], p: &ReadinessParams) -> Grouping {
    let n = scores.len();
    let mut groups: Vec<GroupSpec> = Vec::new();
    let mut dropped = Vec::new();
    let mut start = 0;
    while start < n {
        match readiness_step(&scores[start..], p, true) {
            Some(ReadinessStep::Group {
                len,
                stop_reason,
                stats,
            }) => {
                groups.push(GroupSpec {
                    group_idx: groups.len(),
                    start,
                    end: start + len,
                    stop_reason,
                    readiness: Some(stats),
                });
                start += len;
            }
            Some(ReadinessStep::Tail) | None => {
                match tail_group(groups.last(), start, n, p.compat, |a, b| {
                    readiness_stats(&scores[a..b], p.budget, p.coverage_bins)
                }) {
                    TailOutcome::Dropped(d) => dropped.push(d),
                    TailOutcome::Merged(last) => {
                        *groups.last_mut().expect("merged into a group") = last
                    }
                    TailOutcome::Only(group) => groups.push(group),
                }
                break;
            }
        }
    }
    Grouping { groups, dropped }
}

/// What becomes of a readiness tail (`start..end`, shorter than the minimum).
#[derive(Debug, Clone, PartialEq)]
pub enum TailOutcome {
    /// The reference drops it.
    Dropped(Dropped),
    /// `Compat::None`: the last group (`last`), extended to the end (`tail_merged`).
    Merged(GroupSpec),
    /// `Compat::None` with no group before it: it is the only group (`tail_flush`).
    Only(GroupSpec),
}

/// Decides the fate of a readiness tail; `stats(a, b)` gives the statistics of `a..b`.
pub fn tail_group(
    last: Option<&GroupSpec>,
    start: usize,
    end: usize,
    compat: Compat,
    stats: impl Fn(usize, usize) -> ReadinessStats,
) -> TailOutcome {
    match (compat, last) {
        (Compat::Reference, _) => TailOutcome::Dropped(Dropped {
            start,
            end,
            reason: "readiness_tail_shorter_than_min_group_frames",
        }),
        (Compat::None, Some(last)) => TailOutcome::Merged(GroupSpec {
            end,
            stop_reason: "tail_merged",
            readiness: Some(stats(last.start, end)),
            ..last.clone()
        }),
        (Compat::None, None) => TailOutcome::Only(GroupSpec {
            group_idx: 0,
            start,
            end,
            stop_reason: "tail_flush",
            readiness: Some(stats(start, end)),
        }),
    }
}

/// Groups shorter than this are not processed: 4 in the reference, every group otherwise.
pub fn min_processed_group(compat: Compat) -> usize {
    match compat {
        Compat::Reference => MIN_PROCESSED_GROUP,
        Compat::None => 1,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn coverage_edges_match_the_spec() {
        assert_eq!(coverage_edges(8, 3), vec![1, 3, 5, 8]);
        assert_eq!(coverage_edges(17, 3), vec![1, 6, 11, 17]);
        assert_eq!(coverage_edges(1, 3), vec![1, 1, 1, 2]);
        // Degenerate edges use lo + 1.
        assert_eq!(bins_hit(&[1], &coverage_edges(1, 3)), 3);
        assert_eq!(bins_hit(&[1, 7], &[1, 3, 5, 8]), 2);
    }

    #[test]
    fn readiness_stats_of_a_small_window() {
        let f0 = [100.0f32, 100.0];
        let f1 = [1.0f32, 2.0];
        let f2 = [3.0f32, 0.5];
        let f3 = [4.0f32, 0.25];
        let w: Vec<&[f32]> = vec![&f0, &f1, &f2, &f3];
        let st = readiness_stats(&w, 3, 3);
        assert_eq!(st.candidate_block_count, 6);
        assert_eq!(st.topk_sum, 9.0);
        assert_eq!(st.topk_mean, 3.0);
        assert_eq!(st.topk_density, 9.0 / 4.0);
        assert_eq!(st.selected_t_rel, Some(vec![1, 2, 3]));
        // L = 4: edges [1, 2, 3, 4] -> 3 bins hit.
        assert_eq!(st.selected_time_bins, 3);
        assert_eq!(st.selected_unique_frame_ratio, 1.0);
        let empty = readiness_stats(&w, 0, 3);
        assert_eq!(empty, ReadinessStats::empty(0));
        assert!(!empty.to_json().to_pretty().contains("selected_t_rel"));
    }

    #[test]
    fn bpppf_and_threshold_modes() {
        // clip A of the spec: 1205959 b/s, 25 fps, 1280x720
        let b = bpppf(1_205_959.0, 25.0, 1280, 720);
        assert!((b - 0.052342).abs() < 1e-6);
        let f = norm_factor(clamp_bpppf(b, 0.015, 0.09));
        assert!((f - 0.228784).abs() < 1e-6);
        assert_eq!(clamp_bpppf(0.2, 0.015, 0.09), 0.09);
        assert_eq!(clamp_bpppf(0.0, 0.015, 0.09), 0.015);
        assert_eq!(norm_factor(0.0), 1.0);
        let est = || 42.0;
        assert_eq!(
            resolve_threshold(ThresholdMode::Legacy, 0.0, 1.0, 1.0, est),
            42.0
        );
        assert_eq!(
            resolve_threshold(ThresholdMode::Legacy, 7.0, 1.0, 1.0, est),
            7.0
        );
        assert_eq!(
            resolve_threshold(ThresholdMode::Auto, 7.0, 1.0, 1.0, est),
            42.0
        );
        assert_eq!(
            resolve_threshold(ThresholdMode::Fixed, 0.0, 1.0, 1.0, est),
            0.0
        );
        assert_eq!(
            resolve_threshold(ThresholdMode::ClampedSqrtBpppf, 0.0, 2_250_000.0, 0.5, est),
            1_125_000.0
        );
    }

    fn frames(values: &[f32]) -> Vec<Vec<f32>> {
        values.iter().map(|&v| vec![v, v / 2.0]).collect()
    }

    /// Readiness settings of the tests: budget 3, 3 bins, 4..=6 frames.
    pub(in crate::preinfer) fn params(threshold: f64, compat: Compat) -> ReadinessParams {
        ReadinessParams {
            threshold,
            budget: 3,
            coverage_bins: 3,
            images_per_group: 4,
            delta_ratio: 0.05,
            min_frames: 4,
            max_frames: 6,
            compat,
        }
    }

    #[test]
    fn threshold_estimate_and_the_short_last_chunk() {
        let f = frames(&[1.0, 2.0, 2.0, 2.0, 1.0, 8.0, 8.0, 8.0, 1.0, 1.0, 1.0, 1.0]);
        let s: Vec<&[f32]> = f.iter().map(Vec::as_slice).collect();
        // Chunks of 5: [1,2,2,2,1] -> top2 = 2+2 = 4; [8,8,8,1,1] -> 8+8 = 16; [1,1] skipped.
        assert_eq!(estimate_threshold(&s, 5, 2, 3, Compat::Reference), 10.0);
        // Chunks of 4: the last chunk [1,1,1,1] -> 1+1 (4 frames) counts in the reference.
        let reference = estimate_threshold(&s, 4, 2, 3, Compat::Reference);
        assert_eq!(reference, (4.0 + 16.0 + 2.0) / 3.0);
        let s9: Vec<&[f32]> = s[..9].to_vec();
        // 9 frames in chunks of 4: [..4], [4..8], [8] (too short either way).
        assert_eq!(
            estimate_threshold(&s9, 4, 2, 3, Compat::Reference),
            estimate_threshold(&s9, 4, 2, 3, Compat::None)
        );
        let s6: Vec<&[f32]> = s[..6].to_vec();
        // 6 frames in chunks of 4: [..4] full, [4..6] too short; chunks of 5 + 1.
        assert_eq!(estimate_threshold(&s6, 5, 2, 3, Compat::None), 4.0);
        // A video shorter than one chunk still gets an estimate.
        assert_eq!(estimate_threshold(&s6, 32, 2, 3, Compat::None), 12.0);
    }

    #[test]
    fn readiness_groups_grow_and_drop_or_merge_the_tail() {
        let f = frames(&[1.0; 11]);
        let s: Vec<&[f32]> = f.iter().map(Vec::as_slice).collect();
        // Threshold 0: ready at min (4 frames); next frame adds the same top-3 -> low gain,
        // included. Groups of 5: [0,5) [5,10); the 1-frame tail is dropped.
        let g = readiness_groups(&s, &params(0.0, Compat::Reference));
        let bounds: Vec<_> = g
            .groups
            .iter()
            .map(|g| (g.start, g.end, g.stop_reason))
            .collect();
        assert_eq!(
            bounds,
            vec![
                (0, 5, "readiness_threshold_low_gain"),
                (5, 10, "readiness_threshold_low_gain")
            ]
        );
        assert_eq!(g.dropped.len(), 1);
        assert_eq!((g.dropped[0].start, g.dropped[0].end), (10, 11));
        let g = readiness_groups(&s, &params(0.0, Compat::None));
        assert_eq!(g.groups.last().unwrap().end, 11);
        assert_eq!(g.groups.last().unwrap().stop_reason, "tail_merged");
        assert!(g.dropped.is_empty());
        // Unreachable threshold: max_group_frames, then tail_flush.
        let g = readiness_groups(&s, &params(1e9, Compat::Reference));
        let bounds: Vec<_> = g
            .groups
            .iter()
            .map(|g| (g.start, g.end, g.stop_reason))
            .collect();
        assert_eq!(
            bounds,
            vec![(0, 6, "max_group_frames"), (6, 11, "tail_flush")]
        );
        // Too short for any group.
        let short: Vec<&[f32]> = s[..3].to_vec();
        assert!(
            readiness_groups(&short, &params(0.0, Compat::Reference))
                .groups
                .is_empty()
        );
        let g = readiness_groups(&short, &params(0.0, Compat::None));
        assert_eq!((g.groups[0].start, g.groups[0].end), (0, 3));
    }

    #[test]
    fn one_image_per_group_gives_min_plus_one() {
        let f = frames(&[1.0; 20]);
        let s: Vec<&[f32]> = f.iter().map(Vec::as_slice).collect();
        let p = ReadinessParams {
            budget: 0,
            images_per_group: 1,
            min_frames: 8,
            max_frames: 64,
            ..params(0.0, Compat::Reference)
        };
        let g = readiness_groups(&s, &p);
        assert_eq!((g.groups[0].start, g.groups[0].end), (0, 9));
        assert_eq!(g.groups[0].stop_reason, "readiness_threshold_low_gain");
    }

    #[test]
    fn fixed_groups_and_limits() {
        let g = fixed_groups(10, 4);
        let b: Vec<_> = g.iter().map(|g| (g.start, g.end)).collect();
        assert_eq!(b, vec![(0, 4), (4, 8), (8, 10)]);
        assert!(g[0].to_json().to_pretty().contains("\"readiness\": {}"));
        let l = group_limits(2, 3, 0.0, 0.0, 4.0);
        assert_eq!((l.min_frames, l.max_frames), (4, 4));
        let l = group_limits(8, 64, 2.5, 0.0, 4.0);
        assert_eq!((l.min_frames, l.max_frames), (10, 64));
        assert_eq!(
            l.debug.get("min_group_source"),
            Some(&Json::from("seconds"))
        );
    }
}
