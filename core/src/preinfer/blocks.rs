//! Patch and block scores (§9.6): the score map summed over each patch, patches summed
//! over each `b x b` block, flattened in block-raster order.

use super::geometry::Geometry;
use super::score::{Mapping, OUTSIDE, ScoreGrid};

/// Runs of equal source indices along one patch: (source index, pixel count).
fn runs(axis: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &i in axis {
        match out.last_mut() {
            Some((last, count)) if *last == i => *count += 1,
            _ => out.push((i, 1)),
        }
    }
    out
}

/// §9.6: patch scores (sum of the patch's pixels) and block scores (sum of the block's
/// patches), both float32, flattened in block-raster order. Sums are exact in float64 and
/// rounded once per patch and once per block.
pub fn block_scores(grid: &ScoreGrid, mapping: &Mapping, geom: &Geometry) -> Vec<f32> {
    let p = geom.patch;
    let row_runs: Vec<Vec<(u32, u32)>> = (0..geom.hb)
        .map(|ph| runs(&mapping.rows[ph * p..(ph + 1) * p]))
        .collect();
    let col_runs: Vec<Vec<(u32, u32)>> = (0..geom.wb)
        .map(|pw| runs(&mapping.cols[pw * p..(pw + 1) * p]))
        .collect();
    let mut patches = vec![0f32; geom.hb * geom.wb];
    for (ph, rr) in row_runs.iter().enumerate() {
        for (pw, cr) in col_runs.iter().enumerate() {
            let mut sum = 0f64;
            for &(r, rn) in rr {
                if r == OUTSIDE {
                    continue;
                }
                let row = &grid.values[r as usize * grid.cols..(r as usize + 1) * grid.cols];
                for &(c, cn) in cr {
                    if c != OUTSIDE {
                        sum += f64::from(row[c as usize]) * f64::from(rn * cn);
                    }
                }
            }
            patches[ph * geom.wb + pw] = sum as f32;
        }
    }
    let b = geom.block;
    let mut blocks = Vec::with_capacity(geom.blocks_per_frame());
    for bh in 0..geom.block_rows() {
        for bw in 0..geom.block_cols() {
            let mut sum = 0f64;
            for dh in 0..b {
                for dw in 0..b {
                    sum += f64::from(patches[(bh * b + dh) * geom.wb + bw * b + dw]);
                }
            }
            blocks.push(sum as f32);
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preinfer::geometry::{ResizeRule, resolve_geometry};
    use crate::preinfer::score::tests::grid;
    use crate::preinfer::score::upsample;

    #[test]
    fn block_scores_equal_sums_over_the_upsampled_map() {
        let geom = resolve_geometry(72, 88, 14, 2, ResizeRule::MaxPixels(153_664)).unwrap();
        // 72x88 -> round to 28: 84x84, 6x6 patches, 3x3 blocks
        assert_eq!((geom.processed_h, geom.processed_w), (84, 84));
        let values: Vec<f32> = (0..5 * 7).map(|i| (i % 11) as f32 / 10.0).collect();
        let g = grid(5, 7, values, 16);
        let m = Mapping::reference(5, 7, &geom);
        let blocks = block_scores(&g, &m, &geom);
        let up = upsample(&g, &m);
        assert_eq!(blocks.len(), 9);
        for bh in 0..3 {
            for bw in 0..3 {
                let mut s = 0f64;
                for y in bh * 28..(bh + 1) * 28 {
                    for x in bw * 28..(bw + 1) * 28 {
                        s += f64::from(up[y * 84 + x]);
                    }
                }
                assert!(
                    (f64::from(blocks[bh * 3 + bw]) - s).abs() < 1e-3,
                    "{bh} {bw}"
                );
            }
        }
    }

    #[test]
    fn blocks_follow_block_raster_order() {
        // 2 x 3 grid of distinct values on a 56 x 84 frame, patch 14, block 2: each grid
        // cell is exactly one block.
        let geom = resolve_geometry(56, 84, 14, 2, ResizeRule::NoResize).unwrap();
        let g = grid(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 28);
        let m = Mapping::reference(2, 3, &geom);
        let blocks = block_scores(&g, &m, &geom);
        let per_block = 28.0 * 28.0;
        assert_eq!(
            blocks,
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
                .into_iter()
                .map(|v| v * per_block)
                .collect::<Vec<f32>>()
        );
    }
}
