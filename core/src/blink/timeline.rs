//! Second by second along an event: which camera to show, whose sound to play, and summary
//! statistics of a clip's signals.

use serde::{Deserialize, Serialize};

use super::features::{ActivitySeries, LoudnessEnvelope};

/// Another camera must be this much more active (relative) to take over the picture.
pub const VIDEO_SWITCH_RATIO: f64 = 1.2;
/// Another track must be this much louder to take over the sound.
pub const AUDIO_SWITCH_DB: f64 = 3.0;
/// An RMS level at or above this within a second means the sound is clipping there (a
/// full-scale sine has an RMS of -3 dBFS; music and speech that reach -1 dBFS RMS are
/// squashed against full scale).
pub const CLIPPING_DBFS: f32 = -1.0;

/// One clip placed on the event's corrected timeline.
#[derive(Debug, Clone, Copy)]
pub struct Track<'a> {
    /// Corrected start in seconds (the time of the activity series' and envelope's zero).
    pub start: f64,
    pub duration: f64,
    pub activity: Option<&'a ActivitySeries>,
    pub loudness: Option<&'a LoudnessEnvelope>,
}

/// For each whole second of `[start, end)` (the last one may be partial), the track to show:
/// the highest mean bits per pixel over that track's frames in that second. The choice holds
/// until another track is `VIDEO_SWITCH_RATIO` times as active or the current one has no
/// frames in a second, so near-equal cameras do not flap. A track takes part in a second
/// when it covers at least half of it and has frames there; `None` when no track does.
pub fn best_video_per_second(start: f64, end: f64, tracks: &[Track]) -> Vec<Option<usize>> {
    let candidates = candidates_per_second(start, end, tracks, |track| {
        let activity = track.activity?;
        let frames = activity
            .times
            .iter()
            .zip(&activity.bits_per_pixel)
            .map(|(&time, &bpp)| (track.start + time, f64::from(bpp)));
        let bins = per_second_bins(start, end, frames);
        Some(
            bins.iter()
                .map(|bin| bin.mean().map(|bpp| (1, bpp)))
                .collect(),
        )
    });
    follow(candidates, |new, current| {
        new > current && new > current * VIDEO_SWITCH_RATIO
    })
}

/// For each whole second of `[start, end)`, the track to hear: the loudest (mean power of its
/// envelope in that second) among those that do not clip there (no value at or above
/// `CLIPPING_DBFS`), or among the clipping ones when all clip. The choice holds until a
/// track is `AUDIO_SWITCH_DB` louder or better by not clipping, or the current one has no
/// sound in that second. `None` when no track with sound covers the second.
pub fn best_audio_per_second(start: f64, end: f64, tracks: &[Track]) -> Vec<Option<usize>> {
    let candidates = candidates_per_second(start, end, tracks, |track| {
        let loudness = track.loudness?;
        let origin = track.start + loudness.start;
        let hops = loudness
            .rms_dbfs
            .iter()
            .enumerate()
            .map(|(n, &dbfs)| (origin + n as f64 * loudness.hop, f64::from(dbfs)));
        let bins = per_second_bins(start, end, hops);
        Some(
            bins.iter()
                .map(|bin| {
                    let level = bin.mean_power_db()?;
                    let clipping = bin.max >= f64::from(CLIPPING_DBFS);
                    Some((u8::from(!clipping), level))
                })
                .collect(),
        )
    });
    follow(candidates, |new, current| new > current + AUDIO_SWITCH_DB)
}

/// A track's (class, score) in one second; `None` when it has nothing there.
type Rating = Option<(u8, f64)>;

/// For each second, the tracks that cover it and that `rate` (a track's (class, score) per
/// second, `None` for a track with nothing to offer) rates there.
fn candidates_per_second(
    start: f64,
    end: f64,
    tracks: &[Track],
    rate: impl Fn(&Track) -> Option<Vec<Rating>>,
) -> Vec<Vec<Candidate>> {
    let rated: Vec<Option<Vec<Rating>>> = tracks.iter().map(&rate).collect();
    seconds(start, end)
        .enumerate()
        .map(|(second, (from, to))| {
            tracks
                .iter()
                .zip(&rated)
                .enumerate()
                .filter(|(_, (track, _))| covers(track, from, to))
                .filter_map(|(index, (_, rates))| {
                    let (class, score) = rates.as_ref()?[second]?;
                    Some(Candidate {
                        track: index,
                        class,
                        score,
                    })
                })
                .collect()
        })
        .collect()
}

/// The values of one second of a track's signal.
#[derive(Clone, Copy)]
struct Bin {
    sum: f64,
    count: usize,
    max: f64,
    /// Sum of 10^(value/10): the power of dB values.
    power: f64,
}

impl Bin {
    fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    fn mean_power_db(&self) -> Option<f64> {
        (self.count > 0).then(|| 10.0 * (self.power / self.count as f64).max(1e-30).log10())
    }
}

/// Finite `(time, value)` samples gathered into the seconds of `[start, end)` in one pass.
fn per_second_bins(start: f64, end: f64, samples: impl Iterator<Item = (f64, f64)>) -> Vec<Bin> {
    let empty = Bin {
        sum: 0.0,
        count: 0,
        max: f64::NEG_INFINITY,
        power: 0.0,
    };
    let mut bins = vec![empty; seconds(start, end).len()];
    for (time, value) in samples {
        if !(value.is_finite() && time >= start && time < end) {
            continue;
        }
        let Some(bin) = bins.get_mut((time - start) as usize) else {
            continue;
        };
        bin.sum += value;
        bin.count += 1;
        bin.max = bin.max.max(value);
        bin.power += 10f64.powf(value / 10.0);
    }
    bins
}

/// A track that can be chosen in one second: a higher class always wins; within a class a
/// higher score.
struct Candidate {
    track: usize,
    class: u8,
    score: f64,
}

/// The choice per second with hysteresis: keep the current track while it is a candidate,
/// unless the best one is of a higher class or `clearly_better` (same class).
fn follow(
    seconds: Vec<Vec<Candidate>>,
    clearly_better: impl Fn(f64, f64) -> bool,
) -> Vec<Option<usize>> {
    let mut current: Option<usize> = None;
    seconds
        .into_iter()
        .map(|candidates| {
            let best = candidates.iter().max_by(|p, q| {
                p.class
                    .cmp(&q.class)
                    .then(p.score.total_cmp(&q.score))
                    .then(q.track.cmp(&p.track))
            });
            let held = current.and_then(|track| candidates.iter().find(|c| c.track == track));
            current = match (best, held) {
                (Some(best), Some(held))
                    if best.class == held.class && !clearly_better(best.score, held.score) =>
                {
                    Some(held.track)
                }
                (best, _) => best.map(|c| c.track),
            };
            current
        })
        .collect()
}

/// `[from, to)` of each whole second of `[start, end)`; the last may be shorter.
fn seconds(start: f64, end: f64) -> impl ExactSizeIterator<Item = (f64, f64)> {
    let count = if end > start && (end - start).is_finite() {
        (end - start).ceil() as usize
    } else {
        0
    };
    (0..count).map(move |n| {
        let from = start + n as f64;
        (from, (from + 1.0).min(end))
    })
}

/// The track's interval covers at least half of `[from, to)`.
fn covers(track: &Track, from: f64, to: f64) -> bool {
    let overlap = (track.start + track.duration).min(to) - track.start.max(from);
    overlap >= 0.5 * (to - from)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    (count > 0).then(|| sum / count as f64)
}

/// Summary of a signal (activity in bits per pixel, loudness in dBFS, ...).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesStats {
    pub mean: f64,
    pub max: f64,
    /// 90th percentile, linearly interpolated between the nearest ranks.
    pub p90: f64,
}

/// Mean, maximum and 90th percentile of the finite values; `None` when there are none.
pub fn stats(values: &[f32]) -> Option<SeriesStats> {
    let mut sorted: Vec<f64> = values
        .iter()
        .map(|&v| f64::from(v))
        .filter(|v| v.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    let mean = mean(sorted.iter().copied())?;
    let rank = 0.9 * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    let p90 = sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64);
    Some(SeriesStats {
        mean,
        max: sorted[sorted.len() - 1],
        p90,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Activity at 10 frames per second: `per_second[s]` bits per pixel in second `s`.
    fn activity(per_second: &[f32]) -> ActivitySeries {
        let frames = per_second.len() * 10;
        ActivitySeries {
            times: (0..frames).map(|n| n as f64 / 10.0).collect(),
            bits_per_pixel: (0..frames).map(|n| per_second[n / 10]).collect(),
            keyframe: (0..frames).map(|n| n == 0).collect(),
        }
    }

    /// Loudness at 0.02 s hops: `per_second[s]` dBFS in second `s`.
    fn loudness(per_second: &[f32]) -> LoudnessEnvelope {
        LoudnessEnvelope {
            start: 0.0,
            hop: 0.02,
            rms_dbfs: (0..per_second.len() * 50)
                .map(|n| per_second[n / 50])
                .collect(),
        }
    }

    fn track<'a>(
        start: f64,
        activity: Option<&'a ActivitySeries>,
        loudness: Option<&'a LoudnessEnvelope>,
    ) -> Track<'a> {
        let seconds = activity
            .map(|a| a.times.len() as f64 / 10.0)
            .or(loudness.map(|l| l.rms_dbfs.len() as f64 * l.hop))
            .unwrap_or(0.0);
        Track {
            start,
            duration: seconds,
            activity,
            loudness,
        }
    }

    #[test]
    fn the_picture_switches_only_to_a_clearly_more_active_camera() {
        let steady = activity(&[1.0; 8]);
        let rival = activity(&[0.9, 1.1, 1.15, 1.5, 1.3, 1.0, 1.1]);
        let tracks = [
            track(100.0, Some(&steady), None),
            track(100.0, Some(&rival), None),
        ];
        let chosen = best_video_per_second(100.0, 108.0, &tracks);
        // 1.1 and 1.15 are within 20 %; 1.5 takes over and holds at 1.3, 1.0 and 1.1 (ties
        // and small leads keep the current camera); the rival ends after 7 s.
        let expected = [0, 0, 0, 1, 1, 1, 1, 0].map(Some);
        assert_eq!(chosen, expected);
        // Without hysteresis the choice would flap: the plain maximum of second 1 is 1.
        let second_one = best_video_per_second(101.0, 102.0, &tracks);
        assert_eq!(second_one, [Some(1)]);
    }

    #[test]
    fn seconds_nobody_covers_are_none_and_half_covered_ones_count() {
        let short = activity(&[1.0, 1.0]);
        let sound = loudness(&[-20.0; 10]);
        let tracks = [
            // 100..102
            track(100.0, Some(&short), None),
            // 104.4..106.4: covers 0.6 of second 104 and 0.4 of second 106
            track(104.4, Some(&short), None),
            // Audio only: never shown.
            track(100.0, None, Some(&sound)),
        ];
        let chosen = best_video_per_second(100.0, 107.0, &tracks);
        assert_eq!(
            chosen,
            [Some(0), Some(0), None, None, Some(1), Some(1), None]
        );
        // A partial last second needs half of its own length.
        assert_eq!(best_video_per_second(100.0, 101.5, &tracks).len(), 2);
        assert!(best_video_per_second(100.0, 100.0, &tracks).is_empty());
        assert!(best_video_per_second(100.0, 99.0, &tracks).is_empty());
    }

    #[test]
    fn the_sound_is_the_loudest_track_that_does_not_clip() {
        let quiet = loudness(&[-30.0, -30.0, -30.0, -30.0]);
        // Louder but clipping in seconds 0 and 3; only 2 dB louder in second 1 (no switch),
        // 10 dB louder in second 2.
        let loud = loudness(&[-0.5, -28.0, -20.0, -0.2]);
        let video = activity(&[1.0; 4]);
        let tracks = [
            track(0.0, None, Some(&quiet)),
            track(0.0, None, Some(&loud)),
            // Video without sound: never heard.
            track(0.0, Some(&video), None),
        ];
        let chosen = best_audio_per_second(0.0, 4.0, &tracks);
        assert_eq!(chosen, [Some(0), Some(0), Some(1), Some(0)]);
        // When every track clips, the loudest still plays; no sound at all is None.
        let only_clipping = [track(0.0, None, Some(&loud))];
        assert_eq!(best_audio_per_second(0.0, 1.0, &only_clipping), [Some(0)]);
        assert_eq!(best_audio_per_second(0.0, 2.0, &tracks[2..]), [None, None]);
    }

    #[test]
    fn statistics_of_a_series() {
        let values: Vec<f32> = (1..=10).map(|v| v as f32).collect();
        let summary = stats(&values).unwrap();
        assert_eq!(summary.mean, 5.5);
        assert_eq!(summary.max, 10.0);
        assert!((summary.p90 - 9.1).abs() < 1e-9, "{}", summary.p90);
        let single = stats(&[2.5, f32::NAN]).unwrap();
        assert_eq!((single.mean, single.max, single.p90), (2.5, 2.5, 2.5));
        assert!(stats(&[]).is_none());
        assert!(stats(&[f32::NAN, f32::INFINITY]).is_none());
    }
}
