//! meta.json (§14.4): the reference's keys in the reference's order, then codecprep's
//! additions (`dropped_frames`, `codecprep`) after the API's `timings`.

use sha1::{Digest, Sha1};

use super::config::{GroupingMode, PreinferConfig};
use super::geometry::Geometry;
use super::group::{Dropped, GroupSpec};
use super::pyjson::Json;

/// Reference `codec_selector_version`.
const CODEC_SELECTOR_VERSION: i64 = 1;

/// Timings in seconds, in the order they were taken.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings(pub Vec<(String, f64)>);

impl Timings {
    pub fn set(&mut self, key: &str, seconds: f64) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = seconds,
            None => self.0.push((key.to_owned(), seconds)),
        }
    }

    pub fn get(&self, key: &str) -> Option<f64> {
        self.0.iter().find(|(k, _)| k == key).map(|&(_, v)| v)
    }

    pub fn to_json(&self) -> Json {
        Json::Obj(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Json::Float(*v)))
                .collect(),
        )
    }
}

/// First 8 hex digits of the SHA-1 of the video path as given.
pub fn video_hash(video: &str) -> String {
    Sha1::digest(video.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The engine configuration as the reference records it (49 fields).
pub fn config_json(c: &PreinferConfig) -> Json {
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
    Json::object()
        .with("video", path(&c.video))
        .with("out_dir", path(&c.out_dir))
        .with("frame_sampling_mode", c.frame_sampling_mode.as_str())
        .with("sample_fps", c.sample_fps)
        .with("num_sampled_frames", c.num_sampled_frames)
        .with("pkt_peak_bin_sec", c.pkt_peak_bin_sec)
        .with("pkt_peak_cap", c.pkt_peak_cap)
        .with("pkt_peak_per_sec", c.pkt_peak_per_sec)
        .with("pkt_peak_neighbor", c.pkt_peak_neighbor)
        .with("pkt_peak_smooth_bins", c.pkt_peak_smooth_bins)
        .with("grouping_mode", c.grouping_mode.as_str())
        .with("group_size", c.group_size)
        .with("min_group_frames", c.min_group_frames)
        .with("max_group_frames", c.max_group_frames)
        .with("min_group_sec", c.min_group_sec)
        .with("max_group_sec", c.max_group_sec)
        .with("images_per_group", c.images_per_group)
        .with("patch", c.patch.max(1))
        .with("block_size", c.block_size.max(1))
        .with("max_dim", c.max_dim)
        .with("max_pixels", c.max_pixels)
        .with("no_resize", c.no_resize)
        .with("bitcost_grid", c.bitcost_grid.as_str())
        .with("bitcost_pct", c.bitcost_pct)
        .with("bitcost_log_scale", c.bitcost_log_scale)
        .with("frame_score_norm_mode", c.frame_score_norm_mode.as_str())
        .with(
            "frame_score_norm_floor_ratio",
            c.frame_score_norm_floor_ratio,
        )
        .with(
            "frame_score_norm_allow_boost",
            c.frame_score_norm_allow_boost,
        )
        .with("iframe_score_clip_mode", c.iframe_score_clip_mode.as_str())
        .with(
            "iframe_score_clip_percentile",
            c.iframe_score_clip_percentile,
        )
        .with("avoid_keyframes", c.avoid_keyframes)
        .with("avoid_keyframe_offset", c.avoid_keyframe_offset)
        .with("canvas_format", c.canvas_format.as_str())
        .with("save_mask_video", c.save_mask_video)
        .with("video_fps", c.video_fps)
        .with("readiness_sum_threshold", c.readiness_sum_threshold)
        .with(
            "readiness_sum_threshold_mode",
            c.readiness_sum_threshold_mode.as_str(),
        )
        .with(
            "readiness_norm_sum_threshold",
            c.readiness_norm_sum_threshold,
        )
        .with("bpppf_clamp_min", c.bpppf_clamp_min)
        .with("bpppf_clamp_max", c.bpppf_clamp_max)
        .with("readiness_coverage_bins", c.readiness_coverage_bins)
        .with("readiness_delta_ratio", c.readiness_delta_ratio)
        .with("decode_backend", c.decode_backend.as_str())
        .with("ffmpeg_preprocess_frames", c.ffmpeg_preprocess_frames)
        .with("parallel_decode_cv_reader", c.parallel_decode_cv_reader)
        .with("parallel_segments", c.parallel_segments.max(0))
        .with("threads_per_segment", c.threads_per_segment.max(1))
        .with("segment_guard_frames", c.segment_guard_frames.max(0))
        .with(
            "extra",
            Json::Obj(
                c.extra
                    .iter()
                    .map(|(k, v)| (k.clone(), Json::from(v)))
                    .collect(),
            ),
        )
}

/// Video facts recorded in meta.json.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFacts {
    pub total_frames: usize,
    pub fps: f64,
    pub width: usize,
    pub height: usize,
    pub codec_name: String,
    pub stream_bit_rate: f64,
    pub format_bit_rate: f64,
    pub duration: f64,
    /// `stream_bit_rate`, else `format_bit_rate`, else 0.
    pub bit_rate: f64,
}

/// Everything meta.json reports besides the configuration.
pub struct MetaContext<'a> {
    pub config: &'a PreinferConfig,
    pub facts: &'a VideoFacts,
    pub geom: &'a Geometry,
    pub bits_per_frame: f64,
    pub bpppf: f64,
    pub bpppf_clamped: f64,
    pub ids: &'a [usize],
    pub sampling_debug: Json,
    pub keyframes_found: usize,
    pub threshold: f64,
    pub norm_factor: f64,
    pub min_group_frames: usize,
    pub max_group_frames: usize,
    pub group_limit_debug: Json,
    pub frame_score_norm_debug: Json,
    pub iframe_score_clip_debug: Json,
    pub num_groups: usize,
    pub tail_frames: usize,
    pub group_specs: &'a [GroupSpec],
    pub total_images: usize,
    pub canvas_files: &'a [String],
    pub groups: Vec<Json>,
    pub timings: &'a Timings,
    pub group_timings: &'a [(usize, f64)],
    pub dropped: &'a [Dropped],
    /// How the frames were decoded (codecprep's own record).
    pub decode: Json,
}

/// The full meta.json value.
pub fn meta_json(m: &MetaContext<'_>) -> Json {
    let c = m.config;
    let f = m.facts;
    let g = m.geom;
    let video = c.video.to_string_lossy().into_owned();
    let hw = |h: usize, w: usize| Json::from(vec![h, w]);
    let files: Vec<Json> = m
        .canvas_files
        .iter()
        .map(|s| Json::from(s.as_str()))
        .collect();
    let dropped: Vec<Json> = m
        .dropped
        .iter()
        .map(|d| {
            Json::object()
                .with("start", d.start)
                .with("end", d.end)
                .with("frame_ids", m.ids[d.start..d.end].to_vec())
                .with("reason", d.reason)
        })
        .collect();
    let readiness = c.grouping_mode == GroupingMode::Readiness;
    Json::object()
        .with("video", video.as_str())
        .with("video_hash", video_hash(&video))
        .with("codec_selector_version", CODEC_SELECTOR_VERSION)
        .with("config", config_json(c))
        .with(
            "metadata",
            Json::object()
                .with("video", video.as_str())
                .with("total_frames", f.total_frames)
                .with("fps", f.fps)
                .with("height", f.height)
                .with("width", f.width)
                .with("codec_name", f.codec_name.as_str())
                .with("stream_bit_rate", f.stream_bit_rate)
                .with("format_bit_rate", f.format_bit_rate)
                .with("duration", f.duration),
        )
        .with("total_frames", f.total_frames)
        .with("orig_hw", hw(g.orig_h, g.orig_w))
        .with("processed_hw", hw(g.processed_h, g.processed_w))
        .with("resize_hw", hw(g.resize_h, g.resize_w))
        .with("padded_hw", hw(g.processed_h, g.processed_w))
        .with("pad_bottom_right", hw(g.pad_bottom, g.pad_right))
        .with("fps", f.fps)
        .with("stream_hw", hw(g.orig_h, g.orig_w))
        .with("video_bit_rate", f.bit_rate)
        .with("bits_per_frame", m.bits_per_frame)
        .with("bits_per_pixel_per_frame", m.bpppf)
        .with("bits_per_pixel_per_frame_clamped", m.bpppf_clamped)
        .with("sampled_frames", m.ids.len())
        .with("sampling_debug", m.sampling_debug.clone())
        .with("avoid_keyframes", c.avoid_keyframes)
        .with("avoid_keyframe_offset", c.avoid_keyframe_offset)
        .with("keyframes_found", m.keyframes_found)
        .with("grouping_mode", c.grouping_mode.as_str())
        .with("group_size", c.group_size)
        .with("images_per_group", c.images_per_group)
        .with(
            "readiness_sum_threshold_mode",
            c.readiness_sum_threshold_mode.as_str(),
        )
        .with("readiness_sum_threshold", m.threshold)
        .with(
            "readiness_norm_sum_threshold",
            c.readiness_norm_sum_threshold,
        )
        .with(
            "readiness_threshold_norm_factor",
            if readiness { m.norm_factor } else { 1.0 },
        )
        .with("bpppf_clamp_min", c.bpppf_clamp_min)
        .with("bpppf_clamp_max", c.bpppf_clamp_max)
        .with("min_group_frames", m.min_group_frames)
        .with("max_group_frames", m.max_group_frames)
        .with("group_limit_debug", m.group_limit_debug.clone())
        .with("readiness_coverage_bins", c.readiness_coverage_bins)
        .with("readiness_delta_ratio", c.readiness_delta_ratio)
        .with("save_mask_video", c.save_mask_video)
        .with(
            "mask_video_sbs",
            c.save_mask_video.then_some("sampled_masked_sbs.mp4"),
        )
        .with(
            "mask_video_only",
            c.save_mask_video.then_some("sampled_masked_only.mp4"),
        )
        .with("patch", g.patch)
        .with("block_size", g.block)
        .with("bitcost_grid", c.bitcost_grid.as_str())
        .with("codec_name", f.codec_name.as_str())
        .with("bitcost_pct", c.bitcost_pct)
        .with("bitcost_log_scale", c.bitcost_log_scale)
        .with("frame_score_norm_mode", c.frame_score_norm_mode.as_str())
        .with("frame_score_norm_debug", m.frame_score_norm_debug.clone())
        .with("iframe_score_clip_mode", c.iframe_score_clip_mode.as_str())
        .with(
            "iframe_score_clip_percentile",
            c.iframe_score_clip_percentile,
        )
        .with("iframe_score_clip_debug", m.iframe_score_clip_debug.clone())
        .with("score_source", "bitcost")
        .with("decode_backend", c.decode_backend.as_str())
        .with("hb_wb", hw(g.hb, g.wb))
        .with("S_full", g.s_full())
        .with("seq_len", m.ids.len())
        .with("num_groups", m.num_groups)
        .with("tail_frames", m.tail_frames)
        .with(
            "group_specs",
            Json::Arr(m.group_specs.iter().map(GroupSpec::to_json).collect()),
        )
        .with("total_images", m.total_images)
        .with("total_patches", m.total_images * g.s_full())
        .with("canvas_files", Json::Arr(files.clone()))
        .with("jpg_files", Json::Arr(files))
        .with("out_dir", c.out_dir.to_string_lossy().into_owned())
        .with("src_patch_position_sorted_by_t", true)
        .with("canvas_pixels_sorted_by_t", true)
        .with("groups", Json::Arr(m.groups.clone()))
        .with("timing_sec", m.timings.to_json())
        .with(
            "group_processing_timing_sec",
            Json::Arr(
                m.group_timings
                    .iter()
                    .map(|&(idx, sec)| Json::object().with("group_idx", idx).with("sec", sec))
                    .collect(),
            ),
        )
        .with("timings", m.timings.to_json())
        .with("dropped_frames", Json::Arr(dropped))
        .with(
            "codecprep",
            Json::object()
                .with("version", env!("CARGO_PKG_VERSION"))
                .with("compat", c.compat.as_str())
                .with("decoder_threads", c.decoder_threads())
                .with("thread_type", c.thread_type.as_str())
                .with("decode", m.decode.clone())
                .with(
                    "deblocking",
                    c.decode_backend == super::config::DecodeBackend::FfmpegNative,
                ),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_hash_is_sha1_of_the_path_string() {
        // sha1("h264.mp4") = 858bd941... (the reference's video_hash for that path)
        assert_eq!(video_hash("h264.mp4"), "858bd941");
    }

    #[test]
    fn config_has_the_49_engine_fields_in_order() {
        let c = PreinferConfig::new("v.mp4", "out");
        let Json::Obj(entries) = config_json(&c) else {
            panic!("object expected")
        };
        assert_eq!(entries.len(), 49);
        assert_eq!(entries[0].0, "video");
        assert_eq!(entries[48].0, "extra");
        assert_eq!(entries[2].1, Json::from("uniform_count"));
    }
}
