//! Packaging a Blink event: the stitched MP4 that follows the best camera, a mosaic of all
//! cameras, a contact sheet, preinfer canvases and a manifest with checksums.
//!
//! Video is decoded by the crate's own reader (exact display-order frames with their
//! timestamps), laid out in Rust, and encoded by `gst-launch-1.0` (x264enc, an AAC encoder,
//! mp4mux) through [`crate::output::video`]; audio is decoded by `gst-launch-1.0` too. Every
//! file is written under a temporary name in its directory and renamed into place when
//! complete.

mod audio;
mod canvases;
mod contact_sheet;
mod font;
mod frames;
mod manifest;
mod mosaic;
mod stitch;

use std::path::{Path, PathBuf};

pub use canvases::event_canvases;
pub use contact_sheet::contact_sheet;
pub use manifest::{
    MANIFEST_FILE, MANIFEST_VERSION, Manifest, ManifestEntry, OutputFile, verify_manifest,
    write_manifest,
};
pub use mosaic::{MosaicTile, VideoFormat, mosaic, mosaic_with};
pub use stitch::{StitchOptions, StitchReport, stitch, stitch_with};

/// A window of a source clip placed in the output.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    pub source: PathBuf,
    /// Seconds from the source's first video frame (for audio-only files: its first sample).
    pub source_start: f64,
    pub duration: f64,
    /// Seconds from the start of the output.
    pub at: f64,
}

/// What [`stitch`] puts where. Where cuts overlap, the later one in its list wins; where
/// none covers a moment, the video is black and the audio silent.
#[derive(Debug, Clone, PartialEq)]
pub struct StitchPlan {
    pub video: Vec<Cut>,
    pub audio: Vec<Cut>,
    /// Seconds.
    pub duration: f64,
    /// Output size: both even and non-zero (H.264 in 4:2:0).
    pub width: u32,
    pub height: u32,
    /// Output frames per second as `num/den`.
    pub fps: (u32, u32),
}

/// Why packaging failed; every message names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A video source that cannot be read (already formatted as `<path>: <cause>`).
    #[error(transparent)]
    Video(#[from] crate::reader::Error),
    #[error("{}: cannot decode its audio: {message}", path.display())]
    Audio { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Image {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    #[error("{}: invalid manifest: {source}", path.display())]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: cancelled", path.display())]
    Cancelled { path: PathBuf },
    /// The preinfer pipeline failed (its message names the file).
    #[error(transparent)]
    Canvases(#[from] crate::preinfer::PreinferError),
}

impl PackageError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    fn invalid(path: &Path, message: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Checks that `out` can be created: its directory exists (else GStreamer would fail late with
/// a message about the temporary file).
fn check_output_dir(out: &Path) -> Result<(), PackageError> {
    let dir = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(PackageError::invalid(
            out,
            format!("the output directory {} does not exist", dir.display()),
        ))
    }
}

/// Checks an output size and rate for the H.264 encoder, and the output's directory.
fn check_video_format(
    out: &Path,
    width: u32,
    height: u32,
    fps: (u32, u32),
) -> Result<(), PackageError> {
    if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 {
        return Err(PackageError::invalid(
            out,
            format!("output size {width}x{height}: both sides must be even and non-zero"),
        ));
    }
    if fps.0 == 0 || fps.1 == 0 {
        return Err(PackageError::invalid(
            out,
            format!("frame rate {}/{} is not positive", fps.0, fps.1),
        ));
    }
    check_output_dir(out)
}

/// Number of output frames for `duration` seconds at `fps`: the nearest whole count, so the
/// file's length is within half a frame interval of `duration`.
fn frame_count(duration: f64, fps: (u32, u32)) -> u64 {
    (duration * f64::from(fps.0) / f64::from(fps.1))
        .round()
        .max(0.0) as u64
}

/// Time of output frame `n` in seconds.
fn frame_time(n: u64, fps: (u32, u32)) -> f64 {
    n as f64 * f64::from(fps.1) / f64::from(fps.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_counts_round_to_the_nearest_frame() {
        assert_eq!(frame_count(3.0, (30, 1)), 90);
        assert_eq!(frame_count(2.99, (30, 1)), 90);
        assert_eq!(frame_count(1.0, (30000, 1001)), 30);
        assert!((frame_time(30, (30000, 1001)) - 1.001).abs() < 1e-12);
    }

    #[test]
    fn odd_sizes_and_zero_rates_are_refused() {
        let out = Path::new("/tmp/x.mp4");
        assert!(check_video_format(out, 320, 240, (25, 1)).is_ok());
        let err = check_video_format(out, 321, 240, (25, 1)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/tmp/x.mp4: output size 321x240")
        );
        assert!(check_video_format(out, 320, 240, (0, 1)).is_err());
    }
}
