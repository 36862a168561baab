//! One sampled frame as the later stages need it: BGR pixels at the processed size, its score
//! grid, whether it is an I frame and whether it is usable as an anchor (§9.5).
//!
//! `run_preinfer` fills these from the file reader; the GStreamer element `readinessgroup`
//! fills them from decoded buffers, scaling the planes with [`crate::ffmpeg::PictureScaler`]
//! exactly as the reader does (swscale, SWS_AREA, BT.601, range from the pixel format), so
//! both produce the same pixels.

use super::config::{Compat, PreinferConfig};
use super::geometry::{Geometry, GeometryError, ResizeRule, resolve_geometry};
use super::score::{self, ScoreGrid};
use crate::map::BitcostMap;

/// A sampled frame's data (one per distinct frame id).
#[derive(Debug, Clone)]
pub struct PreparedFrame {
    /// Packed BGR at the processed size.
    pub pixels: Vec<u8>,
    pub iframe: bool,
    pub grid: ScoreGrid,
    /// Not black, solid or green-corrupted (§9.5).
    pub good: bool,
}

/// The processed size and patch grid of a `width` x `height` video under `config`.
pub fn frame_geometry(
    config: &PreinferConfig,
    width: usize,
    height: usize,
) -> Result<Geometry, GeometryError> {
    let rule = if config.no_resize {
        ResizeRule::NoResize
    } else if config.max_pixels > 0 {
        ResizeRule::MaxPixels(config.max_pixels as usize)
    } else {
        ResizeRule::MaxDim(config.max_dim.max(1) as usize)
    };
    resolve_geometry(height, width, config.patch_px(), config.block(), rule)
}

/// The size decoded pictures are scaled to before padding to the processed size: the
/// reference scales to the processed size; the corrected mode scales to the resized size and
/// pads (they differ only with `no_resize`).
pub fn scaled_size(compat: Compat, geom: &Geometry) -> (usize, usize) {
    match compat {
        Compat::Reference => (geom.processed_w, geom.processed_h),
        Compat::None => (geom.resize_w, geom.resize_h),
    }
}

/// Builds a sampled frame from its map and its BGR pixels at [`scaled_size`].
pub fn prepare_frame(
    map: &BitcostMap,
    pixels: Vec<u8>,
    iframe: bool,
    config: &PreinferConfig,
    geom: &Geometry,
) -> PreparedFrame {
    let grid = score::cost_grid(map, config.bitcost_grid, config.compat);
    let (w, h) = scaled_size(config.compat, geom);
    let pixels = pad_frame(pixels, w, h, geom.processed_w, geom.processed_h);
    PreparedFrame {
        good: !score::frame_is_bad(&pixels),
        pixels,
        iframe,
        grid,
    }
}

/// Zero-pads a packed BGR picture on the right and bottom.
fn pad_frame(pixels: Vec<u8>, w: usize, h: usize, out_w: usize, out_h: usize) -> Vec<u8> {
    if (w, h) == (out_w, out_h) {
        return pixels;
    }
    let mut out = vec![0u8; out_w * out_h * 3];
    for y in 0..h.min(out_h) {
        let n = w.min(out_w) * 3;
        out[y * out_w * 3..y * out_w * 3 + n].copy_from_slice(&pixels[y * w * 3..y * w * 3 + n]);
    }
    out
}
