//! FFmpeg's negative `c_int` error codes as a Rust error with `av_strerror` text.

use std::ffi::{CStr, c_char, c_int};
use std::fmt;

use ffmpeg_sys_next as ff;

/// An error code returned by an FFmpeg function.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FfmpegError {
    code: c_int,
}

impl FfmpegError {
    pub(crate) fn from_code(code: c_int) -> Self {
        Self { code }
    }

    /// The raw (negative) code.
    pub fn code(self) -> c_int {
        self.code
    }

    /// Input ended.
    pub fn is_eof(self) -> bool {
        self.code == ff::AVERROR_EOF
    }

    /// The call must be repeated after the other side of a send/receive pair made progress.
    pub(crate) fn is_again(self) -> bool {
        self.code == ff::AVERROR(ff::EAGAIN)
    }

    /// The input bytes are not something FFmpeg can parse.
    pub fn is_invalid_data(self) -> bool {
        self.code == ff::AVERROR_INVALIDDATA
    }

    /// FFmpeg's description of the code.
    pub fn message(self) -> String {
        let mut buf = [0 as c_char; ff::AV_ERROR_MAX_STRING_SIZE];
        // SAFETY: the buffer is writable for its whole length, and av_strerror always
        // NUL-terminates within the given size (it prints a generic text for unknown codes).
        unsafe {
            ff::av_strerror(self.code, buf.as_mut_ptr(), buf.len());
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        }
    }
}

impl fmt::Display for FfmpegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl fmt::Debug for FfmpegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FfmpegError({}: {})", self.code, self.message())
    }
}

impl std::error::Error for FfmpegError {}

/// Turns FFmpeg's "negative means error" convention into a `Result`.
pub(crate) fn check(ret: c_int) -> Result<c_int, FfmpegError> {
    if ret < 0 {
        Err(FfmpegError::from_code(ret))
    } else {
        Ok(ret)
    }
}
