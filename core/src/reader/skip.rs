//! Skipping the H.264 pictures that no wanted frame needs.
//!
//! A read that wants some frames must decode those and every picture they are predicted
//! from. A picture whose slices all have `nal_ref_idc` 0 is never a reference, so when it is
//! not wanted the decoder may skip it altogether: its packet is sent with the decoder's
//! `skip_frame` at `AVDISCARD_NONREF`, which makes FFmpeg drop the non-reference NAL units
//! before parsing them. (Parsing them without reconstruction is not an option: see `select`.)
//! `skip_frame` is read only while a packet is decoded, and without frame threads a packet is
//! decoded completely inside `avcodec_send_packet` (the session sends one only after
//! `avcodec_receive_frame` asked for input), so it can change from one packet to the next.
//!
//! A skipped picture is never output, so the session numbers the frames it outputs by
//! display order, stepping over the display indices of the skipped packets. That equals the
//! full decode's numbering when the decoder outputs every picture in display order, which
//! FFmpeg guarantees only when the stream declares its reordering depth (VUI
//! `bitstream_restriction_flag`; otherwise FFmpeg guesses the depth from the pictures it sees,
//! and may drop a picture that arrives late, which it would not see here). So the plan is used
//! only when every sequence parameter set declares it, access units with parameter sets are
//! never skipped (SEI messages are: FFmpeg reads them for skipped pictures as well, and resets
//! them at the start of the next packet either way), and the reader checks every
//! output frame's timestamp against the file's index, redoing the read without skipping on
//! any mismatch.

use std::sync::Arc;

use super::h264;

/// Which packets one decoding session skips.
pub(super) struct SkipPlan {
    /// By decode position: the packet shows a wanted frame.
    wanted: Arc<[bool]>,
    /// By decode position: the display index of the packet's frame.
    display: Arc<[usize]>,
    nal_length_size: Option<usize>,
    /// Whether every sequence parameter set seen so far declares the reordering depth
    /// (`None`: none seen yet).
    declared: Option<bool>,
    /// By display index: the frame's packet was skipped.
    skipped: Vec<bool>,
    skipped_count: usize,
    /// The decoder's `skip_frame` is at `AVDISCARD_NONREF`.
    pub(super) skipping: bool,
    stopped: bool,
    /// A parameter set without the reordering depth came after frames were skipped: the
    /// decoder's guesses from then on may differ from a full decode's.
    broken: bool,
}

impl SkipPlan {
    pub(super) fn new(wanted: Arc<[bool]>, display: Arc<[usize]>, extradata: &[u8]) -> Self {
        let sps = h264::avcc_sps(extradata);
        let declared = (!sps.is_empty()).then(|| {
            sps.iter()
                .all(|nal| h264::sps_declares_reorder_depth(nal) == Some(true))
        });
        Self {
            skipped: vec![false; display.len()],
            wanted,
            display,
            nal_length_size: h264::nal_length_size(extradata),
            declared,
            skipped_count: 0,
            skipping: false,
            stopped: false,
            broken: false,
        }
    }

    /// Whether to skip the packet at decode position `position`; notes its frame as skipped.
    pub(super) fn decide(&mut self, position: usize, data: &[u8]) -> bool {
        if self.stopped {
            return false;
        }
        let au = h264::inspect(data, self.nal_length_size);
        if let Some(declared) = au.sps_declare_reorder_depth {
            self.declared = Some(self.declared.unwrap_or(true) && declared);
        }
        if self.declared != Some(true) {
            self.broken = self.skipped_count > 0;
            return false;
        }
        let (Some(&wanted), Some(&display)) =
            (self.wanted.get(position), self.display.get(position))
        else {
            self.stop();
            return false;
        };
        if display >= self.skipped.len() {
            self.stop();
            return false;
        }
        let skip = au.disposable && !wanted;
        if skip && !self.skipped[display] {
            self.skipped[display] = true;
            self.skipped_count += 1;
        }
        skip
    }

    /// Decodes every later packet (the frames already skipped stay skipped).
    pub(super) fn stop(&mut self) {
        self.stopped = true;
    }

    pub(super) fn is_skipped(&self, display: usize) -> bool {
        self.skipped.get(display).copied().unwrap_or(false)
    }

    pub(super) fn skipped_count(&self) -> usize {
        self.skipped_count
    }

    pub(super) fn broken(&self) -> bool {
        self.broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One length-prefixed NAL unit with the given header byte.
    fn packet(header: u8) -> Vec<u8> {
        vec![0, 0, 0, 2, header, 0x9e]
    }

    /// avcC with one SPS whose VUI does or does not declare the reordering depth.
    fn avcc(declared: bool) -> Vec<u8> {
        let sps = h264::tests_support::sps(true, declared);
        let mut out = vec![1, 100, 0, 31, 0xff, 0xe1];
        out.extend((sps.len() as u16).to_be_bytes());
        out.extend(sps);
        out
    }

    fn plan(declared: bool) -> SkipPlan {
        // Decode order I0 P3 B1 B2 (display 0 3 1 2); frame 2 wanted.
        SkipPlan::new(
            Arc::from(vec![false, false, false, true]),
            Arc::from(vec![0, 3, 1, 2]),
            &avcc(declared),
        )
    }

    #[test]
    fn skips_unwanted_non_reference_pictures_only() {
        let mut p = plan(true);
        assert!(!p.decide(0, &packet(0x65)), "IDR");
        assert!(!p.decide(1, &packet(0x41)), "reference P");
        assert!(p.decide(2, &packet(0x01)), "unwanted non-reference B");
        assert!(!p.decide(3, &packet(0x01)), "wanted");
        assert!(p.is_skipped(1) && !p.is_skipped(2));
        assert_eq!(p.skipped_count(), 1);
        assert!(!p.decide(9, &packet(0x01)), "unknown position");
        assert!(
            !p.decide(2, &packet(0x01)),
            "stopped after an unknown position"
        );
        assert!(!p.broken());
    }

    #[test]
    fn needs_a_declared_reordering_depth() {
        let mut p = plan(false);
        assert!(!p.decide(2, &packet(0x01)));
        assert_eq!(p.skipped_count(), 0);
        // An in-band SPS without it, after a skip: the plan cannot be trusted any more.
        let mut p = plan(true);
        assert!(p.decide(2, &packet(0x01)));
        let sps = h264::tests_support::sps(true, false);
        let mut au = (sps.len() as u32).to_be_bytes().to_vec();
        au.extend(sps);
        au.extend(packet(0x65));
        assert!(!p.decide(0, &au));
        assert!(p.broken());
    }
}
