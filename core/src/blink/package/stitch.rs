//! The stitched clip: video and audio cuts of several sources on one timeline, one MP4.
//!
//! Why decode with the crate's reader and re-encode every frame, rather than GStreamer
//! Editing Services or nlecomposition: cuts between cameras rarely fall on keyframes, so the
//! clip is re-encoded anyway, and laying out decoded frames ourselves makes every output
//! frame's source exact: output frame `n` (time `n / fps`) shows the last source frame whose
//! own timestamp is at or before the matching source time, found from the decoded frames'
//! timestamps, whatever the source's frame rate, start offset or B-frame delay. The output
//! has exactly `round(duration * fps)` frames at constant rate, and the audio is laid out
//! sample by sample on the same timeline (see `audio`), so both tracks start at zero, last
//! the plan's duration and stay in sync. GES would do all of this behind seeks whose accuracy
//! depends on the demuxer and decoder, needs another package (ges1.0-tools) and reports
//! nothing about what it did.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::frames::{FrameSource, Picture};
use super::{Cut, PackageError, StitchPlan, audio, check_video_format, frame_count, frame_time};
use crate::output::video::{
    AAC_FRAME_SAMPLES, AacEncoder, EncodeSettings, PcmTrack, RawFormat, VideoWriter,
    check_audio_encoder, temporary_path,
};

/// Tolerance when deciding which cut covers a frame time.
const TIME_EPSILON: f64 = 1e-6;

/// What [`stitch`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StitchReport {
    /// Whether the video was re-encoded (always, for now: no stream-copy path yet).
    pub reencoded: bool,
    /// Length of the video track in seconds (`frames / fps`).
    pub duration: f64,
    pub frames: u64,
}

/// How [`stitch_with`] and [`mosaic_with`](super::mosaic_with) encode, and who hears of
/// their progress.
#[derive(Clone, Copy, Default)]
pub struct StitchOptions<'a> {
    /// H.264 encoder threads; 0 lets x264 choose from the CPU count.
    pub threads: u32,
    /// Called after every output frame with (frames written, frames in total).
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
    /// Checked after every output frame: once set, the call stops with
    /// [`PackageError::Cancelled`] and leaves no file.
    pub cancel: Option<&'a AtomicBool>,
}

impl StitchOptions<'_> {
    /// Reports frame `n` (0-based) of `total` as written, then honours a cancellation.
    pub(crate) fn frame_written(&self, n: u64, total: u64, out: &Path) -> Result<(), PackageError> {
        if let Some(progress) = self.progress {
            progress(n + 1, total);
        }
        match self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(PackageError::Cancelled {
                path: out.to_path_buf(),
            }),
            _ => Ok(()),
        }
    }
}

/// Writes `plan` to `out` as an MP4 (H.264 + AAC) with default options.
pub fn stitch(plan: &StitchPlan, out: &Path) -> Result<StitchReport, PackageError> {
    stitch_with(plan, out, &StitchOptions::default())
}

/// Writes `plan` to `out` as an MP4 (H.264 + AAC): each video cut's frames scaled to fit
/// `width` x `height` (aspect ratio kept, black bars) at the plan's rate, black where no cut
/// is; the audio cuts likewise, silent where none is. `out` appears only when complete.
pub fn stitch_with(
    plan: &StitchPlan,
    out: &Path,
    options: &StitchOptions,
) -> Result<StitchReport, PackageError> {
    check_plan(plan, out)?;
    let mut sources: BTreeMap<&PathBuf, FrameSource> = BTreeMap::new();
    for cut in &plan.video {
        if !sources.contains_key(&cut.source) {
            let source = FrameSource::open(&cut.source, plan.width, plan.height)?;
            sources.insert(&cut.source, source);
        }
    }
    let encoder = check_audio_encoder().map_err(PackageError::io(out))?;
    let frames = frame_count(plan.duration, plan.fps);
    let duration = frame_time(frames, plan.fps);

    let samples = audio::lay_out(&plan.audio, audio::sample_index(duration))?;
    let pcm = TemporaryFile(temporary_path(&with_suffix(out, ".pcm")));
    audio::write_raw(&pcm.0, encoder_input(&samples, encoder))?;
    drop(samples);

    let settings = EncodeSettings {
        width: plan.width,
        height: plan.height,
        format: RawFormat::Rgb,
        frame_rate: plan.fps,
        threads: options.threads,
        audio: Some(PcmTrack {
            path: pcm.0.clone(),
            rate: audio::RATE,
            channels: audio::CHANNELS,
            encoder,
        }),
    };
    let mut writer = VideoWriter::start(out, &settings).map_err(PackageError::io(out))?;
    let mut picture = Picture::filled(plan.width, plan.height, [0, 0, 0]);
    for n in 0..frames {
        let time = frame_time(n, plan.fps);
        // Black where no cut is, and around a picture of another aspect ratio.
        picture.data.fill(0);
        // The last cut in the list that covers this moment wins.
        let covering = plan
            .video
            .iter()
            .rev()
            .find(|c| time + TIME_EPSILON >= c.at && time + TIME_EPSILON < c.at + c.duration);
        if let Some(cut) = covering {
            let source = sources.get_mut(&cut.source).expect("opened above");
            let (width, height) = source.size();
            if let Some(pixels) = source.frame_at(cut.source_start + time - cut.at)? {
                let x = (plan.width - width) / 2;
                let y = (plan.height - height) / 2;
                picture.blit(pixels, width, height, x, y);
            }
        }
        writer
            .write_frame(&picture.data)
            .map_err(PackageError::io(out))?;
        options.frame_written(n, frames, out)?;
    }
    writer.finish().map_err(PackageError::io(out))?;
    Ok(StitchReport {
        reencoded: true,
        duration,
        frames,
    })
}

/// The part of the laid-out track to feed the AAC encoder so that its output lines up with
/// the video. The encoder starts the track with `priming` samples of its own, so the
/// track's first `priming` samples are left out and every later sample plays at its time.
/// The encoded track lasts a whole number of AAC frames, `priming` plus what it was fed
/// rounded up, so it is fed a multiple of the frame size: the track then ends on the last
/// whole frame within the video's duration, at most one AAC frame (21 ms) early.
fn encoder_input(track: &[i16], encoder: AacEncoder) -> &[i16] {
    let channels = audio::CHANNELS as usize;
    let frames = track.len() / channels;
    let frame = AAC_FRAME_SAMPLES as usize;
    let priming = (encoder.priming as usize).min(frames);
    let fed = ((frames / frame) * frame)
        .saturating_sub(frame)
        .min(frames - priming)
        // The encoder needs some input; a clip shorter than two AAC frames gets one.
        .max(frame.min(frames - priming));
    &track[priming * channels..(priming + fed) * channels]
}

/// Refuses plans that cannot make a video, naming the output or the cut's source.
fn check_plan(plan: &StitchPlan, out: &Path) -> Result<(), PackageError> {
    check_video_format(out, plan.width, plan.height, plan.fps)?;
    if !(plan.duration.is_finite() && plan.duration > 0.0)
        || frame_count(plan.duration, plan.fps) == 0
    {
        return Err(PackageError::invalid(
            out,
            format!("duration {} s holds no frame", plan.duration),
        ));
    }
    for cut in plan.video.iter().chain(&plan.audio) {
        check_cut(cut)?;
    }
    Ok(())
}

fn check_cut(cut: &Cut) -> Result<(), PackageError> {
    let times = [cut.source_start, cut.duration, cut.at];
    if times.iter().all(|t| t.is_finite())
        && cut.source_start >= 0.0
        && cut.duration > 0.0
        && cut.at >= 0.0
    {
        return Ok(());
    }
    Err(PackageError::invalid(
        &cut.source,
        format!(
            "cut of {} s from {} s placed at {} s: times must be finite, the duration positive \
             and the others not negative",
            cut.duration, cut.source_start, cut.at
        ),
    ))
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// A scratch file removed when dropped.
struct TemporaryFile(PathBuf);

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(at: f64) -> Cut {
        Cut {
            source: PathBuf::from("/clips/a.mp4"),
            source_start: 0.0,
            duration: 1.0,
            at,
        }
    }

    #[test]
    fn bad_plans_name_the_file() {
        let plan = StitchPlan {
            video: vec![cut(0.0)],
            audio: vec![],
            duration: 2.0,
            width: 320,
            height: 240,
            fps: (25, 1),
        };
        let out = Path::new("e.mp4");
        assert!(check_plan(&plan, out).is_ok());
        let negative = StitchPlan {
            video: vec![cut(-1.0)],
            ..plan.clone()
        };
        let err = check_plan(&negative, out).unwrap_err().to_string();
        assert!(
            err.starts_with("/clips/a.mp4: cut of 1 s from 0 s placed at -1 s"),
            "{err}"
        );
        let empty = StitchPlan {
            duration: 0.01,
            ..plan
        };
        assert!(
            check_plan(&empty, out)
                .unwrap_err()
                .to_string()
                .contains("holds no frame")
        );
    }

    #[test]
    fn the_encoder_is_fed_whole_frames_after_its_priming() {
        let encoder = AacEncoder {
            element: "avenc_aac",
            priming: 1024,
        };
        // 4 s at 48 kHz: 187 whole frames; 186 fed after skipping the priming.
        let track: Vec<i16> = (0..192_000 * 2).map(|i| (i / 2 % 30_000) as i16).collect();
        let fed = encoder_input(&track, encoder);
        assert_eq!(fed.len(), 186 * 1024 * 2);
        assert_eq!(fed[0], 1024);
        let short = vec![7i16; 1500 * 2];
        assert_eq!(encoder_input(&short, encoder).len(), 476 * 2);
    }

    #[test]
    fn suffixes_extend_the_file_name() {
        assert_eq!(
            with_suffix(Path::new("/a/b.mp4"), ".pcm"),
            Path::new("/a/b.mp4.pcm")
        );
    }
}
