//! Writing results to disk: streamed `.npy` arrays, all-or-nothing output directories and
//! videos encoded by GStreamer.

pub mod npy;
pub mod staging;
pub mod video;

pub use npy::{NpyElement, NpyStreamWriter};
pub use staging::StagingDir;
