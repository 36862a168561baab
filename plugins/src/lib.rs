//! GStreamer plugin `codecprep`: per-block bit cost of H.264, HEVC and VP9 video in pipelines.
//!
//! - [`meta`]: the bit-cost `GstMeta` (`CodecPrepBitcostMetaAPI`) carrying a frame's maps.
//! - [`bitcostdec`]: a video decoder that attaches the meta to every frame, optionally without
//!   reconstructing pixels (`scan-only`).
//! - [`readinessgroup`]: samples, scores and groups the frames as `codec-video-prep` does.
//! - [`canvaspack`]: packs each group's best blocks into RGB canvases.
//! - [`blinkdedupe`]: drops frames too similar to the last kept one (perceptual hash and/or
//!   bit-cost activity).
//!
//! The decoding itself is `codecprep-core`'s (the patched FFmpeg, linked statically so it never
//! clashes with gst-libav's system libavcodec in the same process).

use gst::glib;

pub mod bitcostdec;
pub mod blinkdedupe;
pub mod canvaspack;
pub mod meta;
mod pads;
pub mod readinessgroup;

pub use meta::BitcostMeta;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    bitcostdec::register(plugin)?;
    readinessgroup::register(plugin)?;
    canvaspack::register(plugin)?;
    blinkdedupe::register(plugin)?;
    Ok(())
}

gst::plugin_define!(
    codecprep,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    // The project is LGPL-2.1-or-later; "LGPL" is the licence string GStreamer accepts.
    "LGPL",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    "https://codecprep.invalid/",
    env!("BUILD_REL_DATE")
);
