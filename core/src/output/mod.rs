//! Writing results to disk: streamed `.npy` arrays and all-or-nothing output directories.

pub mod npy;
pub mod staging;

pub use npy::{NpyElement, NpyStreamWriter};
pub use staging::StagingDir;
