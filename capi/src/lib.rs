//! libcodecprep: the C ABI of codecprep, for C and C++ training data loaders, media
//! applications and Python (ctypes/cffi). The header `include/codecprep.h` is generated from
//! this crate by cbindgen (`capi/tests/header.rs` fails when the committed copy is stale).
//!
//! Conventions of every entry point (see each function's documentation for its own rules):
//!
//! - Fallible functions return a [`CodecPrepStatus`] with a fixed number; a failure also
//!   records a message for the calling thread, read with [`codecprep_last_error`]. Messages
//!   about a file name the file.
//! - Every pointer argument is checked: NULL gives `CODECPREP_STATUS_NULL_ARGUMENT` (except
//!   where a function documents NULL as allowed), a misaligned one
//!   `CODECPREP_STATUS_INVALID_ARGUMENT`. Out-pointers are set to NULL before any other work,
//!   so they are NULL after any failure.
//! - No panic crosses into the host: each body runs under `catch_unwind` and a panic becomes
//!   `CODECPREP_STATUS_PANIC`.
//! - Handles (`CodecPrepReader`, `CodecPrepFrames`, `CodecPrepMap`, `CodecPrepPreinferResult`)
//!   are created by the library and freed by their `_free` function, which accepts NULL. A
//!   handle may be used by one thread at a time; different handles may be used from many
//!   threads at once.
//! - Structs the caller passes in start with `struct_size` (set it to `sizeof` the struct),
//!   so later versions can append fields: a library accepts a larger size when the bytes it
//!   does not know are zero.

mod boundary;
mod frames;
mod last_error;
mod map;
mod names;
mod preinfer;
mod reader;
mod scan;
mod sized;
mod status;
mod version;

pub use frames::{
    CODECPREP_WANT_PIXELS_BGR, CODECPREP_WANT_PIXELS_RGB, CodecPrepFrames, CodecPrepPixels,
    codecprep_frames_count, codecprep_frames_free, codecprep_frames_map, codecprep_frames_pixels,
    codecprep_reader_frame_bytes, codecprep_reader_read_frames, codecprep_reader_read_frames_into,
};
pub use last_error::codecprep_last_error;
pub use map::{
    CodecPrepCodec, CodecPrepMap, CodecPrepMapView, CodecPrepMeasure, codecprep_map_copy,
    codecprep_map_free, codecprep_map_view,
};
pub use preinfer::{
    CodecPrepPreinferConfig, CodecPrepPreinferResult, CodecPrepProgressCallback,
    codecprep_preinfer_config_default, codecprep_preinfer_result_canvas_count,
    codecprep_preinfer_result_canvas_path, codecprep_preinfer_result_frame_ids,
    codecprep_preinfer_result_free, codecprep_preinfer_result_meta_json,
    codecprep_preinfer_result_meta_path, codecprep_preinfer_result_out_dir,
    codecprep_preinfer_result_positions, codecprep_preinfer_result_timings_json,
    codecprep_preinfer_run,
};
pub use reader::{
    CodecPrepReader, CodecPrepReaderOptions, CodecPrepThreadType, CodecPrepVideoInfo,
    codecprep_reader_free, codecprep_reader_info, codecprep_reader_keyframes,
    codecprep_reader_open, codecprep_reader_options_default,
};
pub use scan::{CodecPrepScanCallback, codecprep_reader_scan};
pub use status::{CodecPrepStatus, codecprep_status_str};
pub use version::codecprep_version;
