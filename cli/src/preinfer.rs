//! `codec-video-prep` (alias `cv-preinfer`, and `codecprep preinfer`): the reference tool's
//! command line, flag for flag, running codecprep's preinfer pipeline.
//!
//! Options are parsed as "given or not" so that a `--config FILE.yaml` can supply any
//! setting and the command line overrides it; the defaults are `PreinferConfig`'s.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{CommandFactory, FromArgMatches, Parser};
use codecprep_core::preinfer::{
    self, BitcostGrid, CanvasFormat, Compat, DecodeBackend, FrameSamplingMode, GroupingMode,
    IframeScoreClipMode, Json, PreinferConfig, PreinferResult, Progress, ThreadTypeName,
    ThresholdMode,
};

fn choice<T>(names: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(names).try_map(|s| s.parse::<T>())
}

const SAMPLING_CHOICES: &[&str] = &[
    "uniform_count",
    "fps",
    "pkt_peak",
    "pkt_size_peak",
    "fps_plus_pkt_size_peak",
    "all_frames",
];

/// Every flag of the reference `codec-video-prep` 0.2.5, the ones its README documents but
/// its parser rejects, and codecprep's own (`--compat`, `--config`, `--progress`, `--quiet`,
/// `--json`).
#[derive(clap::Args, Debug, Default)]
pub struct PreinferArgs {
    /// Input video (H.264, HEVC or VP9)
    #[arg(long = "video", value_name = "PATH")]
    pub video: Option<PathBuf>,
    /// Output directory (created if missing; outputs appear only when the run succeeds)
    #[arg(long = "out_dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Frames sampled by uniform_count sampling [default: 1024]
    #[arg(long = "num_sampled_frames", allow_negative_numbers = true)]
    pub num_sampled_frames: Option<i64>,
    /// Fixed grouping: group length; readiness: chunk length of the threshold estimate [default: 32]
    #[arg(long = "group_size", allow_negative_numbers = true)]
    pub group_size: Option<i64>,
    /// Canvases per group [default: 4]
    #[arg(long = "images_per_group", allow_negative_numbers = true)]
    pub images_per_group: Option<i64>,
    /// ViT patch size in pixels (values below 1 mean 1) [default: 14]
    #[arg(long = "patch", allow_negative_numbers = true)]
    pub patch: Option<i64>,
    /// Resize budget in pixels; 0 or less switches to the --max_dim rule [default: 153664]
    #[arg(long = "max_pixels", allow_negative_numbers = true)]
    pub max_pixels: Option<i64>,
    /// Longest side for --max_pixels 0 [default: 616]
    #[arg(long = "max_dim", allow_negative_numbers = true)]
    pub max_dim: Option<i64>,
    /// Keep the source size (padded to multiples of patch x block_size)
    #[arg(long = "no_resize")]
    pub no_resize: bool,
    /// Selection unit: block_size x block_size patches (values below 1 mean 1) [default: 2]
    #[arg(long = "block_size", allow_negative_numbers = true)]
    pub block_size: Option<i64>,
    /// Readiness grouping: shortest group, at least 4 [default: 8]
    #[arg(long = "min_group_frames", allow_negative_numbers = true)]
    pub min_group_frames: Option<i64>,
    /// Readiness grouping: longest group [default: 64]
    #[arg(long = "max_group_frames", allow_negative_numbers = true)]
    pub max_group_frames: Option<i64>,
    /// Decoder threading (auto = slice) [default: slice]
    #[arg(long = "thread_type", value_parser = choice::<ThreadTypeName>(ThreadTypeName::NAMES))]
    pub thread_type: Option<ThreadTypeName>,
    /// Decoder threads (0 = as many as FFmpeg sees fit) [default: 1]
    #[arg(long = "thread_count", allow_negative_numbers = true)]
    pub thread_count: Option<i64>,
    /// Accepted for compatibility: codecprep never loses maps, so every sampled frame always
    /// has its own map and pixels (the reference needs this flag for that)
    #[arg(long = "disable_target_only")]
    pub disable_target_only: bool,
    /// Bit-cost grid scored: 4x4 sub-grid, block grid (mb and ctu both mean the codec's
    /// block grid), or adaptive [default: adaptive]
    #[arg(long = "bitcost_grid", value_parser = choice::<BitcostGrid>(BitcostGrid::NAMES))]
    pub bitcost_grid: Option<BitcostGrid>,
    /// Canvas files: JPEG (quality 95, 4:2:0), PNG, or uint8 npy arrays [default: jpg]
    #[arg(long = "canvas_format", value_parser = choice::<CanvasFormat>(CanvasFormat::NAMES))]
    pub canvas_format: Option<CanvasFormat>,
    /// Grouping [default: readiness]
    #[arg(long = "grouping_mode", value_parser = choice::<GroupingMode>(GroupingMode::NAMES))]
    pub grouping_mode: Option<GroupingMode>,
    /// Frame sampling; pkt_peak is an alias of pkt_size_peak (the reference silently did fps
    /// sampling for it) [default: uniform_count]
    #[arg(long = "frame_sampling_mode", value_parser = choice::<FrameSamplingMode>(SAMPLING_CHOICES))]
    pub frame_sampling_mode: Option<FrameSamplingMode>,
    /// Sampling rate of fps sampling [default: 4.0]
    #[arg(long = "sample_fps", allow_negative_numbers = true)]
    pub sample_fps: Option<f64>,
    /// Readiness threshold (legacy: used if positive; fixed: always) [default: 0.0]
    #[arg(long = "readiness_sum_threshold", allow_negative_numbers = true)]
    pub readiness_sum_threshold: Option<f64>,
    /// How the readiness threshold is found [default: legacy]
    #[arg(long = "readiness_sum_threshold_mode", value_parser = choice::<ThresholdMode>(ThresholdMode::NAMES))]
    pub readiness_sum_threshold_mode: Option<ThresholdMode>,
    /// clamped_sqrt_bpppf: threshold per sqrt(bits per pixel per frame) [default: 2250000.0]
    #[arg(long = "readiness_norm_sum_threshold", allow_negative_numbers = true)]
    pub readiness_norm_sum_threshold: Option<f64>,
    /// Readiness coverage bins [default: 3]
    #[arg(long = "readiness_coverage_bins", allow_negative_numbers = true)]
    pub readiness_coverage_bins: Option<i64>,
    /// Readiness: smallest relative gain to keep growing a group [default: 0.05]
    #[arg(long = "readiness_delta_ratio", allow_negative_numbers = true)]
    pub readiness_delta_ratio: Option<f64>,
    /// Percentile that maps to score 1 [default: 99.0]
    #[arg(long = "bitcost_pct", allow_negative_numbers = true)]
    pub bitcost_pct: Option<f64>,
    /// Score log1p(bits) (default)
    #[arg(long = "bitcost_log_scale", overrides_with = "no_bitcost_log_scale")]
    pub bitcost_log_scale: bool,
    /// Score bits linearly
    #[arg(long = "no_bitcost_log_scale", overrides_with = "bitcost_log_scale")]
    pub no_bitcost_log_scale: bool,
    /// Cap I-frame scores at a percentile of the other frames' [default: none]
    #[arg(long = "iframe_score_clip_mode", value_parser = choice::<IframeScoreClipMode>(IframeScoreClipMode::NAMES))]
    pub iframe_score_clip_mode: Option<IframeScoreClipMode>,
    /// Percentile of --iframe_score_clip_mode non_i_percentile [default: 95.0]
    #[arg(long = "iframe_score_clip_percentile", allow_negative_numbers = true)]
    pub iframe_score_clip_percentile: Option<f64>,
    /// Move samples off keyframes (default)
    #[arg(long = "avoid_keyframes")]
    pub avoid_keyframes: bool,
    /// Keep samples on keyframes
    #[arg(long = "no_avoid_keyframes")]
    pub no_avoid_keyframes: bool,
    /// Also write sampled_masked_sbs.mp4 (frame | kept patches) and sampled_masked_only.mp4
    /// (kept patches on black), encoded by GStreamer; --compat none pairs every sampled frame
    /// with its own mask
    #[arg(long = "save_mask_video")]
    pub save_mask_video: bool,
    /// Accepted for compatibility (no effect)
    #[arg(long = "parallel_decode_cv_reader")]
    pub parallel_decode_cv_reader: bool,
    /// ffmpeg_native: pixels with deblocking (as the reference's system-ffmpeg decode);
    /// cv_reader_pixels: without [default: cv_reader_pixels]
    #[arg(long = "decode_backend", value_parser = choice::<DecodeBackend>(DecodeBackend::NAMES))]
    pub decode_backend: Option<DecodeBackend>,
    /// Segments of the video (cut at clean keyframes) decoded at the same time; 0: one per
    /// core (codecprep's default; the reference decodes serially). Never more than the cores.
    /// Results never depend on it [default: 0]
    #[arg(long = "parallel_segments", allow_negative_numbers = true)]
    pub parallel_segments: Option<i64>,
    /// Decoder threads of each segment when --parallel_segments > 1 (otherwise
    /// --thread_count) [default: 4]
    #[arg(long = "threads_per_segment", allow_negative_numbers = true)]
    pub threads_per_segment: Option<i64>,
    /// Accepted for compatibility: segments start at clean keyframes, so no guard frames are
    /// needed [default: 30]
    #[arg(long = "segment_guard_frames", allow_negative_numbers = true)]
    pub segment_guard_frames: Option<i64>,
    /// reference: the reference tool's outputs, quirks included; none: corrected behaviour
    /// (H.264 padding column left out, CTU/superblock grids drawn over the picture area they
    /// code, short last chunk left out of the threshold estimate, short groups and the
    /// readiness tail kept, true keyframe positions, every mask-video frame with its own
    /// mask; docs/preinfer.md lists them all) [default: reference]
    #[arg(long = "compat", value_parser = choice::<Compat>(Compat::NAMES))]
    pub compat: Option<Compat>,
    /// YAML (or JSON) file with PreinferConfig fields; flags given here override it
    #[arg(long = "config", value_name = "FILE.yaml")]
    pub config: Option<PathBuf>,
    /// Report progress on stderr
    #[arg(long = "progress")]
    pub progress: bool,
    /// Print nothing on success
    #[arg(long = "quiet", conflicts_with = "json")]
    pub quiet: bool,
    /// Print the result record (out_dir, meta_path, canvas_files, timings) as JSON only
    #[arg(long = "json")]
    pub json: bool,
}

/// A usage problem (exit 2, like argparse).
#[derive(Debug)]
pub enum Failure {
    Usage(String),
}

impl PreinferArgs {
    /// The run's configuration: `--config`'s file (or the defaults), then the flags.
    pub fn to_config(&self) -> Result<PreinferConfig, Failure> {
        let mut c = match &self.config {
            Some(path) => load_config(path)?,
            None => PreinferConfig::default(),
        };
        macro_rules! set {
            ($($field:ident),+ $(,)?) => {
                $( if let Some(v) = self.$field.clone() { c.$field = v; } )+
            };
        }
        set!(
            video,
            out_dir,
            num_sampled_frames,
            group_size,
            images_per_group,
            patch,
            max_pixels,
            max_dim,
            block_size,
            min_group_frames,
            max_group_frames,
            thread_type,
            thread_count,
            bitcost_grid,
            canvas_format,
            grouping_mode,
            frame_sampling_mode,
            sample_fps,
            readiness_sum_threshold,
            readiness_sum_threshold_mode,
            readiness_norm_sum_threshold,
            readiness_coverage_bins,
            readiness_delta_ratio,
            bitcost_pct,
            iframe_score_clip_mode,
            iframe_score_clip_percentile,
            decode_backend,
            parallel_segments,
            threads_per_segment,
            segment_guard_frames,
            compat,
        );
        if self.no_resize {
            c.no_resize = true;
        }
        if self.disable_target_only {
            c.disable_target_only = true;
        }
        if self.bitcost_log_scale {
            c.bitcost_log_scale = true;
        }
        if self.no_bitcost_log_scale {
            c.bitcost_log_scale = false;
        }
        if self.avoid_keyframes {
            c.avoid_keyframes = true;
        }
        if self.no_avoid_keyframes {
            c.avoid_keyframes = false;
        }
        if self.save_mask_video {
            c.save_mask_video = true;
        }
        if self.parallel_decode_cv_reader {
            c.parallel_decode_cv_reader = true;
        }
        if c.video.as_os_str().is_empty() {
            return Err(Failure::Usage(
                "the following arguments are required: --video".into(),
            ));
        }
        if c.out_dir.as_os_str().is_empty() {
            return Err(Failure::Usage(
                "the following arguments are required: --out_dir".into(),
            ));
        }
        c.validate()
            .map_err(|e| Failure::Usage(format!("argument --{}: {}", e.field, e.message)))?;
        Ok(c)
    }
}

fn load_config(path: &Path) -> Result<PreinferConfig, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("argument --config: {}: {e}", path.display())))?;
    serde_yaml::from_str(&text)
        .map_err(|e| Failure::Usage(format!("argument --config: {}: {e}", path.display())))
}

/// The reference's success output: the timing line and the pretty result JSON.
pub fn reference_stdout(result: &PreinferResult) -> String {
    let t = |k: &str| result.timings.get(k).unwrap_or(0.0);
    let line = format!(
        "[timing] total={:.3}s cv_reader={:.3}s decode={:.3}s canvas_build={:.3}s canvas_save={:.3}s",
        t("total"),
        t("cv_reader_fetch_bitcost"),
        t("decode_frames"),
        t("process_groups_make_canvases"),
        t("save_canvases"),
    );
    let record = Json::object()
        .with("out_dir", result.out_dir.to_string_lossy().into_owned())
        .with("meta_path", result.meta_path.to_string_lossy().into_owned())
        .with("timings", result.timings.to_json());
    format!("{line}\n{}\n", record.to_pretty())
}

/// The `--json` record.
pub fn result_json(result: &PreinferResult) -> String {
    let files: Vec<Json> = result
        .canvas_files
        .iter()
        .map(|f| Json::from(f.as_str()))
        .collect();
    let record = Json::object()
        .with("out_dir", result.out_dir.to_string_lossy().into_owned())
        .with("meta_path", result.meta_path.to_string_lossy().into_owned())
        .with("canvas_files", Json::Arr(files))
        .with(
            "num_groups",
            result.meta.get("num_groups").cloned().unwrap_or(Json::Null),
        )
        .with(
            "sampled_frames",
            result
                .meta
                .get("sampled_frames")
                .cloned()
                .unwrap_or(Json::Null),
        )
        .with("timings", result.timings.to_json());
    format!("{}\n", record.to_pretty())
}

/// Runs the command; messages are prefixed with `prog`.
pub fn run(args: &PreinferArgs, prog: &str) -> ExitCode {
    let config = match args.to_config() {
        Ok(c) => c,
        Err(Failure::Usage(message)) => {
            eprintln!("{prog}: error: {message}");
            return ExitCode::from(2);
        }
    };
    // Stages report every unit (the decode: every frame); print at most one line per
    // percent of each stage.
    let last = std::sync::Mutex::new(None);
    let report = |p: Progress| {
        let percent = (p.done * 100).checked_div(p.total).unwrap_or(100);
        let mut last = last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *last != Some((p.stage, percent)) {
            *last = Some((p.stage, percent));
            eprintln!("[progress] {} {}/{}", p.stage.name(), p.done, p.total);
        }
    };
    let progress: Option<preinfer::ProgressFn<'_>> = args.progress.then_some(&report);
    match preinfer::run_preinfer(&config, progress, None) {
        Ok(result) => {
            if args.json {
                print!("{}", result_json(&result));
            } else if !args.quiet {
                print!("{}", reference_stdout(&result));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{prog}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The stand-alone `codec-video-prep` / `cv-preinfer` command.
#[derive(Parser, Debug)]
#[command(
    version,
    infer_long_args = true,
    about = "Sample, score, group and pack video frames into canvases by codec bit cost \
             (drop-in for the reference codec-video-prep)"
)]
pub struct DropIn {
    #[command(flatten)]
    pub args: PreinferArgs,
}

/// `main` of the drop-in binaries, named `prog`.
pub fn drop_in_main(prog: &'static str) -> ExitCode {
    let matches = DropIn::command().name(prog).bin_name(prog).get_matches();
    let cli = match DropIn::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    run(&cli.args, prog)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<PreinferConfig, Failure> {
        let mut argv = vec!["codec-video-prep"];
        argv.extend(args);
        let cli = DropIn::try_parse_from(argv).map_err(|e| Failure::Usage(e.to_string()))?;
        cli.args.to_config()
    }

    #[test]
    fn reference_flags_and_defaults() {
        let c = parse(&["--video", "a.mp4", "--out_dir", "o"]).unwrap();
        assert_eq!(c, PreinferConfig::new("a.mp4", "o"));
        let c = parse(&[
            "--video=a.mp4",
            "--out_dir",
            "o",
            "--frame_sampling_mode",
            "pkt_peak",
            "--no_avoid_keyframes",
            "--canvas_format",
            "png",
            "--max_pixels",
            "-1",
            "--no_bitcost_log_scale",
            "--compat",
            "none",
        ])
        .unwrap();
        assert_eq!(c.frame_sampling_mode, FrameSamplingMode::PktSizePeak);
        assert!(!c.avoid_keyframes);
        assert_eq!(c.max_pixels, -1);
        assert!(!c.bitcost_log_scale);
        assert_eq!(c.compat, Compat::None);
        // argparse-style abbreviations.
        let c = parse(&["--vid", "a.mp4", "--out_d", "o", "--images_per", "8"]).unwrap();
        assert_eq!(c.images_per_group, 8);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        assert!(matches!(
            parse(&["--video", "a", "--out_dir", "o", "--num_sampled_frames", "0"]),
            Err(Failure::Usage(m)) if m.contains("--num_sampled_frames")
        ));
        assert!(parse(&["--video", "a", "--out_dir", "o", "--grouping_mode", "x"]).is_err());
        assert!(matches!(parse(&["--out_dir", "o"]), Err(Failure::Usage(_))));
    }

    #[test]
    fn config_file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        std::fs::write(
            &path,
            "video: v.mp4\nout_dir: out\ngrouping_mode: fixed\ngroup_size: 16\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let c = parse(&["--config", p, "--group_size", "8"]).unwrap();
        assert_eq!(c.grouping_mode, GroupingMode::Fixed);
        assert_eq!(c.group_size, 8);
        assert_eq!(c.video, PathBuf::from("v.mp4"));
        std::fs::write(&path, "bogus_field: 1\n").unwrap();
        assert!(matches!(parse(&["--config", p]), Err(Failure::Usage(m)) if m.contains("bogus")));
    }
}
