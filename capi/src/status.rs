//! Status codes (fixed numbers, part of the ABI) and the internal failure that carries one
//! with its message.

use std::ffi::{CStr, c_char, c_int};

use codecprep_core::ErrorKind;
use codecprep_core::preinfer::PreinferError;

/// What a fallible function did. The numbers are fixed: codes are only ever appended.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecPrepStatus {
    /// Success.
    Ok = 0,
    /// A pointer argument that must not be NULL was NULL.
    NullArgument = 1,
    /// An argument has an impossible value (bad flags, sizes, names, misaligned pointer).
    InvalidArgument = 2,
    /// The file does not exist.
    NotFound = 3,
    /// The file is not a media file FFmpeg can read (empty, text, random bytes, a directory).
    NotMedia = 4,
    /// The file has no video stream (audio only).
    NoVideo = 5,
    /// The video codec is not H.264, HEVC or VP9 (MPEG-4 Part 2, for instance).
    UnsupportedCodec = 6,
    /// The linked FFmpeg lacks codecprep's bit-cost patch.
    NotPatched = 7,
    /// The video could not be decoded (no frame, a broken map, a failed conversion).
    Decode = 8,
    /// Reading or writing a file failed.
    Io = 9,
    /// A frame index or an element index is past the end.
    OutOfRange = 10,
    /// The caller's callback asked to stop.
    Cancelled = 11,
    /// A bug in libcodecprep was caught at the boundary; the handle involved should be freed.
    Panic = 12,
    /// A caller-provided buffer is too small; the needed size was reported.
    BufferTooSmall = 13,
    /// Memory or decoder resources could not be allocated.
    OutOfMemory = 14,
    /// The video decodes but the job cannot produce anything from it (too few frames, no
    /// group).
    Unusable = 15,
    /// The library broke one of its own rules (a bug); the message says which.
    Internal = 16,
}

impl CodecPrepStatus {
    const ALL: [Self; 17] = [
        Self::Ok,
        Self::NullArgument,
        Self::InvalidArgument,
        Self::NotFound,
        Self::NotMedia,
        Self::NoVideo,
        Self::UnsupportedCodec,
        Self::NotPatched,
        Self::Decode,
        Self::Io,
        Self::OutOfRange,
        Self::Cancelled,
        Self::Panic,
        Self::BufferTooSmall,
        Self::OutOfMemory,
        Self::Unusable,
        Self::Internal,
    ];

    fn description(self) -> &'static CStr {
        match self {
            Self::Ok => c"success",
            Self::NullArgument => c"a required pointer argument is NULL",
            Self::InvalidArgument => c"invalid argument",
            Self::NotFound => c"no such file",
            Self::NotMedia => c"not a media file",
            Self::NoVideo => c"no video stream",
            Self::UnsupportedCodec => c"unsupported codec (codecprep reads H.264, HEVC and VP9)",
            Self::NotPatched => c"the linked FFmpeg is not patched by codecprep",
            Self::Decode => c"decoding failed",
            Self::Io => c"input/output error",
            Self::OutOfRange => c"index out of range",
            Self::Cancelled => c"cancelled",
            Self::Panic => c"internal error (panic caught)",
            Self::BufferTooSmall => c"buffer too small",
            Self::OutOfMemory => c"out of memory",
            Self::Unusable => c"the video cannot produce the requested output",
            Self::Internal => c"internal error",
        }
    }
}

/// A short, static, English description of `status` ("unknown status" for numbers this
/// version does not know). Never NULL; the string lives as long as the library is loaded.
#[unsafe(no_mangle)]
pub extern "C" fn codecprep_status_str(status: c_int) -> *const c_char {
    let describe = || {
        let known = usize::try_from(status)
            .ok()
            .and_then(|i| CodecPrepStatus::ALL.get(i));
        known.map_or(c"unknown status", |s| s.description())
    };
    // Cannot panic; the boundary is kept anyway, as at every entry point.
    std::panic::catch_unwind(describe)
        .unwrap_or(c"unknown status")
        .as_ptr()
}

/// A failed call: the status to return and the message to record.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: CodecPrepStatus,
    pub message: String,
    /// Argument errors are prefixed with the function's name; errors about a file are not
    /// (their message already starts with the file).
    pub about_arguments: bool,
}

impl Failure {
    /// An error about the call's arguments.
    pub fn argument(status: CodecPrepStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            about_arguments: true,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::argument(CodecPrepStatus::InvalidArgument, message)
    }

    /// An error about a file or the work itself.
    pub fn other(status: CodecPrepStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            about_arguments: false,
        }
    }
}

/// The status of a reader error.
fn reader_status(kind: &ErrorKind) -> CodecPrepStatus {
    use CodecPrepStatus as S;
    match kind {
        ErrorKind::NotFound => S::NotFound,
        ErrorKind::IsDirectory
        | ErrorKind::NotMedia(_)
        | ErrorKind::Mp4WithoutIndex
        | ErrorKind::StreamInfo(_) => S::NotMedia,
        ErrorKind::Io(_) | ErrorKind::Open(_) => S::Io,
        ErrorKind::NoVideoStream => S::NoVideo,
        ErrorKind::UnsupportedCodec(_) | ErrorKind::DecoderMissing(_) => S::UnsupportedCodec,
        ErrorKind::NotPatched(_) | ErrorKind::ExactMeasureUnsupported(_) => S::NotPatched,
        ErrorKind::OutOfMemory(_) => S::OutOfMemory,
        ErrorKind::FrameOutOfRange { .. } => S::OutOfRange,
        _ => S::Decode,
    }
}

impl From<codecprep_core::Error> for Failure {
    fn from(error: codecprep_core::Error) -> Self {
        Self::other(reader_status(error.kind()), error.to_string())
    }
}

impl From<PreinferError> for Failure {
    fn from(error: PreinferError) -> Self {
        let status = match &error {
            PreinferError::Config(_) => CodecPrepStatus::InvalidArgument,
            PreinferError::Video(e) => reader_status(e.kind()),
            PreinferError::Unusable { .. } => CodecPrepStatus::Unusable,
            PreinferError::Io { .. } => CodecPrepStatus::Io,
            PreinferError::Cancelled => CodecPrepStatus::Cancelled,
        };
        Self::other(status, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_fixed_and_described() {
        for (i, status) in CodecPrepStatus::ALL.iter().enumerate() {
            assert_eq!(*status as usize, i);
            let text = unsafe { CStr::from_ptr(codecprep_status_str(i as c_int)) };
            assert!(!text.is_empty());
        }
        assert_eq!(CodecPrepStatus::Panic as i32, 12);
        let unknown = unsafe { CStr::from_ptr(codecprep_status_str(-1)) };
        assert_eq!(unknown, c"unknown status");
        let unknown = unsafe { CStr::from_ptr(codecprep_status_str(1000)) };
        assert_eq!(unknown, c"unknown status");
    }
}
