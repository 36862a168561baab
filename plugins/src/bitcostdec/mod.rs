//! `bitcostdec`: decodes H.264, HEVC and VP9 with the patched FFmpeg and attaches the bit-cost
//! meta ([`crate::meta::BitcostMeta`]) to every output frame, and the custom meta
//! `CodecPrepKeyframeMeta` ([`crate::meta::KEYFRAME_META`]) to frames decoded from keyframes
//! (raw buffers never carry `DELTA_UNIT`; C code finds it with `gst_buffer_get_custom_meta`).
//!
//! ```text
//! gst-launch-1.0 filesrc location=clip.mp4 ! qtdemux ! h264parse \
//!     ! bitcostdec scan-only=true ! fakesink
//! ```
//!
//! Properties (read when the decoder opens, i.e. at the first caps and on caps changes):
//!
//! - `measure` (`reference` | `exact`, default `reference`): how bits are counted.
//! - `scan-only` (default `false`): parse only; src caps become `video/x-codecprep-bitcost`
//!   and buffers carry the meta and no pixels, so no raw-video element is fed empty frames.
//! - `skip-loop-filter` (default `true`, like the reference tool): skip deblocking, SAO and
//!   the VP9 loop filter. The maps do not depend on it; only the pixels do.
//! - `max-threads` (default 0 = automatic): decoder threads; more than one uses frame
//!   threading (output delayed by about one frame per thread).
//!
//! Rank: none, so `decodebin` keeps choosing the regular decoders.

mod caps;
mod imp;

use gst::glib;
use gst::prelude::*;

glib::wrapper! {
    pub struct BitcostDec(ObjectSubclass<imp::BitcostDec>)
        @extends gst_video::VideoDecoder, gst::Element, gst::Object;
}

/// The `measure` property's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstBitcostDecMeasure")]
pub enum MeasureProperty {
    /// What the reference tool reports (the default, so models see the numbers they were
    /// trained on).
    #[default]
    #[enum_value(
        name = "Reference: bit-for-bit what the reference tool reports",
        nick = "reference"
    )]
    Reference = 0,
    #[enum_value(name = "Exact: precisely the consumed bits", nick = "exact")]
    Exact = 1,
}

impl From<MeasureProperty> for codecprep_core::Measure {
    fn from(value: MeasureProperty) -> Self {
        match value {
            MeasureProperty::Reference => Self::Reference,
            MeasureProperty::Exact => Self::Exact,
        }
    }
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    MeasureProperty::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "bitcostdec",
        gst::Rank::NONE,
        BitcostDec::static_type(),
    )
}
