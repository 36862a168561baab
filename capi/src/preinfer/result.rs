//! What a preinfer run produced, and its accessors.

use std::ffi::{CString, c_char};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use codecprep_core::preinfer::PreinferResult;
use ndarray::{Array1, Array2};

use crate::boundary::{arg, call, copy_to_caller, free_handle, get};
use crate::status::{CodecPrepStatus, Failure};

/// The outputs of a successful `codecprep_preinfer_run`. Strings and arrays returned by its
/// accessors belong to it and stay valid until `codecprep_preinfer_result_free`.
pub struct CodecPrepPreinferResult {
    out_dir: CString,
    meta_path: CString,
    canvas_paths: Vec<CString>,
    frame_ids: Vec<i64>,
    positions: Vec<i32>,
    timings_json: CString,
    meta_json: CString,
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap_or_default()
}

fn c_text(text: String) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

fn read_output<T>(
    path: &Path,
    read: impl FnOnce(&Path) -> Result<T, ndarray_npy::ReadNpyError>,
) -> Result<T, Failure> {
    read(path).map_err(|e| {
        Failure::other(
            CodecPrepStatus::Io,
            format!("{}: cannot read the run's output: {e}", path.display()),
        )
    })
}

impl CodecPrepPreinferResult {
    pub(crate) fn new(result: PreinferResult) -> Result<Self, Failure> {
        // The arrays are read back from the files the run wrote.
        let ids: Array1<i32> = read_output(&result.out_dir.join("frame_ids.npy"), |p| {
            ndarray_npy::read_npy(p)
        })?;
        let positions: Array2<i32> =
            read_output(&result.out_dir.join("src_patch_position.npy"), |p| {
                ndarray_npy::read_npy(p)
            })?;
        let timings = serde_json::to_string(&result.timings.to_json()).map_err(|e| {
            Failure::other(CodecPrepStatus::Internal, format!("timings as JSON: {e}"))
        })?;
        Ok(Self {
            out_dir: c_path(&result.out_dir),
            meta_path: c_path(&result.meta_path),
            canvas_paths: result
                .canvas_files
                .iter()
                .map(|name| c_path(&result.out_dir.join(name)))
                .collect(),
            frame_ids: ids.iter().map(|&i| i64::from(i)).collect(),
            positions: positions.iter().copied().collect(),
            timings_json: c_text(timings),
            meta_json: c_text(result.meta.to_pretty()),
        })
    }
}

/// Sets `*out` to one of the result's strings.
///
/// # Safety
///
/// `result` is NULL or a live result; `out` is NULL or writable.
unsafe fn string_of(
    name: &'static str,
    result: *const CodecPrepPreinferResult,
    out: *mut *const c_char,
    pick: impl FnOnce(&CodecPrepPreinferResult) -> &CString,
) -> CodecPrepStatus {
    // SAFETY: the caller's contract.
    unsafe {
        get(
            name,
            (result, "result"),
            (out, "out"),
            std::ptr::null(),
            |r| Ok(pick(r).as_ptr()),
        )
    }
}

/// Sets `*out` to the output directory (the config's `out_dir`). Owned by `result`.
///
/// # Safety
///
/// `result` is NULL or a live result; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_result_out_dir(
    result: *const CodecPrepPreinferResult,
    out: *mut *const c_char,
) -> CodecPrepStatus {
    // SAFETY: the caller's contract.
    unsafe {
        string_of("codecprep_preinfer_result_out_dir", result, out, |r| {
            &r.out_dir
        })
    }
}

/// Sets `*out` to the path of meta.json. Owned by `result`.
///
/// # Safety
///
/// `result` is NULL or a live result; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_result_meta_path(
    result: *const CodecPrepPreinferResult,
    out: *mut *const c_char,
) -> CodecPrepStatus {
    // SAFETY: the caller's contract.
    unsafe {
        string_of("codecprep_preinfer_result_meta_path", result, out, |r| {
            &r.meta_path
        })
    }
}

/// Sets `*out` to the content of meta.json (JSON text). Owned by `result`.
///
/// # Safety
///
/// `result` is NULL or a live result; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_result_meta_json(
    result: *const CodecPrepPreinferResult,
    out: *mut *const c_char,
) -> CodecPrepStatus {
    // SAFETY: the caller's contract.
    unsafe {
        string_of("codecprep_preinfer_result_meta_json", result, out, |r| {
            &r.meta_json
        })
    }
}

/// Sets `*out` to the run's timings, a JSON object of seconds per step in the order taken
/// (the `timings` of meta.json). Owned by `result`.
///
/// # Safety
///
/// `result` is NULL or a live result; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_result_timings_json(
    result: *const CodecPrepPreinferResult,
    out: *mut *const c_char,
) -> CodecPrepStatus {
    // SAFETY: the caller's contract.
    unsafe {
        string_of("codecprep_preinfer_result_timings_json", result, out, |r| {
            &r.timings_json
        })
    }
}

/// Stores the number of canvas files in `*count`.
///
/// # Safety
///
/// `result` is NULL or a live result; `count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_result_canvas_count(
    result: *const CodecPrepPreinferResult,
    count: *mut usize,
) -> CodecPrepStatus {
    // SAFETY: the caller's contract.
    unsafe {
        get(
            "codecprep_preinfer_result_canvas_count",
            (result, "result"),
            (count, "count"),
            0,
            |r| Ok(r.canvas_paths.len()),
        )
    }
}

/// Sets `*path` to the full path of canvas `index` (canvas order: group by group). Owned by
/// `result`.
///
/// # Safety
///
/// `result` is NULL or a live result; `path` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_result_canvas_path(
    result: *const CodecPrepPreinferResult,
    index: usize,
    path: *mut *const c_char,
) -> CodecPrepStatus {
    let pick = |result: &CodecPrepPreinferResult| {
        let canvas = result.canvas_paths.get(index).ok_or_else(|| {
            Failure::argument(
                CodecPrepStatus::OutOfRange,
                format!(
                    "canvas {index} is past the {} canvases",
                    result.canvas_paths.len()
                ),
            )
        })?;
        Ok(canvas.as_ptr())
    };
    // SAFETY: the caller's contract.
    unsafe {
        get(
            "codecprep_preinfer_result_canvas_path",
            (result, "result"),
            (path, "path"),
            std::ptr::null(),
            pick,
        )
    }
}

/// Copies the sampled frame ids (display order indices, `frame_ids.npy`) into `buf` (room for
/// `capacity` values) and stores their number in `*count`. When they do not fit, nothing is
/// copied, `*count` still receives the number and the status is `BUFFER_TOO_SMALL`
/// (`buf = NULL, capacity = 0` asks for the size). The caller owns `buf`.
///
/// # Safety
///
/// `result` is NULL or a live result; `buf` is NULL or has room for `capacity` values;
/// `count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_result_frame_ids(
    result: *const CodecPrepPreinferResult,
    buf: *mut i64,
    capacity: usize,
    count: *mut usize,
) -> CodecPrepStatus {
    call("codecprep_preinfer_result_frame_ids", || {
        // SAFETY: the caller's contract.
        let result = unsafe { arg(result, "result") }?;
        unsafe { copy_to_caller(&result.frame_ids, buf, capacity, count, "frame_ids") }
    })
}

/// Copies the source position of every canvas patch (`src_patch_position.npy`: rows of three
/// int32 `[frame id, patch row, patch col]`, `-1` rows for black padding) into `buf`, room for
/// `capacity` int32 values, and stores the number of int32 values (3 per row) in `*count`.
/// Same buffer rules as `codecprep_preinfer_result_frame_ids`.
///
/// # Safety
///
/// `result` is NULL or a live result; `buf` is NULL or has room for `capacity` values;
/// `count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_result_positions(
    result: *const CodecPrepPreinferResult,
    buf: *mut i32,
    capacity: usize,
    count: *mut usize,
) -> CodecPrepStatus {
    call("codecprep_preinfer_result_positions", || {
        // SAFETY: the caller's contract.
        let result = unsafe { arg(result, "result") }?;
        unsafe { copy_to_caller(&result.positions, buf, capacity, count, "positions") }
    })
}

/// Frees a result (the files it names stay). NULL is accepted and ignored.
///
/// # Safety
///
/// `result` is NULL or a result from `codecprep_preinfer_run` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_result_free(result: *mut CodecPrepPreinferResult) {
    // SAFETY: the caller's contract.
    unsafe { free_handle(result) }
}
