//! Declarations of FFmpeg functions whose enum parameters must be passed as plain `c_int`.
//!
//! ffmpeg-sys-next turns C enums into Rust enums, and a Rust enum holding a value it does not
//! list is undefined behaviour. Side-data types come from the (possibly patched) library and
//! may be unknown to the bindings; pixel formats come from the decoder as `c_int`. The C ABI
//! passes these enums as `int`, so declaring the parameters as `c_int` is exact.

use std::ffi::{c_char, c_int};

use ffmpeg_sys_next::{SwsContext, SwsFilter};

unsafe extern "C" {
    #[link_name = "av_frame_side_data_name"]
    pub(super) fn frame_side_data_name(kind: c_int) -> *const c_char;

    #[link_name = "sws_getCachedContext"]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn sws_get_cached_context(
        context: *mut SwsContext,
        src_w: c_int,
        src_h: c_int,
        src_format: c_int,
        dst_w: c_int,
        dst_h: c_int,
        dst_format: c_int,
        flags: c_int,
        src_filter: *mut SwsFilter,
        dst_filter: *mut SwsFilter,
        param: *const f64,
    ) -> *mut SwsContext;
}
