//! Stream facts from the container and its packets, without decoding.

use std::path::Path;

use serde::Serialize;

use super::error::Error;
use super::open::open_video_input;
use crate::ffmpeg::{FfmpegError, Packet};
use crate::reader::error::ErrorKind;

/// What a video file holds, as far as demuxing tells.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeInfo {
    /// FFmpeg's codec name: "h264", "hevc" or "vp9".
    pub codec: String,
    /// Display size (after cropping).
    pub width: u32,
    pub height: u32,
    /// Average frame rate, else the base frame rate, else 0.
    pub fps: f64,
    /// Stream duration in seconds, else the container's.
    pub duration: Option<f64>,
    /// First timestamp of the stream in seconds.
    pub start_time: Option<f64>,
    /// Stream bit rate, else the container's, in bits per second.
    pub bit_rate: Option<u64>,
    /// Number of video packets. H.264/HEVC access units and VP9 superframes each carry one
    /// shown frame, so this is the number of frames a decoder outputs for an intact file.
    pub frame_count: usize,
    /// Display-order indices of the packets flagged as keyframes.
    pub keyframes: Vec<usize>,
    /// Reading problems (the packet list ends at the first unreadable part).
    pub warnings: Vec<String>,
    /// Video packets in display order.
    pub packets: Vec<PacketInfo>,
}

/// One video packet.
#[derive(Debug, Clone, Serialize)]
pub struct PacketInfo {
    /// Display-order index (see `probe`).
    pub index: usize,
    /// Position in the file's (decode) order among the video packets.
    pub decode_index: usize,
    /// Presentation time in seconds from the stream start.
    pub pts_time: Option<f64>,
    /// Bytes.
    pub size: usize,
    pub keyframe: bool,
    pub corrupt: bool,
}

/// Reads the container header and every packet of the video stream.
///
/// Display order sorts the packets by presentation timestamp. When some packet has none
/// (raw elementary streams), all packets stay in decode order: then indices equal display
/// indices only for streams without frame reordering.
pub fn probe(path: impl AsRef<Path>) -> Result<ProbeInfo, Error> {
    let path = path.as_ref();
    let (mut input, stream) = open_video_input(path)?;
    let mut packet = Packet::new().map_err(|e| Error::new(path, ErrorKind::OutOfMemory(e)))?;
    let mut packets = Vec::new();
    let mut pts = Vec::new();
    let mut warnings = Vec::new();
    loop {
        match input.read_packet(&mut packet) {
            Ok(true) if packet.stream_index() == stream.index => {
                pts.push(packet.pts());
                packets.push(PacketInfo {
                    index: 0,
                    decode_index: packets.len(),
                    pts_time: None,
                    size: packet.size(),
                    keyframe: packet.is_keyframe(),
                    corrupt: packet.is_corrupt(),
                });
            }
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                warnings.push(read_stopped(packets.len(), e));
                break;
            }
        }
    }

    let start = stream.start_time.unwrap_or(0);
    for (info, pts) in packets.iter_mut().zip(&pts) {
        info.pts_time = pts.and_then(|p| stream.time_base.seconds(p.saturating_sub(start)));
    }
    if pts.iter().all(Option::is_some) {
        // Stable sort: packets with equal timestamps keep their decode order.
        packets.sort_by_key(|p| pts[p.decode_index]);
    }
    for (index, info) in packets.iter_mut().enumerate() {
        info.index = index;
    }

    let duration = stream
        .duration
        .and_then(|d| stream.time_base.seconds(d))
        .or_else(|| input.duration_seconds());
    Ok(ProbeInfo {
        codec: stream.codec_name.clone(),
        width: stream.width,
        height: stream.height,
        fps: stream
            .avg_frame_rate
            .positive()
            .or_else(|| stream.r_frame_rate.positive())
            .unwrap_or(0.0),
        duration,
        start_time: stream.start_time.and_then(|s| stream.time_base.seconds(s)),
        bit_rate: stream.bit_rate.or_else(|| input.bit_rate()),
        frame_count: packets.len(),
        keyframes: packets
            .iter()
            .filter(|p| p.keyframe)
            .map(|p| p.index)
            .collect(),
        warnings,
        packets,
    })
}

fn read_stopped(packets: usize, e: FfmpegError) -> String {
    format!(
        "reading stopped after {packets} video packets: {e} (treated as the end of a truncated file)"
    )
}
