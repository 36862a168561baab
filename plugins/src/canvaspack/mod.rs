//! `canvaspack`: selects the top-K 2x2 (`block-size`) patch blocks of each group that
//! `readinessgroup` outputs and packs them into canvases exactly as `codec-video-prep`
//! does (anchor frame whole, then the selected blocks in time order), one
//! `video/x-raw,format=RGB` buffer per canvas, so `pngenc ! multifilesink` writes the CLI's
//! `canvas_%03d.png` files.
//!
//! ```text
//! gst-launch-1.0 filesrc location=clip.mp4 ! qtdemux ! h264parse ! bitcostdec \
//!     ! readinessgroup ! canvaspack ! pngenc ! multifilesink location=canvas_%03d.png
//! ```
//!
//! Where each patch comes from travels with the canvas: before each canvas buffer a custom
//! downstream event `codecprep-canvas` and, on the bus, an element message of the same
//! structure: `canvas-index` (over the whole stream, as the CLI numbers its files),
//! `group-index`, `frame-ids` of the group, and `positions`, a buffer of little-endian i32
//! triples `[frame, patch row, patch col]` per canvas patch in raster order (`-1` for
//! black padding), the rows of the CLI's `src_patch_position.npy`.
//!
//! The canvas size, the number of canvases and the block budget come from
//! `readinessgroup` (its caps and group events), so the two always agree. No properties.

mod imp;

use gst::glib;
use gst::prelude::*;

/// Name of the canvas event and message structure.
pub const CANVAS_STRUCTURE: &str = "codecprep-canvas";

glib::wrapper! {
    pub struct CanvasPack(ObjectSubclass<imp::CanvasPack>)
        @extends gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "canvaspack",
        gst::Rank::NONE,
        CanvasPack::static_type(),
    )
}
