//! The bit-cost meta: one frame's per-block bit cost attached to a `GstBuffer`.
//!
//! No GStreamer meta for codec-level maps exists elsewhere, so this one defines the shape:
//!
//! - API `CodecPrepBitcostMetaAPI`, implementation `CodecPrepBitcostMeta`, tags `video` (it
//!   describes a video frame) and `size` (it depends on the frame's dimensions).
//! - It carries the codec, the grid kind (`mb`, `ctu`, `sb`), the block size, the block grid and
//!   4x4-pixel sub-grid dimensions, the measure, the frame's display index and the two maps
//!   (docs/bitcost-map.md explains every value).
//! - The maps live in an `Arc`: copying a buffer (`gst_buffer_copy`, `make_writable`, `tee`
//!   branches that write) shares them instead of copying megabytes per frame.
//! - Transform: kept on plain buffer copies; dropped on everything else, in particular on
//!   scaling (`videoscale`, `videoconvertscale`), because bit costs of coded blocks have no
//!   meaning on a resampled grid. Elements that change the frame size therefore remove it, and
//!   elements that keep the size but carry only metas tagged `video` keep it.
//! - C code reads it through `include/gstcodecprepmeta.h`, a header-only view with the same
//!   layout (checked by `tests/meta_c_layout.rs`) that looks the API type up by name.
//! - `to_structure` / `from_structure` turn it into a `GstStructure` and back for debugging
//!   (the maps travel as a `GstBuffer` holding the version-1 map blob).

mod registration;
mod structure;

use std::ffi::CStr;
use std::fmt;
use std::sync::Arc;

use codecprep_core::{BitcostMap, Codec, Measure};
use gst::prelude::*;
use ndarray::ArrayView2;

pub use registration::ffi;
pub use structure::{STRUCTURE_NAME, StructureError};

/// The API name under which the meta is registered (and which C code looks up).
pub const API_NAME: &str = "CodecPrepBitcostMetaAPI";
/// The implementation name of the meta.
pub const IMPL_NAME: &str = "CodecPrepBitcostMeta";
/// Version of the C layout (`GST_CODECPREP_BITCOST_META_VERSION`).
pub const LAYOUT_VERSION: u32 = 1;

/// The bit-cost meta on a buffer (see the module docs).
#[repr(transparent)]
pub struct BitcostMeta(ffi::GstCodecPrepBitcostMeta);

// SAFETY: the fields are plain values and pointers into an immutable, `Arc`-owned map.
unsafe impl Send for BitcostMeta {}
// SAFETY: as above; nothing is mutated through a shared reference.
unsafe impl Sync for BitcostMeta {}

// SAFETY: the struct is `#[repr(transparent)]` over the registered C struct.
unsafe impl MetaAPI for BitcostMeta {
    type GstType = ffi::GstCodecPrepBitcostMeta;

    fn meta_api() -> gst::glib::Type {
        registration::api_type()
    }
}

/// Codec value of the C struct and the map header.
pub(crate) fn codec_value(codec: Codec) -> u32 {
    match codec {
        Codec::H264 => 1,
        Codec::Hevc => 2,
        Codec::Vp9 => 3,
    }
}

/// `grid_kind` as a static C string for the C view.
fn grid_kind_c(codec: Codec) -> &'static CStr {
    match codec {
        Codec::H264 => c"mb",
        Codec::Hevc => c"ctu",
        Codec::Vp9 => c"sb",
    }
}

impl BitcostMeta {
    /// Attaches `map` to `buffer` as the frame with display index `frame_index`.
    pub fn add(
        buffer: &mut gst::BufferRef,
        map: Arc<BitcostMap>,
        frame_index: u64,
    ) -> gst::MetaRefMut<'_, Self, gst::meta::Standalone> {
        registration::add(buffer, map, frame_index)
    }

    /// The shared map.
    pub fn map(&self) -> &BitcostMap {
        // SAFETY: a meta reachable from Rust was filled by `add` (or a copy of it), so
        // priv_map is an `Arc<BitcostMap>` pointer kept alive by this meta.
        unsafe { &*self.0.priv_map.cast::<BitcostMap>() }
    }

    /// A new reference to the shared map (no copy).
    pub fn shared_map(&self) -> Arc<BitcostMap> {
        let ptr = self.0.priv_map.cast::<BitcostMap>();
        // SAFETY: as in `map`; the extra strong count belongs to the returned Arc.
        unsafe {
            Arc::increment_strong_count(ptr);
            Arc::from_raw(ptr)
        }
    }

    pub fn codec(&self) -> Codec {
        self.map().codec()
    }

    /// `mb` (H.264 macroblocks), `ctu` (HEVC coding tree units) or `sb` (VP9 superblocks).
    pub fn grid_kind(&self) -> &'static str {
        self.codec().grid_kind()
    }

    pub fn measure(&self) -> Measure {
        self.map().measure()
    }

    pub fn block_size(&self) -> u32 {
        self.map().block_size()
    }

    /// `(rows, cols)` of the block grid.
    pub fn grid_dims(&self) -> (usize, usize) {
        (self.map().rows(), self.map().cols())
    }

    /// `(sub_rows, sub_cols)` of the 4x4-pixel sub-grid.
    pub fn sub_dims(&self) -> (usize, usize) {
        (self.map().sub_rows(), self.map().sub_cols())
    }

    /// Display index: frames the decoder output before this one since it started (or since
    /// the last flushing seek).
    pub fn frame_index(&self) -> u64 {
        self.0.frame_index
    }

    /// Block costs in bits as a `(rows, cols)` view.
    pub fn cells(&self) -> ArrayView2<'_, i32> {
        self.map().cells_array()
    }

    /// Sub-grid costs in bits as a `(sub_rows, sub_cols)` view.
    pub fn sub(&self) -> ArrayView2<'_, f32> {
        self.map().sub_array()
    }

    /// The meta as a `codecprep-bitcost` structure (see `structure.rs`).
    pub fn to_structure(&self) -> gst::Structure {
        structure::to_structure(self.map(), self.frame_index())
    }

    /// Attaches the meta described by `s` (made by `to_structure`) to `buffer`.
    pub fn add_from_structure<'a>(
        buffer: &'a mut gst::BufferRef,
        s: &gst::StructureRef,
    ) -> Result<gst::MetaRefMut<'a, Self, gst::meta::Standalone>, StructureError> {
        let (map, frame_index) = structure::from_structure(s)?;
        Ok(Self::add(buffer, Arc::new(map), frame_index))
    }
}

impl fmt::Debug for BitcostMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitcostMeta")
            .field("codec", &self.codec())
            .field("measure", &self.measure())
            .field("grid", &self.grid_dims())
            .field("sub", &self.sub_dims())
            .field("frame_index", &self.frame_index())
            .finish()
    }
}

/// Name of the custom meta `bitcostdec` adds to frames decoded from a keyframe (sync point).
///
/// Decoded raw buffers never carry `DELTA_UNIT` (every raw picture stands alone), but the
/// preinfer job moves sampled frames off keyframes, so the decoder marks them this way.
pub const KEYFRAME_META: &str = "CodecPrepKeyframeMeta";

fn register_keyframe_meta() {
    static REGISTER: std::sync::Once = std::sync::Once::new();
    REGISTER.call_once(|| gst::meta::CustomMeta::register_simple(KEYFRAME_META));
}

/// Marks `buffer` as decoded from a keyframe.
pub fn mark_keyframe(buffer: &mut gst::BufferRef) -> Result<(), gst::glib::BoolError> {
    register_keyframe_meta();
    gst::meta::CustomMeta::add(buffer, KEYFRAME_META).map(|_| ())
}

/// Whether `buffer` was decoded from a keyframe (marked by [`mark_keyframe`]).
pub fn is_keyframe(buffer: &gst::BufferRef) -> bool {
    register_keyframe_meta();
    gst::meta::CustomMeta::from_buffer(buffer, KEYFRAME_META).is_ok()
}
