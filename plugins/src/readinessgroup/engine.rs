//! What `readinessgroup` does with the frames, free of GStreamer: sampling, keyframe
//! avoidance, scoring and grouping with codecprep-core's preinfer stages, either on the
//! whole video at its end (`Whole`) or as the frames arrive (`Streaming`).
//!
//! The CLI probes the file first; here the facts come from the stream: the frame count from
//! the duration (the exact count of decoded frames at the end), keyframes from bitcostdec's
//! keyframe meta (their display positions), the bit rate from upstream tags (else from the
//! maps' bit counts).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use codecprep_core::BitcostMap;
use codecprep_core::preinfer::frames::{self, PreparedFrame};
use codecprep_core::preinfer::geometry::Geometry;
use codecprep_core::preinfer::group::{self, GroupSpec, ReadinessParams};
use codecprep_core::preinfer::stream::{Decision, GroupRule, StreamGrouper};
use codecprep_core::preinfer::{
    FrameSamplingMode, GroupingMode, PreinferConfig, ThresholdMode, keyframes, sample, scoring,
};

/// What the element knows about the stream when the first frame arrives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamFacts {
    /// Frames the duration announces (`None` when upstream does not know).
    pub total_frames: Option<usize>,
    /// Frame rate (0 when unknown: 30 is assumed, as by the CLI).
    pub fps: f64,
    pub width: usize,
    pub height: usize,
    pub live: bool,
}

/// One decoded frame handed in.
#[derive(Debug, Clone)]
pub struct FrameIn {
    /// Display position since the start of the stream.
    pub index: usize,
    pub keyframe: bool,
    /// Presentation time in nanoseconds.
    pub pts: Option<u64>,
    pub map: Arc<BitcostMap>,
}

/// A frame kept for output.
#[derive(Debug)]
pub struct Kept {
    pub prepared: PreparedFrame,
    pub pts: Option<u64>,
}

/// One frame of an output group.
#[derive(Debug, Clone)]
pub struct GroupFrame {
    pub id: usize,
    pub frame: Arc<Kept>,
    pub scores: Arc<[f32]>,
}

/// A group to push downstream.
#[derive(Debug, Clone)]
pub struct GroupOut {
    pub spec: GroupSpec,
    pub frames: Vec<GroupFrame>,
}

/// What the element outputs besides the groups: sampled positions no group shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedOut {
    pub start: usize,
    pub end: usize,
    pub reason: &'static str,
}

/// Outputs of one call, in stream order.
#[derive(Debug, Default)]
pub struct Outputs {
    pub groups: Vec<GroupOut>,
    pub dropped: Vec<DroppedOut>,
}

/// Why the settings cannot run on this stream.
pub type EngineError = String;

/// Which settings need the whole video, named for error messages (`None`: none do).
pub fn whole_video_setting(config: &PreinferConfig) -> Option<&'static str> {
    let readiness = config.grouping_mode == GroupingMode::Readiness;
    match config.readiness_sum_threshold_mode {
        ThresholdMode::Auto if readiness => return Some("readiness-sum-threshold-mode=auto"),
        ThresholdMode::Legacy if readiness && config.readiness_sum_threshold <= 0.0 => {
            return Some("readiness-sum-threshold-mode=legacy without readiness-sum-threshold");
        }
        _ => {}
    }
    if scoring::needs_all_frames(config) {
        return Some("iframe-score-clip-mode=non_i_percentile");
    }
    None
}

pub enum Engine {
    Whole(Box<Whole>),
    Streaming(Box<Streaming>),
}

impl Engine {
    /// Chooses the mode for `config` on a stream with `facts`, or says why it cannot run.
    pub fn new(config: PreinferConfig, facts: StreamFacts) -> Result<Self, EngineError> {
        config
            .validate()
            .map_err(|e| format!("invalid setting {e}"))?;
        if matches!(
            config.frame_sampling_mode,
            FrameSamplingMode::PktSizePeak | FrameSamplingMode::FpsPlusPktSizePeak
        ) {
            return Err(format!(
                "frame-sampling-mode={} needs the packet sizes of the whole file, which decoded \
                 frames do not carry: use codec-video-prep, or uniform_count, fps or all_frames",
                config.frame_sampling_mode.as_str()
            ));
        }
        let geom = frames::frame_geometry(&config, facts.width, facts.height)
            .map_err(|e| format!("{}x{} frames: {e}", facts.width, facts.height))?;
        let whole_setting = whole_video_setting(&config);
        if facts.live {
            if let Some(setting) = whole_setting {
                return Err(format!(
                    "{setting} needs the whole video, which a live source never completes: \
                     use grouping-mode=fixed or a fixed or clamped_sqrt_bpppf threshold"
                ));
            }
            if config.frame_sampling_mode == FrameSamplingMode::UniformCount {
                return Err(
                    "frame-sampling-mode=uniform_count needs the frame count of the \
                            whole video, which a live source never has: use fps or all_frames"
                        .to_owned(),
                );
            }
        }
        // Keyframe avoidance refills duplicates from anywhere in the video, so a finite
        // source is grouped at its end to equal the CLI.
        let avoid = avoids_keyframes(&config);
        let uniform_unknown = config.frame_sampling_mode == FrameSamplingMode::UniformCount
            && facts.total_frames.is_none();
        if !facts.live && (whole_setting.is_some() || avoid || uniform_unknown) {
            Ok(Self::Whole(Box::new(Whole::new(config, geom, facts))))
        } else {
            Ok(Self::Streaming(Box::new(Streaming::new(
                config, geom, facts,
            ))))
        }
    }

    pub fn geometry(&self) -> &Geometry {
        match self {
            Self::Whole(w) => &w.common.geom,
            Self::Streaming(s) => &s.common.geom,
        }
    }

    pub fn config(&self) -> &PreinferConfig {
        match self {
            Self::Whole(w) => &w.common.config,
            Self::Streaming(s) => &s.common.config,
        }
    }

    /// Whether frame `index` needs its pixels (only those are scaled).
    pub fn wants_pixels(&mut self, index: usize) -> bool {
        match self {
            Self::Whole(w) => w.wants(index),
            Self::Streaming(s) => s.wants(index),
        }
    }

    /// Most source frames a frame waits before it is output (`None`: until the end).
    pub fn delay_frames(&self) -> Option<usize> {
        match self {
            Self::Whole(_) => None,
            Self::Streaming(s) => Some(s.delay_frames()),
        }
    }

    /// The latest bit rate upstream announced (bits per second).
    pub fn set_bit_rate(&mut self, bit_rate: f64) {
        match self {
            Self::Whole(w) => w.common.tag_bit_rate = Some(bit_rate),
            Self::Streaming(s) => s.common.tag_bit_rate = Some(bit_rate),
        }
    }

    /// Hands in a frame with its BGR pixels at `frames::scaled_size` (when wanted).
    pub fn push(&mut self, frame: FrameIn, pixels: Option<Vec<u8>>) -> Outputs {
        match self {
            Self::Whole(w) => {
                w.push(frame, pixels);
                Outputs::default()
            }
            Self::Streaming(s) => s.push(frame, pixels, false),
        }
    }

    /// The end of the stream: everything left.
    pub fn finish(&mut self) -> Result<Outputs, EngineError> {
        match self {
            Self::Whole(w) => w.finish(),
            Self::Streaming(s) => Ok(s.finish()),
        }
    }
}

fn avoids_keyframes(config: &PreinferConfig) -> bool {
    config.avoid_keyframes && config.frame_sampling_mode != FrameSamplingMode::AllFrames
}

/// Settings, geometry and the bit-rate evidence both modes share.
struct Common {
    config: PreinferConfig,
    geom: Geometry,
    facts: StreamFacts,
    tag_bit_rate: Option<f64>,
    /// Sum of the maps' bit counts and frames seen, the bit-rate fallback.
    map_bits: f64,
    seen: usize,
}

impl Common {
    /// Nothing seen yet.
    fn new(config: PreinferConfig, geom: Geometry, facts: StreamFacts) -> Self {
        Self {
            config,
            geom,
            facts,
            tag_bit_rate: None,
            map_bits: 0.0,
            seen: 0,
        }
    }

    fn fps(&self) -> f64 {
        self.facts.fps
    }

    fn prepare(&self, frame: &FrameIn, pixels: Vec<u8>) -> Kept {
        Kept {
            prepared: frames::prepare_frame(
                &frame.map,
                pixels,
                frame.keyframe,
                &self.config,
                &self.geom,
            ),
            pts: frame.pts,
        }
    }

    fn count(&mut self, frame: &FrameIn) {
        self.seen = self.seen.max(frame.index + 1);
        self.map_bits += frame.map.total_bits() as f64;
    }

    fn bit_rate(&self) -> f64 {
        if let Some(b) = self.tag_bit_rate.filter(|&b| b > 0.0) {
            return b;
        }
        let fps = sample::fps_or_default(self.fps());
        if self.seen == 0 {
            0.0
        } else {
            self.map_bits / (self.seen as f64 / fps)
        }
    }

    /// The readiness parameters with `threshold`.
    fn readiness(&self, threshold: f64) -> ReadinessParams {
        let c = &self.config;
        let limits = group::group_limits(
            c.min_group_frames,
            c.max_group_frames,
            c.min_group_sec,
            c.max_group_sec,
            c.sample_fps_used(),
        );
        ReadinessParams {
            threshold,
            budget: self.geom.block_budget(c.images_per_group_n()),
            coverage_bins: c.coverage_bins(),
            images_per_group: c.images_per_group_n(),
            delta_ratio: c.readiness_delta_ratio,
            min_frames: limits.min_frames,
            max_frames: limits.max_frames,
            compat: c.compat,
        }
    }

    /// The readiness threshold; `estimate` runs only for the modes that need it.
    fn threshold(&self, estimate: impl FnOnce(&ReadinessParams) -> f64) -> f64 {
        let c = &self.config;
        let bpppf = group::bpppf(
            self.bit_rate(),
            self.fps(),
            self.facts.width,
            self.facts.height,
        );
        let factor = group::norm_factor(group::clamp_bpppf(
            bpppf,
            c.bpppf_clamp_min,
            c.bpppf_clamp_max,
        ));
        let params = self.readiness(0.0);
        group::resolve_threshold(
            c.readiness_sum_threshold_mode,
            c.readiness_sum_threshold,
            c.readiness_norm_sum_threshold,
            factor,
            || estimate(&params),
        )
    }

    fn rule(&self, estimate: impl FnOnce(&ReadinessParams) -> f64) -> GroupRule {
        match self.config.grouping_mode {
            GroupingMode::Fixed => GroupRule::Fixed {
                group_size: self.config.group_size.max(1) as usize,
            },
            GroupingMode::Readiness => {
                GroupRule::Readiness(self.readiness(self.threshold(estimate)))
            }
        }
    }

    /// The sampled ids of a video of `total` frames, before keyframe avoidance.
    fn sampled_ids(&self, total: usize) -> Vec<usize> {
        let c = &self.config;
        let input = sample::SampleInput {
            total_frames: total,
            fps: self.fps(),
            packets: &[],
        };
        let peak = sample::PktPeakParams {
            bin_sec: c.pkt_peak_bin_sec,
            cap: c.pkt_peak_cap,
            per_sec: c.pkt_peak_per_sec,
            neighbor: c.pkt_peak_neighbor.max(0),
            smooth_bins: c.pkt_peak_smooth_bins,
        };
        sample::sample_frames(
            c.frame_sampling_mode,
            &input,
            c.num_sampled_frames.max(0) as usize,
            c.sample_fps,
            &peak,
        )
        .ids
    }
}

/// Shifts of a sampled id tried by keyframe avoidance: `d = offset * 1..=4`.
fn shift_reach(config: &PreinferConfig) -> usize {
    if avoids_keyframes(config) {
        config.avoid_keyframe_offset.max(0) as usize * 4
    } else {
        0
    }
}

/// Grouping at the end of the video, exactly as `run_preinfer`.
pub struct Whole {
    common: Common,
    /// Frames whose pixels are kept (`None`: all of them).
    keep: Option<BTreeSet<usize>>,
    frames: BTreeMap<usize, Arc<Kept>>,
    keyframes: Vec<usize>,
}

impl Whole {
    fn new(config: PreinferConfig, geom: Geometry, facts: StreamFacts) -> Self {
        let common = Common::new(config, geom, facts);
        let keep = facts.total_frames.and_then(|total| {
            let ids = common.sampled_ids(total);
            let mut unique: Vec<usize> = ids.iter().map(|&i| i.min(total.max(1) - 1)).collect();
            unique.sort_unstable();
            unique.dedup();
            let reach = shift_reach(&common.config);
            // Duplicates are refilled from anywhere: keep every frame then.
            if reach > 0 && unique.len() < ids.len() {
                return None;
            }
            let offset = common.config.avoid_keyframe_offset.max(0) as usize;
            let mut keep = BTreeSet::new();
            for id in unique {
                keep.insert(id);
                for step in 1..=(if reach > 0 { 4 } else { 0 }) {
                    keep.insert(id + offset * step);
                    keep.insert(id.saturating_sub(offset * step));
                }
            }
            Some(keep)
        });
        Self {
            common,
            keep,
            frames: BTreeMap::new(),
            keyframes: Vec::new(),
        }
    }

    fn wants(&self, index: usize) -> bool {
        self.keep.as_ref().is_none_or(|k| k.contains(&index))
    }

    fn push(&mut self, frame: FrameIn, pixels: Option<Vec<u8>>) {
        self.common.count(&frame);
        if frame.keyframe {
            self.keyframes.push(frame.index);
        }
        if let Some(pixels) = pixels {
            let kept = self.common.prepare(&frame, pixels);
            self.frames.insert(frame.index, Arc::new(kept));
        }
    }

    fn finish(&mut self) -> Result<Outputs, EngineError> {
        let c = &self.common.config;
        let total = self.common.seen;
        if total == 0 {
            return Err("the stream ended without a decoded frame".to_owned());
        }
        let sampled = self.common.sampled_ids(total);
        let ids: Vec<usize> = if avoids_keyframes(c) {
            keyframes::avoid_keyframes(&sampled, &self.keyframes, total, c.avoid_keyframe_offset)
        } else {
            sampled.iter().map(|&i| i.min(total - 1)).collect()
        };
        let mut kept = Vec::with_capacity(ids.len());
        for &id in &ids {
            let Some(frame) = self.frames.get(&id) else {
                return Err(format!(
                    "sampled frame {id} was not kept: the stream had {total} frames where its \
                     duration announced {:?}",
                    self.common.facts.total_frames
                ));
            };
            kept.push(Arc::clone(frame));
        }
        let grids = kept.iter().map(|k| k.prepared.grid.clone()).collect();
        let is_i: Vec<bool> = kept.iter().map(|k| k.prepared.iframe).collect();
        let scored = scoring::score_frames(c, &self.common.geom, grids, &is_i, &mut |_: &str| ());
        let scores: Vec<Arc<[f32]>> = scored.block_scores.into_iter().map(Arc::from).collect();
        let refs: Vec<&[f32]> = scores.iter().map(|s| &s[..]).collect();
        let group_size = c.group_size.max(1) as usize;
        let rule = self.common.rule(|p| {
            group::estimate_threshold(&refs, group_size, p.budget, p.coverage_bins, c.compat)
        });
        let mut grouper = StreamGrouper::new(rule, c.compat);
        let decisions = grouper.poll(&refs, true);
        let frames: Vec<GroupFrame> = ids
            .iter()
            .zip(kept)
            .zip(scores.iter())
            .map(|((&id, frame), scores)| GroupFrame {
                id,
                frame,
                scores: Arc::clone(scores),
            })
            .collect();
        self.frames.clear();
        Ok(collect(decisions, |a, b| frames[a..b].to_vec()))
    }
}

fn collect(decisions: Vec<Decision>, frames: impl Fn(usize, usize) -> Vec<GroupFrame>) -> Outputs {
    let mut out = Outputs::default();
    for decision in decisions {
        match decision {
            Decision::Group(spec) => {
                let frames = frames(spec.start, spec.end);
                out.groups.push(GroupOut { spec, frames });
            }
            Decision::Dropped(d) => out.dropped.push(DroppedOut {
                start: d.start,
                end: d.end,
                reason: d.reason,
            }),
        }
    }
    out
}

/// Which frames sampling picks, produced in order as the stream goes.
enum RawIds {
    /// Precomputed (uniform_count with a known frame count).
    List(VecDeque<usize>),
    /// fps sampling: id `j` is `round(j / rate * fps)`.
    Fps {
        next: usize,
        fps: f64,
        rate: f64,
    },
    All {
        next: usize,
    },
}

impl RawIds {
    /// The next id if it is below `limit`.
    fn next_below(&mut self, limit: usize) -> Option<usize> {
        let id = self.peek();
        (id < limit).then(|| self.advance())
    }

    fn peek(&self) -> usize {
        match self {
            Self::List(ids) => ids.front().copied().unwrap_or(usize::MAX),
            Self::Fps { next, fps, rate } => fps_id(*next, *fps, *rate),
            Self::All { next } => *next,
        }
    }

    fn advance(&mut self) -> usize {
        let id = self.peek();
        match self {
            Self::List(ids) => {
                ids.pop_front();
            }
            Self::Fps { next, .. } | Self::All { next } => *next += 1,
        }
        id
    }

    /// The ids left for a video of `total` frames (clamped to its last frame, as sampling
    /// does).
    fn rest(&mut self, total: usize, config: &PreinferConfig, fps: f64) -> Vec<usize> {
        let last = total.max(1) - 1;
        match self {
            Self::List(ids) => ids.drain(..).map(|i| i.min(last)).collect(),
            Self::Fps { next, .. } => {
                let all = sample::fps_sampling(total, fps, config.sample_fps);
                all.get(*next..).map(<[usize]>::to_vec).unwrap_or_default()
            }
            Self::All { next } => (*next..total).collect(),
        }
    }
}

fn fps_id(j: usize, fps: f64, rate: f64) -> usize {
    let id = (j as f64 / rate * fps).round_ties_even();
    if id <= 0.0 { 0 } else { id as usize }
}

/// Grouping as the frames arrive (known threshold, no whole-video scoring).
pub struct Streaming {
    common: Common,
    raw: RawIds,
    /// Sampled ids not yet resolved (waiting for the keyframe flags around them).
    pending: VecDeque<usize>,
    /// Keyframe flags of recent frames, from `flags_base` on.
    flags: VecDeque<bool>,
    flags_base: usize,
    candidates: BTreeMap<usize, Arc<Kept>>,
    /// Final ids already used (keyframe avoidance drops repeats).
    used: BTreeSet<usize>,
    /// Sampled positions from `grouper.keep_from()` on.
    positions: VecDeque<GroupFrame>,
    positions_base: usize,
    grouper: StreamGrouper,
}

impl Streaming {
    fn new(config: PreinferConfig, geom: Geometry, facts: StreamFacts) -> Self {
        let common = Common::new(config, geom, facts);
        let fps = sample::fps_or_default(facts.fps);
        let raw = match (common.config.frame_sampling_mode, facts.total_frames) {
            (FrameSamplingMode::UniformCount, Some(total)) => {
                RawIds::List(common.sampled_ids(total).into())
            }
            (FrameSamplingMode::AllFrames, _) => RawIds::All { next: 0 },
            _ => RawIds::Fps {
                next: 0,
                fps,
                rate: common.config.sample_fps_used(),
            },
        };
        let rule = common.rule(|_| 0.0);
        let grouper = StreamGrouper::new(rule, common.config.compat);
        Self {
            common,
            raw,
            pending: VecDeque::new(),
            flags: VecDeque::new(),
            flags_base: 0,
            candidates: BTreeMap::new(),
            used: BTreeSet::new(),
            positions: VecDeque::new(),
            positions_base: 0,
            grouper,
        }
    }

    /// Source frames between sampled positions (at least 1).
    fn frames_per_position(&self) -> f64 {
        match self.raw {
            RawIds::Fps { fps, rate, .. } => (fps / rate).max(1.0),
            RawIds::List(_) | RawIds::All { .. } => 1.0,
        }
    }

    fn delay_frames(&self) -> usize {
        let positions = self.grouper.delay() as f64 * self.frames_per_position();
        positions.ceil() as usize + shift_reach(&self.common.config) + 1
    }

    fn wants(&mut self, index: usize) -> bool {
        let reach = shift_reach(&self.common.config);
        while let Some(id) = self.raw.next_below(index + reach + 1) {
            self.pending.push_back(id);
        }
        let offset = self.common.config.avoid_keyframe_offset.max(1) as usize;
        self.pending.iter().any(|&id| {
            id == index
                || (reach > 0 && id.abs_diff(index) <= reach && id.abs_diff(index) % offset == 0)
        })
    }

    fn push(&mut self, frame: FrameIn, pixels: Option<Vec<u8>>, complete: bool) -> Outputs {
        self.common.count(&frame);
        let index = frame.index;
        while self.flags_base + self.flags.len() <= index {
            self.flags.push_back(false);
        }
        self.flags[index - self.flags_base] = frame.keyframe;
        if let Some(pixels) = pixels {
            let kept = self.common.prepare(&frame, pixels);
            self.candidates.insert(index, Arc::new(kept));
        }
        self.resolve(index + 1, complete)
    }

    /// Resolves the pending ids whose neighbourhood is known (`seen` frames so far) and
    /// groups what it can.
    fn resolve(&mut self, seen: usize, complete: bool) -> Outputs {
        let reach = shift_reach(&self.common.config);
        let offset = self.common.config.avoid_keyframe_offset;
        while let Some(&id) = self.pending.front() {
            if !complete && id + reach >= seen {
                break;
            }
            self.pending.pop_front();
            let id = id.min(seen.max(1) - 1);
            let final_id = if reach > 0 {
                let lo = id.saturating_sub(reach).max(self.flags_base);
                let hi = (id + reach + 1).min(seen);
                let keys: Vec<usize> = (lo..hi)
                    .filter(|&f| self.flags[f - self.flags_base])
                    .map(|f| f - lo)
                    .collect();
                let shifted = keyframes::shift_off_keyframes(&[id - lo], &keys, hi - lo, offset);
                let final_id = shifted[0] + lo;
                if !self.used.insert(final_id) {
                    continue;
                }
                final_id
            } else {
                id
            };
            let Some(frame) = self.candidates.get(&final_id).cloned() else {
                continue;
            };
            let grids = vec![frame.prepared.grid.clone()];
            let scored = scoring::score_frames(
                &self.common.config,
                &self.common.geom,
                grids,
                &[frame.prepared.iframe],
                &mut |_: &str| (),
            );
            let scores: Arc<[f32]> =
                Arc::from(scored.block_scores.into_iter().next().unwrap_or_default());
            self.positions.push_back(GroupFrame {
                id: final_id,
                frame,
                scores,
            });
        }
        // Forget what no pending id can reach any more.
        let horizon = self
            .pending
            .front()
            .map_or(seen, |&id| id.min(seen))
            .saturating_sub(reach);
        self.candidates = self.candidates.split_off(&horizon);
        self.used = self.used.split_off(&horizon);
        while self.flags_base < horizon && !self.flags.is_empty() {
            self.flags.pop_front();
            self.flags_base += 1;
        }
        self.group(complete)
    }

    fn group(&mut self, complete: bool) -> Outputs {
        if self.common.config.readiness_sum_threshold_mode == ThresholdMode::ClampedSqrtBpppf {
            let rule = self.common.rule(|_| 0.0);
            self.grouper.set_rule(rule);
        }
        let refs: Vec<&[f32]> = self.positions.iter().map(|p| &p.scores[..]).collect();
        let decisions = self.grouper.poll(&refs, complete);
        let base = self.positions_base;
        let positions = &self.positions;
        let out = collect(decisions, |a, b| {
            positions.range(a - base..b - base).cloned().collect()
        });
        let keep_from = self.grouper.keep_from();
        while self.positions_base < keep_from && !self.positions.is_empty() {
            self.positions.pop_front();
            self.positions_base += 1;
        }
        out
    }

    fn finish(&mut self) -> Outputs {
        let seen = self.common.seen;
        let rest = self
            .raw
            .rest(seen, &self.common.config, self.common.facts.fps);
        self.pending.extend(rest);
        self.resolve(seen, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codecprep_core::preinfer::IframeScoreClipMode;

    fn facts(live: bool, total: Option<usize>) -> StreamFacts {
        StreamFacts {
            total_frames: total,
            fps: 25.0,
            width: 320,
            height: 240,
            live,
        }
    }

    fn config(edit: impl FnOnce(&mut PreinferConfig)) -> PreinferConfig {
        let mut c = PreinferConfig::new("<stream>", "<pipeline>");
        edit(&mut c);
        c
    }

    #[test]
    fn the_mode_follows_the_settings_and_the_source() {
        let whole = |c, f| matches!(Engine::new(c, f), Ok(Engine::Whole(_)));
        let streaming = |c, f| matches!(Engine::new(c, f), Ok(Engine::Streaming(_)));
        // Defaults: legacy threshold estimate and keyframe avoidance need the whole video.
        assert!(whole(config(|_| {}), facts(false, Some(100))));
        let fixed = |c: &mut PreinferConfig| {
            c.grouping_mode = GroupingMode::Fixed;
            c.avoid_keyframes = false;
        };
        assert!(streaming(config(fixed), facts(false, Some(100))));
        // uniform_count of a stream of unknown length waits for its end.
        assert!(whole(config(fixed), facts(false, None)));
        let live_fixed = |c: &mut PreinferConfig| {
            fixed(c);
            c.frame_sampling_mode = FrameSamplingMode::Fps;
            c.avoid_keyframes = true;
        };
        assert!(streaming(config(live_fixed), facts(true, None)));
        // Live: whole-video settings and uniform sampling are refused.
        let refused = |c, f| Engine::new(c, f).err().unwrap_or_default();
        assert!(refused(config(|_| {}), facts(true, None)).contains("needs the whole video"));
        assert!(refused(config(fixed), facts(true, None)).contains("uniform_count"));
        let clip = |c: &mut PreinferConfig| {
            live_fixed(c);
            c.iframe_score_clip_mode = IframeScoreClipMode::NonIPercentile;
        };
        assert!(refused(config(clip), facts(true, None)).contains("iframe-score-clip-mode"));
        let peaks = |c: &mut PreinferConfig| c.frame_sampling_mode = FrameSamplingMode::PktSizePeak;
        assert!(refused(config(peaks), facts(false, Some(100))).contains("packet sizes"));
    }

    #[test]
    fn streaming_delay_counts_source_frames() {
        let c = config(|c| {
            c.grouping_mode = GroupingMode::Fixed;
            c.group_size = 8;
            c.frame_sampling_mode = FrameSamplingMode::Fps;
            c.sample_fps = 5.0;
            c.avoid_keyframes = true;
        });
        let engine = Engine::new(c, facts(true, None)).expect("streams");
        // 8 positions of 5 frames each, 4 frames of keyframe shift, the frame itself.
        assert_eq!(engine.delay_frames(), Some(8 * 5 + 4 + 1));
    }
}
