//! Blink multi-camera clips: discovery, probing, per-clip signals, de-duplication, events,
//! annotation and packaging. The stages of `blink-stitch` are built from these pieces.
//!
//! Like the rest of the crate this links no GStreamer: audio decoding and encoding run
//! `gst-launch-1.0` as a child process (see `output::video` for the pattern).

pub mod features;
pub mod package;
pub mod phash;

pub use features::{ActivitySeries, FrameHash, LoudnessEnvelope, PerceptualHash};
pub use phash::PerceptualHasher;
