//! Errors of the reader: always about one file, so the path is part of every message.

use std::path::{Path, PathBuf};

use crate::ffmpeg::FfmpegError;
use crate::map::MapError;

/// An error reading one video; displays as `<path>: <cause>`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct Error {
    path: PathBuf,
    kind: ErrorKind,
}

impl Error {
    pub(crate) fn new(path: &Path, kind: ErrorKind) -> Self {
        Self {
            path: path.to_path_buf(),
            kind,
        }
    }

    /// The video the error is about.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("no such file")]
    NotFound,
    #[error("is a directory, not a video file")]
    IsDirectory,
    #[error("cannot read the file: {0}")]
    Io(#[source] std::io::Error),
    #[error("not a media file FFmpeg can read ({0})")]
    NotMedia(#[source] FfmpegError),
    #[error(
        "an MP4/MOV file without its index (the moov box is missing or cut off: an \
         unfinished recording or an incomplete copy?)"
    )]
    Mp4WithoutIndex,
    #[error("cannot open: {0}")]
    Open(#[source] FfmpegError),
    #[error("cannot read the stream parameters: {0}")]
    StreamInfo(#[source] FfmpegError),
    #[error("no video stream (audio-only file?)")]
    NoVideoStream,
    #[error("codec {0} is not supported: codecprep reads H.264, HEVC and VP9")]
    UnsupportedCodec(String),
    #[error("the linked FFmpeg has no {0} decoder (rebuild with ffmpeg/build.sh)")]
    DecoderMissing(String),
    #[error(
        "the linked FFmpeg is not patched by codecprep: decoder {0} has no export_bitcost \
         option (rebuild with ffmpeg/build.sh)"
    )]
    NotPatched(String),
    #[error("exact measure not supported by this build: decoder {0} has no bitcost_measure option")]
    ExactMeasureUnsupported(String),
    #[error("cannot set up the {decoder} decoder: {source}")]
    DecoderSetup {
        decoder: String,
        #[source]
        source: FfmpegError,
    },
    #[error("frame {index}: invalid bit-cost map: {source}")]
    InvalidMap {
        index: usize,
        #[source]
        source: MapError,
    },
    #[error("frame {index}: cannot convert the picture to RGB: {source}")]
    Pixels {
        index: usize,
        #[source]
        source: FfmpegError,
    },
    #[error("cannot allocate decoding buffers: {0}")]
    OutOfMemory(#[source] FfmpegError),
    #[error("no frame could be decoded{}", last_warning.as_ref().map(|w| format!(" ({w})")).unwrap_or_default())]
    NoFrames { last_warning: Option<String> },
    #[error(
        "frames {}..{} do not decode as one segment ({decoded} frames came out); scan with one \
         segment instead",
        frames.start, frames.end
    )]
    SegmentMismatch {
        frames: std::ops::Range<usize>,
        decoded: usize,
    },
    #[error("cancelled")]
    Cancelled,
    #[error("frame {first_missing} does not exist: the video has {frame_count} frames")]
    FrameOutOfRange {
        first_missing: usize,
        frame_count: usize,
    },
}

/// Result of reader operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
