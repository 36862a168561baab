//! Registration of the meta with GStreamer and its init/free/transform functions.

use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::{Arc, LazyLock};

use codecprep_core::BitcostMap;
use gst::glib;
use gst::glib::translate::{FromGlib, IntoGlib};
use gst::prelude::*;

use super::{API_NAME, BitcostMeta, IMPL_NAME, LAYOUT_VERSION, codec_value, grid_kind_c};

/// The C layout, identical to `GstCodecPrepBitcostMeta` in include/gstcodecprepmeta.h.
pub mod ffi {
    use std::ffi::{c_char, c_void};

    #[repr(C)]
    pub struct GstCodecPrepBitcostMeta {
        pub meta: gst::ffi::GstMeta,
        pub version: u32,
        pub codec: u32,
        pub grid_kind: *const c_char,
        pub measure: u32,
        pub block_size: u32,
        pub width: u32,
        pub height: u32,
        pub rows: u32,
        pub cols: u32,
        pub sub_rows: u32,
        pub sub_cols: u32,
        pub flags: u32,
        pub data_bits: u32,
        pub segments: u32,
        pub reserved: u32,
        pub frame_index: u64,
        pub cells: *const i32,
        pub sub: *const f32,
        /// `Arc::into_raw` of the `BitcostMap` the two pointers above point into.
        pub priv_map: *const c_void,
    }
}

use ffi::GstCodecPrepBitcostMeta as Raw;

const FLAG_INTERLACED: u32 = 1;
const FLAG_DAMAGED: u32 = 2;

struct MetaInfo(ptr::NonNull<gst::ffi::GstMetaInfo>);
// SAFETY: a registered GstMetaInfo is immutable, process-lifetime data.
unsafe impl Send for MetaInfo {}
// SAFETY: as above.
unsafe impl Sync for MetaInfo {}

/// The API type, registered once per process (reused if already registered).
pub(super) fn api_type() -> glib::Type {
    static TYPE: LazyLock<glib::Type> = LazyLock::new(|| {
        let name = std::ffi::CString::new(API_NAME).expect("no NUL in the API name");
        let tags: [*const c_char; 3] = [c"video".as_ptr(), c"size".as_ptr(), ptr::null()];
        // SAFETY: valid C strings and a NULL-terminated tag array, copied by GStreamer.
        unsafe {
            let existing = glib::gobject_ffi::g_type_from_name(name.as_ptr());
            if existing != 0 {
                return glib::Type::from_glib(existing);
            }
            glib::Type::from_glib(gst::ffi::gst_meta_api_type_register(
                name.as_ptr(),
                tags.as_ptr().cast_mut().cast(),
            ))
        }
    });
    *TYPE
}

fn meta_info() -> *const gst::ffi::GstMetaInfo {
    static INFO: LazyLock<MetaInfo> = LazyLock::new(|| {
        let name = std::ffi::CString::new(IMPL_NAME).expect("no NUL in the meta name");
        // SAFETY: valid arguments; GStreamer keeps the returned info for the process lifetime.
        let info = unsafe {
            let existing = gst::ffi::gst_meta_get_info(name.as_ptr());
            if existing.is_null() {
                gst::ffi::gst_meta_register(
                    api_type().into_glib(),
                    name.as_ptr(),
                    std::mem::size_of::<Raw>(),
                    Some(init),
                    Some(free),
                    Some(transform),
                )
            } else {
                existing
            }
        };
        MetaInfo(ptr::NonNull::new(info.cast_mut()).expect("gst_meta_register failed"))
    });
    INFO.0.as_ptr()
}

unsafe extern "C" fn init(
    meta: *mut gst::ffi::GstMeta,
    _params: glib::ffi::gpointer,
    _buffer: *mut gst::ffi::GstBuffer,
) -> glib::ffi::gboolean {
    let raw = meta.cast::<Raw>();
    // SAFETY: GStreamer allocated size_of::<Raw>() bytes; zero every field after the header.
    unsafe {
        let start = raw
            .cast::<u8>()
            .add(std::mem::size_of::<gst::ffi::GstMeta>());
        ptr::write_bytes(
            start,
            0,
            std::mem::size_of::<Raw>() - std::mem::size_of::<gst::ffi::GstMeta>(),
        );
    }
    glib::ffi::GTRUE
}

unsafe extern "C" fn free(meta: *mut gst::ffi::GstMeta, _buffer: *mut gst::ffi::GstBuffer) {
    let raw = meta.cast::<Raw>();
    // SAFETY: priv_map is NULL or the Arc pointer stored by `fill`, released exactly once here.
    unsafe {
        let map = (*raw).priv_map.cast::<BitcostMap>();
        if !map.is_null() {
            drop(Arc::from_raw(map));
            (*raw).priv_map = ptr::null();
        }
    }
}

unsafe extern "C" fn transform(
    dest: *mut gst::ffi::GstBuffer,
    meta: *mut gst::ffi::GstMeta,
    _buffer: *mut gst::ffi::GstBuffer,
    kind: glib::ffi::GQuark,
    data: glib::ffi::gpointer,
) -> glib::ffi::gboolean {
    // Only whole-buffer copies keep the meta; scaling and every other transform drop it.
    let copy = glib::Quark::from_str("gst-copy").into_glib();
    if kind != copy {
        return glib::ffi::GFALSE;
    }
    // SAFETY: for "gst-copy" the data is a GstMetaTransformCopy.
    let region = unsafe { (*data.cast::<gst::ffi::GstMetaTransformCopy>()).region };
    if region != glib::ffi::GFALSE {
        return glib::ffi::GFALSE;
    }
    let source = meta.cast::<Raw>();
    // SAFETY: the source meta is ours and initialised; the new meta shares its map (one more
    // strong count) and copies the plain fields.
    unsafe {
        if (*source).priv_map.is_null() {
            return glib::ffi::GFALSE;
        }
        let target =
            gst::ffi::gst_buffer_add_meta(dest, meta_info(), ptr::null_mut()).cast::<Raw>();
        if target.is_null() {
            return glib::ffi::GFALSE;
        }
        Arc::increment_strong_count((*source).priv_map.cast::<BitcostMap>());
        let header = ptr::read(&raw const (*target).meta);
        ptr::copy_nonoverlapping(source, target, 1);
        ptr::write(&raw mut (*target).meta, header);
    }
    glib::ffi::GTRUE
}

/// Fills an initialised meta with `map` (taking over one strong count).
fn fill(raw: &mut Raw, map: Arc<BitcostMap>, frame_index: u64) {
    raw.version = LAYOUT_VERSION;
    raw.codec = codec_value(map.codec());
    raw.grid_kind = grid_kind_c(map.codec()).as_ptr();
    raw.measure = map.measure().option_value();
    raw.block_size = map.block_size();
    raw.width = map.width();
    raw.height = map.height();
    raw.rows = map.rows() as u32;
    raw.cols = map.cols() as u32;
    raw.sub_rows = map.sub_rows() as u32;
    raw.sub_cols = map.sub_cols() as u32;
    raw.flags = if map.interlaced() { FLAG_INTERLACED } else { 0 }
        | if map.damaged() { FLAG_DAMAGED } else { 0 };
    raw.data_bits = map.data_bits();
    raw.segments = map.segments();
    raw.reserved = 0;
    raw.frame_index = frame_index;
    raw.cells = map.cells().as_ptr();
    raw.sub = map.sub().as_ptr();
    raw.priv_map = Arc::into_raw(map).cast::<c_void>();
}

pub(super) fn add(
    buffer: &mut gst::BufferRef,
    map: Arc<BitcostMap>,
    frame_index: u64,
) -> gst::MetaRefMut<'_, BitcostMeta, gst::meta::Standalone> {
    // SAFETY: the buffer is writable (we hold &mut); gst_buffer_add_meta returns an
    // initialised meta of our registered size, which `fill` completes before any read.
    unsafe {
        let raw = gst::ffi::gst_buffer_add_meta(buffer.as_mut_ptr(), meta_info(), ptr::null_mut())
            .cast::<Raw>();
        fill(&mut *raw, map, frame_index);
        BitcostMeta::from_mut_ptr(buffer, raw)
    }
}
