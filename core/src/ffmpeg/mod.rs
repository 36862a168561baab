//! Safe wrappers over the FFmpeg C API (through ffmpeg-sys-next).
//!
//! Every `unsafe` block of the crate lives in this module tree. Each FFmpeg object is owned
//! by a small newtype over `NonNull` that frees it on drop; errors are `FfmpegError`. The rest
//! of the crate sees only safe, crate-private types, plus the few public diagnostics below.

mod decoder;
mod error;
mod format;
mod frame;
mod incremental;
mod media_info;
mod packet;
mod picture;
mod raw;
mod scale;

use std::ffi::{CStr, c_int};
use std::sync::Once;

use ffmpeg_sys_next as ff;

pub(crate) use decoder::{BitcostSetupError, Decoder, DecoderSetup, Received};
pub use decoder::{MAX_THREADS, ThreadType, bitcost_options};
pub use error::FfmpegError;
pub use format::Rational;
pub(crate) use format::{InputContext, StreamInfo};
pub(crate) use frame::Frame;
pub use media_info::{AudioStreamFacts, MediaFacts, VideoStreamFacts, media_facts};
pub(crate) use packet::Packet;
pub use picture::{Picture, PlanarFormat, Plane};
pub(crate) use scale::Scaler;
pub use scale::{PictureScaler, PixelFormat};

/// Environment variable choosing FFmpeg's own log level (quiet by default, because decoding
/// problems are reported per frame as warnings): quiet, panic, fatal, error, warning, info,
/// verbose, debug or trace.
pub const LOG_LEVEL_ENV: &str = "CODECPREP_FFMPEG_LOG";

fn log_level_from_env() -> c_int {
    match std::env::var(LOG_LEVEL_ENV).unwrap_or_default().as_str() {
        "panic" => ff::AV_LOG_PANIC,
        "fatal" => ff::AV_LOG_FATAL,
        "error" => ff::AV_LOG_ERROR,
        "warning" => ff::AV_LOG_WARNING,
        "info" => ff::AV_LOG_INFO,
        "verbose" => ff::AV_LOG_VERBOSE,
        "debug" => ff::AV_LOG_DEBUG,
        "trace" => ff::AV_LOG_TRACE,
        _ => ff::AV_LOG_QUIET,
    }
}

/// Sets FFmpeg's log level once per process, before the first FFmpeg object is created.
pub(crate) fn init() {
    static INIT: Once = Once::new();
    // SAFETY: av_log_set_level only stores an int.
    INIT.call_once(|| unsafe { ff::av_log_set_level(log_level_from_env()) });
}

/// A library version as (major, minor, micro).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibraryVersion {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
}

impl std::fmt::Display for LibraryVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// The FFmpeg release string of the linked libraries (e.g. "5.1.9").
pub fn ffmpeg_version() -> String {
    // SAFETY: returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(ff::av_version_info()) }
        .to_string_lossy()
        .into_owned()
}

/// libavcodec's version at run time (what is linked).
pub fn libavcodec_version() -> LibraryVersion {
    // SAFETY: no preconditions.
    let v = unsafe { ff::avcodec_version() };
    LibraryVersion {
        major: v >> 16,
        minor: (v >> 8) & 0xFF,
        micro: v & 0xFF,
    }
}

/// libavcodec's major version in the headers the bindings were generated from.
pub fn libavcodec_header_major() -> u32 {
    ff::LIBAVCODEC_VERSION_MAJOR as u32
}

/// Which of the given private options a decoder has; `None` when the decoder is missing.
pub fn decoder_private_options(
    decoder: &str,
    options: &[&CStr],
) -> Result<Option<Vec<bool>>, FfmpegError> {
    init();
    let Some(setup) = DecoderSetup::by_name(decoder)? else {
        return Ok(None);
    };
    Ok(Some(
        options
            .iter()
            .map(|o| setup.has_private_option(o))
            .collect(),
    ))
}

/// The threading FFmpeg set up when a decoder was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenedThreads {
    /// `None` when FFmpeg fell back to single-threaded decoding.
    pub active: Option<ThreadType>,
    pub count: usize,
}

/// Opens `decoder` with the given threading after setting each listed integer private option
/// the decoder has; `None` when the decoder is missing.
pub fn open_decoder_with_threads(
    decoder: &str,
    threads: usize,
    kind: ThreadType,
    options: &[(&CStr, i64)],
) -> Result<Option<OpenedThreads>, FfmpegError> {
    init();
    let Some(mut setup) = DecoderSetup::by_name(decoder)? else {
        return Ok(None);
    };
    setup.set_threads(threads, kind);
    for &(name, value) in options {
        if setup.has_private_option(name) {
            setup.set_private_option(name, value)?;
        }
    }
    let opened = setup.open()?;
    Ok(Some(OpenedThreads {
        active: opened.active_thread_type(),
        count: opened.thread_count(),
    }))
}
