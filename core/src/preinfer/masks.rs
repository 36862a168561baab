//! Mask videos (`save_mask_video`, §14.5): for each sampled frame, the frame with everything
//! black except the patches its group's canvases show (`sampled_masked_only.mp4`), and the
//! frame and that masked frame side by side (`sampled_masked_sbs.mp4`), at the processed size,
//! `video_fps` frames per second (else `sample_fps`).
//!
//! The reference pairs frames and masks by zipping the sampled frames with the masks of the
//! processed groups, concatenated in each group's window order. Frames and masks drift apart
//! when a group's anchor frame was swapped or a group was skipped, and the video ends after
//! the last processed group's frame count. `compat: none` gives every sampled frame its own
//! mask (black where no canvas shows it), for all sampled frames.

use super::canvas::PatchSource;
use super::config::Compat;
use super::geometry::Geometry;

/// The kept patches of each window position of one group (`keep[t][ph * wb + pw]`): every
/// patch its canvases show.
pub fn keep_masks(
    layout: &[Option<PatchSource>],
    positions: usize,
    geom: &Geometry,
) -> Vec<Vec<bool>> {
    let mut keep = vec![vec![false; geom.s_full()]; positions];
    for source in layout.iter().flatten() {
        keep[source.t][source.ph * geom.wb + source.pw] = true;
    }
    keep
}

/// One processed group's masks: `order[t]` is the sampled position shown at window position
/// `t` (after the anchor swap), `keep[t]` its mask.
#[derive(Debug, Clone, Default)]
pub struct GroupMasks {
    pub order: Vec<usize>,
    pub keep: Vec<Vec<bool>>,
}

/// The mask videos' frames: (sampled position, its mask; `None` = nothing kept).
pub fn pair_frames(
    groups: &[GroupMasks],
    sampled: usize,
    compat: Compat,
) -> Vec<(usize, Option<&[bool]>)> {
    match compat {
        Compat::Reference => groups
            .iter()
            .flat_map(|g| g.keep.iter().map(Vec::as_slice))
            .take(sampled)
            .enumerate()
            .map(|(i, keep)| (i, Some(keep)))
            .collect(),
        Compat::None => {
            let mut own: Vec<Option<&[bool]>> = vec![None; sampled];
            for g in groups {
                for (&position, keep) in g.order.iter().zip(&g.keep) {
                    own[position] = Some(keep);
                }
            }
            own.into_iter().enumerate().collect()
        }
    }
}

/// `frame` (packed 3-byte pixels at the processed size) with every patch not in `keep` black.
pub fn masked_frame(frame: &[u8], keep: Option<&[bool]>, geom: &Geometry) -> Vec<u8> {
    let mut out = vec![0u8; frame.len()];
    let Some(keep) = keep else {
        return out;
    };
    let (p, row_bytes) = (geom.patch, geom.processed_w * 3);
    for (cell, _) in keep.iter().enumerate().filter(|&(_, &k)| k) {
        let (ph, pw) = (cell / geom.wb, cell % geom.wb);
        for y in ph * p..(ph + 1) * p {
            let start = y * row_bytes + pw * p * 3;
            out[start..start + p * 3].copy_from_slice(&frame[start..start + p * 3]);
        }
    }
    out
}

/// `left` and `right` (same size) side by side.
pub fn side_by_side(left: &[u8], right: &[u8], width: usize) -> Vec<u8> {
    let row = width * 3;
    left.chunks_exact(row)
        .zip(right.chunks_exact(row))
        .flat_map(|(l, r)| l.iter().chain(r).copied())
        .collect()
}

/// `frame` (`width` x `height`) padded with black to even sides, as the 4:2:0 encoder needs;
/// returns the picture and its size.
pub fn even_sized(frame: Vec<u8>, width: usize, height: usize) -> (Vec<u8>, usize, usize) {
    let (w, h) = (width + width % 2, height + height % 2);
    if (w, h) == (width, height) {
        return (frame, w, h);
    }
    let mut out = vec![0u8; w * h * 3];
    for (dst, src) in out
        .chunks_exact_mut(w * 3)
        .zip(frame.chunks_exact(width * 3))
    {
        dst[..width * 3].copy_from_slice(src);
    }
    (out, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preinfer::geometry::{ResizeRule, resolve_geometry};

    /// 2 x 4 patches of 2 pixels (block 1), no resizing.
    fn geom() -> Geometry {
        resolve_geometry(4, 8, 2, 1, ResizeRule::NoResize).unwrap()
    }

    fn groups() -> Vec<GroupMasks> {
        let mask = |cells: &[usize]| (0..8).map(|c| cells.contains(&c)).collect::<Vec<_>>();
        vec![
            // Anchor swapped: window position 0 shows sampled position 1.
            GroupMasks {
                order: vec![1, 0, 2],
                keep: vec![mask(&[0, 1, 2, 3, 4, 5, 6, 7]), mask(&[3]), mask(&[])],
            },
            GroupMasks {
                order: vec![5, 6],
                keep: vec![mask(&[0]), mask(&[7])],
            },
        ]
    }

    #[test]
    fn reference_pairing_zips_in_window_order() {
        let g = groups();
        let pairs = pair_frames(&g, 8, Compat::Reference);
        assert_eq!(pairs.len(), 5);
        assert_eq!(pairs[0], (0, Some(g[0].keep[0].as_slice())));
        assert_eq!(pairs[3], (3, Some(g[1].keep[0].as_slice())));
        // Shorter sampling truncates.
        assert_eq!(pair_frames(&g, 2, Compat::Reference).len(), 2);
    }

    #[test]
    fn corrected_pairing_gives_every_frame_its_own_mask() {
        let g = groups();
        let pairs = pair_frames(&g, 8, Compat::None);
        assert_eq!(pairs.len(), 8);
        assert_eq!(pairs[0], (0, Some(g[0].keep[1].as_slice())));
        assert_eq!(pairs[1], (1, Some(g[0].keep[0].as_slice())));
        assert_eq!(pairs[3], (3, None));
        assert_eq!(pairs[6], (6, Some(g[1].keep[1].as_slice())));
    }

    #[test]
    fn masked_frames_keep_only_their_patches() {
        let g = geom();
        let frame: Vec<u8> = (0..4 * 8 * 3).map(|i| i as u8 + 1).collect();
        let keep: Vec<bool> = (0..8).map(|c| c == 5).collect();
        let masked = masked_frame(&frame, Some(&keep), &g);
        // Patch 5 = row 1, column 1: pixels (2..4, 2..4).
        for y in 0..4 {
            for x in 0..8 {
                let i = (y * 8 + x) * 3;
                let inside = (2..4).contains(&y) && (2..4).contains(&x);
                assert_eq!(masked[i] != 0, inside, "pixel {x},{y}");
            }
        }
        assert!(masked_frame(&frame, None, &g).iter().all(|&v| v == 0));
        let sbs = side_by_side(&frame, &masked, 8);
        assert_eq!(sbs.len(), frame.len() * 2);
        assert_eq!(&sbs[..24], &frame[..24]);
        assert_eq!(&sbs[24..48], &masked[..24]);
    }

    #[test]
    fn keep_masks_follow_the_layout() {
        let g = geom();
        let layout = vec![
            Some(PatchSource { t: 0, ph: 0, pw: 0 }),
            Some(PatchSource { t: 1, ph: 1, pw: 3 }),
            None,
        ];
        let keep = keep_masks(&layout, 2, &g);
        assert!(keep[0][0] && keep[1][7]);
        assert_eq!(keep.iter().flatten().filter(|&&k| k).count(), 2);
    }

    #[test]
    fn odd_sizes_are_padded_to_even() {
        let (out, w, h) = even_sized(vec![9; 3 * 3 * 3], 3, 3);
        assert_eq!((w, h), (4, 4));
        assert_eq!(&out[..12], &[9, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0]);
        assert!(out[36..].iter().all(|&v| v == 0));
        let (same, w, h) = even_sized(vec![1; 2 * 2 * 3], 2, 2);
        assert_eq!((same.len(), w, h), (12, 2, 2));
    }
}
