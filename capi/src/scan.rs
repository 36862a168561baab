//! `codecprep_reader_scan`: every frame's map, in display order, through a callback.

use std::ffi::{c_int, c_void};
use std::ops::ControlFlow;

use codecprep_core::{FrameRecord, scan_parallel};

use crate::boundary::{arg_mut, call};
use crate::map::{CodecPrepMapView, map_of};
use crate::reader::CodecPrepReader;
use crate::status::{CodecPrepStatus, Failure};

/// Called once per frame with a borrowed view of its map, valid only until the callback
/// returns (copy it with `codecprep_map_copy` to keep it). Return 0 to go on, non-zero to stop
/// the scan (which then returns `CODECPREP_STATUS_OK`). Always called on the thread that
/// called `codecprep_reader_scan`, one frame after the other.
pub type CodecPrepScanCallback =
    Option<unsafe extern "C" fn(view: *const CodecPrepMapView, user_data: *mut c_void) -> c_int>;

/// Decodes every frame of the reader's video (entropy decoding only, no pixels) and calls
/// `callback(view, user_data)` for each, in display order. `user_data` is passed through
/// untouched (may be NULL).
///
/// `segments`: 0 or 1 scans serially; N > 1 cuts the file at clean keyframes into segments
/// decoded by N threads (the callback still runs on the calling thread, in order). The maps
/// are the same either way. Each scan starts from the beginning of the file.
///
/// Fails when the video yields no frame; an error after some frames returns that error
/// (the frames before it were delivered).
///
/// # Safety
///
/// `reader` is NULL or a live reader used by no other thread during the call; `callback` is
/// NULL or a function of the documented type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_scan(
    reader: *mut CodecPrepReader,
    segments: u32,
    callback: CodecPrepScanCallback,
    user_data: *mut c_void,
) -> CodecPrepStatus {
    call("codecprep_reader_scan", || {
        // SAFETY: the caller's contract.
        let handle = unsafe { arg_mut(reader, "reader") }?;
        let Some(callback) = callback else {
            return Err(Failure::argument(
                CodecPrepStatus::NullArgument,
                "callback is NULL",
            ));
        };
        let on_frame = |record: FrameRecord| -> Result<ControlFlow<()>, Failure> {
            let view = CodecPrepMapView::of(&record, map_of(&record)?);
            // SAFETY: the caller's callback, given a view that outlives the call.
            let stop = unsafe { callback(&view, user_data) };
            Ok(if stop == 0 {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            })
        };
        let reader = &mut handle.reader;
        if segments > 1 {
            scan_parallel(
                reader.path(),
                *reader.options(),
                segments as usize,
                on_frame,
            )?;
        } else {
            reader.scan(None, on_frame)?;
        }
        Ok(())
    })
}
