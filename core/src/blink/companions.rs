//! Companions: clips of the same moment from other cameras, and each camera's clock offset.
//!
//! Cameras of one Blink system record a moment each with its own clock, and those clocks
//! disagree by up to a few seconds. Sound reaches nearby cameras at (almost) the same time, so
//! the loudness envelopes of two clips of one moment match once shifted by the difference of
//! their clocks: a normalised cross-correlation finds that shift. The pairwise shifts then give
//! one correction per camera (`camera_offsets`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::copies::ClipView;
use super::features::LoudnessEnvelope;

/// Envelope values below this count as this (digital silence is clamped at -120 dBFS; the
/// jump from there to a room's noise floor says nothing about timing).
const FLOOR_DBFS: f32 = -90.0;
/// Envelopes whose standard deviation is below this are silence or steady noise: nothing to
/// align on.
const FLAT_STD_DB: f64 = 1.0;
/// The best correlation must reach this, or the envelopes do not share a sound.
pub const MIN_CORRELATION: f32 = 0.5;
/// Lags compared overlap by at least this, and at least half the shorter envelope.
const MIN_OVERLAP_S: f64 = 1.0;
/// A second peak at least this far from the best that comes within `AMBIGUITY_MARGIN` of it
/// makes the offset ambiguous (periodic sound: a beeping alarm, footsteps at a steady pace).
const AMBIGUITY_SEPARATION_S: f64 = 1.0;
const AMBIGUITY_MARGIN: f64 = 0.05;
/// Score of a companion found from times alone: at most this, times the overlap fraction.
/// Below `MIN_CORRELATION`, so any audio-confirmed companion outranks it.
const TIME_ONLY_SCORE: f32 = 0.3;

/// Where `b`'s loudness lines up with `a`'s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    /// How many seconds `b`'s clock is ahead of `a`'s.
    pub offset_s: f64,
    /// Peak normalised correlation, `MIN_CORRELATION..=1`.
    pub score: f32,
}

/// Why two envelopes could not be aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAlignment {
    /// One envelope is silence or steady noise.
    Flat,
    /// The envelopes do not overlap enough within the allowed skew.
    TooShort,
    /// The best correlation is below `MIN_CORRELATION`.
    Weak,
    /// Another lag correlates almost as well as the best.
    Ambiguous,
}

/// Aligns two loudness envelopes whose clips start at `a_start` and `b_start` (each by its own
/// camera's clock), trying offsets within `max_skew_s` of zero: `None` when they do not share
/// a distinct sound. See `correlate_envelopes` for why.
pub fn align_envelopes(
    a: &LoudnessEnvelope,
    a_start: f64,
    b: &LoudnessEnvelope,
    b_start: f64,
    max_skew_s: f64,
) -> Option<Alignment> {
    correlate_envelopes(a, a_start, b, b_start, max_skew_s).ok()
}

/// Like `align_envelopes`, saying why when there is no alignment.
///
/// Both envelopes are brought to the coarser hop (the finer one averaged over each coarse
/// hop), clamped at `FLOOR_DBFS`, and compared by Pearson correlation (dB, mean removed over
/// the overlap) at every whole-hop lag whose offset lies within `max_skew_s`; a parabola
/// through the peak and its neighbours refines the lag to a fraction of a hop.
pub fn correlate_envelopes(
    a: &LoudnessEnvelope,
    a_start: f64,
    b: &LoudnessEnvelope,
    b_start: f64,
    max_skew_s: f64,
) -> Result<Alignment, NoAlignment> {
    let hop = a.hop.max(b.hop);
    if !(hop > 0.0 && hop.is_finite()) {
        return Err(NoAlignment::TooShort);
    }
    let x = prepare(a, hop);
    let y = prepare(b, hop);
    if x.len() < 3 || y.len() < 3 {
        return Err(NoAlignment::TooShort);
    }
    if is_flat(&x) || is_flat(&y) {
        return Err(NoAlignment::Flat);
    }
    // Value i of x is at a_origin + i*hop on a's clock, value j of y at b_origin + j*hop on
    // b's. Lag k pairs x[i] with y[i+k], which means b's clock is ahead by
    // b_origin - a_origin + k*hop.
    let a_origin = a_start + a.start;
    let b_origin = b_start + b.start;
    let base = b_origin - a_origin;
    let lowest = ((-max_skew_s - base) / hop).ceil() as i64;
    let highest = ((max_skew_s - base) / hop).floor() as i64;
    let min_overlap = ((MIN_OVERLAP_S / hop).ceil() as usize).max(x.len().min(y.len()) / 2);

    let correlations: Vec<(i64, f64)> = (lowest..=highest)
        .filter_map(|lag| pearson_at(&x, &y, lag, min_overlap).map(|r| (lag, r)))
        .collect();
    let &(best_lag, best) = correlations
        .iter()
        .max_by(|p, q| p.1.total_cmp(&q.1))
        .ok_or(NoAlignment::TooShort)?;
    if best < f64::from(MIN_CORRELATION) {
        return Err(NoAlignment::Weak);
    }
    let separation = (AMBIGUITY_SEPARATION_S / hop).ceil() as i64;
    let rival = correlations
        .iter()
        .filter(|(lag, _)| (lag - best_lag).abs() >= separation)
        .map(|&(_, r)| r)
        .fold(f64::NEG_INFINITY, f64::max);
    if rival >= best - AMBIGUITY_MARGIN {
        return Err(NoAlignment::Ambiguous);
    }
    let at = |lag: i64| {
        correlations
            .iter()
            .find(|(l, _)| *l == lag)
            .map(|&(_, r)| r)
    };
    let fraction = match (at(best_lag - 1), at(best_lag + 1)) {
        (Some(before), Some(after)) => parabola_peak(before, best, after),
        _ => 0.0,
    };
    Ok(Alignment {
        offset_s: base + (best_lag as f64 + fraction) * hop,
        score: best.min(1.0) as f32,
    })
}

/// The envelope's values on a grid of `hop` seconds, clamped at the floor.
fn prepare(envelope: &LoudnessEnvelope, hop: f64) -> Vec<f64> {
    let values = envelope.rms_dbfs.iter().map(|&v| {
        f64::from(if v.is_nan() {
            FLOOR_DBFS
        } else {
            v.max(FLOOR_DBFS)
        })
    });
    let ratio = hop / envelope.hop;
    if (ratio - 1.0).abs() < 1e-9 {
        return values.collect();
    }
    // Average the fine values whose times fall in each coarse hop (no aliasing, and the
    // grids keep the same origin).
    let values: Vec<f64> = values.collect();
    let coarse_len = (values.len() as f64 / ratio).floor() as usize;
    (0..coarse_len)
        .filter_map(|n| {
            let from = ((n as f64 - 0.5) * ratio).ceil().max(0.0) as usize;
            let to = (((n as f64 + 0.5) * ratio).ceil() as usize).min(values.len());
            (from < to).then(|| values[from..to].iter().sum::<f64>() / (to - from) as f64)
        })
        .collect()
}

/// Silence or steady noise (standard deviation below `FLAT_STD_DB`).
fn is_flat(values: &[f64]) -> bool {
    standard_deviation(values) < FLAT_STD_DB
}

fn standard_deviation(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// Pearson correlation of x[i] with y[i+lag] over their overlap; `None` when the overlap is
/// shorter than `min_overlap` or flat on either side.
fn pearson_at(x: &[f64], y: &[f64], lag: i64, min_overlap: usize) -> Option<f64> {
    let first = (-lag).max(0) as usize;
    let last = (x.len() as i64).min(y.len() as i64 - lag);
    if last <= first as i64 || ((last as usize) - first) < min_overlap {
        return None;
    }
    let xs = &x[first..last as usize];
    let ys = &y[(first as i64 + lag) as usize..(last + lag) as usize];
    let n = xs.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in xs.iter().zip(ys) {
        let (dx, dy) = (a - mean_x, b - mean_y);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let flat = FLAT_STD_DB * FLAT_STD_DB * n;
    (sxx >= flat && syy >= flat).then(|| sxy / (sxx * syy).sqrt())
}

/// Where the parabola through (-1, before), (0, peak), (1, after) peaks, in -0.5..=0.5.
fn parabola_peak(before: f64, peak: f64, after: f64) -> f64 {
    let curvature = before - 2.0 * peak + after;
    if curvature >= 0.0 {
        return 0.0;
    }
    (0.5 * (before - after) / curvature).clamp(-0.5, 0.5)
}

/// What a companion was found from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanionBasis {
    /// Loudness envelopes aligned: the offset is measured.
    Audio,
    /// Times overlap but the sound could not confirm it (no audio, silence, or sounds that
    /// differ between the cameras): the offset is 0 (the clocks are taken as they are).
    Time,
}

/// Two clips of the same moment from different cameras.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Companion {
    pub a: usize,
    pub b: usize,
    /// How many seconds `b`'s camera clock is ahead of `a`'s.
    pub offset_s: f64,
    /// 0..1: the correlation peak for audio companions; at most `TIME_ONLY_SCORE` (0.3) times
    /// the overlapping fraction of the shorter clip for time companions.
    pub score: f32,
    pub basis: CompanionBasis,
}

/// Pairs of clips (`a < b`, neither in `skip`) from different known cameras that record the
/// same moment, sorted by `(a, b)`.
///
/// Clips need a start. A pair whose intervals overlap is a companion: confirmed by audio
/// (with the measured offset) when both loudness envelopes align within `max_skew_s`, else
/// found from the times (offset 0, lower score). A pair that only overlaps once the
/// clocks are allowed to be `max_skew_s` apart needs the audio to confirm it.
pub fn find_companions(clips: &[ClipView], skip: &[usize], max_skew_s: f64) -> Vec<Companion> {
    let skipped: BTreeSet<usize> = skip.iter().copied().collect();
    let mut timed: Vec<(usize, f64, f64)> = clips
        .iter()
        .enumerate()
        .filter(|(index, clip)| !skipped.contains(index) && clip.camera.is_some())
        .filter_map(|(index, clip)| clip.start.map(|s| (index, s, s + clip.duration.max(0.0))))
        .collect();
    timed.sort_by(|p, q| p.1.total_cmp(&q.1).then(p.0.cmp(&q.0)));

    let mut companions = Vec::new();
    for (n, &(i, start_i, end_i)) in timed.iter().enumerate() {
        for &(j, start_j, end_j) in &timed[n + 1..] {
            if start_j > end_i + max_skew_s {
                break;
            }
            if clips[i].camera == clips[j].camera {
                continue;
            }
            let (a, b) = (i.min(j), i.max(j));
            let overlap = end_i.min(end_j) - start_i.max(start_j);
            if let Some(companion) = companion(clips, a, b, overlap, max_skew_s) {
                companions.push(companion);
            }
        }
    }
    companions.sort_by_key(|c| (c.a, c.b));
    companions
}

fn companion(
    clips: &[ClipView],
    a: usize,
    b: usize,
    overlap: f64,
    max_skew_s: f64,
) -> Option<Companion> {
    let (x, y) = (&clips[a], &clips[b]);
    if let (Some(la), Some(lb), Some(sa), Some(sb)) = (x.loudness, y.loudness, x.start, y.start)
        && let Some(alignment) = align_envelopes(la, sa, lb, sb, max_skew_s)
    {
        return Some(Companion {
            a,
            b,
            offset_s: alignment.offset_s,
            score: alignment.score,
            basis: CompanionBasis::Audio,
        });
    }
    let shorter = x.duration.min(y.duration);
    (overlap > 0.0 && shorter > 0.0).then(|| Companion {
        a,
        b,
        offset_s: 0.0,
        score: TIME_ONLY_SCORE * (overlap / shorter).min(1.0) as f32,
        basis: CompanionBasis::Time,
    })
}

/// One clock correction per camera: seconds to subtract from that camera's times to put it
/// on its reference camera's clock. Every camera named in `clips` is in the map.
///
/// Only audio companions carry a measured offset. Their offsets between each pair of cameras
/// are combined into one by a score-weighted median (robust to a stray alignment); then the
/// corrections are the weighted least-squares solution over the camera graph (weight: the
/// summed scores of the pair), which spreads any inconsistency around a loop of cameras. In
/// each connected group of cameras the one with most clips (then the first by name) is the
/// reference with 0; cameras without audio companions keep 0.
pub fn camera_offsets(clips: &[ClipView], companions: &[Companion]) -> BTreeMap<String, f64> {
    let mut clip_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for camera in clips.iter().filter_map(|clip| clip.camera) {
        *clip_counts.entry(camera).or_default() += 1;
    }
    let cameras: Vec<&str> = clip_counts.keys().copied().collect();
    let position = |name: &str| cameras.binary_search(&name).ok();

    // Offsets per camera pair (u < v by position): how far v's clock is ahead of u's.
    let mut measured: BTreeMap<(usize, usize), Vec<(f64, f64)>> = BTreeMap::new();
    for companion in companions
        .iter()
        .filter(|c| c.basis == CompanionBasis::Audio && c.offset_s.is_finite())
    {
        let camera = |index: usize| clips.get(index).and_then(|clip| clip.camera);
        let (Some(u), Some(v)) = (
            camera(companion.a).and_then(position),
            camera(companion.b).and_then(position),
        ) else {
            continue;
        };
        let weight = f64::from(companion.score.max(1e-3));
        match u.cmp(&v) {
            std::cmp::Ordering::Less => measured
                .entry((u, v))
                .or_default()
                .push((companion.offset_s, weight)),
            std::cmp::Ordering::Greater => measured
                .entry((v, u))
                .or_default()
                .push((-companion.offset_s, weight)),
            std::cmp::Ordering::Equal => {}
        }
    }
    let edges: Vec<Edge> = measured
        .into_iter()
        .map(|((u, v), mut offsets)| Edge {
            u,
            v,
            offset: weighted_median(&mut offsets),
            weight: offsets.iter().map(|&(_, w)| w).sum(),
        })
        .collect();

    let mut corrections = vec![0.0; cameras.len()];
    for component in components(cameras.len(), &edges) {
        let reference = *component
            .iter()
            .max_by(|&&p, &&q| {
                clip_counts[cameras[p]]
                    .cmp(&clip_counts[cameras[q]])
                    .then(q.cmp(&p))
            })
            .expect("components are not empty");
        for (camera, correction) in solve_component(&component, reference, &edges) {
            corrections[camera] = correction;
        }
    }
    cameras
        .iter()
        .zip(corrections)
        .map(|(name, correction)| (name.to_string(), correction))
        .collect()
}

/// Measured clock difference between two cameras: v's clock is `offset` ahead of u's.
struct Edge {
    u: usize,
    v: usize,
    offset: f64,
    weight: f64,
}

/// The value at half the total weight (values sorted).
fn weighted_median(values: &mut [(f64, f64)]) -> f64 {
    values.sort_by(|p, q| p.0.total_cmp(&q.0));
    let half = values.iter().map(|&(_, w)| w).sum::<f64>() / 2.0;
    let mut seen = 0.0;
    for &(value, weight) in values.iter() {
        seen += weight;
        if seen >= half {
            return value;
        }
    }
    values.last().map_or(0.0, |&(value, _)| value)
}

/// Connected groups of cameras, each sorted.
fn components(count: usize, edges: &[Edge]) -> Vec<Vec<usize>> {
    let mut group: Vec<usize> = (0..count).collect();
    fn root(group: &mut [usize], mut x: usize) -> usize {
        while group[x] != x {
            group[x] = group[group[x]];
            x = group[x];
        }
        x
    }
    for edge in edges {
        let (ru, rv) = (root(&mut group, edge.u), root(&mut group, edge.v));
        group[ru.max(rv)] = ru.min(rv);
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for camera in 0..count {
        members
            .entry(root(&mut group, camera))
            .or_default()
            .push(camera);
    }
    members.into_values().collect()
}

/// Least-squares corrections of one connected group with `reference` fixed at 0: minimises
/// the weighted squared misfit of (x_v - x_u - offset) over the group's edges. The normal
/// equations are the weighted graph Laplacian without the reference's row and column,
/// positive definite for a connected group, solved by Gaussian elimination.
fn solve_component(component: &[usize], reference: usize, edges: &[Edge]) -> Vec<(usize, f64)> {
    let unknowns: Vec<usize> = component
        .iter()
        .copied()
        .filter(|&c| c != reference)
        .collect();
    let slot = |camera: usize| unknowns.iter().position(|&c| c == camera);
    let n = unknowns.len();
    let mut matrix = vec![vec![0.0; n + 1]; n];
    for edge in edges.iter().filter(|e| component.contains(&e.u)) {
        let (u, v) = (slot(edge.u), slot(edge.v));
        let w = edge.weight;
        if let Some(v) = v {
            matrix[v][v] += w;
            matrix[v][n] += w * edge.offset;
        }
        if let Some(u) = u {
            matrix[u][u] += w;
            matrix[u][n] -= w * edge.offset;
        }
        if let (Some(u), Some(v)) = (u, v) {
            matrix[u][v] -= w;
            matrix[v][u] -= w;
        }
    }
    let solution = gaussian_elimination(matrix);
    let mut corrections = vec![(reference, 0.0)];
    corrections.extend(unknowns.into_iter().zip(solution));
    corrections
}

/// Solves the augmented system (each row: coefficients then right-hand side) with partial
/// pivoting; a zero pivot (cannot happen for a connected group) leaves that unknown at 0.
fn gaussian_elimination(mut rows: Vec<Vec<f64>>) -> Vec<f64> {
    let n = rows.len();
    for column in 0..n {
        let pivot = (column..n)
            .max_by(|&p, &q| rows[p][column].abs().total_cmp(&rows[q][column].abs()))
            .expect("column < n");
        rows.swap(column, pivot);
        if rows[column][column].abs() < 1e-12 {
            continue;
        }
        let (done, below) = rows.split_at_mut(column + 1);
        let pivot_row = &done[column];
        for row in below {
            let factor = row[column] / pivot_row[column];
            if factor != 0.0 {
                for (value, pivot_value) in row[column..].iter_mut().zip(&pivot_row[column..]) {
                    *value -= factor * pivot_value;
                }
            }
        }
    }
    let mut solution = vec![0.0; n];
    for column in (0..n).rev() {
        if rows[column][column].abs() < 1e-12 {
            continue;
        }
        let known: f64 = (column + 1..n).map(|k| rows[column][k] * solution[k]).sum();
        solution[column] = (rows[column][n] - known) / rows[column][column];
    }
    solution
}

/// Synthetic signals shared by the tests of the matching stages.
#[cfg(test)]
pub(super) mod testing {
    use super::super::features::{FrameHash, LoudnessEnvelope, PerceptualHash};

    /// A small deterministic generator (SplitMix64), so the tests need no extra crate.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Self {
            Self(seed)
        }

        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in `[low, high)`.
        pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
            low + (high - low) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Roughly normal (sum of uniforms), mean 0, standard deviation `sigma`.
        pub fn normal(&mut self, sigma: f64) -> f64 {
            let sum: f64 = (0..12).map(|_| self.uniform(0.0, 1.0)).sum();
            (sum - 6.0) * sigma
        }
    }

    /// Loudness bursts in real time: (centre, width, level above the floor in dB).
    pub struct Soundscape {
        bursts: Vec<(f64, f64, f64)>,
    }

    impl Soundscape {
        /// Random bursts over `[from, to)` seconds, about two per second.
        pub fn random(rng: &mut Rng, from: f64, to: f64) -> Self {
            let count = ((to - from) * 2.0) as usize;
            let bursts = (0..count)
                .map(|_| {
                    (
                        rng.uniform(from, to),
                        rng.uniform(0.05, 0.4),
                        rng.uniform(15.0, 45.0),
                    )
                })
                .collect();
            Self { bursts }
        }

        /// The same burst every `period` seconds.
        pub fn periodic(from: f64, to: f64, period: f64) -> Self {
            let count = ((to - from) / period) as usize;
            let bursts = (0..count)
                .map(|n| (from + n as f64 * period, 0.1, 30.0))
                .collect();
            Self { bursts }
        }

        pub fn level(&self, time: f64) -> f64 {
            let loud: f64 = self
                .bursts
                .iter()
                .map(|&(centre, width, level)| level * (-((time - centre) / width).powi(2)).exp())
                .sum();
            -60.0 + loud
        }

        /// What a microphone records from real time `from` on for `seconds`, one value per
        /// `hop`, with `noise_db` of independent measurement noise.
        pub fn record(
            &self,
            from: f64,
            seconds: f64,
            hop: f64,
            noise_db: f64,
            rng: &mut Rng,
        ) -> LoudnessEnvelope {
            let count = (seconds / hop) as usize;
            LoudnessEnvelope {
                start: 0.0,
                hop,
                rms_dbfs: (0..count)
                    .map(|n| (self.level(from + n as f64 * hop) + rng.normal(noise_db)) as f32)
                    .collect(),
            }
        }
    }

    /// A 64-bit hash from a word.
    pub fn hash(word: u64) -> PerceptualHash {
        PerceptualHash {
            side: 8,
            words: vec![word],
        }
    }

    /// `word` with `bits` random bits flipped.
    pub fn flip(rng: &mut Rng, word: u64, bits: u32) -> u64 {
        let mut flipped = word;
        while (flipped ^ word).count_ones() < bits {
            flipped ^= 1 << (rng.next_u64() % 64);
        }
        flipped
    }

    /// Hashes at the given times (ms) from words.
    pub fn frames(times_ms: impl IntoIterator<Item = u64>, words: &[u64]) -> Vec<FrameHash> {
        times_ms
            .into_iter()
            .zip(words)
            .map(|(time_ms, &word)| FrameHash {
                time_ms,
                hash: hash(word),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{Rng, Soundscape};
    use super::*;

    const HOP: f64 = 0.02;

    /// Camera a's clock is right and starts recording at real time 1000; camera b's clock is
    /// `ahead` seconds ahead and it records real time 1005..1020.
    fn two_recordings(
        ahead: f64,
        b_hop: f64,
        seed: u64,
    ) -> (LoudnessEnvelope, f64, LoudnessEnvelope, f64) {
        noisy_recordings(ahead, b_hop, seed, 1.0)
    }

    /// Like `two_recordings`, with `noise_db` of independent noise on each envelope.
    fn noisy_recordings(
        ahead: f64,
        b_hop: f64,
        seed: u64,
        noise_db: f64,
    ) -> (LoudnessEnvelope, f64, LoudnessEnvelope, f64) {
        let mut rng = Rng::new(seed);
        let sound = Soundscape::random(&mut rng, 990.0, 1030.0);
        let a = sound.record(1000.0, 20.0, HOP, noise_db, &mut rng);
        let b = sound.record(1005.0, 15.0, b_hop, noise_db, &mut rng);
        (a, 1000.0, b, 1005.0 + ahead)
    }

    #[test]
    fn offsets_survive_heavy_noise() {
        // 6 dB of noise on every 20 ms value (the bursts are 15 to 45 dB loud).
        for seed in 20..25 {
            let (a, a_start, b, b_start) = noisy_recordings(1.37, HOP, seed, 6.0);
            let found = align_envelopes(&a, a_start, &b, b_start, 3.0).unwrap();
            assert!(
                (found.offset_s - 1.37).abs() < 0.05,
                "seed {seed}: {found:?}"
            );
        }
    }

    #[test]
    fn offsets_are_found_to_a_fraction_of_a_hop() {
        for (seed, ahead) in [(1, 1.37), (2, -2.213), (3, 0.0), (4, 0.511)] {
            let (a, a_start, b, b_start) = two_recordings(ahead, HOP, seed);
            let found = align_envelopes(&a, a_start, &b, b_start, 3.0).unwrap();
            let error = (found.offset_s - ahead).abs();
            assert!(error < 0.01, "{ahead} s found as {} s", found.offset_s);
            assert!(found.score > 0.9, "score {}", found.score);
            // Swapping the clips negates the offset.
            let back = align_envelopes(&b, b_start, &a, a_start, 3.0).unwrap();
            assert!((back.offset_s + ahead).abs() < 0.01, "{}", back.offset_s);
        }
    }

    #[test]
    fn envelopes_with_different_hops_are_aligned() {
        let (a, a_start, b, b_start) = two_recordings(1.37, 0.05, 5);
        let found = align_envelopes(&a, a_start, &b, b_start, 3.0).unwrap();
        assert!((found.offset_s - 1.37).abs() < 0.05, "{}", found.offset_s);
    }

    #[test]
    fn envelope_start_within_the_clip_counts() {
        // The audio of b starts 0.24 s (12 hops) after its first video frame.
        let (a, a_start, mut b, b_start) = two_recordings(0.8, HOP, 6);
        b.rms_dbfs.drain(..12);
        b.start = 0.24;
        let found = align_envelopes(&a, a_start, &b, b_start, 3.0).unwrap();
        assert!((found.offset_s - 0.8).abs() < 0.01, "{}", found.offset_s);
    }

    #[test]
    fn silence_and_steady_noise_are_refused() {
        let (a, a_start, _, _) = two_recordings(0.0, HOP, 7);
        let silent = LoudnessEnvelope {
            start: 0.0,
            hop: HOP,
            rms_dbfs: vec![-120.0; 500],
        };
        let mut rng = Rng::new(8);
        let hum = LoudnessEnvelope {
            start: 0.0,
            hop: HOP,
            rms_dbfs: (0..500).map(|_| (-50.0 + rng.normal(0.3)) as f32).collect(),
        };
        for quiet in [&silent, &hum] {
            assert_eq!(
                correlate_envelopes(&a, a_start, quiet, a_start + 2.0, 3.0),
                Err(NoAlignment::Flat)
            );
            assert_eq!(
                correlate_envelopes(quiet, a_start, quiet, a_start, 3.0),
                Err(NoAlignment::Flat)
            );
        }
    }

    #[test]
    fn unrelated_sounds_and_offsets_beyond_the_skew_are_refused() {
        let mut rng = Rng::new(9);
        let here = Soundscape::random(&mut rng, 0.0, 20.0);
        let there = Soundscape::random(&mut rng, 0.0, 20.0);
        let a = here.record(0.0, 20.0, HOP, 1.0, &mut rng);
        let b = there.record(0.0, 20.0, HOP, 1.0, &mut rng);
        assert_eq!(
            correlate_envelopes(&a, 0.0, &b, 0.0, 3.0),
            Err(NoAlignment::Weak)
        );
        // The same sound, but the clocks are 4 s apart and only 1 s is allowed.
        let (a, a_start, b, b_start) = two_recordings(4.0, HOP, 10);
        assert!(align_envelopes(&a, a_start, &b, b_start, 1.0).is_none());
        assert!(align_envelopes(&a, a_start, &b, b_start, 5.0).is_some());
    }

    #[test]
    fn periodic_sound_is_ambiguous() {
        let mut rng = Rng::new(11);
        let beeps = Soundscape::periodic(0.0, 30.0, 1.5);
        let a = beeps.record(0.0, 20.0, HOP, 0.5, &mut rng);
        let b = beeps.record(4.0, 15.0, HOP, 0.5, &mut rng);
        assert_eq!(
            correlate_envelopes(&a, 0.0, &b, 4.0, 3.0),
            Err(NoAlignment::Ambiguous)
        );
    }

    #[test]
    fn envelopes_too_short_to_overlap_are_refused() {
        let short = LoudnessEnvelope {
            start: 0.0,
            hop: HOP,
            rms_dbfs: vec![-20.0, -60.0],
        };
        assert_eq!(
            correlate_envelopes(&short, 0.0, &short, 0.0, 1.0),
            Err(NoAlignment::TooShort)
        );
        let zero_hop = LoudnessEnvelope { hop: 0.0, ..short };
        assert!(align_envelopes(&zero_hop, 0.0, &zero_hop, 0.0, 1.0).is_none());
    }

    fn clip<'a>(
        start: Option<f64>,
        duration: f64,
        camera: Option<&'a str>,
        loudness: Option<&'a LoudnessEnvelope>,
    ) -> ClipView<'a> {
        ClipView {
            start,
            duration,
            camera,
            content_hash: "",
            hashes: &[],
            loudness,
            quality: 1.0,
        }
    }

    /// Three cameras hear one sound; `ahead` says how far each camera's clock is ahead of real
    /// time. Each camera records two clips: one during the sound, one 60 s later (silence).
    struct Scene {
        envelopes: Vec<LoudnessEnvelope>,
        starts: Vec<f64>,
        cameras: Vec<&'static str>,
    }

    fn three_cameras(ahead: [f64; 3]) -> Scene {
        let mut rng = Rng::new(12);
        let sound = Soundscape::random(&mut rng, 990.0, 1040.0);
        let names = ["door", "drive", "yard"];
        let mut scene = Scene {
            envelopes: Vec::new(),
            starts: Vec::new(),
            cameras: Vec::new(),
        };
        for (camera, &ahead) in ahead.iter().enumerate() {
            let real_start = 1000.0 + 2.0 * camera as f64;
            scene
                .envelopes
                .push(sound.record(real_start, 12.0, HOP, 1.0, &mut rng));
            scene.starts.push(real_start + ahead);
            scene.cameras.push(names[camera]);
        }
        scene
    }

    #[test]
    fn three_cameras_get_consistent_offsets() {
        let ahead = [0.0, 1.37, -0.82];
        let scene = three_cameras(ahead);
        let mut clips: Vec<ClipView> = (0..3)
            .map(|n| {
                clip(
                    Some(scene.starts[n]),
                    12.0,
                    Some(scene.cameras[n]),
                    Some(&scene.envelopes[n]),
                )
            })
            .collect();
        // "door" has most clips, so it is the reference; its later clip has no company.
        clips.push(clip(Some(5000.0), 10.0, Some("door"), None));
        let companions = find_companions(&clips, &[], 3.0);
        assert_eq!(companions.len(), 3, "{companions:?}");
        for companion in &companions {
            assert_eq!(companion.basis, CompanionBasis::Audio);
            let expected = ahead[companion.b] - ahead[companion.a];
            assert!(
                (companion.offset_s - expected).abs() < 0.02,
                "{companion:?}, expected {expected}"
            );
        }
        let offsets = camera_offsets(&clips, &companions);
        assert_eq!(offsets.len(), 3);
        assert_eq!(offsets["door"], 0.0);
        assert!((offsets["drive"] - 1.37).abs() < 0.02, "{offsets:?}");
        assert!((offsets["yard"] + 0.82).abs() < 0.02, "{offsets:?}");
    }

    #[test]
    fn companions_need_other_cameras_times_and_no_skip() {
        let scene = three_cameras([0.0, 0.5, 0.0]);
        let door = Some(&scene.envelopes[0]);
        let clips = [
            clip(Some(scene.starts[0]), 12.0, Some("door"), door),
            // The same camera at the same time: not a companion.
            clip(Some(scene.starts[0] + 1.0), 12.0, Some("door"), door),
            // No start, or no camera: cannot be placed.
            clip(None, 12.0, Some("drive"), Some(&scene.envelopes[1])),
            clip(Some(scene.starts[1]), 12.0, None, Some(&scene.envelopes[1])),
            // A duplicate the caller skips.
            clip(
                Some(scene.starts[1]),
                12.0,
                Some("drive"),
                Some(&scene.envelopes[1]),
            ),
            clip(
                Some(scene.starts[2]),
                12.0,
                Some("yard"),
                Some(&scene.envelopes[2]),
            ),
        ];
        let companions = find_companions(&clips, &[4], 3.0);
        let pairs: Vec<(usize, usize)> = companions.iter().map(|c| (c.a, c.b)).collect();
        assert_eq!(pairs, [(0, 5), (1, 5)]);
        assert!(companions[0].offset_s.abs() < 0.02, "{companions:?}");
        // Clip 1 claims to start 1 s later than it did: the audio says so.
        assert!(
            (companions[1].offset_s - -1.0).abs() < 0.02,
            "{companions:?}"
        );
    }

    #[test]
    fn clips_without_sound_are_companions_by_time_only() {
        let silent = LoudnessEnvelope {
            start: 0.0,
            hop: HOP,
            rms_dbfs: vec![-120.0; 500],
        };
        let clips = [
            clip(Some(100.0), 10.0, Some("door"), None),
            clip(Some(105.0), 10.0, Some("drive"), Some(&silent)),
            // Overlaps only if the clocks were 1 s off; nothing confirms that.
            clip(Some(116.0), 10.0, Some("yard"), None),
        ];
        let companions = find_companions(&clips, &[], 3.0);
        assert_eq!(companions.len(), 1, "{companions:?}");
        let only = &companions[0];
        assert_eq!((only.a, only.b, only.basis), (0, 1, CompanionBasis::Time));
        assert_eq!(only.offset_s, 0.0);
        // Half of the shorter clip overlaps.
        assert!((only.score - 0.15).abs() < 1e-6, "{}", only.score);
        // Time companions carry no offset: every camera stays at 0.
        let offsets = camera_offsets(&clips, &companions);
        assert!(offsets.values().all(|&o| o == 0.0), "{offsets:?}");
    }

    fn audio(a: usize, b: usize, offset_s: f64, score: f32) -> Companion {
        Companion {
            a,
            b,
            offset_s,
            score,
            basis: CompanionBasis::Audio,
        }
    }

    #[test]
    fn camera_offsets_resist_a_stray_alignment_and_spread_loop_errors() {
        let clips: Vec<ClipView> = ["a", "a", "a", "b", "b", "b", "c", "d", "e"]
            .iter()
            .map(|&camera| clip(Some(0.0), 10.0, Some(camera), None))
            .collect();
        let companions = [
            // a-b: two agree on 2.0, one stray alignment says 7.
            audio(0, 3, 2.0, 0.9),
            audio(1, 4, 2.02, 0.8),
            audio(2, 5, 7.0, 0.6),
            // b-c says 1.0 and a-c says 3.3 (the loop a-b-c disagrees by 0.3).
            audio(3, 6, 1.0, 0.9),
            audio(6, 0, -3.3, 0.9),
            // d-e: their own group; "d" (first by name, equal counts) is its reference.
            audio(8, 7, -0.4, 0.7),
        ];
        let offsets = camera_offsets(&clips, &companions);
        assert_eq!(offsets["a"], 0.0);
        assert_eq!(offsets["d"], 0.0);
        assert!((offsets["e"] - 0.4).abs() < 1e-9, "{offsets:?}");
        // Least squares spreads the loop's 0.3 s: b between 2.0 and 2.3, c between 3.0 and 3.3.
        assert!(offsets["b"] > 2.0 && offsets["b"] < 2.3, "{offsets:?}");
        assert!(offsets["c"] > 3.0 && offsets["c"] < 3.3, "{offsets:?}");
        let loop_error = offsets["c"] - offsets["b"] - 1.0;
        assert!(loop_error.abs() < 0.2, "{offsets:?}");
    }

    /// Loudness of real decoded audio: ffmpeg decodes to 8 kHz mono float, RMS per 20 ms.
    fn decoded_envelope(path: &std::path::Path) -> LoudnessEnvelope {
        let output = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(path)
            .args(["-f", "f32le", "-ac", "1", "-ar", "8000", "pipe:1"])
            .output()
            .unwrap();
        assert!(output.status.success(), "ffmpeg could not decode {path:?}");
        let samples: Vec<f32> = output
            .stdout
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let rms_dbfs = samples
            .chunks_exact(160)
            .map(|hop| {
                let power = hop.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / 160.0;
                (10.0 * power.max(1e-12).log10()) as f32
            })
            .collect();
        LoudnessEnvelope {
            start: 0.0,
            hop: HOP,
            rms_dbfs,
        }
    }

    fn ffmpeg(args: &[&str]) -> bool {
        std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(args)
            .status()
            .is_ok_and(|status| status.success())
    }

    #[test]
    fn offset_of_real_encoded_audio_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        // Noise whose level jumps to a random value every 0.1 s, 9 s long.
        let source = "aevalsrc='if(eq(mod(n,1600),0),st(1,pow(random(2),3)),0);\
                      ld(1)*(random(0)*2-1)':s=16000:d=9";
        if !ffmpeg(&["-f", "lavfi", "-i", source, &path("source.wav")]) {
            eprintln!("skipping: ffmpeg could not make the noise bursts");
            return;
        }
        // Two 6-s recordings through different codecs; b starts 1.37 s later.
        let a_made = ffmpeg(&[
            "-i",
            &path("source.wav"),
            "-t",
            "6",
            "-c:a",
            "aac",
            &path("a.m4a"),
        ]);
        let b_made = ffmpeg(&[
            "-i",
            &path("source.wav"),
            "-ss",
            "1.37",
            "-t",
            "6",
            "-c:a",
            "libopus",
            &path("b.ogg"),
        ]);
        assert!(a_made && b_made, "ffmpeg could not encode the clips");
        let a = decoded_envelope(dir.path().join("a.m4a").as_path());
        let b = decoded_envelope(dir.path().join("b.ogg").as_path());
        // Both files are named with the same second, so b's clock is 1.37 s behind.
        let found = align_envelopes(&a, 1000.0, &b, 1000.0, 3.0).unwrap();
        let error = (found.offset_s + 1.37).abs();
        assert!(error < 0.02, "found {} s, expected -1.37 s", found.offset_s);
        assert!(found.score > 0.8, "score {}", found.score);
    }
}
