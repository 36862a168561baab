//! Canvas packing (§13.2, §13.5): the anchor frame whole, then the selected blocks in time
//! order, `block_raster` packed into `images_per_group` canvases; and the source position
//! of every canvas patch (`src_patch_position.npy`).

use super::geometry::Geometry;
use super::select::{Candidate, Selection, select_blocks};

/// Where one canvas patch comes from: group position `t` and the patch cell in that frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatchSource {
    pub t: usize,
    pub ph: usize,
    pub pw: usize,
}

/// §13.2: the position to swap with position 0 when the anchor frame is bad (the first good
/// frame), or `None`.
pub fn anchor_swap(good: &[bool]) -> Option<usize> {
    match good.first() {
        Some(false) => good.iter().position(|&g| g),
        _ => None,
    }
}

/// Canvas cell (canvas, ph, pw) of patch number `q` of a group in `block_raster` packing.
pub fn packed_cell(q: usize, geom: &Geometry) -> (usize, usize, usize) {
    let s = geom.s_full();
    let b = geom.block;
    let bb = b * b;
    let cols = geom.block_cols();
    let (canvas, r) = (q / s, q % s);
    let slot = r / bb;
    let (dh, dw) = ((r % bb) / b, (r % bb) % b);
    (canvas, (slot / cols) * b + dh, (slot % cols) * b + dw)
}

/// The sources of all `images_per_group * S_full` canvas patches of a group, in canvas
/// raster order (`None` = black padding). `frame_ids[t]` is the source frame of position
/// `t` (after the anchor swap); `selected` the chosen blocks.
pub fn layout_group(
    selected: &[Candidate],
    frame_ids: &[usize],
    geom: &Geometry,
    images_per_group: usize,
) -> Vec<Option<PatchSource>> {
    let b = geom.block;
    let cols = geom.block_cols();
    let block_patches = |t: usize, block: usize| {
        let (bh, bw) = (block / cols, block % cols);
        (0..b * b).map(move |i| PatchSource {
            t,
            ph: bh * b + i / b,
            pw: bw * b + i % b,
        })
    };
    let mut order: Vec<(usize, usize)> = selected
        .iter()
        .map(|c| (c.t as usize, c.block as usize))
        .collect();
    order.sort_by_key(|&(t, block)| (frame_ids[t], block / cols, block % cols, t));
    let total = images_per_group * geom.s_full();
    let mut cells = vec![None; total];
    let sources = (0..geom.blocks_per_frame())
        .flat_map(|block| block_patches(0, block))
        .chain(
            order
                .into_iter()
                .flat_map(|(t, block)| block_patches(t, block)),
        );
    for (q, source) in sources.enumerate().take(total) {
        let (canvas, ph, pw) = packed_cell(q, geom);
        cells[canvas * geom.s_full() + ph * geom.wb + pw] = Some(source);
    }
    cells
}

/// Renders a group's canvases as packed RGB (`hb*p` rows of `wb*p*3` bytes each) from the
/// group's BGR frames at the processed size, and returns `[frame id, ph, pw]` per canvas
/// cell (`[-1, -1, -1]` for padding).
pub fn render_group(
    layout: &[Option<PatchSource>],
    frames: &[&[u8]],
    frame_ids: &[usize],
    geom: &Geometry,
) -> (Vec<Vec<u8>>, Vec<[i32; 3]>) {
    let p = geom.patch;
    let s = geom.s_full();
    let width = geom.wb * p;
    let row_bytes = width * 3;
    let frame_row_bytes = geom.processed_w * 3;
    let canvases_n = layout.len() / s;
    let mut canvases = vec![vec![0u8; geom.hb * p * row_bytes]; canvases_n];
    let mut positions = Vec::with_capacity(layout.len());
    for (cell, source) in layout.iter().enumerate() {
        let Some(src) = source else {
            positions.push([-1, -1, -1]);
            continue;
        };
        positions.push([frame_ids[src.t] as i32, src.ph as i32, src.pw as i32]);
        let (canvas, r) = (cell / s, cell % s);
        let (ph, pw) = (r / geom.wb, r % geom.wb);
        let frame = frames[src.t];
        let out = &mut canvases[canvas];
        for dy in 0..p {
            let src_row = (src.ph * p + dy) * frame_row_bytes + src.pw * p * 3;
            let dst_row = (ph * p + dy) * row_bytes + pw * p * 3;
            let src_px = &frame[src_row..src_row + p * 3];
            let dst_px = &mut out[dst_row..dst_row + p * 3];
            for (d, s) in dst_px.chunks_exact_mut(3).zip(src_px.chunks_exact(3)) {
                d[0] = s[2];
                d[1] = s[1];
                d[2] = s[0];
            }
        }
    }
    (canvases, positions)
}

/// A group's canvases and how they were chosen (§13.2-13.5).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedGroup {
    /// Group positions in canvas order: `0..len` with the anchor swap applied.
    pub order: Vec<usize>,
    /// Source frame id of each entry of `order`.
    pub frame_ids: Vec<usize>,
    pub selection: Selection,
    pub layout: Vec<Option<PatchSource>>,
    /// Packed RGB canvases, `hb*p` rows of `wb*p*3` bytes.
    pub canvases: Vec<Vec<u8>>,
    /// `[frame id, ph, pw]` per canvas cell (`-1` for padding).
    pub positions: Vec<[i32; 3]>,
}

/// Anchor swap, top-`budget` selection, packing and rendering of one group, given per
/// group position its frame id, BGR pixels at the processed size, block scores and
/// whether it is good.
pub fn pack_group(
    frame_ids: &[usize],
    frames: &[&[u8]],
    scores: &[&[f32]],
    good: &[bool],
    geom: &Geometry,
    images_per_group: usize,
    budget: usize,
) -> PackedGroup {
    let mut order: Vec<usize> = (0..frame_ids.len()).collect();
    if let Some(swap) = anchor_swap(good) {
        order.swap(0, swap);
    }
    let ids: Vec<usize> = order.iter().map(|&p| frame_ids[p]).collect();
    let window: Vec<&[f32]> = order.iter().map(|&p| scores[p]).collect();
    let good: Vec<bool> = order.iter().map(|&p| good[p]).collect();
    let frames: Vec<&[u8]> = order.iter().map(|&p| frames[p]).collect();
    let selection = select_blocks(&window, &good, budget);
    let layout = layout_group(&selection.blocks, &ids, geom, images_per_group);
    let (canvases, positions) = render_group(&layout, &frames, &ids, geom);
    PackedGroup {
        order,
        frame_ids: ids,
        selection,
        layout,
        canvases,
        positions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preinfer::geometry::{ResizeRule, resolve_geometry};

    fn geom() -> Geometry {
        // 56 x 84 with patch 14, block 2: 4 x 6 patches, 2 x 3 blocks, S = 24.
        resolve_geometry(56, 84, 14, 2, ResizeRule::NoResize).unwrap()
    }

    #[test]
    fn anchor_is_swapped_with_the_first_good_frame() {
        assert_eq!(anchor_swap(&[false, false, true, true]), Some(2));
        assert_eq!(anchor_swap(&[true, false]), None);
        assert_eq!(anchor_swap(&[false, false]), None);
        assert_eq!(anchor_swap(&[]), None);
    }

    #[test]
    fn block_raster_packing() {
        let g = geom();
        assert_eq!(packed_cell(0, &g), (0, 0, 0));
        assert_eq!(packed_cell(3, &g), (0, 1, 1));
        assert_eq!(packed_cell(4, &g), (0, 0, 2));
        assert_eq!(packed_cell(12, &g), (0, 2, 0));
        assert_eq!(packed_cell(24, &g), (1, 0, 0));
    }

    #[test]
    fn anchor_canvas_is_the_anchor_frame_and_blocks_follow_in_time_order() {
        let g = geom();
        let c = |t: u32, block: u32| Candidate {
            score: 1.0,
            t,
            block,
        };
        // Selected best-first; packing sorts by (frame id, bh, bw).
        let selected = [c(2, 0), c(1, 5), c(1, 1)];
        let ids = [10, 11, 12];
        let layout = layout_group(&selected, &ids, &g, 2);
        assert_eq!(layout.len(), 48);
        // Canvas 0 = anchor in place.
        for (i, cell) in layout[..24].iter().enumerate() {
            assert_eq!(
                *cell,
                Some(PatchSource {
                    t: 0,
                    ph: i / 6,
                    pw: i % 6
                })
            );
        }
        // Canvas 1, slot 0 = frame 11 block 1 (bh 0, bw 1): patches (0,2),(0,3),(1,2),(1,3).
        assert_eq!(layout[24], Some(PatchSource { t: 1, ph: 0, pw: 2 }));
        assert_eq!(layout[24 + 7], Some(PatchSource { t: 1, ph: 1, pw: 3 }));
        // Slot 1 = frame 11 block 5 (bh 1, bw 2): at canvas cells (0,2),(0,3),(1,2),(1,3).
        assert_eq!(layout[24 + 2], Some(PatchSource { t: 1, ph: 2, pw: 4 }));
        // Slot 2 = frame 12 block 0.
        assert_eq!(layout[24 + 4], Some(PatchSource { t: 2, ph: 0, pw: 0 }));
        // The rest is padding.
        assert_eq!(layout.iter().filter(|c| c.is_none()).count(), 24 - 12);
        assert_eq!(layout[24 + 12], None);
    }

    #[test]
    fn rendering_converts_bgr_to_rgb_and_reports_positions() {
        let g = geom();
        let frame_a: Vec<u8> = (0..56 * 84).flat_map(|i| [(i % 251) as u8, 1, 2]).collect();
        let frame_b = vec![9u8; 56 * 84 * 3];
        let layout = layout_group(
            &[Candidate {
                score: 1.0,
                t: 1,
                block: 4,
            }],
            &[7, 8],
            &g,
            2,
        );
        let (canvases, positions) = render_group(&layout, &[&frame_a, &frame_b], &[7, 8], &g);
        assert_eq!(canvases.len(), 2);
        assert_eq!(canvases[0].len(), 56 * 84 * 3);
        // Anchor pixel (y 20, x 30) in RGB order.
        let i = 20 * 84 + 30;
        assert_eq!(&canvases[0][i * 3..i * 3 + 3], &[2, 1, (i % 251) as u8]);
        assert_eq!(positions[0], [7, 0, 0]);
        assert_eq!(positions[24], [8, 2, 2]);
        assert_eq!(positions[47], [-1, -1, -1]);
        assert_eq!(canvases[1][0], 9);
        assert_eq!(*canvases[1].last().unwrap(), 0);
    }
}
