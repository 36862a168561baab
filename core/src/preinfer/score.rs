//! Bit cost to score maps (§9.1-9.5): grid choice, per-frame percentile normalisation with
//! log scale, nearest-neighbour upsampling to the processed size, I-frame clipping, the
//! optional mean-floor rescaling, and the bad-frame predicate.
//!
//! A score map is kept at grid resolution together with a [`Mapping`] from processed-frame
//! pixels to grid cells: nearest-neighbour upsampling only repeats grid values, so sums and
//! percentiles over the upsampled map are computed from the grid with pixel counts as
//! weights, bit for bit the same as on the materialised map and far smaller in memory.

use std::collections::HashMap;

use super::config::{BitcostGrid, Compat};
use super::geometry::Geometry;
use super::npmath::{pairwise_sum_f32, percentile_f32, weighted_percentile_f32};
use super::pyjson::Json;
use crate::map::{BitcostMap, Codec, SUB_CELL_SIZE};

/// Smallest normalisation scale (guards all-zero maps).
const MIN_SCALE: f64 = 1e-6;

/// A frame's bit cost on the chosen grid: raw costs before [`normalize`], scores in 0..=1
/// after it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreGrid {
    pub rows: usize,
    pub cols: usize,
    /// Row-major, `rows * cols` values.
    pub values: Vec<f32>,
    /// Side of one cell in source pixels (4 for the sub-grid, else the block size).
    pub cell_px: usize,
}

/// The grid `grid` means for `codec`: `adaptive` picks CTUs for HEVC and VP9 and
/// macroblocks otherwise; `mb` and `ctu` both mean the codec's block grid here (the
/// reference fails when they do not match the codec).
pub fn effective_grid(grid: BitcostGrid, codec: Codec) -> BitcostGrid {
    match grid {
        BitcostGrid::Adaptive => match codec {
            Codec::Hevc | Codec::Vp9 => BitcostGrid::Ctu,
            Codec::H264 => BitcostGrid::Mb,
        },
        other => other,
    }
}

/// The raw cost grid of `map` for `grid`. With `Compat::Reference` the H.264 block grid
/// gets the reference's extra right column of zeros (its `mb_stride` padding), which takes
/// part in the percentile and is stretched over the picture like any column.
pub fn cost_grid(map: &BitcostMap, grid: BitcostGrid, compat: Compat) -> ScoreGrid {
    match effective_grid(grid, map.codec()) {
        BitcostGrid::Sub => ScoreGrid {
            rows: map.sub_rows(),
            cols: map.sub_cols(),
            values: map.sub().to_vec(),
            cell_px: SUB_CELL_SIZE as usize,
        },
        _ => {
            let (rows, cols) = (map.rows(), map.cols());
            let pad = usize::from(compat == Compat::Reference && map.codec() == Codec::H264);
            let mut values = Vec::with_capacity(rows * (cols + pad));
            for row in map.cells().chunks_exact(cols) {
                values.extend(row.iter().map(|&c| c as f32));
                values.extend(std::iter::repeat_n(0.0f32, pad));
            }
            ScoreGrid {
                rows,
                cols: cols + pad,
                values,
                cell_px: map.block_size() as usize,
            }
        }
    }
}

/// §9.2 steps 1-4 on the grid: negatives to 0, `log1p` (float32) if `log_scale`, divide by
/// the `pct` percentile (numpy linear, at least 1e-6) and clip to 0..=1.
pub fn normalize(grid: &mut ScoreGrid, pct: f64, log_scale: bool) {
    for v in grid.values.iter_mut() {
        let positive = v.max(0.0);
        *v = if log_scale {
            positive.ln_1p()
        } else {
            positive
        };
    }
    let mut scratch = grid.values.clone();
    let s = percentile_f32(&mut scratch, pct);
    let s = if s.is_nan() {
        MIN_SCALE
    } else {
        s.max(MIN_SCALE)
    } as f32;
    for v in grid.values.iter_mut() {
        *v = (*v / s).clamp(0.0, 1.0);
    }
}

/// Marks processed-frame rows/columns that lie outside the picture (score 0).
pub const OUTSIDE: u32 = u32::MAX;

/// For each processed-frame row and column, the grid row/column whose value it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub rows: Vec<u32>,
    pub cols: Vec<u32>,
}

/// OpenCV `INTER_NEAREST` as the reference calls it: `floor(x * (1 / (dst / src)))`,
/// clamped (not `x * src / dst`, which differs at exact boundaries).
fn nearest_axis(src: usize, dst: usize) -> Vec<u32> {
    let scale = 1.0 / (dst as f64 / src as f64);
    (0..dst)
        .map(|x| ((x as f64 * scale).floor() as usize).min(src - 1) as u32)
        .collect()
}

/// Picture-true mapping of one axis: processed pixel `x < resized` shows source pixel
/// `(x + 0.5) * picture / resized`, i.e. the cell covering it; padding shows nothing.
fn cropped_axis(
    cells: usize,
    cell_px: usize,
    picture: usize,
    resized: usize,
    dst: usize,
) -> Vec<u32> {
    (0..dst)
        .map(|x| {
            if x >= resized {
                return OUTSIDE;
            }
            let source = (x as f64 + 0.5) * picture as f64 / resized as f64;
            ((source / cell_px as f64).floor() as usize).min(cells - 1) as u32
        })
        .collect()
}

impl Mapping {
    /// The reference's upsampling: the whole grid, padding included, stretched over the
    /// processed frame.
    pub fn reference(grid_rows: usize, grid_cols: usize, geom: &Geometry) -> Self {
        Self {
            rows: nearest_axis(grid_rows, geom.processed_h),
            cols: nearest_axis(grid_cols, geom.processed_w),
        }
    }

    /// Corrected upsampling: each cell drawn over the picture area it codes (cells past the
    /// picture edge are cut off; padding of the processed frame scores 0).
    pub fn cropped(grid: &ScoreGrid, geom: &Geometry) -> Self {
        Self {
            rows: cropped_axis(
                grid.rows,
                grid.cell_px,
                geom.orig_h,
                geom.resize_h,
                geom.processed_h,
            ),
            cols: cropped_axis(
                grid.cols,
                grid.cell_px,
                geom.orig_w,
                geom.resize_w,
                geom.processed_w,
            ),
        }
    }

    pub fn for_compat(compat: Compat, grid: &ScoreGrid, geom: &Geometry) -> Self {
        match compat {
            Compat::Reference => Self::reference(grid.rows, grid.cols, geom),
            Compat::None => Self::cropped(grid, geom),
        }
    }

    /// How many processed pixels show each grid cell, and how many show nothing.
    fn weights(&self, grid: &ScoreGrid) -> (Vec<u64>, u64) {
        let count = |axis: &[u32], n: usize| {
            let mut c = vec![0u64; n];
            for &i in axis {
                if i != OUTSIDE {
                    c[i as usize] += 1;
                }
            }
            c
        };
        let rc = count(&self.rows, grid.rows);
        let cc = count(&self.cols, grid.cols);
        let mut weights = Vec::with_capacity(grid.rows * grid.cols);
        for &r in &rc {
            weights.extend(cc.iter().map(|&c| r * c));
        }
        let total = (self.rows.len() * self.cols.len()) as u64;
        let covered: u64 = weights.iter().sum();
        (weights, total - covered)
    }
}

/// The score map at the processed size (§9.2 step 5), row-major.
pub fn upsample(grid: &ScoreGrid, mapping: &Mapping) -> Vec<f32> {
    let mut out = Vec::with_capacity(mapping.rows.len() * mapping.cols.len());
    for &r in &mapping.rows {
        for &c in &mapping.cols {
            out.push(if r == OUTSIDE || c == OUTSIDE {
                0.0
            } else {
                grid.values[r as usize * grid.cols + c as usize]
            });
        }
    }
    out
}

/// What I-frame clipping did, as the reference's `iframe_score_clip_debug`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipOutcome {
    pub debug: Json,
}

/// §9.3: cap every I frame's scores at the `pct` percentile of all non-I frames' upsampled
/// score pixels. Applied only if both kinds of frames exist.
pub fn clip_iframes(
    grids: &mut [ScoreGrid],
    mappings: &[&Mapping],
    is_iframe: &[bool],
    pct: f64,
) -> ClipOutcome {
    let pct = pct.clamp(0.0, 100.0);
    let iframe_count = is_iframe.iter().filter(|&&i| i).count();
    let mut debug = Json::object()
        .with("mode", "non_i_percentile")
        .with("percentile", pct);
    if iframe_count == 0 || iframe_count == is_iframe.len() {
        debug.set("iframe_count", iframe_count);
        debug.set("applied", false);
        return ClipOutcome { debug };
    }
    let mut counts: HashMap<u32, u64> = HashMap::new();
    for ((grid, mapping), _) in grids
        .iter()
        .zip(mappings)
        .zip(is_iframe)
        .filter(|(_, i)| !**i)
    {
        let (weights, outside) = mapping.weights(grid);
        for (&v, &w) in grid.values.iter().zip(&weights) {
            *counts.entry(v.to_bits()).or_default() += w;
        }
        *counts.entry(0f32.to_bits()).or_default() += outside;
    }
    let mut counted: Vec<(f32, u64)> = counts
        .into_iter()
        .map(|(bits, w)| (f32::from_bits(bits), w))
        .collect();
    let cap = weighted_percentile_f32(&mut counted, pct);
    let cap32 = cap as f32;
    let mut changed = 0u64;
    for ((grid, mapping), _) in grids
        .iter_mut()
        .zip(mappings)
        .zip(is_iframe)
        .filter(|(_, i)| **i)
    {
        let (weights, _) = mapping.weights(grid);
        for (v, &w) in grid.values.iter_mut().zip(&weights) {
            if *v > cap32 {
                changed += w;
                *v = cap32;
            }
        }
    }
    debug.set("cap", cap);
    debug.set("iframe_count", iframe_count);
    debug.set("changed_pixels", changed);
    debug.set("applied", true);
    ClipOutcome { debug }
}

/// §9.4 (engine-only in the reference): scale each frame's map by
/// `median / max(mean, floor)` where `mean` is its mean block score, at most 1 unless
/// `allow_boost`. Returns the per-frame scales and the debug record.
pub fn frame_mean_floor(
    grids: &mut [ScoreGrid],
    block_means: &[f32],
    floor_ratio: f64,
    allow_boost: bool,
) -> (Vec<f32>, Json) {
    let mut sorted = block_means.to_vec();
    sorted.sort_by(f32::total_cmp);
    let median = match sorted.len() {
        0 => 0.0f32,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    let floor = (floor_ratio * f64::from(median)).max(MIN_SCALE);
    let scales: Vec<f32> = block_means
        .iter()
        .map(|&m| {
            let scale = f64::from(median) / f64::from(m).max(floor).max(MIN_SCALE);
            (if allow_boost { scale } else { scale.min(1.0) }) as f32
        })
        .collect();
    for (grid, &scale) in grids.iter_mut().zip(&scales) {
        for v in grid.values.iter_mut() {
            *v *= scale;
        }
    }
    let debug = Json::object()
        .with("mode", "frame_mean_floor")
        .with("floor_ratio", floor_ratio)
        .with("allow_boost", allow_boost)
        .with("reference_mean", median)
        .with("floor", floor)
        .with(
            "scaled_frames",
            scales.iter().filter(|&&s| s != 1.0).count(),
        );
    (scales, debug)
}

/// Mean of a frame's block scores as numpy computes it (float32).
pub fn mean_block_score(blocks: &[f32]) -> f32 {
    if blocks.is_empty() {
        return 0.0;
    }
    pairwise_sum_f32(blocks) / blocks.len() as f32
}

/// §9.5: a black, solid-colour or green-corrupted frame, from packed BGR pixels.
///
/// The per-channel statistics come from exact 256-bin histograms (two interleaved sets, so
/// that runs of equal pixels do not wait on one counter), which is several times faster than
/// accumulating sums, squares and extremes pixel by pixel.
pub fn frame_is_bad(bgr: &[u8]) -> bool {
    let n = bgr.len() / 3;
    if n == 0 {
        return true;
    }
    /// Counts of each value per channel (b, g, r, luma) and of green-corrupted pixels.
    struct Histograms {
        counts: [[u32; 256]; 4],
        green: u32,
    }
    impl Histograms {
        fn add(&mut self, px: &[u8]) {
            let (b, g, r) = (px[0], px[1], px[2]);
            let y = ((1868 * u32::from(b) + 9617 * u32::from(g) + 4899 * u32::from(r) + 8192) >> 14)
                .min(255) as usize;
            self.counts[0][usize::from(b)] += 1;
            self.counts[1][usize::from(g)] += 1;
            self.counts[2][usize::from(r)] += 1;
            self.counts[3][y] += 1;
            self.green += u32::from(g >= 180 && r <= 90 && b <= 90);
        }
    }
    let new = || {
        Box::new(Histograms {
            counts: [[0; 256]; 4],
            green: 0,
        })
    };
    let (mut even, mut odd) = (new(), new());
    let mut pairs = bgr[..n * 3].chunks_exact(6);
    for pair in &mut pairs {
        even.add(&pair[..3]);
        odd.add(&pair[3..]);
    }
    if !pairs.remainder().is_empty() {
        even.add(pairs.remainder());
    }
    #[derive(Clone, Copy)]
    struct Channel {
        sum: u64,
        sum_sq: u64,
        min: u8,
        max: u8,
    }
    let channel = |c: usize| {
        let mut ch = Channel {
            sum: 0,
            sum_sq: 0,
            min: u8::MAX,
            max: 0,
        };
        for v in 0..=255u8 {
            let k = u64::from(even.counts[c][usize::from(v)] + odd.counts[c][usize::from(v)]);
            if k > 0 {
                ch.sum += k * u64::from(v);
                ch.sum_sq += k * u64::from(v) * u64::from(v);
                ch.min = ch.min.min(v);
                ch.max = v;
            }
        }
        ch
    };
    let [b, g, r, y] = [channel(0), channel(1), channel(2), channel(3)];
    let green = u64::from(even.green) + u64::from(odd.green);
    let nf = n as f64;
    let mean = |c: &Channel| c.sum as f64 / nf;
    let std = |c: &Channel| {
        // Exact integer variance numerator: n * sum_sq - sum^2.
        let num = n as u128 * u128::from(c.sum_sq) - u128::from(c.sum) * u128::from(c.sum);
        (num as f64 / (nf * nf)).sqrt()
    };
    let black = mean(&y) <= 8.0 && std(&y) <= 6.0;
    let solid = std(&y) <= 4.0
        && [b, g, r]
            .iter()
            .all(|c| std(c) <= 4.0 && c.max - c.min <= 12);
    let green_corrupt = green as f64 / nf >= 0.35;
    let green_dominant =
        mean(&g) > 120.0 && mean(&g) - mean(&r).max(mean(&b)) > 80.0 && std(&g) < 50.0;
    black || solid || green_corrupt || green_dominant
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::preinfer::geometry::{ResizeRule, resolve_geometry};

    /// A grid of `rows` x `cols` cells of `cell_px` pixels.
    pub(in crate::preinfer) fn grid(
        rows: usize,
        cols: usize,
        values: Vec<f32>,
        cell_px: usize,
    ) -> ScoreGrid {
        ScoreGrid {
            rows,
            cols,
            values,
            cell_px,
        }
    }

    #[test]
    fn nearest_uses_the_reciprocal_formula() {
        // 81 -> 504: x = 168 maps to floor(168 * (1 / (504 / 81))) = 26, not 27.
        let axis = nearest_axis(81, 504);
        assert_eq!(axis[168], 26);
        assert_eq!(axis[0], 0);
        assert_eq!(axis[503], 80);
        // 168 * 81 / 504 == 27 exactly.
        assert_eq!(168 * 81 / 504, 27);
    }

    #[test]
    fn normalization_uses_the_99th_percentile_and_saturates() {
        let mut values: Vec<f32> = (0..200).map(|i| i as f32).collect();
        values[0] = -16.0;
        let mut g = grid(10, 20, values, 16);
        normalize(&mut g, 99.0, false);
        // percentile(0..199 with 0 for the negative, 99) = 197.01
        assert_eq!(g.values[0], 0.0);
        assert_eq!(g.values[199], 1.0);
        assert_eq!(g.values[198], 1.0);
        assert_eq!(g.values[100], (100.0f32 / 197.01f64 as f32).min(1.0));
        // All zero: scale 1e-6, everything stays 0.
        let mut z = grid(2, 2, vec![0.0; 4], 16);
        normalize(&mut z, 99.0, true);
        assert_eq!(z.values, vec![0.0; 4]);
    }

    #[test]
    fn log_scale_is_float32_log1p() {
        let mut g = grid(1, 3, vec![0.0, 7.0, 1000.0], 4);
        normalize(&mut g, 100.0, true);
        let top = 1000f32.ln_1p();
        assert_eq!(g.values, vec![0.0, 7f32.ln_1p() / top, 1.0]);
    }

    #[test]
    fn h264_padding_column_is_added_in_reference_mode_only() {
        let geom = resolve_geometry(32, 48, 14, 2, ResizeRule::MaxPixels(153_664)).unwrap();
        let map = crate::map::test_map(Codec::H264, 16, 48, 32, 3, 2, vec![8; 6]);
        let reference = cost_grid(&map, BitcostGrid::Adaptive, Compat::Reference);
        assert_eq!((reference.rows, reference.cols), (2, 4));
        assert_eq!(reference.values[3], 0.0);
        let fixed = cost_grid(&map, BitcostGrid::Mb, Compat::None);
        assert_eq!((fixed.rows, fixed.cols), (2, 3));
        // Reference mapping stretches the zero column over the right quarter.
        let m = Mapping::reference(reference.rows, reference.cols, &geom);
        assert_eq!(*m.cols.last().unwrap(), 3);
        let c = Mapping::cropped(&fixed, &geom);
        assert_eq!(*c.cols.last().unwrap(), 2);
        let sub = cost_grid(&map, BitcostGrid::Sub, Compat::Reference);
        assert_eq!((sub.rows, sub.cols, sub.cell_px), (8, 12, 4));
    }

    #[test]
    fn cropped_mapping_cuts_overhanging_ctus() {
        // 720 rows of 64-pixel CTUs: 12 rows cover 768; the last row holds 16 real rows.
        let geom = resolve_geometry(720, 1280, 14, 2, ResizeRule::MaxPixels(153_664)).unwrap();
        let g = grid(12, 20, vec![0.0; 240], 64);
        let reference = Mapping::reference(12, 20, &geom);
        let cropped = Mapping::cropped(&g, &geom);
        let rows_of = |m: &Mapping, r: u32| m.rows.iter().filter(|&&x| x == r).count();
        // Reference: 280 / 12 rows each; cropped: the last CTU row gets 16/720 of 280.
        assert_eq!(rows_of(&reference, 11), 23);
        assert_eq!(rows_of(&cropped, 11), 6);
        assert_eq!(rows_of(&cropped, 0), 25);
    }

    #[test]
    fn iframe_clip_caps_at_the_non_i_percentile() {
        let geom = resolve_geometry(28, 28, 14, 2, ResizeRule::NoResize).unwrap();
        let mut grids = vec![
            grid(1, 2, vec![1.0, 1.0], 4),
            grid(1, 2, vec![0.2, 0.4], 4),
            grid(1, 2, vec![0.1, 0.3], 4),
        ];
        let m = Mapping::reference(1, 2, &geom);
        let maps = vec![&m, &m, &m];
        let out = clip_iframes(&mut grids, &maps, &[true, false, false], 100.0);
        assert_eq!(out.debug.get("applied"), Some(&Json::Bool(true)));
        assert_eq!(out.debug.get("cap"), Some(&Json::Float(f64::from(0.4f32))));
        assert_eq!(grids[0].values, vec![0.4, 0.4]);
        // Each cell covers 28 x 14 pixels.
        assert_eq!(
            out.debug.get("changed_pixels"),
            Some(&Json::Int(2 * 28 * 14))
        );
        // Only I frames: nothing happens.
        let out = clip_iframes(&mut grids[..1], &maps[..1], &[true], 95.0);
        assert_eq!(out.debug.get("applied"), Some(&Json::Bool(false)));
    }

    #[test]
    fn bad_frames() {
        let frame = |f: &dyn Fn(usize) -> [u8; 3]| -> Vec<u8> { (0..400).flat_map(f).collect() };
        assert!(frame_is_bad(&frame(&|_| [0, 0, 0])));
        assert!(frame_is_bad(&frame(&|i| [(i % 3) as u8 + 5, 5, 5])));
        assert!(frame_is_bad(&frame(&|_| [128, 128, 128])));
        assert!(frame_is_bad(&frame(&|i| if i % 2 == 0 {
            [20, 200, 20]
        } else {
            [(i % 256) as u8, (i * 7 % 256) as u8, (i * 13 % 256) as u8]
        })));
        assert!(frame_is_bad(&frame(&|i| [10, 150 + (i % 40) as u8, 20])));
        assert!(!frame_is_bad(&frame(&|i| [
            (i % 256) as u8,
            (i * 7 % 256) as u8,
            (i * 13 % 256) as u8
        ])));
        assert!(frame_is_bad(&[]));
    }

    /// §9.5 computed pixel by pixel in floating point, as the reference's numpy code does.
    fn frame_is_bad_direct(bgr: &[u8]) -> bool {
        let px: Vec<[f64; 4]> = bgr
            .chunks_exact(3)
            .map(|p| {
                let (b, g, r) = (u32::from(p[0]), u32::from(p[1]), u32::from(p[2]));
                let y = ((1868 * b + 9617 * g + 4899 * r + 8192) >> 14).min(255);
                [b, g, r, y].map(f64::from)
            })
            .collect();
        let n = px.len() as f64;
        let mean = |c: usize| px.iter().map(|p| p[c]).sum::<f64>() / n;
        let std = |c: usize| {
            let m = mean(c);
            (px.iter().map(|p| (p[c] - m).powi(2)).sum::<f64>() / n).sqrt()
        };
        let range = |c: usize| {
            let (lo, hi) = px.iter().fold((255.0f64, 0.0f64), |(lo, hi), p| {
                (lo.min(p[c]), hi.max(p[c]))
            });
            hi - lo
        };
        let green = px
            .iter()
            .filter(|p| p[1] >= 180.0 && p[2] <= 90.0 && p[0] <= 90.0)
            .count() as f64;
        (mean(3) <= 8.0 && std(3) <= 6.0)
            || (std(3) <= 4.0 && (0..3).all(|c| std(c) <= 4.0 && range(c) <= 12.0))
            || green / n >= 0.35
            || (mean(1) > 120.0 && mean(1) - mean(2).max(mean(0)) > 80.0 && std(1) < 50.0)
    }

    #[test]
    fn bad_frame_histograms_agree_with_the_direct_computation() {
        // Pictures near each threshold (dark, flat, green), odd and even pixel counts.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |range: u32| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % u64::from(range.max(1))) as u8
        };
        let mut verdicts = [0usize; 2];
        for case in 0..120usize {
            let pixels = 301 + case % 2;
            let (base, spread) = match case % 4 {
                0 => ([2u8, 2, 2], 14),
                1 => ([120, 120, 120], 9),
                2 => ([30, 190, 30], 70),
                _ => ([60, 150, 40], 120),
            };
            let bgr: Vec<u8> = (0..pixels * 3)
                .map(|i| base[i % 3].saturating_add(next(spread + case as u32 % 7)))
                .collect();
            let bad = frame_is_bad(&bgr);
            assert_eq!(bad, frame_is_bad_direct(&bgr), "case {case}");
            verdicts[usize::from(bad)] += 1;
        }
        assert!(verdicts[0] > 10 && verdicts[1] > 10, "{verdicts:?}");
    }
}
