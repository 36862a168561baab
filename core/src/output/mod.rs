//! Writing results to disk: `.npy` arrays written item by item, all-or-nothing output directories and
//! videos encoded by GStreamer.

pub mod npy;
pub mod staging;
pub mod video;

pub use npy::{NpyElement, NpyWriter};
pub use staging::StagingDir;
