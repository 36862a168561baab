//! Conversion of decoded pictures to packed 8-bit RGB with swscale.

use std::ffi::c_int;
use std::ptr::{self, NonNull};

use ffmpeg_sys_next as ff;

use super::error::FfmpegError;
use super::frame::Frame;
use super::raw;

/// Packed 24-bit output layouts.
///
/// Both are produced by scaling to BGR24: swscale's RGB24 output path rounds differently
/// (up to 4 levels after area scaling), and `Rgb` must differ from `Bgr` only in channel order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PixelFormat {
    /// Blue, green, red: OpenCV's order and the reference tool's output.
    #[default]
    Bgr,
    Rgb,
}

/// Some swscale SIMD paths write whole vector blocks past the end of a row. Rows are written
/// in order, so an overrun is overwritten by the next row; this slack absorbs the last one.
const OUTPUT_SLACK: usize = 256;

/// A swscale context reused across frames; swscale rebuilds it only when the source or
/// destination geometry or format changes.
pub(crate) struct Scaler {
    ctx: Option<NonNull<ff::SwsContext>>,
}

// SAFETY: a SwsContext is plain state, used only through &mut self.
unsafe impl Send for Scaler {}

impl Scaler {
    pub(crate) fn new() -> Self {
        Self { ctx: None }
    }

    /// Scales `frame` with SWS_AREA to `width` x `height` packed pixels, rows tightly packed
    /// (`width * 3` bytes). Default (BT.601) coefficients, range taken from the pixel format.
    pub(crate) fn convert(
        &mut self,
        frame: &Frame,
        width: u32,
        height: u32,
        layout: PixelFormat,
    ) -> Result<Vec<u8>, FfmpegError> {
        let invalid = FfmpegError::from_code(ff::AVERROR(ff::EINVAL));
        let (src_w, src_h) = (frame.width(), frame.height());
        if [src_w, src_h, width, height].contains(&0) {
            return Err(invalid);
        }
        let as_int = |v: u32| c_int::try_from(v).map_err(|_| invalid);
        let (src_w, src_h, dst_w, dst_h) = (
            as_int(src_w)?,
            as_int(src_h)?,
            as_int(width)?,
            as_int(height)?,
        );
        let row_bytes = width as usize * 3;
        let dst_stride = c_int::try_from(row_bytes).map_err(|_| invalid)?;

        // SAFETY: the previous context (or NULL) is handed over: swscale returns it when the
        // parameters match, else frees it and returns a new one, or NULL on failure.
        let ctx = unsafe {
            raw::sws_get_cached_context(
                self.ctx.take().map_or(ptr::null_mut(), NonNull::as_ptr),
                src_w,
                src_h,
                frame.pixel_format(),
                dst_w,
                dst_h,
                ff::AVPixelFormat::AV_PIX_FMT_BGR24 as c_int,
                ff::SWS_AREA,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null(),
            )
        };
        let ctx = NonNull::new(ctx).ok_or(invalid)?;
        self.ctx = Some(ctx);

        let size = row_bytes * height as usize;
        let mut pixels = vec![0u8; size + OUTPUT_SLACK];
        let dst = [
            pixels.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        ];
        let dst_strides = [dst_stride, 0, 0, 0];
        let src = frame.as_ptr();
        // SAFETY: the frame's planes and strides describe a src_w x src_h picture of its pixel
        // format; dst has room for dst_h rows of dst_stride bytes plus slack.
        let rows = unsafe {
            ff::sws_scale(
                ctx.as_ptr(),
                (*src).data.as_ptr().cast(),
                (*src).linesize.as_ptr(),
                0,
                src_h,
                dst.as_ptr(),
                dst_strides.as_ptr(),
            )
        };
        if rows != dst_h {
            return Err(if rows < 0 {
                FfmpegError::from_code(rows)
            } else {
                invalid
            });
        }
        pixels.truncate(size);
        if layout == PixelFormat::Rgb {
            for pixel in pixels.chunks_exact_mut(3) {
                pixel.swap(0, 2);
            }
        }
        Ok(pixels)
    }
}

impl Drop for Scaler {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take() {
            // SAFETY: we own the context.
            unsafe { ff::sws_freeContext(ctx.as_ptr()) }
        }
    }
}
