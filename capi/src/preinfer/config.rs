//! `CodecPrepPreinferConfig`: every setting of the core's `PreinferConfig` as a plain C
//! struct. Option values are the CLI's strings (`"uniform_count"`, `"png"`, ...); `extra` is
//! JSON text.

use std::ffi::{CStr, OsStr, c_char};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::str::FromStr;

use codecprep_core::preinfer::PreinferConfig;

use crate::boundary::{Out, call};
use crate::names::c_name;
use crate::sized::SizedStruct;
use crate::status::{CodecPrepStatus, Failure};

/// Settings of one preinfer run (the fields, names and defaults of `codec-video-prep`; see
/// docs/preinfer.md). Fill with `codecprep_preinfer_config_default`, set `video` and
/// `out_dir`, change what you need. Strings are borrowed for the duration of
/// `codecprep_preinfer_run` only; a NULL option string means its default. Flags are `int32_t`:
/// 0 is false, anything else true.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CodecPrepPreinferConfig {
    /// `sizeof(CodecPrepPreinferConfig)`.
    pub struct_size: usize,
    /// Input video file (required).
    pub video: *const c_char,
    /// Output directory, created if missing; outputs appear only when the run succeeds
    /// (required).
    pub out_dir: *const c_char,
    /// "uniform_count", "fps", "all_frames", "pkt_size_peak" (alias "pkt_peak") or
    /// "fps_plus_pkt_size_peak".
    pub frame_sampling_mode: *const c_char,
    pub sample_fps: f64,
    pub num_sampled_frames: i64,
    pub pkt_peak_bin_sec: f64,
    pub pkt_peak_cap: i64,
    pub pkt_peak_per_sec: f64,
    pub pkt_peak_neighbor: i64,
    pub pkt_peak_smooth_bins: i64,
    /// "fixed" or "readiness".
    pub grouping_mode: *const c_char,
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
    pub no_resize: i32,
    /// "sub", "mb", "ctu" or "adaptive".
    pub bitcost_grid: *const c_char,
    pub bitcost_pct: f64,
    pub bitcost_log_scale: i32,
    /// "none" or "frame_mean_floor".
    pub frame_score_norm_mode: *const c_char,
    pub frame_score_norm_floor_ratio: f64,
    pub frame_score_norm_allow_boost: i32,
    /// "none" or "non_i_percentile".
    pub iframe_score_clip_mode: *const c_char,
    pub iframe_score_clip_percentile: f64,
    pub avoid_keyframes: i32,
    pub avoid_keyframe_offset: i64,
    /// "jpg", "png" or "npy".
    pub canvas_format: *const c_char,
    pub save_mask_video: i32,
    pub video_fps: f64,
    pub readiness_sum_threshold: f64,
    /// "legacy", "auto", "fixed" or "clamped_sqrt_bpppf".
    pub readiness_sum_threshold_mode: *const c_char,
    pub readiness_norm_sum_threshold: f64,
    pub bpppf_clamp_min: f64,
    pub bpppf_clamp_max: f64,
    pub readiness_coverage_bins: i64,
    pub readiness_delta_ratio: f64,
    /// "cv_reader_pixels" (deblocking off) or "ffmpeg_native" (deblocking on).
    pub decode_backend: *const c_char,
    pub ffmpeg_preprocess_frames: i32,
    pub parallel_decode_cv_reader: i32,
    pub parallel_segments: i64,
    pub threads_per_segment: i64,
    pub segment_guard_frames: i64,
    /// The engine's `extra` settings as a JSON object text; NULL for none.
    pub extra_json: *const c_char,
    /// "auto", "slice" or "frame".
    pub thread_type: *const c_char,
    /// Decoder threads; 0 lets FFmpeg choose.
    pub thread_count: i64,
    pub disable_target_only: i32,
    /// "reference" (the reference tool's outputs, quirks included) or "none" (corrected).
    pub compat: *const c_char,
}

// SAFETY: repr(C), `struct_size` first, integers, floats and raw pointers only.
unsafe impl SizedStruct for CodecPrepPreinferConfig {
    const NAME: &'static str = "CodecPrepPreinferConfig";
}

fn flag(value: bool) -> i32 {
    i32::from(value)
}

impl CodecPrepPreinferConfig {
    /// The core's defaults; option strings are static, `video`, `out_dir` and `extra_json`
    /// NULL.
    pub(crate) fn defaults() -> Self {
        let d = PreinferConfig::default();
        Self {
            struct_size: size_of::<Self>(),
            video: std::ptr::null(),
            out_dir: std::ptr::null(),
            frame_sampling_mode: c_name(d.frame_sampling_mode.as_str()),
            sample_fps: d.sample_fps,
            num_sampled_frames: d.num_sampled_frames,
            pkt_peak_bin_sec: d.pkt_peak_bin_sec,
            pkt_peak_cap: d.pkt_peak_cap,
            pkt_peak_per_sec: d.pkt_peak_per_sec,
            pkt_peak_neighbor: d.pkt_peak_neighbor,
            pkt_peak_smooth_bins: d.pkt_peak_smooth_bins,
            grouping_mode: c_name(d.grouping_mode.as_str()),
            group_size: d.group_size,
            min_group_frames: d.min_group_frames,
            max_group_frames: d.max_group_frames,
            min_group_sec: d.min_group_sec,
            max_group_sec: d.max_group_sec,
            images_per_group: d.images_per_group,
            patch: d.patch,
            block_size: d.block_size,
            max_dim: d.max_dim,
            max_pixels: d.max_pixels,
            no_resize: flag(d.no_resize),
            bitcost_grid: c_name(d.bitcost_grid.as_str()),
            bitcost_pct: d.bitcost_pct,
            bitcost_log_scale: flag(d.bitcost_log_scale),
            frame_score_norm_mode: c_name(d.frame_score_norm_mode.as_str()),
            frame_score_norm_floor_ratio: d.frame_score_norm_floor_ratio,
            frame_score_norm_allow_boost: flag(d.frame_score_norm_allow_boost),
            iframe_score_clip_mode: c_name(d.iframe_score_clip_mode.as_str()),
            iframe_score_clip_percentile: d.iframe_score_clip_percentile,
            avoid_keyframes: flag(d.avoid_keyframes),
            avoid_keyframe_offset: d.avoid_keyframe_offset,
            canvas_format: c_name(d.canvas_format.as_str()),
            save_mask_video: flag(d.save_mask_video),
            video_fps: d.video_fps,
            readiness_sum_threshold: d.readiness_sum_threshold,
            readiness_sum_threshold_mode: c_name(d.readiness_sum_threshold_mode.as_str()),
            readiness_norm_sum_threshold: d.readiness_norm_sum_threshold,
            bpppf_clamp_min: d.bpppf_clamp_min,
            bpppf_clamp_max: d.bpppf_clamp_max,
            readiness_coverage_bins: d.readiness_coverage_bins,
            readiness_delta_ratio: d.readiness_delta_ratio,
            decode_backend: c_name(d.decode_backend.as_str()),
            ffmpeg_preprocess_frames: flag(d.ffmpeg_preprocess_frames),
            parallel_decode_cv_reader: flag(d.parallel_decode_cv_reader),
            parallel_segments: d.parallel_segments,
            threads_per_segment: d.threads_per_segment,
            segment_guard_frames: d.segment_guard_frames,
            extra_json: std::ptr::null(),
            thread_type: c_name(d.thread_type.as_str()),
            thread_count: d.thread_count,
            disable_target_only: flag(d.disable_target_only),
            compat: c_name(d.compat.as_str()),
        }
    }

    /// The core's config.
    ///
    /// # Safety
    ///
    /// Every non-NULL string field points to a NUL-terminated string.
    pub(crate) unsafe fn to_core(self) -> Result<PreinferConfig, Failure> {
        let d = PreinferConfig::default();
        // SAFETY (every string below): the caller's contract.
        let path = |ptr: *const c_char| -> PathBuf {
            unsafe { text(ptr) }
                .map(|s| PathBuf::from(OsStr::from_bytes(s.to_bytes())))
                .unwrap_or_default()
        };
        Ok(PreinferConfig {
            video: path(self.video),
            out_dir: path(self.out_dir),
            frame_sampling_mode: unsafe {
                option(
                    self.frame_sampling_mode,
                    "frame_sampling_mode",
                    d.frame_sampling_mode,
                )
            }?,
            sample_fps: self.sample_fps,
            num_sampled_frames: self.num_sampled_frames,
            pkt_peak_bin_sec: self.pkt_peak_bin_sec,
            pkt_peak_cap: self.pkt_peak_cap,
            pkt_peak_per_sec: self.pkt_peak_per_sec,
            pkt_peak_neighbor: self.pkt_peak_neighbor,
            pkt_peak_smooth_bins: self.pkt_peak_smooth_bins,
            grouping_mode: unsafe { option(self.grouping_mode, "grouping_mode", d.grouping_mode) }?,
            group_size: self.group_size,
            min_group_frames: self.min_group_frames,
            max_group_frames: self.max_group_frames,
            min_group_sec: self.min_group_sec,
            max_group_sec: self.max_group_sec,
            images_per_group: self.images_per_group,
            patch: self.patch,
            block_size: self.block_size,
            max_dim: self.max_dim,
            max_pixels: self.max_pixels,
            no_resize: self.no_resize != 0,
            bitcost_grid: unsafe { option(self.bitcost_grid, "bitcost_grid", d.bitcost_grid) }?,
            bitcost_pct: self.bitcost_pct,
            bitcost_log_scale: self.bitcost_log_scale != 0,
            frame_score_norm_mode: unsafe {
                option(
                    self.frame_score_norm_mode,
                    "frame_score_norm_mode",
                    d.frame_score_norm_mode,
                )
            }?,
            frame_score_norm_floor_ratio: self.frame_score_norm_floor_ratio,
            frame_score_norm_allow_boost: self.frame_score_norm_allow_boost != 0,
            iframe_score_clip_mode: unsafe {
                option(
                    self.iframe_score_clip_mode,
                    "iframe_score_clip_mode",
                    d.iframe_score_clip_mode,
                )
            }?,
            iframe_score_clip_percentile: self.iframe_score_clip_percentile,
            avoid_keyframes: self.avoid_keyframes != 0,
            avoid_keyframe_offset: self.avoid_keyframe_offset,
            canvas_format: unsafe { option(self.canvas_format, "canvas_format", d.canvas_format) }?,
            save_mask_video: self.save_mask_video != 0,
            video_fps: self.video_fps,
            readiness_sum_threshold: self.readiness_sum_threshold,
            readiness_sum_threshold_mode: unsafe {
                option(
                    self.readiness_sum_threshold_mode,
                    "readiness_sum_threshold_mode",
                    d.readiness_sum_threshold_mode,
                )
            }?,
            readiness_norm_sum_threshold: self.readiness_norm_sum_threshold,
            bpppf_clamp_min: self.bpppf_clamp_min,
            bpppf_clamp_max: self.bpppf_clamp_max,
            readiness_coverage_bins: self.readiness_coverage_bins,
            readiness_delta_ratio: self.readiness_delta_ratio,
            decode_backend: unsafe {
                option(self.decode_backend, "decode_backend", d.decode_backend)
            }?,
            ffmpeg_preprocess_frames: self.ffmpeg_preprocess_frames != 0,
            parallel_decode_cv_reader: self.parallel_decode_cv_reader != 0,
            parallel_segments: self.parallel_segments,
            threads_per_segment: self.threads_per_segment,
            segment_guard_frames: self.segment_guard_frames,
            extra: unsafe { extra(self.extra_json) }?,
            thread_type: unsafe { option(self.thread_type, "thread_type", d.thread_type) }?,
            thread_count: self.thread_count,
            disable_target_only: self.disable_target_only != 0,
            compat: unsafe { option(self.compat, "compat", d.compat) }?,
        })
    }
}

/// # Safety
///
/// `ptr` is NULL or NUL-terminated.
unsafe fn text<'a>(ptr: *const c_char) -> Option<&'a CStr> {
    // SAFETY: the caller's contract.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) })
}

/// Parses an option string; NULL gives `default`.
///
/// # Safety
///
/// `ptr` is NULL or NUL-terminated.
unsafe fn option<T: FromStr<Err = String>>(
    ptr: *const c_char,
    field: &str,
    default: T,
) -> Result<T, Failure> {
    // SAFETY: the caller's contract.
    let Some(value) = (unsafe { text(ptr) }) else {
        return Ok(default);
    };
    let value = value
        .to_str()
        .map_err(|_| Failure::invalid(format!("config.{field} is not UTF-8")))?;
    value
        .parse()
        .map_err(|e| Failure::invalid(format!("config.{field}: {e}")))
}

/// Parses `extra_json` (a JSON object); NULL gives no extra settings.
///
/// # Safety
///
/// `ptr` is NULL or NUL-terminated.
unsafe fn extra(
    ptr: *const c_char,
) -> Result<std::collections::BTreeMap<String, serde_json::Value>, Failure> {
    // SAFETY: the caller's contract.
    let Some(json) = (unsafe { text(ptr) }) else {
        return Ok(Default::default());
    };
    serde_json::from_slice(json.to_bytes())
        .map_err(|e| Failure::invalid(format!("config.extra_json is not a JSON object: {e}")))
}

/// Fills `config` with the defaults of `codec-video-prep`, `struct_size` included; `video`,
/// `out_dir` and `extra_json` are NULL, the option strings point to static strings of the
/// library.
///
/// # Safety
///
/// `config` is NULL or points to a writable `CodecPrepPreinferConfig`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_config_default(
    config: *mut CodecPrepPreinferConfig,
) -> CodecPrepStatus {
    call("codecprep_preinfer_config_default", || {
        let defaults = CodecPrepPreinferConfig::defaults();
        // SAFETY: the caller's contract.
        unsafe { Out::new(config, defaults, "config") }?.set(defaults);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_to_the_core_defaults() {
        let c = CodecPrepPreinferConfig::defaults();
        assert_eq!(unsafe { c.to_core() }.unwrap(), PreinferConfig::default());
    }

    #[test]
    fn strings_paths_and_extra_arrive() {
        let c = CodecPrepPreinferConfig {
            video: c"in.mp4".as_ptr(),
            out_dir: c"out".as_ptr(),
            canvas_format: c"PNG".as_ptr(),
            frame_sampling_mode: c"pkt_peak".as_ptr(),
            extra_json: c"{\"k\": 1}".as_ptr(),
            no_resize: 5,
            ..CodecPrepPreinferConfig::defaults()
        };
        let core = unsafe { c.to_core() }.unwrap();
        assert_eq!(core.video, PathBuf::from("in.mp4"));
        assert_eq!(core.canvas_format.as_str(), "png");
        assert_eq!(core.frame_sampling_mode.as_str(), "pkt_size_peak");
        assert_eq!(core.extra["k"], serde_json::json!(1));
        assert!(core.no_resize);
        let bad = CodecPrepPreinferConfig {
            grouping_mode: c"bogus".as_ptr(),
            ..c
        };
        let err = unsafe { bad.to_core() }.unwrap_err();
        assert_eq!(err.status, CodecPrepStatus::InvalidArgument);
        assert!(err.message.contains("grouping_mode"), "{}", err.message);
        let bad = CodecPrepPreinferConfig {
            extra_json: c"[1]".as_ptr(),
            ..c
        };
        assert!(unsafe { bad.to_core() }.is_err());
    }
}
