//! The meta as a `GstStructure`, for debugging (`gst_structure_to_string`, element messages,
//! test dumps) and for re-attaching a stored map to a buffer.
//!
//! `codecprep-bitcost, codec=h264, grid-kind=mb, measure=reference, block-size=16,
//! width=..., height=..., rows=..., cols=..., sub-rows=..., sub-cols=..., frame-index=...,
//! total-bits=..., map=<buffer holding the version-1 map blob of docs/bitcost-map.md>`.
//! The scalar fields are for reading; `from_structure` rebuilds the map from `map` alone and
//! checks that the scalars agree with it.

use codecprep_core::{BitcostMap, MapError};

/// Name of the structure.
pub const STRUCTURE_NAME: &str = "codecprep-bitcost";

/// Why a structure does not describe a bit-cost meta.
#[derive(Debug)]
pub enum StructureError {
    WrongName(String),
    MissingField(&'static str),
    InvalidMap(MapError),
    Mismatch(&'static str),
}

impl std::fmt::Display for StructureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongName(name) => write!(f, "structure is {name}, expected {STRUCTURE_NAME}"),
            Self::MissingField(field) => write!(f, "field {field} is missing or has a wrong type"),
            Self::InvalidMap(e) => write!(f, "field map is not a valid bit-cost map: {e}"),
            Self::Mismatch(field) => write!(f, "field {field} disagrees with the map"),
        }
    }
}

impl std::error::Error for StructureError {}

fn measure_name(map: &BitcostMap) -> &'static str {
    match map.measure() {
        codecprep_core::Measure::Reference => "reference",
        codecprep_core::Measure::Exact => "exact",
    }
}

fn codec_name(map: &BitcostMap) -> &'static str {
    match map.codec() {
        codecprep_core::Codec::H264 => "h264",
        codecprep_core::Codec::Hevc => "hevc",
        codecprep_core::Codec::Vp9 => "vp9",
    }
}

pub(super) fn to_structure(map: &BitcostMap, frame_index: u64) -> gst::Structure {
    gst::Structure::builder(STRUCTURE_NAME)
        .field("codec", codec_name(map))
        .field("grid-kind", map.codec().grid_kind())
        .field("measure", measure_name(map))
        .field("block-size", map.block_size())
        .field("width", map.width())
        .field("height", map.height())
        .field("rows", map.rows() as u32)
        .field("cols", map.cols() as u32)
        .field("sub-rows", map.sub_rows() as u32)
        .field("sub-cols", map.sub_cols() as u32)
        .field("frame-index", frame_index)
        .field("total-bits", map.total_bits())
        .field("map", gst::Buffer::from_mut_slice(map.to_bytes()))
        .build()
}

pub(super) fn from_structure(s: &gst::StructureRef) -> Result<(BitcostMap, u64), StructureError> {
    if s.name() != STRUCTURE_NAME {
        return Err(StructureError::WrongName(s.name().to_string()));
    }
    let blob = s
        .get::<gst::Buffer>("map")
        .map_err(|_| StructureError::MissingField("map"))?;
    let bytes = blob
        .map_readable()
        .map_err(|_| StructureError::MissingField("map"))?;
    let map = BitcostMap::parse(&bytes).map_err(StructureError::InvalidMap)?;
    let frame_index = s
        .get::<u64>("frame-index")
        .map_err(|_| StructureError::MissingField("frame-index"))?;
    let strings = [("codec", codec_name(&map)), ("measure", measure_name(&map))];
    for (field, expected) in strings {
        if s.get::<&str>(field).ok() != Some(expected) {
            return Err(StructureError::Mismatch(field));
        }
    }
    let numbers = [
        ("block-size", map.block_size()),
        ("rows", map.rows() as u32),
        ("cols", map.cols() as u32),
        ("sub-rows", map.sub_rows() as u32),
        ("sub-cols", map.sub_cols() as u32),
    ];
    for (field, expected) in numbers {
        if s.get::<u32>(field).ok() != Some(expected) {
            return Err(StructureError::Mismatch(field));
        }
    }
    Ok((map, frame_index))
}
