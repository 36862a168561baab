//! Grouping sampled frames as they arrive (the GStreamer element `readinessgroup`): the
//! same groups as [`group::fixed_groups`] and [`group::readiness_groups`] with a known
//! threshold, decided as soon as enough frames are there.
//!
//! Fixed groups are decided after `group_size` frames; a readiness group after at most
//! `max_frames + 1` frames from its start ([`group::readiness_lookahead`]). With
//! `Compat::None` a readiness group is held back until the next one is decided, because a
//! short remainder at the end of the video joins the last group.

use super::config::Compat;
use super::group::{
    self, Dropped, GroupSpec, ReadinessParams, ReadinessStep, TailOutcome, readiness_stats,
};

/// How the stream is cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GroupRule {
    Fixed { group_size: usize },
    Readiness(ReadinessParams),
}

/// A decision of the grouper, in stream order.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// A group to process (positions are absolute sampled positions).
    Group(GroupSpec),
    /// Positions no group will show.
    Dropped(Dropped),
}

/// The incremental grouper.
#[derive(Debug, Clone)]
pub struct StreamGrouper {
    rule: GroupRule,
    compat: Compat,
    /// First position not yet in a decided group.
    next_start: usize,
    next_idx: usize,
    /// `Compat::None` readiness: the last decided group, until its successor is decided.
    held: Option<GroupSpec>,
}

impl StreamGrouper {
    pub fn new(rule: GroupRule, compat: Compat) -> Self {
        Self {
            rule,
            compat,
            next_start: 0,
            next_idx: 0,
            held: None,
        }
    }

    /// Replaces the rule (a readiness threshold that follows a running bit rate); groups
    /// already decided stay as they are.
    pub fn set_rule(&mut self, rule: GroupRule) {
        self.rule = rule;
    }

    /// First position the caller must still keep: earlier positions were emitted or dropped.
    pub fn keep_from(&self) -> usize {
        self.held.as_ref().map_or(self.next_start, |g| g.start)
    }

    /// Most positions a frame waits for before its group is decided.
    pub fn delay(&self) -> usize {
        match self.rule {
            GroupRule::Fixed { group_size } => group_size.max(1),
            GroupRule::Readiness(p) => {
                let hold = if self.compat == Compat::None {
                    p.max_frames
                } else {
                    0
                };
                group::readiness_lookahead(&p) + hold
            }
        }
    }

    /// Decides what it can. `kept` holds the block scores of positions `keep_from()..`;
    /// `complete` says no more positions follow.
    pub fn poll(&mut self, kept: &[&[f32]], complete: bool) -> Vec<Decision> {
        let base = self.keep_from();
        let end = base + kept.len();
        let mut out = Vec::new();
        loop {
            let window = &kept[self.next_start - base..];
            if window.is_empty() {
                break;
            }
            match self.rule {
                GroupRule::Fixed { group_size } => {
                    let size = group_size.max(1);
                    if window.len() < size && !complete {
                        break;
                    }
                    let len = size.min(window.len());
                    let spec = GroupSpec {
                        group_idx: self.next_idx,
                        start: self.next_start,
                        end: self.next_start + len,
                        stop_reason: "fixed_group_size",
                        readiness: None,
                    };
                    self.next_idx += 1;
                    self.next_start += len;
                    out.push(self.filter(spec));
                }
                GroupRule::Readiness(p) => match group::readiness_step(window, &p, complete) {
                    None => break,
                    Some(ReadinessStep::Group {
                        len,
                        stop_reason,
                        stats,
                    }) => {
                        let spec = GroupSpec {
                            group_idx: self.next_idx,
                            start: self.next_start,
                            end: self.next_start + len,
                            stop_reason,
                            readiness: Some(stats),
                        };
                        self.next_idx += 1;
                        self.next_start += len;
                        if self.compat == Compat::None {
                            out.extend(self.held.replace(spec).map(|g| self.filter(g)));
                        } else {
                            out.push(self.filter(spec));
                        }
                    }
                    Some(ReadinessStep::Tail) => {
                        let stats = |a: usize, b: usize| {
                            readiness_stats(&kept[a - base..b - base], p.budget, p.coverage_bins)
                        };
                        let outcome = group::tail_group(
                            self.held.as_ref(),
                            self.next_start,
                            end,
                            self.compat,
                            stats,
                        );
                        self.next_start = end;
                        match outcome {
                            TailOutcome::Dropped(d) => out.push(Decision::Dropped(d)),
                            TailOutcome::Merged(g) | TailOutcome::Only(g) => {
                                self.held = Some(g);
                            }
                        }
                        break;
                    }
                },
            }
        }
        if complete && let Some(g) = self.held.take() {
            out.push(self.filter(g));
        }
        out
    }

    /// Groups the reference would skip become dropped positions.
    fn filter(&self, spec: GroupSpec) -> Decision {
        if spec.frame_count() < group::min_processed_group(self.compat) {
            Decision::Dropped(Dropped {
                start: spec.start,
                end: spec.end,
                reason: "group_shorter_than_4_frames",
            })
        } else {
            Decision::Group(spec)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preinfer::group::tests::params;
    use crate::preinfer::group::{fixed_groups, readiness_groups};

    /// Feeds the scores one position at a time and collects the decisions.
    fn stream(scores: &[Vec<f32>], rule: GroupRule, compat: Compat) -> Vec<Decision> {
        let mut grouper = StreamGrouper::new(rule, compat);
        let mut out = Vec::new();
        for n in 1..=scores.len() {
            let kept: Vec<&[f32]> = scores[grouper.keep_from()..n]
                .iter()
                .map(Vec::as_slice)
                .collect();
            assert!(kept.len() <= grouper.delay() + 1, "the grouper lags");
            out.extend(grouper.poll(&kept, false));
        }
        let kept: Vec<&[f32]> = scores[grouper.keep_from()..]
            .iter()
            .map(Vec::as_slice)
            .collect();
        out.extend(grouper.poll(&kept, true));
        out
    }

    #[test]
    fn streamed_groups_equal_the_batch_groups() {
        let values = [
            1.0, 5.0, 2.0, 9.0, 1.0, 1.0, 7.0, 3.0, 3.0, 8.0, 2.0, 1.0, 6.0,
        ];
        for len in [3, 4, 9, 11, 13] {
            let scores: Vec<Vec<f32>> = values[..len].iter().map(|&v| vec![v, v / 3.0]).collect();
            let refs: Vec<&[f32]> = scores.iter().map(Vec::as_slice).collect();
            for compat in [Compat::Reference, Compat::None] {
                for threshold in [0.0, 15.0, 1e9] {
                    let p = params(threshold, compat);
                    let batch = readiness_groups(&refs, &p);
                    let streamed = stream(&scores, GroupRule::Readiness(p), compat);
                    let groups: Vec<GroupSpec> = streamed
                        .iter()
                        .filter_map(|d| match d {
                            Decision::Group(g) => Some(g.clone()),
                            Decision::Dropped(_) => None,
                        })
                        .collect();
                    let expected: Vec<GroupSpec> = batch
                        .groups
                        .iter()
                        .filter(|g| g.frame_count() >= group::min_processed_group(compat))
                        .cloned()
                        .collect();
                    assert_eq!(
                        groups, expected,
                        "len {len} {compat:?} threshold {threshold}"
                    );
                }
                let fixed = stream(&scores, GroupRule::Fixed { group_size: 4 }, compat);
                let starts: Vec<(usize, usize)> = fixed
                    .iter()
                    .map(|d| match d {
                        Decision::Group(g) => (g.start, g.end),
                        Decision::Dropped(d) => (d.start, d.end),
                    })
                    .collect();
                let expected: Vec<(usize, usize)> = fixed_groups(len, 4)
                    .iter()
                    .map(|g| (g.start, g.end))
                    .collect();
                assert_eq!(starts, expected);
            }
        }
    }
}
