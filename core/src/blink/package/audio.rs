//! Audio for the stitched clip: sources decoded by GStreamer to one PCM format, cut and laid
//! out on the output's timeline in memory, written as a raw file for the encoder.
//!
//! Decoding a source whole and cutting by sample count keeps every cut exact to the sample
//! and the track exactly as long as the video; `audiorate` fills any gap between the
//! container's time origin and the first sample with silence, so sample 0 is the source's
//! time 0 (in MP4/MOV files, Blink's, the first video frame's time).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Cut, PackageError};
use crate::blink::audio_decode::{Ended, decode_audio};
use crate::output::video::{check_elements, last_line, missing_tools, quoted};

/// The track's format: 48 kHz stereo, signed 16-bit.
pub(crate) const RATE: u32 = 48_000;
pub(crate) const CHANNELS: u32 = 2;

/// Longest a source's audio may take to decode (hours of audio decode in less).
const DECODE_TIMEOUT: Duration = Duration::from_secs(600);

/// Elements of the decoding pipeline and their Debian packages.
const DECODE_ELEMENTS: [(&str, &str); 6] = [
    ("decodebin", "gstreamer1.0-plugins-base"),
    ("identity", "libgstreamer1.0-0"),
    ("audioconvert", "gstreamer1.0-plugins-base"),
    ("audioresample", "gstreamer1.0-plugins-base"),
    ("audiorate", "gstreamer1.0-plugins-base"),
    ("fdsink", "libgstreamer1.0-0"),
];

/// Interleaved samples of a whole source, decoded by `audio_decode`.
fn decode(path: &Path) -> Result<Vec<i16>, PackageError> {
    let fail = |message: String| PackageError::Audio {
        path: path.to_path_buf(),
        message,
    };
    std::fs::metadata(path).map_err(PackageError::io(path))?;
    check_elements(&DECODE_ELEMENTS).map_err(|e| fail(e.to_string()))?;
    let location = quoted(path).map_err(|e| fail(e.to_string()))?;
    let caps =
        format!("audio/x-raw,format=S16LE,layout=interleaved,rate={RATE},channels={CHANNELS}");
    let decoded = decode_audio(&location, &caps, DECODE_TIMEOUT, |mut stdout| {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    })
    .map_err(|e| fail(missing_tools(&e).to_string()))?;
    let status = match decoded.ended {
        Ended::Exited(status) => status,
        Ended::TimedOut => {
            return Err(fail(format!(
                "GStreamer did not finish within {} s",
                DECODE_TIMEOUT.as_secs()
            )));
        }
        Ended::WaitFailed(e) => return Err(PackageError::io(path)(e)),
    };
    if !status.success() {
        return Err(fail(format!(
            "{} (a file without an audio stream fails like this)",
            last_line(&decoded.messages, status)
        )));
    }
    Ok(decoded
        .output
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

/// Sample frame (one sample per channel) nearest to `seconds`.
pub(crate) fn sample_index(seconds: f64) -> usize {
    (seconds * f64::from(RATE)).round().max(0.0) as usize
}

/// The output's audio: `frames` sample frames, silent except where `cuts` place their
/// sources (later cuts over earlier ones). Each source is decoded once.
pub(crate) fn lay_out(cuts: &[Cut], frames: usize) -> Result<Vec<i16>, PackageError> {
    let channels = CHANNELS as usize;
    let mut track = vec![0i16; frames * channels];
    let mut decoded: BTreeMap<&PathBuf, Vec<i16>> = BTreeMap::new();
    for cut in cuts {
        if !decoded.contains_key(&cut.source) {
            decoded.insert(&cut.source, decode(&cut.source)?);
        }
        let samples = &decoded[&cut.source];
        let from = sample_index(cut.source_start);
        let to = sample_index(cut.at);
        let available = (samples.len() / channels).saturating_sub(from);
        let count = sample_index(cut.duration)
            .min(available)
            .min(frames.saturating_sub(to));
        track[to * channels..(to + count) * channels]
            .copy_from_slice(&samples[from * channels..(from + count) * channels]);
    }
    Ok(track)
}

/// Writes interleaved samples as raw little-endian bytes.
pub(crate) fn write_raw(path: &Path, samples: &[i16]) -> Result<(), PackageError> {
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(path, bytes).map_err(PackageError::io(path))
}
