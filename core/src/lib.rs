//! codecprep core: per-block bit cost, frame facts and pixels from compressed video.
//!
//! Free of GStreamer; the CLI, the GStreamer plugin and the C API all build on it. FFmpeg is
//! reached only through the `ffmpeg` module, the one place with `unsafe` code.

#![deny(unsafe_code)]

pub mod blink;
pub mod decoder;
#[allow(unsafe_code)]
pub mod ffmpeg;
pub mod heatmap;
pub mod le_bytes;
pub mod map;
pub mod output;
pub mod preinfer;
pub mod reader;
pub mod sync;

pub use ffmpeg::{FfmpegError, PixelFormat, ThreadType};
pub use map::{BitcostMap, Codec, MapError, Measure};
pub use reader::{
    Error, ErrorKind, FrameRecord, PacketInfo, PixelRequest, Pixels, ProbeInfo, Reader,
    ReaderOptions, ScanSummary, Segment, SelectOptions, SelectStats, plan_segments, probe,
    read_selected, scan_parallel,
};
