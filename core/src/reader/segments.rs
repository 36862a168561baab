//! Splitting a file into independently decodable segments for parallel scans.
//!
//! A segment starts at a keyframe packet where decode order and display order split
//! cleanly: every packet before it in decode order is shown before every packet from it on,
//! and the keyframe is the first of them shown.
//! Decoding such a segment on its own (packets before it are demuxed but not decoded) gives
//! its frames in display order, with the maps a serial scan gives, since maps depend only on
//! the parse. Open-GOP boundaries (leading pictures shown before their keyframe) are not
//! clean and are never used. A segment whose decode does not yield exactly its frames is
//! decoded again from the start of the file, from the first frame that differs (see
//! `parallel`).

use std::ops::Range;

use super::probe::ProbeInfo;

/// A run of packets (decode order) and the frames (display order) they show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub packets: Range<usize>,
    pub frames: Range<usize>,
}

/// Cuts the video into segments of about `target_frames` frames at clean keyframes. Returns
/// a single segment covering everything when the file has no usable cut (no timestamps,
/// one keyframe, open GOPs only).
pub fn plan_segments(probe: &ProbeInfo, target_frames: usize) -> Vec<Segment> {
    plan_cuts(probe, |_| target_frames)
}

/// Segments for `workers` parallel decoders whose frames are delivered in order: each about
/// a `2 * workers`-th of the frames left after its start, at most `longest`. Segments shrink
/// towards the end, so that the workers finish together and the last segments, which wait
/// for their turn after being decoded, are short.
pub fn plan_tapered_segments(probe: &ProbeInfo, workers: usize, longest: usize) -> Vec<Segment> {
    let count = probe.packets.len();
    plan_cuts(probe, |start| {
        (count - start)
            .div_ceil(2 * workers.max(1))
            .clamp(1, longest.max(1))
    })
}

/// Cuts at clean keyframes, the next cut at least `target_frames(start)` frames after the
/// segment's start.
fn plan_cuts(probe: &ProbeInfo, target_frames: impl Fn(usize) -> usize) -> Vec<Segment> {
    let count = probe.packets.len();
    let whole = vec![Segment {
        packets: 0..count,
        frames: 0..count,
    }];
    // Display order comes from timestamps; without them a cut could split a B-frame from
    // the frame it is shown after.
    if count == 0 || probe.packets.iter().any(|p| p.pts_time.is_none()) {
        return whole;
    }
    let mut display_of_decode = vec![0usize; count];
    let mut keyframe_at = vec![false; count];
    for packet in &probe.packets {
        display_of_decode[packet.decode_index] = packet.index;
        keyframe_at[packet.decode_index] = packet.keyframe;
    }
    // Cut before decode position d when the d packets before it show frames 0..d exactly
    // and the keyframe at d is the first frame shown after them (no leading pictures).
    let mut cuts = vec![0];
    let mut max_display_before = 0usize;
    for d in 1..count {
        max_display_before = max_display_before.max(display_of_decode[d - 1]);
        let clean = max_display_before == d - 1 && display_of_decode[d] == d;
        let last_cut = cuts[cuts.len() - 1];
        if clean && keyframe_at[d] && d - last_cut >= target_frames(last_cut).max(1) {
            cuts.push(d);
        }
    }
    cuts.push(count);
    cuts.windows(2)
        .map(|w| Segment {
            packets: w[0]..w[1],
            frames: w[0]..w[1],
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::reader::PacketInfo;

    /// Packets given in decode order as (display index, keyframe), 25 frames per second.
    pub(in crate::reader) fn probe_of(packets: &[(usize, bool)]) -> ProbeInfo {
        let mut list: Vec<PacketInfo> = packets
            .iter()
            .enumerate()
            .map(|(decode_index, &(index, keyframe))| PacketInfo {
                index,
                decode_index,
                pts_time: Some(index as f64 / 25.0),
                size: 100,
                keyframe,
                corrupt: false,
            })
            .collect();
        list.sort_by_key(|p| p.index);
        ProbeInfo {
            codec: "h264".into(),
            width: 64,
            height: 64,
            fps: 25.0,
            duration: None,
            start_time: None,
            bit_rate: None,
            frame_count: packets.len(),
            keyframes: list
                .iter()
                .filter(|p| p.keyframe)
                .map(|p| p.index)
                .collect(),
            warnings: Vec::new(),
            packets: list,
        }
    }

    #[test]
    fn cuts_closed_gops_with_b_frames_at_their_keyframes() {
        // I0 P3 B1 B2 | I4 P7 B5 B6 | I8 B... in decode order
        let probe = probe_of(&[
            (0, true),
            (3, false),
            (1, false),
            (2, false),
            (4, true),
            (7, false),
            (5, false),
            (6, false),
            (8, true),
            (9, false),
        ]);
        let segments = plan_segments(&probe, 1);
        let frames: Vec<_> = segments.iter().map(|s| s.frames.clone()).collect();
        assert_eq!(frames, vec![0..4, 4..8, 8..10]);
    }

    #[test]
    fn never_cuts_before_leading_pictures_of_an_open_gop() {
        // I0 P2 B1 | CRA5 B3 B4 (leading: decoded after it, shown before it) P6
        let probe = probe_of(&[
            (0, true),
            (2, false),
            (1, false),
            (5, true),
            (3, false),
            (4, false),
            (6, false),
        ]);
        assert_eq!(plan_segments(&probe, 1).len(), 1);
        // I0 B1 B2 P3 | CRA6 B4 B5: the frames before the CRA are complete, but the CRA is
        // not the first frame shown after them.
        let probe = probe_of(&[
            (0, true),
            (3, false),
            (1, false),
            (2, false),
            (6, true),
            (4, false),
            (5, false),
        ]);
        assert_eq!(plan_segments(&probe, 1).len(), 1);
    }

    #[test]
    fn groups_short_gops_up_to_the_target() {
        let packets: Vec<(usize, bool)> = (0..20).map(|i| (i, i % 2 == 0)).collect();
        let segments = plan_segments(&probe_of(&packets), 6);
        let frames: Vec<_> = segments.iter().map(|s| s.frames.clone()).collect();
        assert_eq!(frames, vec![0..6, 6..12, 12..18, 18..20]);
    }

    #[test]
    fn tapered_segments_shrink_towards_the_end() {
        let packets: Vec<(usize, bool)> = (0..1000).map(|i| (i, i % 50 == 0)).collect();
        let segments = plan_tapered_segments(&probe_of(&packets), 2, 145);
        let lengths: Vec<_> = segments.iter().map(|s| s.frames.len()).collect();
        // A quarter of what is left, at most 145 frames, cut at the next keyframe.
        assert_eq!(lengths, vec![150, 150, 150, 150, 100, 100, 50, 50, 50, 50]);
        assert_eq!(segments[0].frames.start, 0);
        for pair in segments.windows(2) {
            assert_eq!(pair[0].frames.end, pair[1].frames.start);
        }
        assert_eq!(segments.last().map(|s| s.frames.end), Some(1000));
    }

    #[test]
    fn without_timestamps_the_whole_file_is_one_segment() {
        let mut probe = probe_of(&[(0, true), (1, false), (2, true), (3, false)]);
        probe.packets[2].pts_time = None;
        assert_eq!(plan_segments(&probe, 1).len(), 1);
    }
}
