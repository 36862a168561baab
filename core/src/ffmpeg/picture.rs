//! The planar layouts of decoded pictures that codecprep hands out without converting them.

/// A planar pixel layout the H.264, HEVC and VP9 decoders produce (8-bit or 10-bit
/// little-endian samples, luma first, then the chroma planes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanarFormat {
    Yuv420p,
    Yuv422p,
    Yuv444p,
    Yuv420p10,
    Yuv422p10,
    Yuv444p10,
    Gray8,
}

impl PlanarFormat {
    /// Number of planes (1 for gray, else 3).
    pub fn planes(self) -> usize {
        if self == Self::Gray8 { 1 } else { 3 }
    }

    /// Bytes per sample: 1 for 8-bit, 2 for 10-bit formats.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Self::Yuv420p10 | Self::Yuv422p10 | Self::Yuv444p10 => 2,
            _ => 1,
        }
    }

    /// Horizontal and vertical chroma subsampling as shifts (log2 of the factor).
    pub fn chroma_shift(self) -> (u32, u32) {
        match self {
            Self::Yuv420p | Self::Yuv420p10 => (1, 1),
            Self::Yuv422p | Self::Yuv422p10 => (1, 0),
            Self::Yuv444p | Self::Yuv444p10 | Self::Gray8 => (0, 0),
        }
    }

    /// Width and height in samples of plane `index` of a `width` x `height` picture.
    pub fn plane_size(self, index: usize, width: u32, height: u32) -> (u32, u32) {
        if index == 0 {
            return (width, height);
        }
        let (sx, sy) = self.chroma_shift();
        (width.div_ceil(1 << sx), height.div_ceil(1 << sy))
    }
}

/// One plane of a picture: `rows` rows of `row_bytes` meaningful bytes, `stride` apart.
#[derive(Debug, Clone, Copy)]
pub struct Plane<'a> {
    /// Starts at the first row; the last row may end right after its `row_bytes`.
    pub data: &'a [u8],
    pub stride: usize,
    pub row_bytes: usize,
    pub rows: usize,
}

impl<'a> Plane<'a> {
    /// Row `row` (its meaningful bytes only).
    pub fn row(&self, row: usize) -> &'a [u8] {
        let start = row * self.stride;
        &self.data[start..start + self.row_bytes]
    }
}

/// A decoded picture borrowed from the decoder until its next call.
#[derive(Debug, Clone)]
pub struct Picture<'a> {
    pub format: PlanarFormat,
    /// Full-range ("JPEG") samples rather than the usual limited video range.
    pub full_range: bool,
    pub width: u32,
    pub height: u32,
    pub planes: Vec<Plane<'a>>,
}
