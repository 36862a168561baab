//! What the reader returns per frame.

use ndarray::ArrayView3;

use crate::ffmpeg::PixelFormat;
use crate::map::BitcostMap;

/// One decoded frame, in display order.
#[derive(Debug, Clone)]
pub struct FrameRecord {
    /// Display-order index: the number of frames the decoder output before this one.
    pub index: usize,
    /// Presentation time in seconds from the stream's start, when the frame has a timestamp.
    pub pts_time: Option<f64>,
    /// 'I', 'P' or 'B' ('?' otherwise; VP9 inter frames are 'P').
    pub pict_type: char,
    pub keyframe: bool,
    /// Size of the packet that carried the frame, in bits (0 when unknown).
    pub packet_bits: u64,
    /// Decoded picture size (after cropping); may change mid-stream.
    pub width: u32,
    pub height: u32,
    /// The frame's bit-cost map (always present with the patched decoders).
    pub map: Option<BitcostMap>,
    /// The picture, when requested.
    pub pixels: Option<Pixels>,
    /// Decoding problems noticed since the previous output frame or on this frame.
    pub warnings: Vec<String>,
}

/// Which pixels to return with each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PixelRequest {
    pub format: PixelFormat,
    /// Output width; 0 keeps the decoded width.
    pub width: u32,
    /// Output height; 0 keeps the decoded height.
    pub height: u32,
}

/// A packed 8-bit picture, `height` rows of `width * 3` bytes (fields private to keep the
/// buffer length consistent with the size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    width: u32,
    height: u32,
    format: PixelFormat,
    data: Vec<u8>,
}

impl Pixels {
    pub(crate) fn new(width: u32, height: u32, format: PixelFormat, data: Vec<u8>) -> Self {
        debug_assert_eq!(data.len(), width as usize * height as usize * 3);
        Self {
            width,
            height,
            format,
            data,
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// Row-major packed bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The row-major packed bytes, without copying.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// The picture as a `(height, width, 3)` array view.
    pub fn as_array(&self) -> ArrayView3<'_, u8> {
        ArrayView3::from_shape((self.height as usize, self.width as usize, 3), &self.data)
            .expect("the scaler returns exactly height * width * 3 bytes")
    }
}
