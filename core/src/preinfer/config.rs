//! The preinfer job's settings: every field of the reference tool's engine configuration
//! (`BitcostReadinessConfig`, in its order, with the defaults `codec-video-prep` uses), the
//! three decoder settings of its API, and codecprep's `compat` switch.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a string-valued option: the canonical (reference) names, accepted aliases, parsing
/// and serde as those strings.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every canonical name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The canonical name (the reference tool's spelling).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text ),+
                }
            }
        }

        impl FromStr for $name {
            type Err = String;
            /// Case-insensitive, surrounding blanks ignored (the reference lower-cases and
            /// strips its string options).
            fn from_str(text: &str) -> Result<Self, String> {
                let lowered = text.trim().to_ascii_lowercase();
                match lowered.as_str() {
                    $( $text $(| $alias)* => Ok(Self::$variant), )+
                    _ => Err(format!(
                        "invalid choice {text:?} (choose from {})",
                        Self::NAMES.join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum! {
    /// How frames are picked from the video (§4.2 of the reference spec).
    pub enum FrameSamplingMode {
        /// `num_sampled_frames` ids spread evenly.
        UniformCount = "uniform_count",
        /// `sample_fps` frames per second.
        Fps = "fps",
        /// Every frame.
        AllFrames = "all_frames",
        /// Frames at the peaks of non-keyframe packet sizes. `pkt_peak`, the name the
        /// reference's CLI offers (and then silently treats as `fps`), is an alias.
        PktSizePeak = "pkt_size_peak" | "pkt_peak",
        /// The union of `fps` and `pkt_size_peak`.
        FpsPlusPktSizePeak = "fps_plus_pkt_size_peak",
    }
}

string_enum! {
    /// How sampled frames are cut into groups.
    pub enum GroupingMode {
        /// Consecutive chunks of `group_size`.
        Fixed = "fixed",
        /// Grow each group until its best blocks carry enough bits (§11).
        Readiness = "readiness",
    }
}

string_enum! {
    /// Which bit-cost grid scores the frames.
    pub enum BitcostGrid {
        /// The 4x4-pixel sub-grid.
        Sub = "sub",
        /// The block grid of H.264 (macroblocks); the block grid of any codec here.
        Mb = "mb",
        /// The block grid of HEVC (CTUs) and VP9 (superblocks); the block grid of any codec here.
        Ctu = "ctu",
        /// `ctu` for HEVC and VP9, `mb` otherwise.
        Adaptive = "adaptive" | "auto",
    }
}

string_enum! {
    /// Per-frame rescaling of score maps (engine only in the reference).
    pub enum FrameScoreNormMode {
        None = "none",
        /// Scale frames whose mean block score exceeds the median down to it (§9.4).
        FrameMeanFloor = "frame_mean_floor",
    }
}

string_enum! {
    /// Capping of I-frame score maps (§9.3).
    pub enum IframeScoreClipMode {
        None = "none",
        /// Cap I-frame scores at a percentile of the other frames' scores.
        NonIPercentile = "non_i_percentile",
    }
}

string_enum! {
    /// How the readiness threshold is found (§10).
    pub enum ThresholdMode {
        /// The given value if positive, else the estimate.
        Legacy = "legacy",
        /// Always the estimate.
        Auto = "auto",
        /// The given value (0: always ready).
        Fixed = "fixed",
        /// `readiness_norm_sum_threshold * sqrt(clamped bits per pixel per frame)`.
        ClampedSqrtBpppf = "clamped_sqrt_bpppf",
    }
}

string_enum! {
    /// Canvas file format.
    pub enum CanvasFormat {
        /// JPEG, quality 95, 4:2:0 (like OpenCV's defaults).
        Jpg = "jpg" | "jpeg",
        /// PNG (lossless).
        Png = "png",
        /// uint8 (H, W, 3) RGB arrays.
        Npy = "npy",
    }
}

string_enum! {
    /// Where the reference took its pixels from; here it only decides deblocking.
    pub enum DecodeBackend {
        /// The reference decoded pixels with the system ffmpeg, deblocking on.
        FfmpegNative = "ffmpeg_native",
        /// Pixels from the bit-cost decode itself, deblocking off (the default).
        CvReaderPixels = "cv_reader_pixels",
    }
}

string_enum! {
    /// Decoder threading.
    pub enum ThreadTypeName {
        /// Slice threads (the decoders keep maps exact with either kind here).
        Auto = "auto",
        Slice = "slice",
        Frame = "frame",
    }
}

string_enum! {
    /// Which behaviour to follow where the reference tool has quirks that shape its outputs.
    pub enum Compat {
        /// Reproduce the reference's outputs, quirks included (default).
        Reference = "reference",
        /// Corrected behaviour (see `docs/preinfer.md`).
        None = "none",
    }
}

/// Settings of one preinfer run. Field names, order and defaults follow the reference
/// (`codec-video-prep` 0.2.5); values it would clamp are clamped the same way by the
/// accessors below, nonsense values are refused by [`PreinferConfig::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreinferConfig {
    pub video: PathBuf,
    pub out_dir: PathBuf,
    pub frame_sampling_mode: FrameSamplingMode,
    pub sample_fps: f64,
    pub num_sampled_frames: i64,
    pub pkt_peak_bin_sec: f64,
    pub pkt_peak_cap: i64,
    pub pkt_peak_per_sec: f64,
    pub pkt_peak_neighbor: i64,
    pub pkt_peak_smooth_bins: i64,
    pub grouping_mode: GroupingMode,
    pub group_size: i64,
    pub min_group_frames: i64,
    pub max_group_frames: i64,
    pub min_group_sec: f64,
    pub max_group_sec: f64,
    pub images_per_group: i64,
    pub patch: i64,
    pub block_size: i64,
    pub max_dim: i64,
    pub max_pixels: i64,
    pub no_resize: bool,
    pub bitcost_grid: BitcostGrid,
    pub bitcost_pct: f64,
    pub bitcost_log_scale: bool,
    pub frame_score_norm_mode: FrameScoreNormMode,
    pub frame_score_norm_floor_ratio: f64,
    pub frame_score_norm_allow_boost: bool,
    pub iframe_score_clip_mode: IframeScoreClipMode,
    pub iframe_score_clip_percentile: f64,
    pub avoid_keyframes: bool,
    pub avoid_keyframe_offset: i64,
    pub canvas_format: CanvasFormat,
    pub save_mask_video: bool,
    pub video_fps: f64,
    pub readiness_sum_threshold: f64,
    pub readiness_sum_threshold_mode: ThresholdMode,
    pub readiness_norm_sum_threshold: f64,
    pub bpppf_clamp_min: f64,
    pub bpppf_clamp_max: f64,
    pub readiness_coverage_bins: i64,
    pub readiness_delta_ratio: f64,
    pub decode_backend: DecodeBackend,
    pub ffmpeg_preprocess_frames: bool,
    pub parallel_decode_cv_reader: bool,
    /// Segments of the video decoded at the same time (0: as many as there are cores; never
    /// more than that). Results do not depend on it.
    pub parallel_segments: i64,
    /// Decoder threads of each segment when `parallel_segments` > 1.
    pub threads_per_segment: i64,
    /// Accepted for compatibility: codecprep cuts segments at clean keyframes, so it needs no
    /// guard frames.
    pub segment_guard_frames: i64,
    pub extra: BTreeMap<String, serde_json::Value>,
    /// Decoder threading (API setting of codec-video-prep).
    pub thread_type: ThreadTypeName,
    /// Decoder threads; 0 lets FFmpeg choose.
    pub thread_count: i64,
    /// Accepted for compatibility: codecprep never prunes maps, so every frame always has its
    /// own map (the reference's output with this flag on).
    pub disable_target_only: bool,
    /// Reference-compatible outputs (default) or corrected behaviour.
    pub compat: Compat,
}

impl Default for PreinferConfig {
    fn default() -> Self {
        Self {
            video: PathBuf::new(),
            out_dir: PathBuf::new(),
            frame_sampling_mode: FrameSamplingMode::UniformCount,
            sample_fps: 4.0,
            num_sampled_frames: 1024,
            pkt_peak_bin_sec: 0.5,
            pkt_peak_cap: 128,
            pkt_peak_per_sec: 1.0,
            pkt_peak_neighbor: 0,
            pkt_peak_smooth_bins: 1,
            grouping_mode: GroupingMode::Readiness,
            group_size: 32,
            min_group_frames: 8,
            max_group_frames: 64,
            min_group_sec: 0.0,
            max_group_sec: 0.0,
            images_per_group: 4,
            patch: 14,
            block_size: 2,
            max_dim: 616,
            max_pixels: 153_664,
            no_resize: false,
            bitcost_grid: BitcostGrid::Adaptive,
            bitcost_pct: 99.0,
            bitcost_log_scale: true,
            frame_score_norm_mode: FrameScoreNormMode::None,
            frame_score_norm_floor_ratio: 0.5,
            frame_score_norm_allow_boost: false,
            iframe_score_clip_mode: IframeScoreClipMode::None,
            iframe_score_clip_percentile: 95.0,
            avoid_keyframes: true,
            avoid_keyframe_offset: 1,
            canvas_format: CanvasFormat::Jpg,
            save_mask_video: false,
            video_fps: 0.0,
            readiness_sum_threshold: 0.0,
            readiness_sum_threshold_mode: ThresholdMode::Legacy,
            readiness_norm_sum_threshold: 2_250_000.0,
            bpppf_clamp_min: 0.015,
            bpppf_clamp_max: 0.09,
            readiness_coverage_bins: 3,
            readiness_delta_ratio: 0.05,
            decode_backend: DecodeBackend::CvReaderPixels,
            ffmpeg_preprocess_frames: true,
            parallel_decode_cv_reader: false,
            parallel_segments: 0,
            threads_per_segment: 4,
            segment_guard_frames: 30,
            extra: BTreeMap::new(),
            thread_type: ThreadTypeName::Slice,
            thread_count: 1,
            disable_target_only: false,
            compat: Compat::Reference,
        }
    }
}

/// A setting that cannot work, named by its field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> Result<(), ConfigError> {
    Err(ConfigError {
        field,
        message: message.into(),
    })
}

impl PreinferConfig {
    /// A config with the defaults for `video` and `out_dir`.
    pub fn new(video: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        Self {
            video: video.into(),
            out_dir: out_dir.into(),
            ..Self::default()
        }
    }

    /// Refuses values the reference would crash on or that make no sense (the reference
    /// clamps `patch`, `block_size`, `parallel_segments`, `threads_per_segment` and
    /// `segment_guard_frames`; so does codecprep, see the accessors).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.video.as_os_str().is_empty() {
            return refuse("video", "no input video given");
        }
        if self.out_dir.as_os_str().is_empty() {
            return refuse("out_dir", "no output directory given");
        }
        if self.frame_sampling_mode == FrameSamplingMode::UniformCount
            && self.num_sampled_frames < 1
        {
            return refuse(
                "num_sampled_frames",
                format!(
                    "must be at least 1 with uniform_count sampling (got {})",
                    self.num_sampled_frames
                ),
            );
        }
        if self.images_per_group < 1 {
            return refuse(
                "images_per_group",
                format!("must be at least 1 (got {})", self.images_per_group),
            );
        }
        if self.group_size < 1 {
            return refuse(
                "group_size",
                format!("must be at least 1 (got {})", self.group_size),
            );
        }
        if self.thread_count < 0 {
            return refuse(
                "thread_count",
                format!("must be 0 (automatic) or more (got {})", self.thread_count),
            );
        }
        if self.max_pixels <= 0 && !self.no_resize && self.max_dim < 1 {
            return refuse(
                "max_dim",
                format!(
                    "must be at least 1 when max_pixels <= 0 (got {})",
                    self.max_dim
                ),
            );
        }
        for (field, value) in [
            ("sample_fps", self.sample_fps),
            ("bitcost_pct", self.bitcost_pct),
            (
                "iframe_score_clip_percentile",
                self.iframe_score_clip_percentile,
            ),
            ("readiness_sum_threshold", self.readiness_sum_threshold),
            (
                "readiness_norm_sum_threshold",
                self.readiness_norm_sum_threshold,
            ),
            ("readiness_delta_ratio", self.readiness_delta_ratio),
            ("pkt_peak_bin_sec", self.pkt_peak_bin_sec),
            ("pkt_peak_per_sec", self.pkt_peak_per_sec),
            ("min_group_sec", self.min_group_sec),
            ("max_group_sec", self.max_group_sec),
            ("video_fps", self.video_fps),
            ("bpppf_clamp_min", self.bpppf_clamp_min),
            ("bpppf_clamp_max", self.bpppf_clamp_max),
            (
                "frame_score_norm_floor_ratio",
                self.frame_score_norm_floor_ratio,
            ),
        ] {
            if !value.is_finite() {
                return refuse(field, format!("must be a finite number (got {value})"));
            }
        }
        if !(0.0..=100.0).contains(&self.bitcost_pct) {
            return refuse(
                "bitcost_pct",
                format!("must be within 0..=100 (got {})", self.bitcost_pct),
            );
        }
        if matches!(
            self.frame_sampling_mode,
            FrameSamplingMode::PktSizePeak | FrameSamplingMode::FpsPlusPktSizePeak
        ) && self.pkt_peak_bin_sec <= 0.0
        {
            return refuse(
                "pkt_peak_bin_sec",
                format!("must be positive (got {})", self.pkt_peak_bin_sec),
            );
        }
        Ok(())
    }

    /// Patch side in pixels (at least 1).
    pub fn patch_px(&self) -> usize {
        self.patch.max(1) as usize
    }

    /// Blocks are `block() x block()` patches (at least 1).
    pub fn block(&self) -> usize {
        self.block_size.max(1) as usize
    }

    pub fn images_per_group_n(&self) -> usize {
        self.images_per_group.max(1) as usize
    }

    pub fn coverage_bins(&self) -> usize {
        self.readiness_coverage_bins.max(1) as usize
    }

    /// The sampling rate used by `fps` sampling and the seconds-based group limits.
    pub fn sample_fps_used(&self) -> f64 {
        if self.sample_fps > 0.0 {
            self.sample_fps
        } else {
            4.0
        }
    }

    /// Decoder threads of each decoding session: `threads_per_segment` (at least 1) when
    /// `parallel_segments` > 1 asks for segments explicitly, as in the reference; otherwise
    /// `thread_count` (0: FFmpeg chooses).
    pub fn decoder_threads(&self) -> usize {
        if self.parallel_segments > 1 {
            self.threads_per_segment.max(1) as usize
        } else {
            self.thread_count.max(0) as usize
        }
    }

    /// Segments decoded at the same time: `parallel_segments` when positive, else one per
    /// core, and never more than the cores (more would only add memory).
    pub fn segment_workers(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        match usize::try_from(self.parallel_segments) {
            Ok(n) if n > 0 => n.min(cores),
            _ => cores,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_codec_video_prep_ones() {
        let c = PreinferConfig::default();
        assert_eq!(c.num_sampled_frames, 1024);
        assert_eq!(c.max_pixels, 153_664);
        assert_eq!(c.grouping_mode, GroupingMode::Readiness);
        assert_eq!(c.bitcost_grid, BitcostGrid::Adaptive);
        assert_eq!(c.decode_backend, DecodeBackend::CvReaderPixels);
        assert_eq!(c.thread_type, ThreadTypeName::Slice);
        assert_eq!(c.compat, Compat::Reference);
        assert!(c.avoid_keyframes && c.bitcost_log_scale);
    }

    #[test]
    fn names_parse_case_insensitively_with_aliases() {
        assert_eq!(
            " PKT_PEAK ".parse::<FrameSamplingMode>(),
            Ok(FrameSamplingMode::PktSizePeak)
        );
        assert_eq!(FrameSamplingMode::PktSizePeak.as_str(), "pkt_size_peak");
        assert_eq!("auto".parse::<BitcostGrid>(), Ok(BitcostGrid::Adaptive));
        assert!(
            "bogus"
                .parse::<GroupingMode>()
                .unwrap_err()
                .contains("fixed")
        );
    }

    #[test]
    fn yaml_and_json_round_trip() {
        let mut c = PreinferConfig::new("a.mp4", "out");
        c.canvas_format = CanvasFormat::Png;
        c.compat = Compat::None;
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"canvas_format\":\"png\""));
        let back: PreinferConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let partial: PreinferConfig =
            serde_json::from_str(r#"{"video": "v.mp4", "frame_sampling_mode": "FPS"}"#).unwrap();
        assert_eq!(partial.frame_sampling_mode, FrameSamplingMode::Fps);
        assert_eq!(partial.group_size, 32);
        assert!(serde_json::from_str::<PreinferConfig>(r#"{"bogus": 1}"#).is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = PreinferConfig::new("a.mp4", "out");
        assert!(c.validate().is_ok());
        c.num_sampled_frames = 0;
        assert_eq!(c.validate().unwrap_err().field, "num_sampled_frames");
        c.frame_sampling_mode = FrameSamplingMode::Fps;
        assert!(c.validate().is_ok());
        c.images_per_group = 0;
        assert_eq!(c.validate().unwrap_err().field, "images_per_group");
        c.images_per_group = 4;
        c.patch = -3;
        assert!(c.validate().is_ok());
        assert_eq!(c.patch_px(), 1);
        c.bitcost_pct = 101.0;
        assert_eq!(c.validate().unwrap_err().field, "bitcost_pct");
    }
}
