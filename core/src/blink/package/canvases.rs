//! Canvases of an event's stitched clip through the preinfer pipeline, so a package carries
//! the same model-ready pictures `codecprep preinfer` makes of any video.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::PackageError;
use crate::preinfer::{CanvasFormat, PreinferConfig, PreinferResult, run_preinfer};

/// Runs preinfer with default settings on `video`, writing PNG canvases and `meta.json` into
/// `out_dir` (all or nothing, see [`run_preinfer`]); `cancel` stops it between frames.
pub fn event_canvases(
    video: &Path,
    out_dir: &Path,
    cancel: Option<&AtomicBool>,
) -> Result<PreinferResult, PackageError> {
    let config = PreinferConfig {
        canvas_format: CanvasFormat::Png,
        ..PreinferConfig::new(video, out_dir)
    };
    Ok(run_preinfer(&config, None, cancel)?)
}
