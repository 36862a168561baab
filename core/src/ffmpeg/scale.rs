//! Conversion of decoded pictures to packed 8-bit RGB with swscale.

use std::ffi::c_int;
use std::ptr::{self, NonNull};

use ffmpeg_sys_next as ff;

use super::error::FfmpegError;
use super::frame::Frame;
use super::picture::{Picture, PlanarFormat};
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
    /// Aligned copies of pictures handed in as planes.
    staging: Vec<u8>,
}

// SAFETY: a SwsContext is plain state, used only through &mut self.
unsafe impl Send for Scaler {}

impl Scaler {
    pub(crate) fn new() -> Self {
        Self {
            ctx: None,
            staging: Vec::new(),
        }
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
        let src = frame.as_ptr();
        // SAFETY: a valid frame; data and linesize are plain arrays describing its planes.
        let (data, strides) = unsafe { ((*src).data, (*src).linesize) };
        let data = [data[0], data[1], data[2], data[3]].map(|p| p.cast_const());
        let strides = [strides[0], strides[1], strides[2], strides[3]];
        let source = Source {
            width: frame.width(),
            height: frame.height(),
            format: frame.pixel_format(),
            data,
            strides,
        };
        // SAFETY: the frame's planes and strides describe its picture and outlive the call.
        unsafe { self.scale(&source, width, height, layout) }
    }

    /// Scales `picture` like [`Scaler::convert`] scales a frame (the planes are first copied
    /// with FFmpeg's frame alignment, so swscale takes the same code paths as for a decoded
    /// frame and the pixels are identical).
    pub(crate) fn convert_picture(
        &mut self,
        picture: &Picture<'_>,
        width: u32,
        height: u32,
        layout: PixelFormat,
    ) -> Result<Vec<u8>, FfmpegError> {
        let invalid = FfmpegError::from_code(ff::AVERROR(ff::EINVAL));
        let strides: Vec<usize> = picture
            .planes
            .iter()
            .map(|p| p.row_bytes.next_multiple_of(PLANE_ALIGN))
            .collect();
        let total: usize = picture
            .planes
            .iter()
            .zip(&strides)
            .map(|(p, s)| (p.rows * s).next_multiple_of(PLANE_ALIGN))
            .sum();
        let staging = &mut self.staging;
        staging.clear();
        staging.resize(total + PLANE_ALIGN, 0);
        let base = staging.as_ptr().align_offset(PLANE_ALIGN);
        let mut offsets = Vec::with_capacity(picture.planes.len());
        let mut at = base;
        for (plane, &stride) in picture.planes.iter().zip(&strides) {
            offsets.push(at);
            for row in 0..plane.rows {
                let start = at + row * stride;
                staging[start..start + plane.row_bytes].copy_from_slice(plane.row(row));
            }
            at += (plane.rows * stride).next_multiple_of(PLANE_ALIGN);
        }
        let mut data = [ptr::null::<u8>(); 4];
        let mut plane_strides = [0 as c_int; 4];
        for (i, (&offset, &stride)) in offsets.iter().zip(&strides).enumerate() {
            data[i] = staging[offset..].as_ptr();
            plane_strides[i] = c_int::try_from(stride).map_err(|_| invalid)?;
        }
        let source = Source {
            width: picture.width,
            height: picture.height,
            format: av_format(picture.format, picture.full_range) as c_int,
            data,
            strides: plane_strides,
        };
        let staging = std::mem::take(&mut self.staging);
        // SAFETY: `data` points into `staging`, which holds the planes with these strides
        // and is kept alive (moved out and back) across the call.
        let result = unsafe { self.scale(&source, width, height, layout) };
        self.staging = staging;
        result
    }

    /// # Safety
    /// `source.data` and `source.strides` must describe a `source.width` x `source.height`
    /// picture of `source.format` that stays valid during the call.
    unsafe fn scale(
        &mut self,
        source: &Source,
        width: u32,
        height: u32,
        layout: PixelFormat,
    ) -> Result<Vec<u8>, FfmpegError> {
        let invalid = FfmpegError::from_code(ff::AVERROR(ff::EINVAL));
        let (src_w, src_h) = (source.width, source.height);
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
                source.format,
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
        // SAFETY: the caller guarantees the source planes; dst has room for dst_h rows of
        // dst_stride bytes plus slack.
        let rows = unsafe {
            ff::sws_scale(
                ctx.as_ptr(),
                source.data.as_ptr(),
                source.strides.as_ptr(),
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

/// The planes swscale reads.
struct Source {
    width: u32,
    height: u32,
    format: c_int,
    data: [*const u8; 4],
    strides: [c_int; 4],
}

/// Alignment of copied planes: FFmpeg's frame buffers are aligned this way, and swscale
/// picks its SIMD paths by the alignment of data and strides.
const PLANE_ALIGN: usize = 64;

fn av_format(format: PlanarFormat, full_range: bool) -> ff::AVPixelFormat {
    use ff::AVPixelFormat as F;
    match (format, full_range) {
        (PlanarFormat::Yuv420p, false) => F::AV_PIX_FMT_YUV420P,
        (PlanarFormat::Yuv420p, true) => F::AV_PIX_FMT_YUVJ420P,
        (PlanarFormat::Yuv422p, false) => F::AV_PIX_FMT_YUV422P,
        (PlanarFormat::Yuv422p, true) => F::AV_PIX_FMT_YUVJ422P,
        (PlanarFormat::Yuv444p, false) => F::AV_PIX_FMT_YUV444P,
        (PlanarFormat::Yuv444p, true) => F::AV_PIX_FMT_YUVJ444P,
        (PlanarFormat::Yuv420p10, _) => F::AV_PIX_FMT_YUV420P10LE,
        (PlanarFormat::Yuv422p10, _) => F::AV_PIX_FMT_YUV422P10LE,
        (PlanarFormat::Yuv444p10, _) => F::AV_PIX_FMT_YUV444P10LE,
        (PlanarFormat::Gray8, _) => F::AV_PIX_FMT_GRAY8,
    }
}

/// Scales decoded pictures handed in as planes (from a GStreamer buffer, say) to packed
/// 24-bit pixels exactly as the file reader scales its frames: swscale, SWS_AREA, default
/// (BT.601) coefficients, range from the format.
pub struct PictureScaler(Scaler);

impl Default for PictureScaler {
    fn default() -> Self {
        Self::new()
    }
}

impl PictureScaler {
    pub fn new() -> Self {
        Self(Scaler::new())
    }

    /// `picture` as `width` x `height` packed pixels in `layout` (rows tightly packed).
    pub fn convert(
        &mut self,
        picture: &Picture<'_>,
        width: u32,
        height: u32,
        layout: PixelFormat,
    ) -> Result<Vec<u8>, FfmpegError> {
        self.0.convert_picture(picture, width, height, layout)
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
