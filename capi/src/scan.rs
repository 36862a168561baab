//! `codecprep_reader_scan`: every frame's map, in display order, through a callback;
//! `codecprep_reader_scan_unordered`: the same frames as the segment workers decode them.

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
        let (handle, callback) = unsafe { scan_arguments(reader, callback) }?;
        let on_frame = |record: FrameRecord| deliver(callback, user_data, &record);
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

/// Like `codecprep_reader_scan` with `segments` threads, but `callback` runs on those threads
/// as soon as each frame is decoded, possibly on several at once: frames of one segment come
/// in order, segments at the same time, each frame exactly once. Use `view->frame_index` to
/// place the frame (for example in arrays sized from `codecprep_reader_info`'s
/// `frame_count`); `user_data` is shared by all the calls, so the callback must synchronise
/// what it shares. Nothing waits in memory for its turn, so this is faster and smaller than
/// the ordered scan for callers that store frames by index.
///
/// A non-zero return stops the scan (`CODECPREP_STATUS_OK`), though frames already being
/// decoded on other threads may still arrive until the call returns. On failure the error is
/// the one a serial scan would meet first; frames after it may have been delivered.
///
/// # Safety
///
/// As `codecprep_reader_scan`; in addition `callback` must be safe to call from several
/// threads at once with this `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_scan_unordered(
    reader: *mut CodecPrepReader,
    segments: u32,
    callback: CodecPrepScanCallback,
    user_data: *mut c_void,
) -> CodecPrepStatus {
    call("codecprep_reader_scan_unordered", || {
        // SAFETY: the caller's contract.
        let (handle, callback) = unsafe { scan_arguments(reader, callback) }?;
        let shared = SharedUserData(user_data);
        let (reader, info) = handle.reader_and_probe()?;
        reader.scan_segments_unordered(
            Some(info),
            segments.max(1) as usize,
            |record: FrameRecord| deliver(callback, shared.get(), &record),
        )?;
        Ok(())
    })
}

/// The reader and the callback of a scan call, both required.
///
/// # Safety
///
/// `reader` is NULL or a live reader used by no other thread during the call.
unsafe fn scan_arguments<'a>(
    reader: *mut CodecPrepReader,
    callback: CodecPrepScanCallback,
) -> Result<(&'a mut CodecPrepReader, ScanFunction), Failure> {
    // SAFETY: the caller's contract.
    let handle = unsafe { arg_mut(reader, "reader") }?;
    let callback = callback
        .ok_or_else(|| Failure::argument(CodecPrepStatus::NullArgument, "callback is NULL"))?;
    Ok((handle, callback))
}

/// The function a `CodecPrepScanCallback` holds.
type ScanFunction = unsafe extern "C" fn(*const CodecPrepMapView, *mut c_void) -> c_int;

/// Calls the C callback with a view of `record`'s map; a non-zero return stops the scan.
fn deliver(
    callback: ScanFunction,
    user_data: *mut c_void,
    record: &FrameRecord,
) -> Result<ControlFlow<()>, Failure> {
    let view = CodecPrepMapView::of(record, map_of(record)?);
    // SAFETY: the caller's callback, given a view that outlives the call.
    let stop = unsafe { callback(&view, user_data) };
    Ok(if stop == 0 {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(())
    })
}

/// The caller's `user_data`, handed to callbacks on the scan's worker threads: the caller
/// promised (see `codecprep_reader_scan_unordered`) that its callback may use it from any
/// thread.
struct SharedUserData(*mut c_void);

// SAFETY: the pointer is only passed back to the caller's callback, never dereferenced here;
// the caller's contract covers calls from several threads.
unsafe impl Sync for SharedUserData {}

impl SharedUserData {
    fn get(&self) -> *mut c_void {
        self.0
    }
}
