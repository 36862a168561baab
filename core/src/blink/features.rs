//! The per-clip signals that `extract` computes and the later stages compare.
//!
//! Plain data with serde, so the work directory can keep them as JSON between stages.

use serde::{Deserialize, Serialize};

/// How much the encoder spent on each shown frame of a clip: a nearly free motion measure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivitySeries {
    /// Presentation time of each shown frame in seconds from the clip's first frame.
    pub times: Vec<f64>,
    /// Bits per pixel spent on each frame. Keyframes cost many bits whatever happens in the
    /// scene, so their value is replaced by their neighbours' (see `keyframe`).
    pub bits_per_pixel: Vec<f32>,
    /// Which frames were keyframes.
    pub keyframe: Vec<bool>,
}

/// A perceptual hash of one picture: `side * side` bits, row-major, packed into 64-bit words
/// (bit `i` is word `i / 64`, bit `i % 64`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PerceptualHash {
    pub side: u32,
    pub words: Vec<u64>,
}

impl PerceptualHash {
    /// Number of differing bits; `None` when the hashes have different sizes.
    pub fn distance(&self, other: &Self) -> Option<u32> {
        (self.side == other.side).then(|| {
            self.words
                .iter()
                .zip(&other.words)
                .map(|(a, b)| (a ^ b).count_ones())
                .sum()
        })
    }

    /// Number of bits in the hash.
    pub fn bits(&self) -> u32 {
        self.side * self.side
    }
}

/// The perceptual hash of the frame shown `time_ms` milliseconds after the clip's first frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameHash {
    pub time_ms: u64,
    pub hash: PerceptualHash,
}

/// Short-time loudness of a clip's audio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoudnessEnvelope {
    /// Time of the first value in seconds from the clip's first video frame (audio may start
    /// a little earlier or later than the video).
    pub start: f64,
    /// Seconds between values.
    pub hop: f64,
    /// RMS level of each hop in dBFS (silence clamps at -120).
    pub rms_dbfs: Vec<f32>,
}
