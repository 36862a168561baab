//! Top-K block selection (§13.3-13.4) with a deterministic tie-break: score descending, then
//! time position ascending, then block index ascending. (The reference uses numpy's
//! introselect/quicksort, whose choice among equal scores at the cut-off is
//! implementation-defined.)

use std::cmp::Ordering;

use super::npmath::pairwise_sum_f32;

/// One candidate block: its score, the group position `t` of its frame and its index in
/// block-raster order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub score: f32,
    pub t: u32,
    pub block: u32,
}

fn rank(a: &Candidate, b: &Candidate) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then(a.t.cmp(&b.t))
        .then(a.block.cmp(&b.block))
}

/// The `k` best candidates (all of them when `k >= len`), best first. `candidates` must be
/// in natural order (t ascending, block ascending); it is reordered.
pub fn top_k(candidates: &mut [Candidate], k: usize) -> &[Candidate] {
    let k = k.min(candidates.len());
    if k == 0 {
        return &[];
    }
    if k < candidates.len() {
        candidates.select_nth_unstable_by(k - 1, rank);
    }
    let chosen = &mut candidates[..k];
    chosen.sort_unstable_by(rank);
    chosen
}

/// The float32 sum of the selected scores in the order the reference adds them: best first
/// when only some candidates were taken, natural order when all were.
pub fn selected_sum(selected: &[Candidate], all_taken: bool) -> f32 {
    let mut scores: Vec<(u32, u32, f32)> =
        selected.iter().map(|c| (c.t, c.block, c.score)).collect();
    if all_taken {
        scores.sort_unstable_by_key(|&(t, b, _)| (t, b));
    }
    let values: Vec<f32> = scores.into_iter().map(|(_, _, s)| s).collect();
    pairwise_sum_f32(&values)
}

/// The candidates of a group window: every block of every position `t >= 1` whose frame
/// passes `include`, in natural order.
pub fn window_candidates(window: &[&[f32]], include: impl Fn(usize) -> bool) -> Vec<Candidate> {
    let mut out = Vec::with_capacity(window.iter().skip(1).map(|s| s.len()).sum());
    for (t, scores) in window.iter().enumerate().skip(1) {
        if !include(t) {
            continue;
        }
        out.extend(scores.iter().enumerate().map(|(block, &score)| Candidate {
            score,
            t: t as u32,
            block: block as u32,
        }));
    }
    out
}

/// A group's selection: the chosen blocks (best first) and their score statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub blocks: Vec<Candidate>,
    pub candidate_count: usize,
    pub score_sum: f32,
    pub score_mean: f32,
}

/// Selects up to `budget` blocks among the good frames at positions >= 1 (§13.3).
pub fn select_blocks(window: &[&[f32]], good: &[bool], budget: usize) -> Selection {
    let mut candidates = window_candidates(window, |t| good[t]);
    let candidate_count = candidates.len();
    let chosen = top_k(&mut candidates, budget).to_vec();
    let k = chosen.len();
    let score_sum = selected_sum(&chosen, k == candidate_count);
    let score_mean = if k == 0 { 0.0 } else { score_sum / k as f32 };
    Selection {
        blocks: chosen,
        candidate_count,
        score_sum,
        score_mean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(score: f32, t: u32, block: u32) -> Candidate {
        Candidate { score, t, block }
    }

    #[test]
    fn ties_break_by_time_then_block() {
        let mut cands = vec![
            c(1.0, 1, 0),
            c(2.0, 1, 1),
            c(2.0, 2, 0),
            c(2.0, 1, 2),
            c(0.5, 3, 0),
        ];
        let top: Vec<_> = top_k(&mut cands, 2).to_vec();
        assert_eq!(top, vec![c(2.0, 1, 1), c(2.0, 1, 2)]);
        let mut cands2 = vec![c(3.0, 2, 5), c(3.0, 2, 4), c(3.0, 1, 9)];
        assert_eq!(top_k(&mut cands2, 1), &[c(3.0, 1, 9)]);
        assert!(top_k(&mut cands2, 0).is_empty());
        assert_eq!(top_k(&mut cands2, 10).len(), 3);
    }

    #[test]
    fn selection_skips_the_anchor_and_bad_frames() {
        let f0 = [9.0f32, 9.0];
        let f1 = [1.0f32, 5.0];
        let f2 = [7.0f32, 2.0];
        let f3 = [8.0f32, 8.0];
        let window: Vec<&[f32]> = vec![&f0, &f1, &f2, &f3];
        let s = select_blocks(&window, &[true, true, true, false], 2);
        assert_eq!(s.candidate_count, 4);
        assert_eq!(s.blocks, vec![c(7.0, 2, 0), c(5.0, 1, 1)]);
        assert_eq!(s.score_sum, 12.0);
        assert_eq!(s.score_mean, 6.0);
        let all = select_blocks(&window, &[true; 4], 100);
        assert_eq!(all.blocks.len(), 6);
        assert_eq!(all.score_sum, 31.0);
        let none = select_blocks(&window, &[true; 4], 0);
        assert!(none.blocks.is_empty());
        assert_eq!((none.score_sum, none.score_mean), (0.0, 0.0));
    }
}
