//! `blinkdedupe`: drops video frames too similar to the last frame it kept, so a static scene
//! collapses to a few frames while every change gets through.
//!
//! ```text
//! gst-launch-1.0 filesrc location=clip.mp4 ! qtdemux ! h264parse ! bitcostdec \
//!     ! blinkdedupe mode=both threshold=4 max-interval=5000000000 ! videoconvert \
//!     ! jpegenc ! multifilesink location=kept-%05d.jpg
//! ```
//!
//! Similarity is measured against the last kept frame:
//!
//! - `hash`: the Hamming distance between the DCT perceptual hashes of the two frames' luma
//!   (codecprep-core's `PerceptualHasher`); a frame within `threshold` bits is dropped.
//! - `activity`: the bits per pixel the encoder spent since the last kept frame, summed from
//!   the bit-cost meta (`bitcostdec` upstream); a frame is dropped while the sum stays at or
//!   below `activity-threshold`. Keyframes cost many bits and are therefore kept. Frames
//!   without the meta are judged by their hash.
//! - `both`: dropped only when both say "similar".
//!
//! Properties: `mode` (default `hash`), `threshold` (hash bits, default 4), `hash-size` (bits
//! per side, even, 4..32, default 8), `activity-threshold` (bits per pixel, default 0.05),
//! `max-interval` (nanoseconds, default 5 s, 0 = none: a frame is always kept once this much
//! stream time passed since the last kept one), and the read-only counters `kept` and
//! `dropped`. Every dropped frame posts an element message `blinkdedupe-drop` with
//! `distance` (hash bits, when hashed), `activity` (bits per pixel since the last kept frame,
//! when the meta is present) and `pts` (nanoseconds, when the buffer has one).
//!
//! Input: 8-bit grey, YUV and RGB raw video (the luma, or the grey computed from RGB, is
//! hashed); buffers pass through untouched.

mod imp;

use gst::glib;
use gst::prelude::*;

glib::wrapper! {
    pub struct BlinkDedupe(ObjectSubclass<imp::BlinkDedupe>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

/// The `mode` property's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstBlinkDedupeMode")]
pub enum Mode {
    #[default]
    #[enum_value(
        name = "Hash: perceptual hash distance to the last kept frame",
        nick = "hash"
    )]
    Hash = 0,
    #[enum_value(
        name = "Activity: bit cost since the last kept frame (bit-cost meta)",
        nick = "activity"
    )]
    Activity = 1,
    #[enum_value(name = "Both: similar by hash and by activity", nick = "both")]
    Both = 2,
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    Mode::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "blinkdedupe",
        gst::Rank::NONE,
        BlinkDedupe::static_type(),
    )
}
