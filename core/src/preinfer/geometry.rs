//! Processed frame size and patch grid (§5).

use super::npmath::round_half_even;

/// Smallest picture area `smart_resize` scales up to (56 x 56).
pub const MIN_PIXELS: usize = 56 * 56;
/// Largest accepted aspect ratio.
const MAX_ASPECT_RATIO: f64 = 200.0;

/// The processed frame size and its patch grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Source (display) size.
    pub orig_h: usize,
    pub orig_w: usize,
    /// Size after resizing, before padding.
    pub resize_h: usize,
    pub resize_w: usize,
    pub pad_bottom: usize,
    pub pad_right: usize,
    /// Size of the frames the job works on (resize + padding).
    pub processed_h: usize,
    pub processed_w: usize,
    /// Patch side in pixels.
    pub patch: usize,
    /// Blocks are `block x block` patches.
    pub block: usize,
    /// Patch rows and columns.
    pub hb: usize,
    pub wb: usize,
}

impl Geometry {
    /// Patches per canvas.
    pub fn s_full(&self) -> usize {
        self.hb * self.wb
    }

    /// Block columns of the grid.
    pub fn block_cols(&self) -> usize {
        self.wb / self.block
    }

    pub fn block_rows(&self) -> usize {
        self.hb / self.block
    }

    /// Blocks per frame.
    pub fn blocks_per_frame(&self) -> usize {
        self.block_rows() * self.block_cols()
    }

    /// Blocks selected per group: the canvases after the anchor, in blocks.
    pub fn block_budget(&self, images_per_group: usize) -> usize {
        let s = self.s_full();
        (images_per_group * s).saturating_sub(s) / (self.block * self.block)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    #[error("the video has no picture size ({width}x{height})")]
    Empty { width: usize, height: usize },
    #[error(
        "extreme aspect ratio {width}x{height} (more than {MAX_ASPECT_RATIO}:1) cannot be resized"
    )]
    ExtremeAspectRatio { width: usize, height: usize },
}

/// How the frame size is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeRule {
    /// Qwen-VL style: multiples of the factor, area at most `max_pixels`.
    MaxPixels(usize),
    /// Longest side at most `max_dim` (the rule for `max_pixels <= 0`).
    MaxDim(usize),
    /// Source size, padded to multiples of the factor.
    NoResize,
}

/// `smart_resize`: sides rounded to multiples of `factor`; shrunk to at most `max_pixels`
/// (floor), grown to at least [`MIN_PIXELS`] (ceil); never below `factor`.
pub fn smart_resize(
    h: usize,
    w: usize,
    factor: usize,
    max_pixels: usize,
) -> Result<(usize, usize), GeometryError> {
    if h == 0 || w == 0 {
        return Ok((0, 0));
    }
    if h.max(w) as f64 / h.min(w).max(1) as f64 > MAX_ASPECT_RATIO {
        return Err(GeometryError::ExtremeAspectRatio {
            width: w,
            height: h,
        });
    }
    let f = factor as f64;
    let (hf, wf) = (h as f64, w as f64);
    let area = h * w;
    let (mut h2, mut w2) = (round_half_even(hf / f) * f, round_half_even(wf / f) * f);
    if area > max_pixels {
        let beta = (area as f64 / max_pixels as f64).sqrt();
        h2 = (hf / beta / f).floor() * f;
        w2 = (wf / beta / f).floor() * f;
    } else if area < MIN_PIXELS {
        let beta = (MIN_PIXELS as f64 / area.max(1) as f64).sqrt();
        h2 = (hf * beta / f).ceil() * f;
        w2 = (wf * beta / f).ceil() * f;
    }
    Ok(((h2 as usize).max(factor), (w2 as usize).max(factor)))
}

/// The `max_dim` rule: scale so the longest side is at most `max_dim`, round each side to a
/// multiple of `factor`, clamp to `factor..=max_dim`, then floor to a multiple of `factor`.
pub fn max_dim_resize(h: usize, w: usize, factor: usize, max_dim: usize) -> (usize, usize) {
    let scale = (max_dim as f64 / h.max(w).max(1) as f64).min(1.0);
    let side = |v: usize| {
        let rounded = round_half_even(v as f64 * scale / factor as f64) as usize * factor;
        let clamped = rounded.clamp(factor, max_dim.max(factor));
        (clamped / factor * factor).max(factor)
    };
    (side(h), side(w))
}

/// The processed size and grid of an `h x w` video.
pub fn resolve_geometry(
    h: usize,
    w: usize,
    patch: usize,
    block: usize,
    rule: ResizeRule,
) -> Result<Geometry, GeometryError> {
    if h == 0 || w == 0 {
        return Err(GeometryError::Empty {
            width: w,
            height: h,
        });
    }
    let patch = patch.max(1);
    let block = block.max(1);
    let factor = patch * block;
    let (resize_h, resize_w) = match rule {
        ResizeRule::MaxPixels(max_pixels) => smart_resize(h, w, factor, max_pixels)?,
        ResizeRule::MaxDim(max_dim) => max_dim_resize(h, w, factor, max_dim),
        ResizeRule::NoResize => (h, w),
    };
    let pad_bottom = (factor - resize_h % factor) % factor;
    let pad_right = (factor - resize_w % factor) % factor;
    let processed_h = resize_h + pad_bottom;
    let processed_w = resize_w + pad_right;
    Ok(Geometry {
        orig_h: h,
        orig_w: w,
        resize_h,
        resize_w,
        pad_bottom,
        pad_right,
        processed_h,
        processed_w,
        patch,
        block,
        hb: processed_h / patch,
        wb: processed_w / patch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn processed(h: usize, w: usize, rule: ResizeRule) -> (usize, usize, usize, usize) {
        let g = resolve_geometry(h, w, 14, 2, rule).unwrap();
        (g.processed_h, g.processed_w, g.s_full(), g.block_budget(4))
    }

    #[test]
    fn table_of_the_reference_spec() {
        let mp = ResizeRule::MaxPixels(153_664);
        assert_eq!(processed(720, 1280, mp), (280, 504, 720, 540));
        assert_eq!(processed(1080, 1920, mp), (280, 504, 720, 540));
        assert_eq!(processed(272, 640, mp), (252, 588, 756, 567));
        assert_eq!(processed(144, 176, mp), (140, 168, 120, 90));
        assert_eq!(processed(143, 175, mp), (140, 168, 120, 90));
        assert_eq!(processed(240, 320, mp), (252, 308, 396, 297));
        assert_eq!(
            processed(720, 1280, ResizeRule::MaxDim(616)),
            (336, 616, 1056, 792)
        );
    }

    #[test]
    fn tiny_pictures_grow_to_the_minimum_area() {
        // 20x20 = 400 < 3136: beta = 2.8, ceil(56/28) * 28 = 56
        let g = resolve_geometry(20, 20, 14, 2, ResizeRule::MaxPixels(153_664)).unwrap();
        assert_eq!((g.processed_h, g.processed_w), (56, 56));
        // Never below one factor.
        let g = resolve_geometry(2, 3, 14, 2, ResizeRule::MaxDim(616)).unwrap();
        assert_eq!((g.processed_h, g.processed_w), (28, 28));
    }

    #[test]
    fn no_resize_pads_to_the_factor() {
        let g = resolve_geometry(143, 175, 14, 2, ResizeRule::NoResize).unwrap();
        assert_eq!((g.resize_h, g.resize_w), (143, 175));
        assert_eq!((g.pad_bottom, g.pad_right), (25, 21));
        assert_eq!((g.hb, g.wb), (12, 14));
    }

    #[test]
    fn block_and_patch_change_the_grid() {
        let g = resolve_geometry(240, 320, 16, 3, ResizeRule::MaxPixels(153_664)).unwrap();
        assert_eq!(g.processed_h % 48, 0);
        assert_eq!(g.hb % 3, 0);
        assert_eq!(g.block_budget(1), 0);
        assert_eq!(g.block_budget(8), 7 * g.s_full() / 9);
    }

    #[test]
    fn refuses_extreme_aspect_ratios_and_empty_pictures() {
        assert!(matches!(
            resolve_geometry(2, 500, 14, 2, ResizeRule::MaxPixels(153_664)),
            Err(GeometryError::ExtremeAspectRatio { .. })
        ));
        assert!(matches!(
            resolve_geometry(0, 500, 14, 2, ResizeRule::MaxPixels(1)),
            Err(GeometryError::Empty { .. })
        ));
    }
}
