//! Owned `AVFrame` with the accessors the reader needs.

use std::ffi::{CStr, c_int};
use std::ptr::NonNull;

use ffmpeg_sys_next as ff;

use super::error::FfmpegError;
use super::packet::timestamp;
use super::raw;
use crate::map::{BitcostMap, MapError};

/// Frame side-data name under which the patched decoders attach the map.
const BITCOST_SIDE_DATA: &CStr = c"CodecPrep bit cost";

pub(crate) struct Frame {
    ptr: NonNull<ff::AVFrame>,
}

// SAFETY: an AVFrame is plain data plus reference-counted buffers with atomic counts.
unsafe impl Send for Frame {}

impl Frame {
    pub(crate) fn new() -> Result<Self, FfmpegError> {
        // SAFETY: no preconditions; NULL means out of memory.
        let ptr = unsafe { ff::av_frame_alloc() };
        NonNull::new(ptr)
            .map(|ptr| Self { ptr })
            .ok_or(FfmpegError::from_code(ff::AVERROR(ff::ENOMEM)))
    }

    pub(super) fn as_ptr(&self) -> *const ff::AVFrame {
        self.ptr.as_ptr()
    }

    pub(super) fn as_mut_ptr(&mut self) -> *mut ff::AVFrame {
        self.ptr.as_ptr()
    }

    /// Fields are read one by one through this raw pointer, never through a `&AVFrame`: the
    /// struct holds enum fields, and only fields with values the bindings know may be read.
    fn raw(&self) -> *const ff::AVFrame {
        self.ptr.as_ptr()
    }

    /// Picture width in pixels after cropping.
    pub(crate) fn width(&self) -> u32 {
        // SAFETY: valid frame; reading an int field.
        let w = unsafe { (*self.raw()).width };
        u32::try_from(w).unwrap_or(0)
    }

    pub(crate) fn height(&self) -> u32 {
        // SAFETY: as above.
        let h = unsafe { (*self.raw()).height };
        u32::try_from(h).unwrap_or(0)
    }

    /// The `AVPixelFormat` value, kept as an int (see raw.rs).
    pub(super) fn pixel_format(&self) -> c_int {
        // SAFETY: as above.
        unsafe { (*self.raw()).format }
    }

    pub(crate) fn best_effort_timestamp(&self) -> Option<i64> {
        // SAFETY: as above.
        timestamp(unsafe { (*self.raw()).best_effort_timestamp })
    }

    /// 'I', 'P' or 'B'; '?' for anything else (S, SI, SP, BI, unknown).
    pub(crate) fn picture_type(&self) -> char {
        // SAFETY: decoders only store AVPictureType values the bindings know.
        match unsafe { (*self.raw()).pict_type } {
            ff::AVPictureType::AV_PICTURE_TYPE_I => 'I',
            ff::AVPictureType::AV_PICTURE_TYPE_P => 'P',
            ff::AVPictureType::AV_PICTURE_TYPE_B => 'B',
            _ => '?',
        }
    }

    pub(crate) fn is_keyframe(&self) -> bool {
        // SAFETY: valid frame; int field.
        let key_frame = unsafe { (*self.raw()).key_frame };
        key_frame != 0
    }

    /// Size of the packet that carried this frame, if the decoder knows it.
    pub(crate) fn packet_size(&self) -> Option<u64> {
        // SAFETY: valid frame; int field (-1 when unknown).
        u64::try_from(unsafe { (*self.raw()).pkt_size }).ok()
    }

    /// What the decoder's `decode_error_flags` say went wrong, in words.
    pub(crate) fn decode_error_reasons(&self) -> Vec<&'static str> {
        // SAFETY: valid frame; int field.
        let flags = unsafe { (*self.raw()).decode_error_flags };
        [
            (ff::FF_DECODE_ERROR_INVALID_BITSTREAM, "invalid bitstream"),
            (ff::FF_DECODE_ERROR_MISSING_REFERENCE, "missing reference"),
            (
                ff::FF_DECODE_ERROR_CONCEALMENT_ACTIVE,
                "error concealment active",
            ),
            (
                ff::FF_DECODE_ERROR_DECODE_SLICES,
                "slices could not be decoded",
            ),
        ]
        .into_iter()
        .filter(|&(bit, _)| flags & bit != 0)
        .map(|(_, reason)| reason)
        .collect()
    }

    pub(crate) fn is_marked_corrupt(&self) -> bool {
        // SAFETY: valid frame; int field.
        let flags = unsafe { (*self.raw()).flags };
        flags & ff::AV_FRAME_FLAG_CORRUPT != 0
    }

    /// The bit-cost map the patched decoders attach to the frame, if any.
    pub(crate) fn bitcost_map(&self) -> Option<Result<BitcostMap, MapError>> {
        self.side_data_named(BITCOST_SIDE_DATA)
            .map(BitcostMap::parse)
    }

    /// Payload of the first side data whose type name is `name`.
    ///
    /// Matching by name keeps codecprep independent of the numeric value a patch gives its
    /// side-data type, and of whether the Rust bindings list that value at all.
    fn side_data_named(&self, name: &CStr) -> Option<&[u8]> {
        let frame = self.ptr.as_ptr();
        // SAFETY: side_data points to nb_side_data valid entries owned by the frame, which
        // lives (unmodified, since we hold &self) as long as the returned slice. The type
        // field is read as a plain int through a raw pointer, never as the Rust enum.
        unsafe {
            let count = usize::try_from((*frame).nb_side_data).unwrap_or(0);
            for i in 0..count {
                let entry = *(*frame).side_data.add(i);
                if entry.is_null() {
                    continue;
                }
                let kind = (&raw const (*entry).type_).cast::<c_int>().read();
                let kind_name = raw::frame_side_data_name(kind);
                if kind_name.is_null() || CStr::from_ptr(kind_name) != name {
                    continue;
                }
                let data = (*entry).data;
                let size = (*entry).size;
                return Some(if data.is_null() || size == 0 {
                    &[]
                } else {
                    std::slice::from_raw_parts(data, size)
                });
            }
        }
        None
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        let mut ptr = self.ptr.as_ptr();
        // SAFETY: we own the frame; av_frame_free unrefs and frees it.
        unsafe { ff::av_frame_free(&mut ptr) }
    }
}
