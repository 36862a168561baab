//! The caps `bitcostdec` accepts and produces, and what it learns from them.

use codecprep_core::Codec;
use codecprep_core::ffmpeg::{Picture, PlanarFormat};
use gst_video::VideoFormat;
use gst_video::prelude::*;

/// Media type of the scan-only output.
pub const SCAN_ONLY_MEDIA_TYPE: &str = "video/x-codecprep-bitcost";

/// Raw formats full decoding may produce.
const RAW_FORMATS: [VideoFormat; 7] = [
    VideoFormat::I420,
    VideoFormat::Y42b,
    VideoFormat::Y444,
    VideoFormat::I42010le,
    VideoFormat::I42210le,
    VideoFormat::Y44410le,
    VideoFormat::Gray8,
];

pub fn sink_caps() -> gst::Caps {
    gst::Caps::builder_full()
        .structure(
            gst::Structure::builder("video/x-h264")
                .field("stream-format", gst::List::new(["avc", "byte-stream"]))
                .field("alignment", "au")
                .build(),
        )
        .structure(
            gst::Structure::builder("video/x-h265")
                .field(
                    "stream-format",
                    gst::List::new(["hvc1", "hev1", "byte-stream"]),
                )
                .field("alignment", "au")
                .build(),
        )
        .structure(
            gst::Structure::builder("video/x-vp9")
                .field("alignment", "super-frame")
                .build(),
        )
        .build()
}

pub fn src_caps() -> gst::Caps {
    let mut caps = gst_video::VideoCapsBuilder::new()
        .format_list(RAW_FORMATS)
        .build();
    caps.merge(gst::Caps::new_empty_simple(SCAN_ONLY_MEDIA_TYPE));
    caps
}

/// What opening a decoder needs from the input caps; a change means reopening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputConfig {
    pub codec: Codec,
    /// `codec_data` of length-prefixed H.264/HEVC (`avcC` / `hvcC`).
    pub extradata: Option<Vec<u8>>,
}

/// Reads the codec and its configuration record from fixed input caps.
pub fn input_config(caps: &gst::CapsRef) -> Result<InputConfig, String> {
    let s = caps.structure(0).ok_or("empty caps")?;
    let codec = match s.name().as_str() {
        "video/x-h264" => Codec::H264,
        "video/x-h265" => Codec::Hevc,
        "video/x-vp9" => Codec::Vp9,
        other => return Err(format!("unsupported media type {other}")),
    };
    let packetized = matches!(
        s.get::<&str>("stream-format").ok(),
        Some("avc" | "hvc1" | "hev1")
    );
    let extradata = if packetized {
        let data = s
            .get::<gst::Buffer>("codec_data")
            .map_err(|_| format!("{} caps without codec_data", s.name()))?;
        let map = data
            .map_readable()
            .map_err(|_| "unreadable codec_data".to_owned())?;
        Some(map.to_vec())
    } else {
        None
    };
    Ok(InputConfig { codec, extradata })
}

pub fn codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::H264 => "h264",
        Codec::Hevc => "hevc",
        Codec::Vp9 => "vp9",
    }
}

pub fn video_format(format: PlanarFormat) -> VideoFormat {
    match format {
        PlanarFormat::Yuv420p => VideoFormat::I420,
        PlanarFormat::Yuv422p => VideoFormat::Y42b,
        PlanarFormat::Yuv444p => VideoFormat::Y444,
        PlanarFormat::Yuv420p10 => VideoFormat::I42010le,
        PlanarFormat::Yuv422p10 => VideoFormat::I42210le,
        PlanarFormat::Yuv444p10 => VideoFormat::Y44410le,
        PlanarFormat::Gray8 => VideoFormat::Gray8,
    }
}

/// Copies the decoded planes into a mapped output frame of the same format and size.
pub fn copy_picture(
    picture: &Picture<'_>,
    frame: &mut gst_video::VideoFrameRef<&mut gst::BufferRef>,
) -> Result<(), String> {
    for (index, plane) in picture.planes.iter().enumerate() {
        let stride = usize::try_from(frame.plane_stride()[index]).map_err(|e| e.to_string())?;
        let dest = frame
            .plane_data_mut(index as u32)
            .map_err(|e| e.to_string())?;
        let row_bytes = plane.row_bytes.min(stride);
        for row in 0..plane.rows {
            let start = row * stride;
            let Some(target) = dest.get_mut(start..start + row_bytes) else {
                return Err(format!("output plane {index} is too small"));
            };
            target.copy_from_slice(&plane.row(row)[..row_bytes]);
        }
    }
    Ok(())
}
