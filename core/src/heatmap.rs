//! Bit-cost heat maps for people who would rather look than read: the frame in grey, its
//! bit-cost map drawn over it in colour (dark purple where the encoder spent few bits, yellow
//! where it spent the most), and a small colour bar in the lower left corner.
//!
//! The map is normalised per frame like the preinfer scores (`log1p` of the bits, divided by
//! the 99th percentile, capped at 1) and drawn over the picture area each cell codes.

use crate::map::BitcostMap;
use crate::preinfer::score::{ScoreGrid, cost_grid, normalize};
use crate::preinfer::{BitcostGrid, Compat};

/// Which grid of the map to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeatGrid {
    /// The 4x4-pixel sub-grid (fine detail).
    #[default]
    Sub,
    /// The codec's blocks: H.264 macroblocks, HEVC CTUs, VP9 superblocks.
    Cells,
}

/// Colour ramp anchors (low to high), interpolated linearly: black, purple, red, orange, pale
/// yellow.
const RAMP: [[f32; 3]; 5] = [
    [0.0, 0.0, 4.0],
    [87.0, 16.0, 110.0],
    [188.0, 55.0, 84.0],
    [249.0, 142.0, 9.0],
    [252.0, 255.0, 164.0],
];

/// Opacity of the colour over the grey picture, at the lowest and the highest cost.
const ALPHA_LOW: f32 = 0.35;
const ALPHA_HIGH: f32 = 0.8;

/// The ramp's colour for `v` in `0..=1`.
pub fn ramp(v: f32) -> [f32; 3] {
    let x = v.clamp(0.0, 1.0) * (RAMP.len() - 1) as f32;
    let i = (x as usize).min(RAMP.len() - 2);
    let f = x - i as f32;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    [0, 1, 2].map(|c| a[c] + (b[c] - a[c]) * f)
}

/// The map's chosen grid, normalised to `0..=1`.
pub fn normalised_grid(map: &BitcostMap, grid: HeatGrid) -> ScoreGrid {
    let kind = match grid {
        HeatGrid::Sub => BitcostGrid::Sub,
        HeatGrid::Cells => BitcostGrid::Mb,
    };
    // Corrected geometry: no H.264 padding column, cells where they are coded.
    let mut scores = cost_grid(map, kind, Compat::None);
    normalize(&mut scores, 99.0, true);
    scores
}

/// Draws `map` over the packed RGB picture `rgb` (`width` x `height`), in place. The map
/// covers its own picture size (`map.width()` x `map.height()`), scaled to the picture's.
pub fn overlay(rgb: &mut [u8], width: usize, height: usize, map: &BitcostMap, grid: HeatGrid) {
    let scores = normalised_grid(map, grid);
    let (map_w, map_h) = (map.width().max(1) as usize, map.height().max(1) as usize);
    let cell = scores.cell_px.max(1);
    // Column of the score grid under each picture column.
    let col_of: Vec<Option<usize>> = (0..width)
        .map(|x| Some(x * map_w / width.max(1) / cell).filter(|&c| c < scores.cols))
        .collect();
    for (y, row) in rgb.chunks_exact_mut(width * 3).take(height).enumerate() {
        let r = y * map_h / height.max(1) / cell;
        for (px, col) in row.chunks_exact_mut(3).zip(&col_of) {
            let v = match col {
                Some(c) if r < scores.rows => scores.values[r * scores.cols + c],
                _ => 0.0,
            };
            blend(px, v);
        }
    }
    draw_legend(rgb, width, height);
}

/// Grey of the pixel, with the ramp colour of `v` over it.
fn blend(px: &mut [u8], v: f32) {
    let grey = (77 * u32::from(px[0]) + 150 * u32::from(px[1]) + 29 * u32::from(px[2])) >> 8;
    let grey = grey as f32;
    let colour = ramp(v);
    let alpha = ALPHA_LOW + (ALPHA_HIGH - ALPHA_LOW) * v.clamp(0.0, 1.0);
    for (c, out) in px.iter_mut().enumerate() {
        *out = (grey * (1.0 - alpha) + colour[c] * alpha)
            .round()
            .clamp(0.0, 255.0) as u8;
    }
}

/// A colour bar from low (left) to high (right) cost in the lower left corner, framed in
/// white; left out on pictures too small to hold it.
fn draw_legend(rgb: &mut [u8], width: usize, height: usize) {
    let (bar_w, bar_h, margin) = ((width / 4).min(192), (height / 40).clamp(6, 14), 6);
    if bar_w < 24 || height < bar_h + 2 * margin + 2 {
        return;
    }
    let (x0, y0) = (margin, height - margin - bar_h - 2);
    for dy in 0..bar_h + 2 {
        for dx in 0..bar_w + 2 {
            let border = dy == 0 || dx == 0 || dy == bar_h + 1 || dx == bar_w + 1;
            let colour = if border {
                [255.0; 3]
            } else {
                ramp((dx - 1) as f32 / (bar_w - 1) as f32)
            };
            let i = ((y0 + dy) * width + x0 + dx) * 3;
            for c in 0..3 {
                rgb[i + c] = colour[c].round() as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::{Codec, test_map};

    /// H.264 macroblocks, `rows x cols` of them.
    fn map_with(cells: Vec<i32>, rows: u32, cols: u32) -> BitcostMap {
        test_map(Codec::H264, 16, cols * 16, rows * 16, cols, rows, cells)
    }

    #[test]
    fn ramp_runs_from_dark_to_light() {
        assert_eq!(ramp(0.0), RAMP[0]);
        assert_eq!(ramp(1.0), RAMP[4]);
        assert_eq!(ramp(2.0), RAMP[4]);
        let lum = |c: [f32; 3]| c[0] + c[1] + c[2];
        let steps: Vec<f32> = (0..=10).map(|i| lum(ramp(i as f32 / 10.0))).collect();
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
    }

    #[test]
    fn costly_blocks_are_drawn_brighter() {
        // 2x2 macroblocks: one expensive, three cheap; a mid-grey picture of 32x32.
        let map = map_with(vec![4000, 10, 10, 10], 2, 2);
        let mut rgb = vec![128u8; 32 * 32 * 3];
        overlay(&mut rgb, 32, 32, &map, HeatGrid::Cells);
        let at = |x: usize, y: usize| {
            let i = (y * 32 + x) * 3;
            u32::from(rgb[i]) + u32::from(rgb[i + 1]) + u32::from(rgb[i + 2])
        };
        assert!(at(4, 4) > at(20, 4) + 100, "{} vs {}", at(4, 4), at(20, 4));
        assert_eq!(at(20, 4), at(4, 20));
        // Scaled pictures use the same cells.
        let mut small = vec![128u8; 16 * 16 * 3];
        overlay(&mut small, 16, 16, &map, HeatGrid::Cells);
        assert_eq!(&small[..3], &rgb[..3]);
    }

    #[test]
    fn legend_only_on_pictures_that_hold_it() {
        let map = map_with(vec![0; 4 * 8], 4, 8);
        let mut rgb = vec![0u8; 128 * 64 * 3];
        overlay(&mut rgb, 128, 64, &map, HeatGrid::Sub);
        // The white frame of the colour bar.
        let i = ((64 - 6 - 8) * 128 + 6) * 3;
        assert_eq!(&rgb[i..i + 3], &[255, 255, 255]);
        let mut tiny = vec![0u8; 20 * 20 * 3];
        overlay(&mut tiny, 20, 20, &map_with(vec![0], 1, 1), HeatGrid::Sub);
        assert!(tiny.iter().all(|&v| v != 255));
    }
}
