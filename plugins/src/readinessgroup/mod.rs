//! `readinessgroup`: samples, scores and groups decoded frames that carry the bit-cost meta
//! exactly as `codec-video-prep` does for the same settings, and outputs each group's frames
//! as `video/x-raw,format=BGR` at the processed size (SWS_AREA scaling of the decoder's
//! pictures, deblocking as bitcostdec's `skip-loop-filter`, on by default like the CLI).
//!
//! ```text
//! gst-launch-1.0 filesrc location=clip.mp4 ! qtdemux ! h264parse ! bitcostdec \
//!     ! readinessgroup compat=reference ! canvaspack ! pngenc \
//!     ! multifilesink location=canvas_%03d.png
//! ```
//!
//! Each group is bracketed by two custom downstream events:
//!
//! - `codecprep-group-start`: `group-index`, `frame-ids` (array of display ids, in group
//!   order), `start` / `end` (sampled positions), `stop-reason` (as `meta.json`'s
//!   `group_stop_reason`), `images-per-group`, `block-budget`, `good` (array: usable as an
//!   anchor), `block-scores` (a buffer of little-endian f32, frames x blocks per frame) and,
//!   for readiness groups, `topk-sum`;
//! - `codecprep-group-end`: `group-index`, `frame-ids`, `stop-reason`.
//!
//! The output caps add `patch`, `block-size`, `grid-rows` and `grid-cols` (the patch grid of
//! the processed frame) for `canvaspack`. Sampled positions no group shows are posted as
//! `codecprep-dropped` element messages (`start`, `end`, `reason`).
//!
//! What the CLI probes, the element learns from the stream: the frame count from the duration
//! query and the frame rate (and exactly, at the end, from the frames decoded), keyframes from
//! bitcostdec's keyframe meta (`CodecPrepKeyframeMeta`), the bit rate from upstream `bitrate` tags (h264parse and the
//! other parsers post a running average), else from the maps' bit counts.
//!
//! Modes: settings that need the whole video (a legacy or auto threshold, I-frame clipping,
//! keyframe avoidance with its refill, uniform sampling of a stream of unknown length) group
//! a finite source at EOS, keeping only the frames sampling can pick. A live source refuses
//! the first three with an error when its first frame arrives; fixed grouping and fixed or
//! `clamped_sqrt_bpppf` thresholds stream with a delay of at most `max-group-frames + 1`
//! sampled frames (`group-size` for fixed grouping), which the LATENCY query reports;
//! keyframe avoidance then shifts sampled frames off keyframes but does not refill the rare
//! repeats. `frame-sampling-mode` offers `uniform_count`, `fps` and `all_frames` (the packet
//! peak modes need packet sizes that decoded frames do not carry).
//!
//! Properties mirror the CLI flags (dashes for underscores), with its defaults; see
//! `gst-inspect-1.0 readinessgroup`.

mod engine;
mod imp;
mod props;

use gst::glib;
use gst::prelude::*;

/// Name of the event structure that opens a group.
pub const GROUP_START: &str = "codecprep-group-start";
/// Name of the event structure that closes a group.
pub const GROUP_END: &str = "codecprep-group-end";

glib::wrapper! {
    pub struct ReadinessGroup(ObjectSubclass<imp::ReadinessGroup>)
        @extends gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "readinessgroup",
        gst::Rank::NONE,
        ReadinessGroup::static_type(),
    )
}
