//! What incremental decoding (packets handed in one by one, not read from a file) needs from
//! FFmpeg's packets and frames: filling a packet from bytes, a frame's timestamp and its planes.

use std::ffi::c_int;

use ffmpeg_sys_next as ff;

use super::error::{FfmpegError, check};
use super::frame::Frame;
use super::packet::{Packet, timestamp};
use super::picture::{Picture, PlanarFormat, Plane};

impl Packet {
    /// Replaces the payload with a copy of `data` (plus FFmpeg's zeroed padding), with `pts`
    /// as its timestamp and the keyframe flag as given.
    pub(crate) fn fill(
        &mut self,
        data: &[u8],
        pts: i64,
        keyframe: bool,
    ) -> Result<(), FfmpegError> {
        let size = c_int::try_from(data.len())
            .map_err(|_| FfmpegError::from_code(ff::AVERROR(ff::EINVAL)))?;
        self.unref();
        let pkt = self.as_mut_ptr();
        // SAFETY: valid, unreferenced packet; av_new_packet allocates `size` bytes plus zeroed
        // padding, so the copy stays in bounds.
        unsafe {
            check(ff::av_new_packet(pkt, size))?;
            std::ptr::copy_nonoverlapping(data.as_ptr(), (*pkt).data, data.len());
            (*pkt).pts = pts;
            (*pkt).dts = super::packet::NO_TIMESTAMP;
            (*pkt).flags = if keyframe { ff::AV_PKT_FLAG_KEY } else { 0 };
        }
        Ok(())
    }
}

fn planar_format(format: c_int) -> Option<(PlanarFormat, bool)> {
    use ff::AVPixelFormat as F;
    let known = [
        (F::AV_PIX_FMT_YUV420P, PlanarFormat::Yuv420p, false),
        (F::AV_PIX_FMT_YUVJ420P, PlanarFormat::Yuv420p, true),
        (F::AV_PIX_FMT_YUV422P, PlanarFormat::Yuv422p, false),
        (F::AV_PIX_FMT_YUVJ422P, PlanarFormat::Yuv422p, true),
        (F::AV_PIX_FMT_YUV444P, PlanarFormat::Yuv444p, false),
        (F::AV_PIX_FMT_YUVJ444P, PlanarFormat::Yuv444p, true),
        (F::AV_PIX_FMT_YUV420P10LE, PlanarFormat::Yuv420p10, false),
        (F::AV_PIX_FMT_YUV422P10LE, PlanarFormat::Yuv422p10, false),
        (F::AV_PIX_FMT_YUV444P10LE, PlanarFormat::Yuv444p10, false),
        (F::AV_PIX_FMT_GRAY8, PlanarFormat::Gray8, false),
    ];
    known
        .into_iter()
        .find(|&(av, _, _)| av as c_int == format)
        .map(|(_, planar, full)| (planar, full))
}

impl Frame {
    /// The frame's timestamp: the `pts` of the packet that carried the picture.
    pub(crate) fn pts(&self) -> Option<i64> {
        // SAFETY: valid frame; int64 field.
        timestamp(unsafe { (*self.as_ptr()).pts })
    }

    /// The decoded planes, when the pixel format is one of `PlanarFormat`'s.
    pub(crate) fn picture(&self) -> Option<Picture<'_>> {
        let (format, full_range) = planar_format(self.pixel_format())?;
        let (width, height) = (self.width(), self.height());
        if width == 0 || height == 0 {
            return None;
        }
        let frame = self.as_ptr();
        let mut planes = Vec::with_capacity(format.planes());
        for index in 0..format.planes() {
            let (w, h) = format.plane_size(index, width, height);
            let row_bytes = w as usize * format.bytes_per_sample();
            let rows = h as usize;
            // SAFETY: valid frame; data/linesize are plain arrays of pointers and ints.
            let (data, stride) = unsafe { ((*frame).data[index], (*frame).linesize[index]) };
            let stride = usize::try_from(stride).ok()?;
            if data.is_null() || stride < row_bytes {
                return None;
            }
            let len = stride * (rows - 1) + row_bytes;
            // SAFETY: the decoder allocated `rows` rows of `stride` bytes for this plane, which
            // live as long as the frame is not modified (we hold &self).
            let data = unsafe { std::slice::from_raw_parts(data, len) };
            planes.push(Plane {
                data,
                stride,
                row_bytes,
                rows,
            });
        }
        Some(Picture {
            format,
            full_range,
            width,
            height,
            planes,
        })
    }
}
