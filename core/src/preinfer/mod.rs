//! The preinfer job of the reference tool (`codec-video-prep`), stage by stage: sample
//! frames, avoid keyframes, decode bit cost and pixels of the sampled frames, turn bit cost
//! into block scores, group the frames, select the best blocks of each group and pack them
//! into canvases, write the outputs.
//!
//! Each stage is a plain function over plain data in its own module, so the GStreamer
//! elements and the C API reuse them; [`run_preinfer`] chains them for a file.
//! `docs/preinfer.md` lists what `compat: none` corrects.

pub mod blocks;
pub mod canvas;
pub mod config;
pub mod frames;
pub mod geometry;
pub mod group;
pub mod keyframes;
pub mod masks;
pub mod meta;
pub mod npmath;
pub mod output;
pub mod pyjson;
pub mod sample;
pub mod score;
pub mod scoring;
pub mod select;
pub mod stream;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

pub use config::{
    BitcostGrid, CanvasFormat, Compat, ConfigError, DecodeBackend, FrameSamplingMode,
    FrameScoreNormMode, GroupingMode, IframeScoreClipMode, PreinferConfig, ThreadTypeName,
    ThresholdMode,
};
pub use meta::Timings;
pub use pyjson::Json;

use crate::ffmpeg::{PixelFormat, ThreadType};
use crate::map::Measure;
use crate::output::StagingDir;
use crate::reader::{self, PixelRequest, ReaderOptions, SelectOptions, SelectStats};
use frames::PreparedFrame;
use geometry::Geometry;
use group::{Dropped, GroupSpec, MIN_PROCESSED_GROUP};
use score::ScoreGrid;

/// The stages of a run, as reported to the progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Probe,
    Sample,
    Decode,
    Score,
    Group,
    Canvas,
    Write,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Self::Probe => "probe",
            Self::Sample => "sample",
            Self::Decode => "decode",
            Self::Score => "score",
            Self::Group => "group",
            Self::Canvas => "canvas",
            Self::Write => "write",
        }
    }
}

/// Progress report: `done` of `total` units of `stage` (stages report 0/1 then 1/1;
/// canvases report per group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub done: usize,
    pub total: usize,
}

/// What a successful run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct PreinferResult {
    pub out_dir: PathBuf,
    pub meta_path: PathBuf,
    /// Canvas file names (in `out_dir`), in canvas order.
    pub canvas_files: Vec<String>,
    pub timings: Timings,
    /// The content of meta.json.
    pub meta: Json,
}

/// Why a run failed; every message names the file it is about.
#[derive(Debug, thiserror::Error)]
pub enum PreinferError {
    #[error("invalid setting {0}")]
    Config(#[from] ConfigError),
    /// Already formatted as `<path>: <cause>`.
    #[error(transparent)]
    Video(#[from] reader::Error),
    #[error("{}: {message}", path.display())]
    Unusable { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cancelled")]
    Cancelled,
}

impl PreinferError {
    fn unusable(path: &Path, message: impl Into<String>) -> Self {
        Self::Unusable {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Progress callback type.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Sync);

struct Ctx<'a> {
    progress: Option<ProgressFn<'a>>,
    cancel: Option<&'a AtomicBool>,
    timings: Timings,
    clock: Instant,
}

impl Ctx<'_> {
    fn report(&self, stage: Stage, done: usize, total: usize) {
        if let Some(p) = self.progress {
            p(Progress { stage, done, total });
        }
    }

    fn check(&self) -> Result<(), PreinferError> {
        match self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(PreinferError::Cancelled),
            _ => Ok(()),
        }
    }

    /// Records the time since the last lap under `key`.
    fn lap(&mut self, key: &str) -> f64 {
        let now = Instant::now();
        let seconds = now.duration_since(self.clock).as_secs_f64();
        self.clock = now;
        self.timings.set(key, seconds);
        seconds
    }
}

/// Runs the whole job for `config.video` into `config.out_dir`.
///
/// Outputs appear only when everything succeeded (written in a hidden directory inside
/// `out_dir` and moved into place, meta.json last). `cancel` is checked after every decoded
/// frame, between stages and between groups; `progress` hears of every decoded frame
/// (stage `Decode`, frames decoded of frames to decode) and every group.
pub fn run_preinfer(
    config: &PreinferConfig,
    progress: Option<ProgressFn<'_>>,
    cancel: Option<&AtomicBool>,
) -> Result<PreinferResult, PreinferError> {
    let start = Instant::now();
    config.validate()?;
    let mut ctx = Ctx {
        progress,
        cancel,
        timings: Timings::default(),
        clock: start,
    };
    let video = config.video.as_path();
    let compat = config.compat;

    // Probe.
    ctx.report(Stage::Probe, 0, 1);
    let info = reader::probe(video)?;
    let total = info.frame_count;
    let (width, height) = (info.width as usize, info.height as usize);
    if total == 0 || width == 0 || height == 0 {
        return Err(PreinferError::unusable(
            video,
            format!("no video frames found ({total} frames of {width}x{height})"),
        ));
    }
    let facts = video_facts(video, &info);
    // Mask videos need GStreamer: say so before the long part of the run.
    if config.save_mask_video {
        crate::output::video::check_encoder().map_err(PreinferError::io(&config.out_dir))?;
    }
    ctx.lap("probe_video");
    ctx.report(Stage::Probe, 1, 1);
    ctx.check()?;

    // Sample.
    ctx.report(Stage::Sample, 0, 1);
    let start_offset = match compat {
        Compat::Reference => info.start_time.unwrap_or(0.0),
        Compat::None => 0.0,
    };
    let packets: Vec<sample::PacketSample> = info
        .packets
        .iter()
        .map(|p| sample::PacketSample {
            time: p.pts_time.map(|t| t + start_offset),
            size: p.size,
            keyframe: p.keyframe,
        })
        .collect();
    let peak = sample::PktPeakParams {
        bin_sec: config.pkt_peak_bin_sec,
        cap: config.pkt_peak_cap,
        per_sec: config.pkt_peak_per_sec,
        neighbor: config.pkt_peak_neighbor.max(0),
        smooth_bins: config.pkt_peak_smooth_bins,
    };
    let sampling = sample::sample_frames(
        config.frame_sampling_mode,
        &sample::SampleInput {
            total_frames: total,
            fps: info.fps,
            packets: &packets,
        },
        config.num_sampled_frames.max(0) as usize,
        config.sample_fps,
        &peak,
    );
    ctx.lap("sample_frames");
    let mut sampling_debug = sampling.debug;
    let mut keyframes_found = 0;
    let ids: Vec<usize> = if config.avoid_keyframes
        && config.frame_sampling_mode != FrameSamplingMode::AllFrames
    {
        let key_packets: Vec<keyframes::KeyPacket> = info
            .packets
            .iter()
            .map(|p| keyframes::KeyPacket {
                index: p.index,
                decode_index: p.decode_index,
                time: p.pts_time,
                keyframe: p.keyframe,
            })
            .collect();
        let keys = match compat {
            Compat::Reference => keyframes::reference_keyframes(
                &key_packets,
                &keyframes::KeyframeContext {
                    mp4_family: keyframes::is_mp4_family(video),
                    is_vp9: info.codec == "vp9",
                    start_time: info.start_time.unwrap_or(0.0),
                    fps: info.fps,
                    total_frames: total,
                },
            ),
            Compat::None => keyframes::true_keyframes(&key_packets),
        };
        keyframes_found = keys.len();
        let ids =
            keyframes::avoid_keyframes(&sampling.ids, &keys, total, config.avoid_keyframe_offset);
        sampling_debug.set("keyframes_found", keys.len());
        sampling_debug.set("sampled_frames_after_keyframe_shift", ids.len());
        ids
    } else {
        if config.avoid_keyframes {
            sampling_debug.set("avoid_keyframes_note", "ignored for all_frames sampling");
        }
        sampling.ids.iter().map(|&i| i.min(total - 1)).collect()
    };
    ctx.lap("avoid_keyframes");
    if ids.is_empty() {
        return Err(PreinferError::unusable(video, "no frame was sampled"));
    }
    let geom = frames::frame_geometry(config, width, height)
        .map_err(|e| PreinferError::unusable(video, e.to_string()))?;
    ctx.lap("resolve_frame_geometry");
    ctx.report(Stage::Sample, 1, 1);
    ctx.check()?;

    // Decode the distinct sampled frames: maps and pixels.
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    let position_frame: Vec<usize> = ids
        .iter()
        .map(|id| unique.partition_point(|u| u < id))
        .collect();
    let (decoded, decode_stats) = decode_frames(config, video, &info, &unique, &geom, &mut ctx)?;
    ctx.check()?;

    // Scores (the good masks were computed while decoding).
    ctx.report(Stage::Score, 0, 1);
    let good_frames: Vec<bool> = decoded.iter().map(|f| f.good).collect();
    ctx.lap("precompute_good_masks");
    let grids: Vec<ScoreGrid> = position_frame
        .iter()
        .map(|&u| decoded[u].grid.clone())
        .collect();
    let is_i: Vec<bool> = position_frame.iter().map(|&u| decoded[u].iframe).collect();
    let scoring::ScoredFrames {
        block_scores,
        iframe_score_clip_debug,
        frame_score_norm_debug,
    } = scoring::score_frames(config, &geom, grids, &is_i, &mut |key| {
        ctx.lap(key);
    });
    ctx.lap("precompute_block_scores");
    ctx.report(Stage::Score, 1, 1);
    ctx.check()?;

    // Group.
    ctx.report(Stage::Group, 0, 1);
    let n = ids.len();
    let ipg = config.images_per_group_n();
    let budget = geom.block_budget(ipg);
    let bits_per_frame = if facts.bit_rate > 0.0 {
        facts.bit_rate / if facts.fps > 0.0 { facts.fps } else { 1.0 }
    } else {
        0.0
    };
    let bpppf = group::bpppf(facts.bit_rate, facts.fps, width, height);
    let readiness = config.grouping_mode == GroupingMode::Readiness;
    let bpppf_clamped = if readiness {
        group::clamp_bpppf(bpppf, config.bpppf_clamp_min, config.bpppf_clamp_max)
    } else {
        bpppf
    };
    let norm_factor = if readiness {
        group::norm_factor(bpppf_clamped)
    } else {
        1.0
    };
    let limits = group::group_limits(
        config.min_group_frames,
        config.max_group_frames,
        config.min_group_sec,
        config.max_group_sec,
        config.sample_fps_used(),
    );
    let score_refs: Vec<&[f32]> = block_scores.iter().map(Vec::as_slice).collect();
    let group_size = config.group_size.max(1) as usize;
    let (threshold, mut grouping) = if readiness {
        let threshold = group::resolve_threshold(
            config.readiness_sum_threshold_mode,
            config.readiness_sum_threshold,
            config.readiness_norm_sum_threshold,
            norm_factor,
            || {
                group::estimate_threshold(
                    &score_refs,
                    group_size,
                    budget,
                    config.coverage_bins(),
                    compat,
                )
            },
        );
        let params = group::ReadinessParams {
            threshold,
            budget,
            coverage_bins: config.coverage_bins(),
            images_per_group: ipg,
            delta_ratio: config.readiness_delta_ratio,
            min_frames: limits.min_frames,
            max_frames: limits.max_frames,
            compat,
        };
        (threshold, group::readiness_groups(&score_refs, &params))
    } else {
        (
            config.readiness_sum_threshold,
            group::Grouping {
                groups: group::fixed_groups(n, group_size),
                dropped: Vec::new(),
            },
        )
    };
    let tail_frames = if readiness { 0 } else { n % group_size };
    // The reference skips groups under 4 frames; corrected mode processes every group.
    let min_processed = group::min_processed_group(compat);
    let processed: Vec<&GroupSpec> = grouping
        .groups
        .iter()
        .filter(|g| g.frame_count() >= min_processed)
        .collect();
    let mut dropped: Vec<Dropped> = grouping
        .groups
        .iter()
        .filter(|g| g.frame_count() < min_processed)
        .map(|g| Dropped {
            start: g.start,
            end: g.end,
            reason: "group_shorter_than_4_frames",
        })
        .collect();
    dropped.append(&mut grouping.dropped);
    dropped.sort_by_key(|d| d.start);
    ctx.lap("build_groups");
    ctx.report(Stage::Group, 1, 1);
    ctx.check()?;
    if processed.is_empty() {
        return Err(PreinferError::unusable(
            video,
            format!(
                "no canvases produced: {n} sampled frames make no group of at least {} frames \
                 (use --compat none to keep short videos)",
                match (compat, readiness) {
                    (Compat::Reference, true) => MIN_PROCESSED_GROUP.max(limits.min_frames),
                    _ => min_processed,
                }
            ),
        ));
    }

    // Select, pack, write canvases.
    let stage = StagingDir::create(&config.out_dir, "codecprep-preinfer")
        .map_err(PreinferError::io(&config.out_dir))?;
    let format = config.canvas_format;
    let canvas_files: Vec<String> = (0..processed.len() * ipg)
        .map(|i| output::canvas_name(i, format))
        .collect();
    let canvas_paths: Vec<PathBuf> = canvas_files.iter().map(|name| stage.path(name)).collect();
    let frame_pixels: Vec<&[u8]> = position_frame
        .iter()
        .map(|&u| decoded[u].pixels.as_slice())
        .collect();
    let good: Vec<bool> = position_frame.iter().map(|&u| good_frames[u]).collect();
    let groups_done = AtomicUsize::new(0);
    ctx.report(Stage::Canvas, 0, processed.len());
    let results: Vec<Result<GroupOutput, PreinferError>> = processed
        .par_iter()
        .enumerate()
        .map(|(emitted, spec)| {
            if let Some(flag) = cancel
                && flag.load(Ordering::Relaxed)
            {
                return Err(PreinferError::Cancelled);
            }
            let out = process_group(
                spec,
                emitted * ipg,
                &GroupInputs {
                    ids: &ids,
                    frames: &frame_pixels,
                    scores: &score_refs,
                    good: &good,
                    geom: &geom,
                    images_per_group: ipg,
                    budget,
                    format,
                    paths: &canvas_paths,
                    masks: config.save_mask_video,
                },
            )?;
            let done = groups_done.fetch_add(1, Ordering::Relaxed) + 1;
            ctx.report(Stage::Canvas, done, processed.len());
            Ok(out)
        })
        .collect();
    let mut group_outputs = Vec::with_capacity(results.len());
    for r in results {
        group_outputs.push(r?);
    }
    let save_seconds: f64 = group_outputs.iter().map(|g| g.save_seconds).sum();
    let build = ctx.lap("process_groups_make_canvases");
    ctx.timings.set(
        "process_groups_make_canvases",
        (build - save_seconds).max(0.0),
    );
    ctx.timings.set("stack_canvases", 0.0);
    ctx.timings.set("save_canvases", save_seconds);
    ctx.check()?;

    // Arrays and meta.json.
    ctx.report(Stage::Write, 0, 1);
    let ids_i32: Vec<i32> = ids.iter().map(|&i| i as i32).collect();
    let ids_path = stage.path("frame_ids.npy");
    output::write_npy(&ids_path, &ids_i32, &[ids.len()]).map_err(PreinferError::io(&ids_path))?;
    let positions: Vec<i32> = group_outputs
        .iter()
        .flat_map(|g| g.positions.iter().flatten().copied())
        .collect();
    let pos_path = stage.path("src_patch_position.npy");
    output::write_npy(&pos_path, &positions, &[positions.len() / 3, 3])
        .map_err(PreinferError::io(&pos_path))?;
    ctx.lap("save_numpy_outputs");
    if config.save_mask_video {
        let groups: Vec<masks::GroupMasks> = group_outputs
            .iter_mut()
            .map(|g| std::mem::take(&mut g.masks))
            .collect();
        write_mask_videos(&stage, config, &geom, &frame_pixels, &groups)?;
        ctx.lap("save_mask_video");
    }
    ctx.timings
        .set("total_before_meta_write", start.elapsed().as_secs_f64());
    ctx.timings.set("total", start.elapsed().as_secs_f64());
    let meta_start = Instant::now();
    let group_timings: Vec<(usize, f64)> = group_outputs
        .iter()
        .map(|g| (g.group_idx, g.seconds))
        .collect();
    let groups_json: Vec<Json> = group_outputs.iter().map(|g| g.meta.clone()).collect();
    let build_meta = |timings: &Timings| {
        meta::meta_json(&meta::MetaContext {
            config,
            facts: &facts,
            geom: &geom,
            bits_per_frame,
            bpppf,
            bpppf_clamped,
            ids: &ids,
            sampling_debug: sampling_debug.clone(),
            keyframes_found,
            threshold,
            norm_factor,
            min_group_frames: limits.min_frames,
            max_group_frames: limits.max_frames,
            group_limit_debug: limits.debug.clone(),
            frame_score_norm_debug: frame_score_norm_debug.clone(),
            iframe_score_clip_debug: iframe_score_clip_debug.clone(),
            num_groups: processed.len(),
            tail_frames,
            group_specs: &grouping.groups,
            total_images: canvas_files.len(),
            canvas_files: &canvas_files,
            groups: groups_json.clone(),
            timings,
            group_timings: &group_timings,
            dropped: &dropped,
            decode: decode_stats.clone(),
        })
    };
    let _ = build_meta(&ctx.timings).to_pretty();
    ctx.timings
        .set("write_meta_json", meta_start.elapsed().as_secs_f64());
    let meta = build_meta(&ctx.timings);
    let meta_path = stage.path(output::META_NAME);
    output::write_text(&meta_path, &meta.to_pretty()).map_err(PreinferError::io(&meta_path))?;
    stage
        .commit_last(output::META_NAME)
        .map_err(PreinferError::io(&config.out_dir))?;
    ctx.report(Stage::Write, 1, 1);
    Ok(PreinferResult {
        out_dir: config.out_dir.clone(),
        meta_path: config.out_dir.join(output::META_NAME),
        canvas_files,
        timings: ctx.timings,
        meta,
    })
}

fn video_facts(video: &Path, info: &reader::ProbeInfo) -> meta::VideoFacts {
    let duration = info.duration.unwrap_or(0.0);
    let file_bits = std::fs::metadata(video)
        .map(|m| m.len() as f64 * 8.0)
        .unwrap_or(0.0);
    // What FFmpeg reports as the container bit rate when the container states none.
    let format_bit_rate = if duration > 0.0 {
        (file_bits / duration).trunc()
    } else {
        0.0
    };
    let stream_bit_rate = info.bit_rate.map_or(0.0, |b| b as f64);
    meta::VideoFacts {
        total_frames: info.frame_count,
        fps: info.fps,
        width: info.width as usize,
        height: info.height as usize,
        codec_name: info.codec.clone(),
        stream_bit_rate,
        format_bit_rate,
        duration,
        bit_rate: if stream_bit_rate > 0.0 {
            stream_bit_rate
        } else {
            format_bit_rate
        },
    }
}

/// Decodes the maps and BGR pixels (processed size) of the frames `unique` (sorted), in
/// segments on `segment_workers` threads; converts each frame on the thread that decoded it.
fn decode_frames(
    config: &PreinferConfig,
    video: &Path,
    info: &reader::ProbeInfo,
    unique: &[usize],
    geom: &Geometry,
    ctx: &mut Ctx<'_>,
) -> Result<(Vec<PreparedFrame>, Json), PreinferError> {
    let reader_options = ReaderOptions {
        threads: config.decoder_threads(),
        thread_type: match config.thread_type {
            ThreadTypeName::Frame => ThreadType::Frame,
            ThreadTypeName::Auto | ThreadTypeName::Slice => ThreadType::Slice,
        },
        measure: Measure::Reference,
        deblock: config.decode_backend == DecodeBackend::FfmpegNative,
    };
    let (req_w, req_h) = frames::scaled_size(config.compat, geom);
    let progress = ctx.progress;
    let report = move |done: usize, total: usize| {
        if let Some(p) = progress {
            p(Progress {
                stage: Stage::Decode,
                done,
                total,
            });
        }
    };
    let workers = config.segment_workers();
    let options = SelectOptions {
        reader: reader_options,
        workers,
        skip_unneeded: true,
        progress: Some(&report),
        cancel: ctx.cancel,
    };
    let convert = |record: reader::FrameRecord| -> Result<PreparedFrame, PreinferError> {
        let Some(map) = record.map.as_ref() else {
            return Err(PreinferError::unusable(
                video,
                format!(
                    "frame {}: the decoder attached no bit-cost map",
                    record.index
                ),
            ));
        };
        let pixels = record
            .pixels
            .map(reader::Pixels::into_data)
            .unwrap_or_default();
        let iframe = record.pict_type.eq_ignore_ascii_case(&'I');
        Ok(frames::prepare_frame(map, pixels, iframe, config, geom))
    };
    let request = PixelRequest {
        format: PixelFormat::Bgr,
        width: req_w as u32,
        height: req_h as u32,
    };
    let (frames, stats) =
        reader::read_selected(video, info, unique, Some(request), &options, convert).map_err(
            |e| match e {
                PreinferError::Video(v) if matches!(v.kind(), reader::ErrorKind::Cancelled) => {
                    PreinferError::Cancelled
                }
                e => e,
            },
        )?;
    let seconds = ctx.lap("cv_reader_fetch_bitcost");
    ctx.timings.set("decode_frames", 0.0);
    ctx.timings.set("decode_and_cv_reader_serial_wall", seconds);
    ctx.lap("prepare_frames");
    Ok((
        frames,
        decode_json(&stats, workers, config.decoder_threads()),
    ))
}

/// codecprep's record of how the frames were decoded (meta.json, `codecprep.decode`).
fn decode_json(stats: &SelectStats, workers: usize, threads: usize) -> Json {
    Json::object()
        .with("segment_workers", workers)
        .with("decoder_threads_per_segment", threads)
        .with("segments_decoded", stats.segments)
        .with("frames_decoded", stats.frames_decoded)
        .with("frames_skipped", stats.frames_skipped)
        .with(
            "serial_fallback",
            stats.fallback.clone().map_or(Json::Null, Json::from),
        )
}

struct GroupInputs<'a> {
    ids: &'a [usize],
    frames: &'a [&'a [u8]],
    scores: &'a [&'a [f32]],
    good: &'a [bool],
    geom: &'a Geometry,
    images_per_group: usize,
    budget: usize,
    format: CanvasFormat,
    paths: &'a [PathBuf],
    /// Keep the masks of the mask videos.
    masks: bool,
}

struct GroupOutput {
    group_idx: usize,
    positions: Vec<[i32; 3]>,
    meta: Json,
    seconds: f64,
    save_seconds: f64,
    /// For the mask videos (empty unless asked for).
    masks: masks::GroupMasks,
}

/// §13 for one group: anchor swap, top-k selection, packing, canvas files and group meta.
fn process_group(
    spec: &GroupSpec,
    first_canvas: usize,
    inp: &GroupInputs<'_>,
) -> Result<GroupOutput, PreinferError> {
    let started = Instant::now();
    let range = spec.start..spec.end;
    let packed = canvas::pack_group(
        &inp.ids[range.clone()],
        &inp.frames[range.clone()],
        &inp.scores[range.clone()],
        &inp.good[range],
        inp.geom,
        inp.images_per_group,
        inp.budget,
    );
    let canvas::PackedGroup {
        order,
        frame_ids,
        selection,
        layout,
        canvases,
        positions,
    } = packed;
    let group_masks = if inp.masks {
        masks::GroupMasks {
            keep: masks::keep_masks(&layout, order.len(), inp.geom),
            order: order.iter().map(|&p| spec.start + p).collect(),
        }
    } else {
        masks::GroupMasks::default()
    };
    let save_started = Instant::now();
    let (w, h) = (inp.geom.wb * inp.geom.patch, inp.geom.hb * inp.geom.patch);
    for (i, rgb) in canvases.iter().enumerate() {
        let path = &inp.paths[first_canvas + i];
        output::write_canvas(path, rgb, w, h, inp.format).map_err(PreinferError::io(path))?;
    }
    let save_seconds = save_started.elapsed().as_secs_f64();

    let mut per_frame_count: Vec<(usize, usize)> = Vec::new();
    let mut per_frame_sum: Vec<(usize, f64)> = Vec::new();
    for block in &selection.blocks {
        let t = block.t as usize;
        match per_frame_count.iter_mut().find(|(k, _)| *k == t) {
            Some(entry) => entry.1 += 1,
            None => per_frame_count.push((t, 1)),
        }
        match per_frame_sum.iter_mut().find(|(k, _)| *k == t) {
            Some(entry) => entry.1 += f64::from(block.score),
            None => per_frame_sum.push((t, f64::from(block.score))),
        }
    }
    let g = inp.geom;
    let len = spec.frame_count();
    let meta = Json::object()
        .with("group_idx", spec.group_idx)
        .with("frame_ids", frame_ids.clone())
        .with("images_per_group", inp.images_per_group)
        .with("patch", g.patch)
        .with("block_size", g.block)
        .with("block_patch_count", g.block * g.block)
        .with("grid_hw", vec![g.hb, g.wb])
        .with("total_patches", inp.images_per_group * g.s_full())
        .with("selected_blocks", inp.budget)
        .with("selected_block_score_sum", selection.score_sum)
        .with("selected_block_score_mean", selection.score_mean)
        .with(
            "selected_block_score_density",
            f64::from(selection.score_sum) / len as f64,
        )
        .with(
            "selected_blocks_per_frame",
            Json::Obj(
                per_frame_count
                    .iter()
                    .map(|&(t, c)| (t.to_string(), Json::from(c)))
                    .collect(),
            ),
        )
        .with(
            "selected_block_score_sum_per_frame",
            Json::Obj(
                per_frame_sum
                    .iter()
                    .map(|&(t, s)| (t.to_string(), Json::from(s)))
                    .collect(),
            ),
        )
        .with("global_img_offset", first_canvas)
        .with("num_canvases", inp.images_per_group)
        .with("group_start_idx", spec.start)
        .with("group_end_idx", spec.end)
        .with("group_frame_count", len)
        .with("group_stop_reason", spec.stop_reason)
        .with("group_readiness", spec.readiness_json());
    Ok(GroupOutput {
        group_idx: spec.group_idx,
        positions,
        meta,
        seconds: started.elapsed().as_secs_f64(),
        save_seconds,
        masks: group_masks,
    })
}

/// Writes `sampled_masked_sbs.mp4` and `sampled_masked_only.mp4` (see `masks`) into the
/// staging directory, frame by frame, through GStreamer.
fn write_mask_videos(
    stage: &StagingDir,
    config: &PreinferConfig,
    geom: &Geometry,
    frames: &[&[u8]],
    groups: &[masks::GroupMasks],
) -> Result<(), PreinferError> {
    use crate::output::video::{RawFormat, VideoWriter};
    let fps = if config.video_fps > 0.0 {
        config.video_fps
    } else {
        config.sample_fps_used()
    };
    let (w, h) = (geom.processed_w, geom.processed_h);
    let (even_w, even_h) = (w + w % 2, h + h % 2);
    let open = |name: &str, width: usize| {
        let path = stage.path(name);
        let final_path = config.out_dir.join(name);
        VideoWriter::create(&path, width as u32, even_h as u32, RawFormat::Bgr, fps)
            .map(|writer| (writer, final_path))
            .map_err(PreinferError::io(&config.out_dir.join(name)))
    };
    let (mut sbs, sbs_path) = open("sampled_masked_sbs.mp4", 2 * w)?;
    let (mut only, only_path) = open("sampled_masked_only.mp4", even_w)?;
    for (position, keep) in masks::pair_frames(groups, frames.len(), config.compat) {
        let frame = frames[position];
        let masked = masks::masked_frame(frame, keep, geom);
        let (pair, _, _) = masks::even_sized(masks::side_by_side(frame, &masked, w), 2 * w, h);
        sbs.write_frame(&pair)
            .map_err(PreinferError::io(&sbs_path))?;
        let (masked, _, _) = masks::even_sized(masked, w, h);
        only.write_frame(&masked)
            .map_err(PreinferError::io(&only_path))?;
    }
    sbs.finish().map_err(PreinferError::io(&sbs_path))?;
    only.finish().map_err(PreinferError::io(&only_path))?;
    Ok(())
}
