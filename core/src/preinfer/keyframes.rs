//! Keyframe avoidance (§4.3-4.5): sampled ids that fall on a keyframe move to a nearby
//! non-keyframe; duplicates are then removed and the list refilled to its length.
//!
//! Which frames count as keyframes differs between the modes:
//! - `compat reference` reproduces the list the reference computes. For MP4-family files
//!   (.mp4 .m4v .mov .m4a .3gp .3g2) that is the `stss` sync-sample table, i.e. the
//!   *decode-order* positions of the keyframe packets taken as display ids (equal for the
//!   usual streams, off where B-frames precede a keyframe in decode order). For other
//!   containers the reference decodes keyframes with ffprobe and maps their absolute
//!   timestamps to ids with `round(t * fps)`, so a stream starting at t != 0 gets shifted ids,
//!   and VP9 reports every frame as a keyframe (libvpx ignores `skip_frame nokey`). Frame 0
//!   is always added.
//! - `compat none` uses the keyframe flags of the packets at their display positions.

use super::npmath::round_half_even;
use super::sample::fps_or_default;

/// A packet as keyframe detection sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyPacket {
    /// Display-order index.
    pub index: usize,
    /// Decode-order index.
    pub decode_index: usize,
    /// Presentation time in seconds from the stream start.
    pub time: Option<f64>,
    pub keyframe: bool,
}

/// Container/codec facts that decide the reference's keyframe list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyframeContext {
    /// File name ends in an MP4-family extension.
    pub mp4_family: bool,
    pub is_vp9: bool,
    /// Stream start time in seconds (the reference uses absolute timestamps).
    pub start_time: f64,
    pub fps: f64,
    pub total_frames: usize,
}

/// True if `path`'s extension is one the reference parses as MP4 boxes.
pub fn is_mp4_family(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .is_some_and(|e| matches!(e.as_str(), "mp4" | "m4v" | "mov" | "m4a" | "3gp" | "3g2"))
}

fn sorted_with_zero(mut ids: Vec<usize>, total: usize) -> Vec<usize> {
    if total == 0 {
        return Vec::new();
    }
    ids.push(0);
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The keyframe ids the reference tool computes (see the module docs).
pub fn reference_keyframes(packets: &[KeyPacket], ctx: &KeyframeContext) -> Vec<usize> {
    let total = ctx.total_frames;
    let last = total.max(1) - 1;
    if ctx.mp4_family {
        let ids = packets
            .iter()
            .filter(|p| p.keyframe)
            .map(|p| p.decode_index)
            .collect();
        return sorted_with_zero(ids, total);
    }
    let fps_use = fps_or_default(ctx.fps);
    let ids = packets
        .iter()
        .filter(|p| p.keyframe || ctx.is_vp9)
        .filter_map(|p| p.time)
        .map(|t| {
            let id = round_half_even((t + ctx.start_time) * fps_use);
            if id <= 0.0 {
                0
            } else {
                (id as usize).min(last)
            }
        })
        .collect();
    sorted_with_zero(ids, total)
}

/// The display ids of the keyframe packets.
pub fn true_keyframes(packets: &[KeyPacket]) -> Vec<usize> {
    let mut ids: Vec<usize> = packets
        .iter()
        .filter(|p| p.keyframe)
        .map(|p| p.index)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn keyframe_mask(keyframes: &[usize], total: usize) -> Vec<bool> {
    let mut mask = vec![false; total];
    for &k in keyframes {
        if k < total {
            mask[k] = true;
        }
    }
    mask
}

/// §4.4: each id on a keyframe moves to the first of f+d, f-d (d = s, 2s, 3s, 4s) that is
/// inside the video and not a keyframe; ids are clamped to the video first.
pub fn shift_off_keyframes(
    ids: &[usize],
    keyframes: &[usize],
    total: usize,
    offset: i64,
) -> Vec<usize> {
    let t = total.max(1);
    let is_key = keyframe_mask(keyframes, t);
    ids.iter()
        .map(|&id| {
            let f = id.min(t - 1);
            if !is_key[f] {
                return f;
            }
            for step in 1..=4i64 {
                let d = offset * step;
                for cand in [f as i64 + d, f as i64 - d] {
                    if (0..t as i64).contains(&cand) && !is_key[cand as usize] {
                        return cand as usize;
                    }
                }
            }
            f
        })
        .collect()
}

/// §4.5: first occurrences in order; if that leaves fewer than `target` ids, refill with
/// unused non-keyframes nearest to the kept ids (then nearest the middle, then smallest),
/// then with any unused id, and return the list sorted. Without a shortfall the order of
/// first occurrences is kept.
pub fn dedup_refill(ids: &[usize], keyframes: &[usize], total: usize, target: usize) -> Vec<usize> {
    let t = total.max(1);
    let mut used = vec![false; t];
    let mut out = Vec::with_capacity(target);
    for &id in ids {
        let f = id.min(t - 1);
        if !used[f] {
            used[f] = true;
            out.push(f);
        }
    }
    if out.len() >= target {
        out.truncate(target);
        return out;
    }
    let is_key = keyframe_mask(keyframes, t);
    let mut seeds = out.clone();
    seeds.sort_unstable();
    if seeds.is_empty() {
        seeds.push(0);
    }
    let nearest_seed = |f: usize| {
        let pos = seeds.partition_point(|&s| s < f);
        let after = seeds.get(pos).map(|&s| s - f);
        let before = pos.checked_sub(1).map(|p| f - seeds[p]);
        after.into_iter().chain(before).min().unwrap_or(usize::MAX)
    };
    let middle = t / 2;
    let mut candidates: Vec<(usize, usize, usize)> = (0..t)
        .filter(|&f| !used[f] && !is_key[f])
        .map(|f| (nearest_seed(f), f.abs_diff(middle), f))
        .collect();
    candidates.sort_unstable();
    for (_, _, f) in candidates {
        if out.len() >= target {
            break;
        }
        used[f] = true;
        out.push(f);
    }
    for (f, &is_used) in used.iter().enumerate() {
        if out.len() >= target {
            break;
        }
        if !is_used {
            out.push(f);
        }
    }
    out.sort_unstable();
    out.truncate(target);
    out
}

/// Shift then dedup/refill to the original length.
pub fn avoid_keyframes(
    ids: &[usize],
    keyframes: &[usize],
    total: usize,
    offset: i64,
) -> Vec<usize> {
    let shifted = shift_off_keyframes(ids, keyframes, total, offset);
    dedup_refill(&shifted, keyframes, total, shifted.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_to_the_nearest_non_keyframe() {
        let keys = [0, 10, 11, 20];
        assert_eq!(
            shift_off_keyframes(&[0, 5, 10, 11, 20, 25], &keys, 21, 1),
            vec![1, 5, 9, 12, 19, 19]
        );
        // Every frame a keyframe: ids stay.
        let all: Vec<usize> = (0..5).collect();
        assert_eq!(shift_off_keyframes(&[2, 4], &all, 5, 1), vec![2, 4]);
        // offset 2 tries f+2, f-2, f+4, ...
        assert_eq!(shift_off_keyframes(&[10], &[10, 12], 30, 2), vec![8]);
    }

    #[test]
    fn dedup_keeps_first_occurrences_in_order() {
        assert_eq!(dedup_refill(&[5, 3, 5, 1, 3], &[], 10, 3), vec![5, 3, 1]);
    }

    #[test]
    fn refill_prefers_frames_near_the_kept_ones() {
        // 1 and 2 kept out of 4 wanted; 0 is a keyframe; candidates 3 (distance 1) first,
        // then 4 (distance 2) ... ; result sorted.
        assert_eq!(dedup_refill(&[1, 1, 2, 2], &[0], 10, 4), vec![1, 2, 3, 4]);
        // Equal distance: nearer the middle (T // 2 = 5) first, then the smaller id.
        assert_eq!(dedup_refill(&[2, 2, 8, 8], &[], 11, 3), vec![2, 3, 8]);
    }

    #[test]
    fn more_samples_than_frames_gives_every_frame() {
        // §4.5 consequence: n >= T gives 0..T-1, keyframes included.
        let ids = super::super::sample::uniform_count(12, 40);
        let out = avoid_keyframes(&ids, &[0, 6], 12, 1);
        assert_eq!(out.len(), 12);
        assert_eq!(out, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn reference_keyframes_per_container() {
        let packets: Vec<KeyPacket> = (0..10)
            .map(|i| KeyPacket {
                index: i,
                decode_index: if i == 0 { 0 } else { (i % 9) + 1 },
                time: Some(i as f64 / 10.0),
                keyframe: i == 0 || i == 5,
            })
            .collect();
        let mp4 = KeyframeContext {
            mp4_family: true,
            is_vp9: false,
            start_time: 0.0,
            fps: 10.0,
            total_frames: 10,
        };
        // Decode positions, not display positions.
        assert_eq!(reference_keyframes(&packets, &mp4), vec![0, 6]);
        // Timestamp path with a start time of 1.5 s: frame 5 -> round((0.5 + 1.5) * 10).
        let ts = KeyframeContext {
            mp4_family: false,
            start_time: 0.15,
            ..mp4
        };
        assert_eq!(reference_keyframes(&packets, &ts), vec![0, 2, 6]);
        // VP9 outside MP4: every frame.
        let vp9 = KeyframeContext {
            is_vp9: true,
            start_time: 0.0,
            ..ts
        };
        assert_eq!(reference_keyframes(&packets, &vp9).len(), 10);
        assert_eq!(true_keyframes(&packets), vec![0, 5]);
        assert!(
            reference_keyframes(
                &packets,
                &KeyframeContext {
                    total_frames: 0,
                    ..mp4
                }
            )
            .is_empty()
        );
    }

    #[test]
    fn mp4_family_by_extension() {
        assert!(is_mp4_family(std::path::Path::new("a/B.MOV")));
        assert!(!is_mp4_family(std::path::Path::new("a.mkv")));
        assert!(!is_mp4_family(std::path::Path::new("mp4")));
    }
}
