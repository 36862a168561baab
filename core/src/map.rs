//! The bit-cost map the patched FFmpeg decoders attach to every frame (docs/bitcost-map.md).
//!
//! Parsing is pure safe code over a byte slice: the blob comes from frame side data, but the
//! same parser serves the fuzz target, tests and any consumer that stored raw maps.

use ndarray::{ArrayView2, ShapeBuilder};
use serde::{Deserialize, Serialize};

use crate::le_bytes::{from_le_bytes, to_le_bytes};

/// The bytes `C P B M` read as a little-endian u32.
pub const MAGIC: u32 = 0x4D42_5043;
/// The only layout version this reader understands.
pub const VERSION: u32 = 1;
/// Size of the version-1 header; later versions may only grow it.
pub const HEADER_SIZE: usize = 64;

/// Frame dimensions above this are rejected: FFmpeg itself refuses pictures this large, so a
/// bigger value can only come from a corrupt blob, and the bound keeps all size arithmetic far
/// from overflow.
const MAX_DIMENSION: u32 = 1 << 16;

/// Bit of the header's flags field set for interlaced coding (field pictures or MBAFF).
const FLAG_INTERLACED: u32 = 1;
/// Bit of the header's flags field set when the decoder met invalid data in the picture.
const FLAG_DAMAGED: u32 = 2;

/// Side of one sub-grid cell in pixels.
pub const SUB_CELL_SIZE: u32 = 4;

/// The codec that produced a map; its block grid follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    H264,
    Hevc,
    Vp9,
}

impl Codec {
    fn from_header(value: u32) -> Option<Self> {
        match value {
            1 => Some(Self::H264),
            2 => Some(Self::Hevc),
            3 => Some(Self::Vp9),
            _ => None,
        }
    }

    fn header_value(self) -> u32 {
        match self {
            Self::H264 => 1,
            Self::Hevc => 2,
            Self::Vp9 => 3,
        }
    }

    /// Short name of the block kind: macroblock, coding tree unit or superblock.
    pub fn grid_kind(self) -> &'static str {
        match self {
            Self::H264 => "mb",
            Self::Hevc => "ctu",
            Self::Vp9 => "sb",
        }
    }

    /// Block sizes the codec can produce (HEVC's CTB size is chosen by the encoder).
    fn allows_block_size(self, block_size: u32) -> bool {
        match self {
            Self::H264 => block_size == 16,
            Self::Hevc => matches!(block_size, 16 | 32 | 64),
            Self::Vp9 => block_size == 64,
        }
    }
}

/// How the decoder counted bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// What the reference tool reports, so models trained on its output see the same numbers.
    #[default]
    Reference,
    /// Precisely the consumed bits.
    Exact,
}

impl Measure {
    fn from_header(value: u32) -> Option<Self> {
        match value {
            0 => Some(Self::Reference),
            1 => Some(Self::Exact),
            _ => None,
        }
    }

    /// The value of the decoders' `bitcost_measure` option and of the header field.
    pub fn option_value(self) -> u32 {
        match self {
            Self::Reference => 0,
            Self::Exact => 1,
        }
    }
}

/// Why a blob is not a valid bit-cost map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("map too short: {len} bytes, the header alone needs {HEADER_SIZE}")]
    TooShort { len: usize },
    #[error("bad magic 0x{found:08X} (expected 0x{MAGIC:08X})")]
    BadMagic { found: u32 },
    #[error("unsupported map version {found} (this reader knows version {VERSION})")]
    UnsupportedVersion { found: u32 },
    #[error(
        "header size {found} is out of range (at least {HEADER_SIZE}, at most the map size {len})"
    )]
    BadHeaderSize { found: u32, len: usize },
    #[error("unknown codec {found}")]
    UnknownCodec { found: u32 },
    #[error("unknown measure {found}")]
    UnknownMeasure { found: u32 },
    #[error("block size {block_size} is impossible for {codec:?}")]
    BadBlockSize { codec: Codec, block_size: u32 },
    #[error("{field} is {value}, expected 1..={MAX_DIMENSION}")]
    BadDimension { field: &'static str, value: u32 },
    #[error("{grid} grid of {rows}x{cols} does not cover the {width}x{height} picture")]
    GridTooSmall {
        grid: &'static str,
        rows: u32,
        cols: u32,
        width: u32,
        height: u32,
    },
    #[error("sub-grid of {sub_rows}x{sub_cols} extends beyond the {rows}x{cols} block grid")]
    SubGridTooLarge {
        sub_rows: u32,
        sub_cols: u32,
        rows: u32,
        cols: u32,
    },
    #[error("map size is {len} bytes, the header announces {expected}")]
    SizeMismatch { len: usize, expected: usize },
}

/// One frame's bit cost: a block grid of integer bits and a 4x4-pixel float sub-grid.
///
/// Fields are private so that the arrays always match the announced shape.
#[derive(Debug, Clone, PartialEq)]
pub struct BitcostMap {
    codec: Codec,
    measure: Measure,
    block_size: u32,
    width: u32,
    height: u32,
    rows: u32,
    cols: u32,
    sub_rows: u32,
    sub_cols: u32,
    interlaced: bool,
    damaged: bool,
    data_bits: u32,
    segments: u32,
    cells: Vec<i32>,
    sub: Vec<f32>,
}

/// The header fields in file order, before validation.
struct RawHeader {
    header_size: u32,
    codec: u32,
    measure: u32,
    block_size: u32,
    width: u32,
    height: u32,
    cols: u32,
    rows: u32,
    sub_cols: u32,
    sub_rows: u32,
    flags: u32,
    data_bits: u32,
    segments: u32,
}

fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(word)
}

fn check_dimension(field: &'static str, value: u32) -> Result<(), MapError> {
    if value == 0 || value > MAX_DIMENSION {
        return Err(MapError::BadDimension { field, value });
    }
    Ok(())
}

impl BitcostMap {
    /// Parses and validates one map blob.
    pub fn parse(bytes: &[u8]) -> Result<Self, MapError> {
        if bytes.len() < HEADER_SIZE {
            return Err(MapError::TooShort { len: bytes.len() });
        }
        let magic = read_u32(bytes, 0);
        if magic != MAGIC {
            return Err(MapError::BadMagic { found: magic });
        }
        let version = read_u32(bytes, 4);
        if version != VERSION {
            return Err(MapError::UnsupportedVersion { found: version });
        }
        let raw = RawHeader {
            header_size: read_u32(bytes, 8),
            codec: read_u32(bytes, 12),
            measure: read_u32(bytes, 16),
            block_size: read_u32(bytes, 20),
            width: read_u32(bytes, 24),
            height: read_u32(bytes, 28),
            cols: read_u32(bytes, 32),
            rows: read_u32(bytes, 36),
            sub_cols: read_u32(bytes, 40),
            sub_rows: read_u32(bytes, 44),
            flags: read_u32(bytes, 48),
            data_bits: read_u32(bytes, 52),
            segments: read_u32(bytes, 56),
        };
        let header_size = raw.header_size as usize;
        if header_size < HEADER_SIZE || header_size > bytes.len() {
            return Err(MapError::BadHeaderSize {
                found: raw.header_size,
                len: bytes.len(),
            });
        }
        let mut map = Self::validated_header(&raw)?;

        // Dimensions are at most 2^16 each, so these products fit comfortably in usize.
        let cell_count = map.rows as usize * map.cols as usize;
        let sub_count = map.sub_rows as usize * map.sub_cols as usize;
        let expected = header_size + 4 * cell_count + 4 * sub_count;
        if bytes.len() != expected {
            return Err(MapError::SizeMismatch {
                len: bytes.len(),
                expected,
            });
        }
        let (cell_bytes, sub_bytes) = bytes[header_size..].split_at(4 * cell_count);
        map.cells = from_le_bytes(cell_bytes);
        map.sub = from_le_bytes(sub_bytes);
        Ok(map)
    }

    /// Checks every header field and returns a map with empty arrays.
    fn validated_header(raw: &RawHeader) -> Result<Self, MapError> {
        let codec =
            Codec::from_header(raw.codec).ok_or(MapError::UnknownCodec { found: raw.codec })?;
        let measure = Measure::from_header(raw.measure)
            .ok_or(MapError::UnknownMeasure { found: raw.measure })?;
        if !codec.allows_block_size(raw.block_size) {
            return Err(MapError::BadBlockSize {
                codec,
                block_size: raw.block_size,
            });
        }
        for (field, value) in [
            ("width", raw.width),
            ("height", raw.height),
            ("cols", raw.cols),
            ("rows", raw.rows),
            ("sub_cols", raw.sub_cols),
            ("sub_rows", raw.sub_rows),
        ] {
            check_dimension(field, value)?;
        }
        // Every codec's grids cover the picture (blocks and 4x4 cells may overhang it, never
        // fall short), and the sub-grid never extends past the block grid. Products are u64
        // because a block size times 2^16 would overflow u32 for large grids.
        let covers = |rows: u32, cols: u32, size: u32| {
            u64::from(rows) * u64::from(size) >= u64::from(raw.height)
                && u64::from(cols) * u64::from(size) >= u64::from(raw.width)
        };
        if !covers(raw.rows, raw.cols, raw.block_size) {
            return Err(raw.grid_too_small("block", raw.rows, raw.cols));
        }
        if !covers(raw.sub_rows, raw.sub_cols, SUB_CELL_SIZE) {
            return Err(raw.grid_too_small("sub", raw.sub_rows, raw.sub_cols));
        }
        let cells_per_block = raw.block_size / SUB_CELL_SIZE;
        if u64::from(raw.sub_rows) > u64::from(raw.rows) * u64::from(cells_per_block)
            || u64::from(raw.sub_cols) > u64::from(raw.cols) * u64::from(cells_per_block)
        {
            return Err(MapError::SubGridTooLarge {
                sub_rows: raw.sub_rows,
                sub_cols: raw.sub_cols,
                rows: raw.rows,
                cols: raw.cols,
            });
        }
        Ok(Self {
            codec,
            measure,
            block_size: raw.block_size,
            width: raw.width,
            height: raw.height,
            rows: raw.rows,
            cols: raw.cols,
            sub_rows: raw.sub_rows,
            sub_cols: raw.sub_cols,
            interlaced: raw.flags & FLAG_INTERLACED != 0,
            damaged: raw.flags & FLAG_DAMAGED != 0,
            data_bits: raw.data_bits,
            segments: raw.segments,
            cells: Vec::new(),
            sub: Vec::new(),
        })
    }

    /// Serialises the map in the version-1 layout; `parse(to_bytes())` gives it back.
    pub fn to_bytes(&self) -> Vec<u8> {
        let flags = if self.interlaced { FLAG_INTERLACED } else { 0 }
            | if self.damaged { FLAG_DAMAGED } else { 0 };
        let header = [
            MAGIC,
            VERSION,
            HEADER_SIZE as u32,
            self.codec.header_value(),
            self.measure.option_value(),
            self.block_size,
            self.width,
            self.height,
            self.cols,
            self.rows,
            self.sub_cols,
            self.sub_rows,
            flags,
            self.data_bits,
            self.segments,
            0,
        ];
        let mut out = Vec::with_capacity(HEADER_SIZE + 4 * self.cells.len() + 4 * self.sub.len());
        out.extend(header.iter().flat_map(|v| v.to_le_bytes()));
        out.extend_from_slice(&to_le_bytes(&self.cells));
        out.extend_from_slice(&to_le_bytes(&self.sub));
        out
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }
    pub fn measure(&self) -> Measure {
        self.measure
    }
    /// Pixel size of one block (16 for H.264, the CTB size for HEVC, 64 for VP9).
    pub fn block_size(&self) -> u32 {
        self.block_size
    }
    /// Picture width in pixels (the decoder's cropped output width).
    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn rows(&self) -> usize {
        self.rows as usize
    }
    pub fn cols(&self) -> usize {
        self.cols as usize
    }
    pub fn sub_rows(&self) -> usize {
        self.sub_rows as usize
    }
    pub fn sub_cols(&self) -> usize {
        self.sub_cols as usize
    }
    /// Field pictures or MBAFF: rows still count frame rows, but were coded per field.
    pub fn interlaced(&self) -> bool {
        self.interlaced
    }
    /// The decoder met invalid data while parsing the picture: blocks after the damage in
    /// its slice or tile have no cost.
    pub fn damaged(&self) -> bool {
        self.damaged
    }
    /// Size in bits of the picture's entropy-coded data (slice data after the headers, or
    /// VP9 tiles); 0 from decoders that do not count it.
    pub fn data_bits(&self) -> u32 {
        self.data_bits
    }
    /// Separately started arithmetic-coded parts of the picture (slices, WPP rows, tiles).
    pub fn segments(&self) -> u32 {
        self.segments
    }
    /// Block costs in bits, row-major, `rows * cols` values.
    pub fn cells(&self) -> &[i32] {
        &self.cells
    }
    /// Sub-grid costs in bits, row-major, `sub_rows * sub_cols` values.
    pub fn sub(&self) -> &[f32] {
        &self.sub
    }
    /// Sum of all block costs: the frame's entropy-coded bits under this measure.
    pub fn total_bits(&self) -> i64 {
        self.cells.iter().map(|&c| i64::from(c)).sum()
    }

    /// The block costs as a `(rows, cols)` array view.
    pub fn cells_array(&self) -> ArrayView2<'_, i32> {
        view_2d(&self.cells, self.rows(), self.cols())
    }

    /// The sub-grid costs as a `(sub_rows, sub_cols)` array view.
    pub fn sub_array(&self) -> ArrayView2<'_, f32> {
        view_2d(&self.sub, self.sub_rows(), self.sub_cols())
    }
}

fn view_2d<T>(data: &[T], rows: usize, cols: usize) -> ArrayView2<'_, T> {
    ArrayView2::from_shape((rows, cols).strides((cols, 1)), data)
        .expect("parse() guarantees the array length matches the announced shape")
}

impl RawHeader {
    fn grid_too_small(&self, grid: &'static str, rows: u32, cols: u32) -> MapError {
        MapError::GridTooSmall {
            grid,
            rows,
            cols,
            width: self.width,
            height: self.height,
        }
    }
}

/// A map of `rows x cols` blocks of `block` pixels covering `w x h` pixels, with the given
/// block costs spread evenly over their 4x4 sub-grid cells (for unit tests).
#[cfg(test)]
pub(crate) fn test_map(
    codec: Codec,
    block: u32,
    w: u32,
    h: u32,
    cols: u32,
    rows: u32,
    cells: Vec<i32>,
) -> BitcostMap {
    let codec_id = match codec {
        Codec::H264 => 1u32,
        Codec::Hevc => 2,
        Codec::Vp9 => 3,
    };
    let per = block / 4;
    let (sub_cols, sub_rows) = (cols * per, rows * per);
    let words = [
        MAGIC, VERSION, 64, codec_id, 0, block, w, h, cols, rows, sub_cols, sub_rows, 0, 0, 0, 0,
    ];
    let mut bytes: Vec<u8> = words.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes.extend(cells.iter().flat_map(|v| v.to_le_bytes()));
    for r in 0..sub_rows {
        for c in 0..sub_cols {
            let cell = cells[(r / per * cols + c / per) as usize];
            bytes.extend((cell as f32 / (per * per) as f32).to_le_bytes());
        }
    }
    BitcostMap::parse(&bytes).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header fields in file order, starting at offset 0; tests overwrite single fields.
    fn header_words(codec: u32, block: u32, w: u32, h: u32, grid: [u32; 4]) -> [u32; 16] {
        let [cols, rows, sub_cols, sub_rows] = grid;
        [
            MAGIC, VERSION, 64, codec, 0, block, w, h, cols, rows, sub_cols, sub_rows, 0, 0, 0, 0,
        ]
    }

    fn blob(words: &[u32], cells: &[i32], sub: &[f32]) -> Vec<u8> {
        let mut out: Vec<u8> = words.iter().flat_map(|v| v.to_le_bytes()).collect();
        out.extend(cells.iter().flat_map(|v| v.to_le_bytes()));
        out.extend(sub.iter().flat_map(|v| v.to_le_bytes()));
        out
    }

    /// A 40x24 H.264 picture: 3x2 macroblocks, 12x8 sub-cells of cost/16.
    fn h264_blob() -> Vec<u8> {
        let words = header_words(1, 16, 40, 24, [3, 2, 12, 8]);
        let cells = [16, 32, 48, 64, 80, 96];
        let sub: Vec<f32> = (0..8)
            .flat_map(|r| (0..12).map(move |c| cells[(r / 4) * 3 + c / 4] as f32 / 16.0))
            .collect();
        blob(&words, &cells, &sub)
    }

    fn set_word(bytes: &mut [u8], index: usize, value: u32) {
        bytes[index * 4..index * 4 + 4].copy_from_slice(&value.to_le_bytes());
    }

    #[test]
    fn parses_a_valid_h264_map() {
        let map = BitcostMap::parse(&h264_blob()).unwrap();
        assert_eq!(map.codec(), Codec::H264);
        assert_eq!(map.codec().grid_kind(), "mb");
        assert_eq!(map.measure(), Measure::Reference);
        assert_eq!((map.width(), map.height(), map.block_size()), (40, 24, 16));
        assert_eq!(
            (map.rows(), map.cols(), map.sub_rows(), map.sub_cols()),
            (2, 3, 8, 12)
        );
        assert!(!map.interlaced());
        assert_eq!(map.cells_array()[[1, 0]], 64);
        assert_eq!(map.sub_array()[[7, 11]], 6.0);
        assert_eq!(map.total_bits(), 336);
        let sub_sum: f32 = map.sub().iter().sum();
        assert_eq!(sub_sum, 336.0);
    }

    #[test]
    fn round_trips_through_to_bytes() {
        let bytes = h264_blob();
        let map = BitcostMap::parse(&bytes).unwrap();
        assert_eq!(map.to_bytes(), bytes);
    }

    #[test]
    fn reads_flags_measure_and_a_grown_header() {
        // A future version-1 writer with an 80-byte header: readers skip to header_size.
        let mut words = header_words(2, 32, 50, 30, [2, 1, 13, 8]).to_vec();
        words[2] = 80;
        words[4] = 1;
        words[12] = 1;
        words.extend([0xFFFF_FFFF; 4]);
        let map = BitcostMap::parse(&blob(&words, &[-16, 8], &[0.5; 104])).unwrap();
        assert_eq!(map.codec(), Codec::Hevc);
        assert_eq!(map.measure(), Measure::Exact);
        assert!(map.interlaced());
        assert_eq!(map.cells(), &[-16, 8]);
        assert_eq!(map.total_bits(), -8);
    }

    #[test]
    fn accepts_vp9_superblock_aligned_sub_grid() {
        let words = header_words(3, 64, 100, 70, [2, 2, 32, 32]);
        let map = BitcostMap::parse(&blob(&words, &[1, 2, 3, 4], &[0.0; 1024])).unwrap();
        assert_eq!(map.codec().grid_kind(), "sb");
    }

    fn parse_err(bytes: &[u8]) -> MapError {
        BitcostMap::parse(bytes).unwrap_err()
    }

    #[test]
    fn rejects_short_input() {
        assert_eq!(parse_err(&[]), MapError::TooShort { len: 0 });
        assert_eq!(
            parse_err(&h264_blob()[..63]),
            MapError::TooShort { len: 63 }
        );
    }

    #[test]
    fn rejects_bad_magic_and_version() {
        let mut bytes = h264_blob();
        set_word(&mut bytes, 0, 0x4D42_4354);
        assert_eq!(parse_err(&bytes), MapError::BadMagic { found: 0x4D42_4354 });
        let mut bytes = h264_blob();
        set_word(&mut bytes, 1, 2);
        assert_eq!(parse_err(&bytes), MapError::UnsupportedVersion { found: 2 });
    }

    #[test]
    fn rejects_bad_header_size() {
        let mut bytes = h264_blob();
        let len = bytes.len();
        set_word(&mut bytes, 2, 60);
        assert_eq!(
            parse_err(&bytes),
            MapError::BadHeaderSize { found: 60, len }
        );
        set_word(&mut bytes, 2, u32::MAX);
        assert_eq!(
            parse_err(&bytes),
            MapError::BadHeaderSize {
                found: u32::MAX,
                len
            }
        );
    }

    #[test]
    fn rejects_unknown_codec_and_measure() {
        let mut bytes = h264_blob();
        set_word(&mut bytes, 3, 4);
        assert_eq!(parse_err(&bytes), MapError::UnknownCodec { found: 4 });
        let mut bytes = h264_blob();
        set_word(&mut bytes, 4, 2);
        assert_eq!(parse_err(&bytes), MapError::UnknownMeasure { found: 2 });
    }

    #[test]
    fn rejects_block_size_foreign_to_the_codec() {
        let mut bytes = h264_blob();
        set_word(&mut bytes, 5, 64);
        let err = parse_err(&bytes);
        assert_eq!(
            err,
            MapError::BadBlockSize {
                codec: Codec::H264,
                block_size: 64
            }
        );
    }

    #[test]
    fn rejects_zero_and_huge_dimensions() {
        for (index, field) in [(6, "width"), (7, "height"), (8, "cols"), (9, "rows")] {
            let mut bytes = h264_blob();
            set_word(&mut bytes, index, 0);
            assert_eq!(
                parse_err(&bytes),
                MapError::BadDimension { field, value: 0 }
            );
        }
        let mut bytes = h264_blob();
        set_word(&mut bytes, 11, u32::MAX);
        assert_eq!(
            parse_err(&bytes),
            MapError::BadDimension {
                field: "sub_rows",
                value: u32::MAX
            }
        );
    }

    #[test]
    fn rejects_grids_that_do_not_cover_the_picture() {
        let mut bytes = h264_blob();
        set_word(&mut bytes, 8, 2); // 2 macroblock columns cannot cover 40 pixels
        assert!(matches!(
            parse_err(&bytes),
            MapError::GridTooSmall { grid: "block", .. }
        ));
        let mut bytes = h264_blob();
        set_word(&mut bytes, 11, 5); // 5 sub-rows cover only 20 of 24 rows
        assert!(matches!(
            parse_err(&bytes),
            MapError::GridTooSmall { grid: "sub", .. }
        ));
    }

    #[test]
    fn rejects_sub_grid_beyond_the_blocks() {
        let mut bytes = h264_blob();
        set_word(&mut bytes, 10, 13);
        assert!(matches!(
            parse_err(&bytes),
            MapError::SubGridTooLarge { sub_cols: 13, .. }
        ));
    }

    #[test]
    fn rejects_wrong_total_size() {
        let bytes = h264_blob();
        let expected = bytes.len();
        assert_eq!(
            parse_err(&bytes[..expected - 1]),
            MapError::SizeMismatch {
                len: expected - 1,
                expected
            }
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            parse_err(&longer),
            MapError::SizeMismatch {
                len: expected + 1,
                expected
            }
        );
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = h264_blob();
        for len in 0..bytes.len() {
            assert!(BitcostMap::parse(&bytes[..len]).is_err(), "length {len}");
        }
    }
}
