//! Bit-cost maps as C sees them: the borrowed `CodecPrepMapView` and owned copies
//! (`codecprep_map_copy` / `codecprep_map_free`).

use std::ffi::c_char;

use codecprep_core::{BitcostMap, Codec, FrameRecord, Measure};

use crate::boundary::{Out, arg, call, free_handle, get};
use crate::names::c_name;
use crate::status::{CodecPrepStatus, Failure};

/// The codec that produced a map (the numbers of the map header, docs/bitcost-map.md).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecPrepCodec {
    /// Not one codecprep reads (only in `CodecPrepVideoInfo` of odd files).
    Unknown = 0,
    /// Blocks are 16x16 macroblocks.
    H264 = 1,
    /// Blocks are coding tree units (16, 32 or 64 pixels).
    Hevc = 2,
    /// Blocks are 64x64 superblocks.
    Vp9 = 3,
}

impl CodecPrepCodec {
    pub(crate) fn from_name(name: &str) -> Self {
        match name {
            "h264" => Self::H264,
            "hevc" => Self::Hevc,
            "vp9" => Self::Vp9,
            _ => Self::Unknown,
        }
    }

    fn to_core(value: u32) -> Option<Codec> {
        match value {
            1 => Some(Codec::H264),
            2 => Some(Codec::Hevc),
            3 => Some(Codec::Vp9),
            _ => None,
        }
    }
}

impl From<Codec> for CodecPrepCodec {
    fn from(codec: Codec) -> Self {
        match codec {
            Codec::H264 => Self::H264,
            Codec::Hevc => Self::Hevc,
            Codec::Vp9 => Self::Vp9,
        }
    }
}

/// How bits are counted (docs/bitcost-map.md).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecPrepMeasure {
    /// The reference tool's numbers, quirks included (the default).
    Reference = 0,
    /// Precisely the consumed bits.
    Exact = 1,
}

impl From<Measure> for CodecPrepMeasure {
    fn from(measure: Measure) -> Self {
        match measure {
            Measure::Reference => Self::Reference,
            Measure::Exact => Self::Exact,
        }
    }
}

/// One frame's bit-cost map and facts, borrowed: the pointers stay valid only as long as the
/// function that handed the view out says (the scan callback's duration, the
/// `CodecPrepFrames` or `CodecPrepMap` it belongs to).
///
/// `cells` holds `rows` rows of `cols` int32 block costs in bits, row `r` starting at
/// `cells + r * cells_stride`; `sub` holds `sub_rows` rows of `sub_cols` float costs of
/// 4x4-pixel cells, row `r` at `sub + r * sub_stride` (strides count elements).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CodecPrepMapView {
    /// `sizeof(CodecPrepMapView)` of the library that filled it.
    pub struct_size: usize,
    /// Display-order index of the frame (decoder output count).
    pub frame_index: i64,
    /// Presentation time in seconds from the stream start; NaN when the frame has none.
    pub pts_time: f64,
    /// Size of the packet that carried the frame, in bits (0 when unknown).
    pub packet_bits: u64,
    /// Sum of `cells` (bits).
    pub total_bits: i64,
    /// Size of the picture's entropy-coded data in bits.
    pub data_bits: u32,
    /// Independently started arithmetic-coded parts (slices, WPP rows, tiles).
    pub segments: u32,
    /// 'I', 'P', 'B' or '?'.
    pub pict_type: c_char,
    /// Non-zero for keyframes.
    pub keyframe: u8,
    /// Non-zero for interlaced coding (field pictures or MBAFF).
    pub interlaced: u8,
    /// Non-zero when the decoder met invalid data in the picture.
    pub damaged: u8,
    /// A `CodecPrepCodec` value.
    pub codec: u32,
    /// A `CodecPrepMeasure` value.
    pub measure: u32,
    /// "mb" (H.264 macroblocks), "ctu" (HEVC) or "sb" (VP9 superblocks); static.
    pub grid_kind: *const c_char,
    /// Pixel size of one block.
    pub block_size: u32,
    /// Picture size in pixels.
    pub width: u32,
    pub height: u32,
    /// Block grid.
    pub rows: u32,
    pub cols: u32,
    /// 4x4-pixel sub-grid.
    pub sub_rows: u32,
    pub sub_cols: u32,
    /// Elements from one row of `cells` to the next.
    pub cells_stride: usize,
    /// Elements from one row of `sub` to the next.
    pub sub_stride: usize,
    /// Block costs in bits.
    pub cells: *const i32,
    /// Sub-grid costs in bits.
    pub sub: *const f32,
}

/// Largest grid side a view may announce (the map parser's own bound).
const MAX_GRID_SIDE: u32 = 1 << 16;

impl CodecPrepMapView {
    /// A view of `map` with the frame facts of `record`; borrows `map`'s arrays.
    pub(crate) fn of(record: &FrameRecord, map: &BitcostMap) -> Self {
        let side = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            struct_size: size_of::<Self>(),
            frame_index: record.index as i64,
            pts_time: record.pts_time.unwrap_or(f64::NAN),
            packet_bits: record.packet_bits,
            total_bits: map.total_bits(),
            data_bits: map.data_bits(),
            segments: map.segments(),
            pict_type: u8::try_from(record.pict_type).unwrap_or(b'?') as c_char,
            keyframe: u8::from(record.keyframe),
            interlaced: u8::from(map.interlaced()),
            damaged: u8::from(map.damaged()),
            codec: CodecPrepCodec::from(map.codec()) as u32,
            measure: CodecPrepMeasure::from(map.measure()) as u32,
            grid_kind: c_name(map.codec().grid_kind()),
            block_size: map.block_size(),
            width: map.width(),
            height: map.height(),
            rows: side(map.rows()),
            cols: side(map.cols()),
            sub_rows: side(map.sub_rows()),
            sub_cols: side(map.sub_cols()),
            cells_stride: map.cols(),
            sub_stride: map.sub_cols(),
            cells: map.cells().as_ptr(),
            sub: map.sub().as_ptr(),
        }
    }
}

/// The map of `record`, which every frame of the patched decoders carries.
pub(crate) fn map_of(record: &FrameRecord) -> Result<&BitcostMap, Failure> {
    record.map.as_ref().ok_or_else(|| {
        Failure::other(
            CodecPrepStatus::Decode,
            format!("frame {} carries no bit-cost map", record.index),
        )
    })
}

/// An owned copy of a map. Create with `codecprep_map_copy`, read with `codecprep_map_view`,
/// free with `codecprep_map_free`.
pub struct CodecPrepMap {
    view: CodecPrepMapView,
    _cells: Vec<i32>,
    _sub: Vec<f32>,
}

/// Copies `rows` rows of `cols` elements, `stride` apart, into a packed vector.
///
/// # Safety
///
/// `ptr` holds `rows` such rows (checked non-NULL and aligned when there is anything to copy).
unsafe fn copy_grid<T: Copy>(
    ptr: *const T,
    rows: u32,
    cols: u32,
    stride: usize,
    what: &str,
) -> Result<Vec<T>, Failure> {
    if rows > MAX_GRID_SIDE || cols > MAX_GRID_SIDE {
        return Err(Failure::invalid(format!(
            "view {what} grid {rows}x{cols} is larger than any map"
        )));
    }
    let (rows, cols) = (rows as usize, cols as usize);
    if rows == 0 || cols == 0 {
        return Ok(Vec::new());
    }
    if stride < cols {
        return Err(Failure::invalid(format!(
            "view {what} stride {stride} is below its {cols} columns"
        )));
    }
    // SAFETY: non-NULL and aligned are checked by `arg`; the extent is the caller's contract.
    let first = unsafe { arg(ptr, what) }?;
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        // SAFETY: row `r` of the caller's grid.
        let row = unsafe { std::slice::from_raw_parts((first as *const T).add(r * stride), cols) };
        out.extend_from_slice(row);
    }
    Ok(out)
}

/// Copies the map `view` describes into a new `CodecPrepMap` the caller owns (`*out`; NULL on
/// failure) and frees with `codecprep_map_free`. Use it to keep a map beyond the view's
/// lifetime (for instance from inside a scan callback).
///
/// # Safety
///
/// `view` is NULL or points to a view the library handed out and that is still valid (or one
/// the caller filled whose pointers and sizes describe readable arrays); `out` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_map_copy(
    view: *const CodecPrepMapView,
    out: *mut *mut CodecPrepMap,
) -> CodecPrepStatus {
    call("codecprep_map_copy", || {
        // SAFETY (all): the caller's contract.
        let out = unsafe { Out::new(out, std::ptr::null_mut(), "out") }?;
        let view = unsafe { arg(view, "view") }?;
        let codec = CodecPrepCodec::to_core(view.codec).ok_or_else(|| {
            Failure::invalid(format!("view codec {} is not a CodecPrepCodec", view.codec))
        })?;
        let cells =
            unsafe { copy_grid(view.cells, view.rows, view.cols, view.cells_stride, "cells") }?;
        let sub = unsafe {
            copy_grid(
                view.sub,
                view.sub_rows,
                view.sub_cols,
                view.sub_stride,
                "sub",
            )
        }?;
        let copy = CodecPrepMapView {
            struct_size: size_of::<CodecPrepMapView>(),
            grid_kind: c_name(codec.grid_kind()),
            cells_stride: view.cols as usize,
            sub_stride: view.sub_cols as usize,
            cells: cells.as_ptr(),
            sub: sub.as_ptr(),
            ..*view
        };
        out.set(Box::into_raw(Box::new(CodecPrepMap {
            view: copy,
            _cells: cells,
            _sub: sub,
        })));
        Ok(())
    })
}

/// Sets `*view` to the view of an owned map; valid until `codecprep_map_free(map)`.
///
/// # Safety
///
/// `map` is NULL or a live `CodecPrepMap`; `view` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_map_view(
    map: *const CodecPrepMap,
    view: *mut *const CodecPrepMapView,
) -> CodecPrepStatus {
    // SAFETY: the caller's contract.
    unsafe {
        get(
            "codecprep_map_view",
            (map, "map"),
            (view, "view"),
            std::ptr::null(),
            |m| Ok(&m.view as *const CodecPrepMapView),
        )
    }
}

/// Frees a map copy. NULL is accepted and ignored.
///
/// # Safety
///
/// `map` is NULL or a map from `codecprep_map_copy` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_map_free(map: *mut CodecPrepMap) {
    // SAFETY: the caller's contract.
    unsafe { free_handle(map) }
}
