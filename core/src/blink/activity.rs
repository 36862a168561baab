//! Per-frame activity from bit cost: how many bits the encoder spent per displayed pixel.
//!
//! An encoder spends bits where the picture changes, so inter frames of a static scene cost
//! almost nothing and motion costs a lot: the frame's total bit cost is a nearly free motion
//! measure, available from a parse-only scan (no pixels reconstructed). Keyframes are coded
//! without reference to other frames and cost many bits whatever happens, so their value is
//! replaced by the mean of the nearest inter frames before and after them.

use crate::reader::FrameRecord;

use super::features::ActivitySeries;

/// What activity needs from one decoded frame; small enough to keep for every frame of a
/// clip while the maps themselves are dropped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameCost {
    /// Presentation time in seconds from the stream's start, when the frame has one.
    pub pts_time: Option<f64>,
    /// Sum of the map's block costs; `None` when the frame came without a map.
    pub bits: Option<u64>,
    /// Displayed pixels (width times height after cropping).
    pub pixels: u64,
    pub keyframe: bool,
}

impl FrameCost {
    pub fn from_record(record: &FrameRecord) -> Self {
        Self {
            pts_time: record.pts_time,
            bits: record
                .map
                .as_ref()
                .map(|map| map.total_bits().max(0).unsigned_abs()),
            pixels: u64::from(record.width) * u64::from(record.height),
            keyframe: record.keyframe,
        }
    }

    /// Bits per pixel, `None` without a map or pixels.
    fn bits_per_pixel(&self) -> Option<f32> {
        let bits = self.bits?;
        (self.pixels > 0).then(|| (bits as f64 / self.pixels as f64) as f32)
    }
}

/// The activity series of a clip's frames, given in display order. Times count from the
/// first frame; a frame without a timestamp is placed one frame interval (`1 / fps`, or the
/// previous interval when `fps` is unknown) after the previous one.
///
/// Keyframes, and frames without a map, take the mean of the nearest usable frames before
/// and after them (only one side when the other has none). A clip made only of keyframes
/// keeps their own values: there is nothing better to compare them with.
pub fn activity_from_frames(frames: &[FrameCost], fps: f64) -> ActivitySeries {
    let times = frame_times(frames, fps);
    let own: Vec<Option<f32>> = frames.iter().map(FrameCost::bits_per_pixel).collect();
    let usable = |i: usize| (!frames[i].keyframe).then_some(own[i]).flatten();
    let any_inter = (0..frames.len()).any(|i| usable(i).is_some());
    let mut bits_per_pixel = Vec::with_capacity(frames.len());
    // Nearest usable value before each frame, carried forward as the loop goes.
    let mut before: Option<f32> = None;
    // Nearest usable index at or after each frame, searched once per run of unusable frames.
    let mut after: Option<usize> = None;
    for (i, own_value) in own.iter().enumerate() {
        let value = match usable(i) {
            Some(v) => v,
            None if any_inter => {
                if after.is_none_or(|a| a < i) {
                    after = (i + 1..frames.len()).find(|&j| usable(j).is_some());
                }
                let next = after.and_then(usable);
                match (before, next) {
                    (Some(a), Some(b)) => (a + b) / 2.0,
                    (Some(v), None) | (None, Some(v)) => v,
                    (None, None) => 0.0,
                }
            }
            None => own_value.unwrap_or(0.0),
        };
        if let Some(v) = usable(i) {
            before = Some(v);
        }
        bits_per_pixel.push(value);
    }
    ActivitySeries {
        times,
        bits_per_pixel,
        keyframe: frames.iter().map(|f| f.keyframe).collect(),
    }
}

/// Seconds from the first frame, filling missing timestamps (see `activity_from_frames`).
fn frame_times(frames: &[FrameCost], fps: f64) -> Vec<f64> {
    let nominal = (fps.is_finite() && fps > 0.0).then(|| 1.0 / fps);
    let origin = frames.first().and_then(|f| f.pts_time).unwrap_or(0.0);
    let mut times: Vec<f64> = Vec::with_capacity(frames.len());
    for frame in frames {
        let time = match (frame.pts_time, times.last()) {
            (Some(pts), _) => pts - origin,
            (None, None) => 0.0,
            (None, Some(&last)) => {
                let step = nominal
                    .or_else(|| times.len().checked_sub(2).map(|i| last - times[i]))
                    .filter(|s| *s > 0.0)
                    .unwrap_or(0.0);
                last + step
            }
        };
        times.push(time);
    }
    times
}

/// Mean bits per pixel of the frames shown during each of the first `seconds` whole seconds
/// of the clip. A second in which no frame starts (frame rates below 1) takes the value of
/// the frame still on screen; seconds after the last frame are 0.
pub fn per_second(series: &ActivitySeries, seconds: usize) -> Vec<f32> {
    let mut sums = vec![0.0f64; seconds];
    let mut counts = vec![0usize; seconds];
    for (&time, &value) in series.times.iter().zip(&series.bits_per_pixel) {
        if time < 0.0 {
            continue;
        }
        let second = time.floor() as usize;
        if second < seconds {
            sums[second] += f64::from(value);
            counts[second] += 1;
        }
    }
    let last_time = series.times.last().copied().unwrap_or(f64::NEG_INFINITY);
    let mut out = Vec::with_capacity(seconds);
    let mut on_screen = 0.0f32;
    for second in 0..seconds {
        let value = if counts[second] > 0 {
            let mean = (sums[second] / counts[second] as f64) as f32;
            // The frame still shown when the next second begins is the second's last one.
            on_screen = last_value_before(series, (second + 1) as f64);
            mean
        } else if (second as f64) < last_time {
            on_screen
        } else {
            0.0
        };
        out.push(value);
    }
    out
}

/// The value of the last frame shown before `time`.
fn last_value_before(series: &ActivitySeries, time: f64) -> f32 {
    let shown = series.times.partition_point(|&t| t < time);
    shown
        .checked_sub(1)
        .map_or(0.0, |i| series.bits_per_pixel[i])
}

/// Fixture clips for the blink tests, made with the system ffmpeg and cached under
/// `target/test-fixtures/blink/` (the recipe's hash is part of the name, so changing a recipe
/// makes a new file; files are renamed into place, so parallel tests never see half a file).
#[cfg(test)]
pub(super) mod fixtures {
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// `name` (with its extension) made by `ffmpeg -v error -y <args> <file>`; `None`, with a
    /// message, when ffmpeg is missing or fails.
    pub fn fixture(name: &str, args: &[&str]) -> Option<PathBuf> {
        let mut hasher = DefaultHasher::new();
        args.hash(&mut hasher);
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-fixtures/blink");
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join(format!("{:016x}-{name}", hasher.finish()));
        if path.exists() {
            return Some(path);
        }
        let partial = dir.join(format!(".{}.{name}", std::process::id()));
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-y"])
            .args(args)
            .arg(&partial)
            .status();
        match status {
            Ok(s) if s.success() => {
                std::fs::rename(&partial, &path).ok()?;
                Some(path)
            }
            _ => {
                let _ = std::fs::remove_file(&partial);
                eprintln!("skipping: ffmpeg could not make the {name} fixture");
                None
            }
        }
    }

    /// 4 s of 320x240 H.264 at 25 fps, keyframes every second, with a still picture (SMPTE
    /// bars) for the first 2 s and a 100-pixel white square moving across it for the last 2 s.
    pub fn moving_in_second_half() -> Option<PathBuf> {
        fixture(
            "moving-second-half.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                "smptebars=size=320x240:rate=25:duration=4",
                "-f",
                "lavfi",
                "-i",
                "color=c=white:size=100x100:rate=25:duration=4",
                "-filter_complex",
                "[0][1]overlay=x='if(lt(t,2),20,20+(t-2)*100)':y='if(lt(t,2),20,20+(t-2)*50)'",
                "-c:v",
                "libx264",
                "-g",
                "25",
                "-pix_fmt",
                "yuv420p",
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{Reader, ReaderOptions};

    fn cost(pts: Option<f64>, bits: u64, keyframe: bool) -> FrameCost {
        FrameCost {
            pts_time: pts,
            bits: Some(bits),
            pixels: 100,
            keyframe,
        }
    }

    #[test]
    fn keyframes_take_their_neighbours_mean() {
        let frames = [
            cost(Some(1.0), 5000, true),
            cost(Some(1.5), 100, false),
            cost(Some(2.0), 9000, true),
            cost(Some(2.5), 300, false),
            cost(Some(3.0), 8000, true),
        ];
        let series = activity_from_frames(&frames, 2.0);
        assert_eq!(series.times, vec![0.0, 0.5, 1.0, 1.5, 2.0]);
        assert_eq!(series.bits_per_pixel, vec![1.0, 1.0, 2.0, 3.0, 3.0]);
        assert_eq!(series.keyframe, vec![true, false, true, false, true]);
    }

    #[test]
    fn all_intra_clips_keep_their_values_and_missing_times_are_filled() {
        let frames = [
            cost(Some(0.0), 100, true),
            cost(None, 200, true),
            cost(None, 300, true),
        ];
        let series = activity_from_frames(&frames, 4.0);
        assert_eq!(series.times, vec![0.0, 0.25, 0.5]);
        assert_eq!(series.bits_per_pixel, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn frames_without_a_map_are_filled_like_keyframes() {
        let mut frames = [
            cost(Some(0.0), 100, false),
            cost(Some(0.1), 0, false),
            cost(Some(0.2), 300, false),
        ];
        frames[1].bits = None;
        let series = activity_from_frames(&frames, 10.0);
        assert_eq!(series.bits_per_pixel, vec![1.0, 2.0, 3.0]);
        assert_eq!(series.keyframe, vec![false; 3]);
    }

    #[test]
    fn per_second_means_and_gaps() {
        let series = ActivitySeries {
            times: vec![0.0, 0.5, 1.0, 1.5, 3.2],
            bits_per_pixel: vec![1.0, 3.0, 4.0, 6.0, 8.0],
            keyframe: vec![false; 5],
        };
        // Second 2 has no frame starting in it: the frame from 1.5 s is still shown.
        assert_eq!(per_second(&series, 5), vec![2.0, 5.0, 6.0, 8.0, 0.0]);
        assert!(per_second(&series, 0).is_empty());
    }

    #[test]
    fn motion_in_the_second_half_shows_as_higher_activity() {
        let Some(path) = fixtures::moving_in_second_half() else {
            return;
        };
        let mut frames = Vec::new();
        Reader::open(&path, ReaderOptions::default())
            .unwrap()
            .scan(None, |record| {
                frames.push(FrameCost::from_record(&record));
                Ok::<_, crate::reader::Error>(std::ops::ControlFlow::Continue(()))
            })
            .unwrap();
        let series = activity_from_frames(&frames, 25.0);
        assert_eq!(series.times.len(), 100);
        assert!(
            (series.times[99] - 3.96).abs() < 1e-6,
            "{}",
            series.times[99]
        );
        let keyframes: Vec<usize> = (0..100).filter(|&i| series.keyframe[i]).collect();
        assert_eq!(keyframes, vec![0, 25, 50, 75]);
        // Keyframes were replaced: none stands out from its neighbours any more.
        let raw = |i: usize| frames[i].bits_per_pixel().unwrap();
        for &k in &keyframes[1..] {
            assert!(raw(k) > 5.0 * series.bits_per_pixel[k], "keyframe {k} kept");
            let neighbours = (series.bits_per_pixel[k - 1] + series.bits_per_pixel[k + 1]) / 2.0;
            assert!((series.bits_per_pixel[k] - neighbours).abs() < 1e-6);
        }
        let seconds = per_second(&series, 4);
        let still = seconds[0].max(seconds[1]);
        let moving = seconds[2].min(seconds[3]);
        assert!(
            moving > 5.0 * still,
            "still {still} bpp, moving {moving} bpp: {seconds:?}"
        );
    }
}
