//! Blink multi-camera clips: discovery, probing, per-clip signals, de-duplication, events,
//! annotation and packaging. The stages of `blink-stitch` are built from these pieces.
//!
//! Like the rest of the crate this links no GStreamer: audio decoding and encoding run
//! `gst-launch-1.0` as a child process (see `output::video` for the pattern).

pub mod activity;
pub mod audio;
mod audio_decode;
pub mod companions;
pub mod config;
pub mod copies;
pub mod discover;
pub mod events;
pub mod features;
pub mod naming;
pub mod package;
pub mod phash;
pub mod probe;
pub mod timeline;
pub mod video_signals;
pub mod workdir;

pub use features::{ActivitySeries, FrameHash, LoudnessEnvelope, PerceptualHash};
pub use phash::PerceptualHasher;
