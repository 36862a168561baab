//! Frame sampling (§4.2): which display-order frame ids the job looks at.

use super::config::FrameSamplingMode;
use super::npmath::{linspace_trunc, round_half_even};
use super::pyjson::Json;

/// One video packet as sampling sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacketSample {
    /// Presentation time in seconds (see [`SampleInput::packets`] for the origin).
    pub time: Option<f64>,
    /// Bytes.
    pub size: usize,
    pub keyframe: bool,
}

/// Packet-peak sampling parameters (`pkt_peak_*` settings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PktPeakParams {
    pub bin_sec: f64,
    pub cap: i64,
    pub per_sec: f64,
    pub neighbor: i64,
    pub smooth_bins: i64,
}

/// What sampling needs to know about the video.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleInput<'a> {
    pub total_frames: usize,
    /// Average frame rate (0 when unknown: 30 is assumed).
    pub fps: f64,
    /// Packets (any order) with times on the axis peaks are mapped back from.
    pub packets: &'a [PacketSample],
}

/// The sampled ids (may contain duplicates) and the reference's `sampling_debug` entries
/// that sampling itself fills in.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    pub ids: Vec<usize>,
    pub debug: Json,
}

/// Frame rate used to turn times into frame ids: the stream's, else 30.
pub fn fps_or_default(fps: f64) -> f64 {
    if fps > 0.0 { fps } else { 30.0 }
}

fn clamp_id(id: f64, total: usize) -> usize {
    let last = total.max(1) - 1;
    if id.is_nan() || id <= 0.0 {
        0
    } else {
        (id as usize).min(last)
    }
}

/// `n` ids spread evenly over `0..total` (numpy `linspace` truncated), duplicates when
/// `n > total`.
pub fn uniform_count(total: usize, n: usize) -> Vec<usize> {
    let t = total.max(1);
    if t == 1 {
        return vec![0; n];
    }
    linspace_trunc(0.0, (t - 1) as f64, n)
        .into_iter()
        .map(|id| id.clamp(0, t as i64 - 1) as usize)
        .collect()
}

/// `sample_fps` frames per second: `ceil(duration * rate)` ids at `round(i / rate * fps)`.
pub fn fps_sampling(total: usize, fps: f64, sample_fps: f64) -> Vec<usize> {
    let t = total.max(1);
    let fps_use = fps_or_default(fps);
    let rate = if sample_fps > 0.0 { sample_fps } else { 4.0 };
    let num = (((t as f64) / fps_use) * rate).ceil().max(1.0) as usize;
    (0..num)
        .map(|i| clamp_id(round_half_even(i as f64 / rate * fps_use), t))
        .collect()
}

/// Every frame.
pub fn all_frames(total: usize) -> Vec<usize> {
    (0..total).collect()
}

/// Frames at the peaks of the non-keyframe packet-size energy, sorted and unique; empty
/// when no usable packet exists. Ties between equal energies go to the earlier bin.
pub fn pkt_size_peak(input: &SampleInput<'_>, params: &PktPeakParams) -> (Vec<usize>, Json) {
    let t = input.total_frames.max(1);
    let fps_use = fps_or_default(input.fps);
    let bin_sec = params.bin_sec;
    let usable: Vec<(f64, f64)> = input
        .packets
        .iter()
        .filter(|p| !p.keyframe)
        .filter_map(|p| {
            let time = p.time?;
            (time.is_finite() && time >= 0.0).then(|| (time, (p.size as f64).ln_1p()))
        })
        .collect();
    let mut debug = Json::object()
        .with("bin_sec", bin_sec)
        .with("packets_used", usable.len());
    if usable.is_empty() || bin_sec <= 0.0 {
        return (Vec::new(), debug.with("num_bins", 0usize));
    }
    let t_max = usable.iter().map(|&(time, _)| time).fold(0.0, f64::max);
    let nb = (((t_max + 1e-9) / bin_sec).ceil() as usize).max(1);
    let mut energy = vec![0.0f64; nb];
    for &(time, e) in &usable {
        let bin = ((time / bin_sec).floor() as usize).min(nb - 1);
        energy[bin] += e;
    }
    let k = params.smooth_bins;
    if k > 0 && nb > 1 {
        let k = k as usize;
        let raw = energy.clone();
        for (i, value) in energy.iter_mut().enumerate() {
            let window = &raw[i.saturating_sub(k)..(i + k + 1).min(nb)];
            *value = super::npmath::mean_f64(window);
        }
    }
    let duration = t as f64 / fps_use;
    let mut peaks = if duration <= 0.0 {
        1
    } else {
        (round_half_even(duration * params.per_sec) as i64).max(1)
    };
    peaks = peaks.min(params.cap).min(nb as i64).max(0);
    let mut order: Vec<usize> = (0..nb).collect();
    order.sort_by(|&a, &b| energy[b].total_cmp(&energy[a]).then(a.cmp(&b)));
    let mut ids = Vec::new();
    let mut peak_times = Vec::new();
    for &bin in order.iter().take(peaks as usize) {
        let center = (bin as f64 + 0.5) * bin_sec;
        peak_times.push(center);
        let f0 = clamp_id(round_half_even(center * fps_use), t) as i64;
        for d in -params.neighbor..=params.neighbor {
            ids.push(clamp_id((f0 + d) as f64, t));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    debug = debug
        .with("num_bins", nb)
        .with("num_peaks", peaks)
        .with("peak_times", peak_times);
    (ids, debug)
}

/// Samples ids per `mode`; `sample_fps` and `num_sampled_frames` as configured.
pub fn sample_frames(
    mode: FrameSamplingMode,
    input: &SampleInput<'_>,
    num_sampled_frames: usize,
    sample_fps: f64,
    peak: &PktPeakParams,
) -> Sampling {
    let total = input.total_frames;
    let mut debug = Json::object().with("frame_sampling_mode", mode.as_str());
    let ids = match mode {
        FrameSamplingMode::UniformCount => uniform_count(total, num_sampled_frames),
        FrameSamplingMode::Fps => fps_sampling(total, input.fps, sample_fps),
        FrameSamplingMode::AllFrames => all_frames(total),
        FrameSamplingMode::PktSizePeak => {
            let (ids, peak_debug) = pkt_size_peak(input, peak);
            debug.set("pkt_size_peak_debug", peak_debug);
            if ids.is_empty() {
                debug.set("fallback", "fps");
                fps_sampling(total, input.fps, sample_fps)
            } else {
                ids
            }
        }
        FrameSamplingMode::FpsPlusPktSizePeak => {
            let base = fps_sampling(total, input.fps, sample_fps);
            let (peaks, peak_debug) = pkt_size_peak(input, peak);
            debug.set("pkt_size_peak_debug", peak_debug);
            let mut merged: Vec<usize> = base.iter().chain(&peaks).copied().collect();
            merged.sort_unstable();
            merged.dedup();
            debug.set("fps_base_count", base.len());
            debug.set("pkt_peak_count", peaks.len());
            debug.set("merged_count", merged.len());
            merged
        }
    };
    debug.set("sampled_frames", ids.len());
    Sampling { ids, debug }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_count_matches_the_reference() {
        let ids = uniform_count(132, 1024);
        assert_eq!(&ids[..10], &[0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        assert_eq!(ids.len(), 1024);
        assert_eq!(ids[1023], 131);
        assert_eq!(uniform_count(250, 4), vec![0, 83, 166, 249]);
        assert_eq!(uniform_count(1, 3), vec![0, 0, 0]);
        assert_eq!(uniform_count(0, 2), vec![0, 0]);
        assert_eq!(uniform_count(10, 1), vec![0]);
    }

    #[test]
    fn fps_sampling_rounds_half_to_even() {
        // 25 fps, 4 per second: 6.25 i -> 0, 6, 12, 19, 25, 31, 38, 44 (banker's rounding)
        let ids = fps_sampling(250, 25.0, 4.0);
        assert_eq!(&ids[..8], &[0, 6, 12, 19, 25, 31, 38, 44]);
        assert_eq!(ids.len(), 40);
        // Unknown fps: 30 assumed; a zero rate means 4.
        assert_eq!(fps_sampling(30, 0.0, 0.0), vec![0, 8, 15, 22]);
        // Ids are clamped to the last frame.
        assert_eq!(fps_sampling(3, 1.0, 1.0), vec![0, 1, 2]);
    }

    fn packets(sizes: &[(f64, usize, bool)]) -> Vec<PacketSample> {
        sizes
            .iter()
            .map(|&(t, s, k)| PacketSample {
                time: Some(t),
                size: s,
                keyframe: k,
            })
            .collect()
    }

    const PEAK: PktPeakParams = PktPeakParams {
        bin_sec: 0.5,
        cap: 128,
        per_sec: 1.0,
        neighbor: 0,
        smooth_bins: 0,
    };

    #[test]
    fn packet_peaks_pick_the_heaviest_bins() {
        // 10 fps, 40 frames (4 s -> 4 peaks out of 8 bins); keyframes never count.
        let mut list: Vec<(f64, usize, bool)> =
            (0..40).map(|i| (i as f64 / 10.0, 100, i == 0)).collect();
        list[0].1 = 1_000_000;
        list[12].1 = 50_000; // bin 2
        list[31].1 = 40_000; // bin 6
        list[36].1 = 30_000; // bin 7
        list[7].1 = 20_000; // bin 1
        let p = packets(&list);
        let input = SampleInput {
            total_frames: 40,
            fps: 10.0,
            packets: &p,
        };
        let (ids, debug) = pkt_size_peak(&input, &PEAK);
        // Centers 1.25, 3.25, 3.75, 0.75 s -> frames round(12.5)=12, round(32.5)=32, 38, 8
        assert_eq!(ids, vec![8, 12, 32, 38]);
        assert_eq!(debug.get("num_bins"), Some(&Json::Int(8)));
        let s = sample_frames(FrameSamplingMode::FpsPlusPktSizePeak, &input, 0, 1.0, &PEAK);
        assert_eq!(s.ids, vec![0, 8, 10, 12, 20, 30, 32, 38]);
        assert_eq!(s.debug.get("merged_count"), Some(&Json::Int(8)));
    }

    #[test]
    fn packet_peaks_fall_back_to_fps_without_packets() {
        let p = packets(&[(0.0, 500, true)]);
        let input = SampleInput {
            total_frames: 20,
            fps: 10.0,
            packets: &p,
        };
        let s = sample_frames(FrameSamplingMode::PktSizePeak, &input, 0, 2.0, &PEAK);
        assert_eq!(s.ids, vec![0, 5, 10, 15]);
        assert_eq!(s.debug.get("fallback"), Some(&Json::from("fps")));
        assert_eq!(s.debug.get("sampled_frames"), Some(&Json::Int(4)));
    }

    #[test]
    fn smoothing_averages_neighbouring_bins() {
        let mut list: Vec<(f64, usize, bool)> =
            (0..20).map(|i| (i as f64 / 10.0, 0, false)).collect();
        // one big packet in bin 1 (0.5..1.0 s) of 4 bins; smoothed bins 0..2 share it.
        list[6].1 = 1000;
        let p = packets(&list);
        let input = SampleInput {
            total_frames: 20,
            fps: 10.0,
            packets: &p,
        };
        let params = PktPeakParams {
            smooth_bins: 1,
            ..PEAK
        };
        let (ids, _) = pkt_size_peak(&input, &params);
        // Smoothed energies e = [e1/2, e1/3, e1/3, 0]: 2 s -> 2 peaks, bin 0 then bin 1 (the
        // earlier of two equal bins); centres 0.25 s and 0.75 s -> frames 2 and 8.
        assert_eq!(ids, vec![2, 8]);
    }
}
