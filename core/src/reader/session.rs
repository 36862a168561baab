//! One pass of demuxing and decoding from the start of the file.
//!
//! Frame indices are the running count of frames the decoder outputs (display order, flush
//! included), never derived from timestamps, so a non-zero start time or missing timestamps
//! cannot shift them. Damaged input never aborts the pass: problems become warnings on the
//! next output frame, and a read error ends the input as if the file were truncated there.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ReaderOptions;
use super::error::{Error, ErrorKind};
use super::open::{open_decoder, open_video_input};
use super::record::{FrameRecord, PixelRequest, Pixels};
use super::skip::SkipPlan;
use crate::ffmpeg::{Decoder, Frame, InputContext, Packet, Received, Scaler, StreamInfo};
use crate::map::BitcostMap;

/// A flushing decoder that keeps failing is given up on after this many errors in a row;
/// decoders never need more than a handful of calls to return their buffered frames.
const MAX_ERRORS_WHILE_DRAINING: usize = 32;

pub(super) struct Session {
    path: PathBuf,
    input: InputContext,
    stream: StreamInfo,
    decoder: Decoder,
    packet: Packet,
    /// The packet in `packet` was refused with EAGAIN and must be sent again.
    packet_pending: bool,
    /// The video packet in `packet` came after the last one to decode and was kept for the
    /// next run of packets (see `continue_at`).
    packet_held: bool,
    /// The demuxer reached the end of the file (or a read error).
    input_ended: bool,
    packets_read: usize,
    frame: Frame,
    scaler: Scaler,
    draining: bool,
    finished: bool,
    frames_output: usize,
    /// Problems seen since the last output frame.
    pending_warnings: Vec<String>,
    /// Warnings belonging to the frame currently in `frame`.
    frame_warnings: Vec<String>,
    /// The decoder parses only: its frames carry maps but no pixels.
    parse_only: bool,
    /// Video packets (decode order) to decode; those before are demuxed and dropped, and
    /// the input ends after the last.
    packets: Range<usize>,
    /// Display index of the next output frame (the first one: that of the first packet), unless
    /// its packet was skipped.
    next_index: usize,
    /// Pictures to skip (see `skip`).
    skip: Option<SkipPlan>,
}

impl Session {
    pub(super) fn open(
        path: &Path,
        options: &ReaderOptions,
        parse_only: bool,
    ) -> Result<Self, Error> {
        Self::open_part(None, path, options, parse_only, 0..usize::MAX, 0)
    }

    /// A session that decodes only the video packets `packets` (decode order), whose first
    /// shown frame has display index `first_frame` (see `segments`). `previous`, a session
    /// of the same file and settings, is moved on to them when it can (see `continue_at`):
    /// a worker carries one demuxer and decoder from one part to the next.
    pub(super) fn open_part(
        previous: Option<Session>,
        path: &Path,
        options: &ReaderOptions,
        parse_only: bool,
        packets: Range<usize>,
        first_frame: usize,
    ) -> Result<Self, Error> {
        if let Some(mut session) = previous
            && session.continue_at(packets.clone(), first_frame)
        {
            return Ok(session);
        }
        let (input, stream) = open_video_input(path)?;
        let decoder = open_decoder(path, &input, &stream, options, parse_only)?;
        let fail = |e| Error::new(path, ErrorKind::OutOfMemory(e));
        Ok(Self {
            path: path.to_path_buf(),
            input,
            stream,
            decoder,
            packet: Packet::new().map_err(fail)?,
            packet_pending: false,
            packet_held: false,
            input_ended: false,
            packets_read: 0,
            frame: Frame::new().map_err(fail)?,
            scaler: Scaler::new(),
            draining: false,
            finished: false,
            frames_output: 0,
            pending_warnings: Vec::new(),
            frame_warnings: Vec::new(),
            parse_only,
            packets,
            next_index: first_frame,
            skip: None,
        })
    }

    /// Moves on to the video packets `packets` (decode order) of the same file, whose first
    /// shown frame has display index `first_frame`, as `open_part` would but reusing the demuxer
    /// and the decoder (with its buffers): the decoder is flushed, and the demuxer reads on from
    /// where it is, dropping the packets before `packets`. False, with nothing changed, when
    /// those packets are already behind the demuxer.
    fn continue_at(&mut self, packets: Range<usize>, first_frame: usize) -> bool {
        // The next video packet (held or still to read) is number `packets_read`.
        if self.input_ended || packets.start < self.packets_read {
            return false;
        }
        self.decoder.flush();
        self.packet_pending = false;
        self.draining = false;
        self.finished = false;
        self.frames_output = 0;
        self.pending_warnings.clear();
        self.frame_warnings.clear();
        self.packets = packets;
        self.next_index = first_frame;
        // The previous part may have ended on a skipped picture: the decoder must not go on
        // skipping in this one, whose plan (if any) starts from decoding everything.
        self.stop_skipping();
        self.skip = None;
        true
    }

    /// Skips the H.264 non-reference pictures whose packets (by decode position) show no
    /// `wanted` frame; `display` gives each packet's display index. Returns whether the plan
    /// is in use: H.264 without frame threads only.
    pub(super) fn skip_unwanted(&mut self, wanted: Arc<[bool]>, display: Arc<[usize]>) -> bool {
        let usable = self.decoder.name() == "h264"
            && self.decoder.active_thread_type() != Some(crate::ffmpeg::ThreadType::Frame);
        if usable {
            self.skip = Some(SkipPlan::new(wanted, display, &self.stream.extradata));
        }
        usable
    }

    /// Pictures skipped so far.
    pub(super) fn skipped_frames(&self) -> usize {
        self.skip.as_ref().map_or(0, SkipPlan::skipped_count)
    }

    /// Whether the skipping plan stopped being trustworthy (see `skip`).
    pub(super) fn skip_plan_broken(&self) -> bool {
        self.skip.as_ref().is_some_and(SkipPlan::broken)
    }

    /// Whether the decoder reported problems on the current frame or since the previous one.
    pub(super) fn frame_has_problems(&self) -> bool {
        !self.frame_warnings.is_empty()
    }

    /// Presentation time of the current frame in seconds from the stream's start.
    pub(super) fn frame_pts_time(&self) -> Option<f64> {
        let start = self.stream.start_time.unwrap_or(0);
        self.frame
            .best_effort_timestamp()
            .and_then(|ts| self.stream.time_base.seconds(ts.saturating_sub(start)))
    }

    pub(super) fn parse_only(&self) -> bool {
        self.parse_only
    }

    pub(super) fn decoder_name(&self) -> &'static str {
        self.decoder.name()
    }

    /// Number of frames output so far (the frame count once `next_frame` returned `None`).
    pub(super) fn frames_output(&self) -> usize {
        self.frames_output
    }

    /// Decodes up to the next output frame and returns its index; `None` at the end.
    pub(super) fn next_frame(&mut self) -> Option<usize> {
        self.frame_warnings.clear();
        let mut errors_while_draining = 0;
        while !self.finished {
            match self.decoder.receive_frame(&mut self.frame) {
                Ok(Received::Frame) => {
                    let mut index = self.next_index;
                    if let Some(plan) = &self.skip {
                        while plan.is_skipped(index) {
                            index += 1;
                        }
                    }
                    self.next_index = index + 1;
                    self.frames_output += 1;
                    self.frame_warnings = std::mem::take(&mut self.pending_warnings);
                    self.note_frame_problems();
                    return Some(index);
                }
                Ok(Received::Drained) => self.finished = true,
                // A flushed decoder never asks for input; stop rather than loop.
                Ok(Received::NeedsInput) if self.draining => self.finished = true,
                Ok(Received::NeedsInput) => self.feed(),
                Err(e) => {
                    self.pending_warnings.push(format!("decoding error: {e}"));
                    if self.draining {
                        errors_while_draining += 1;
                        self.finished = errors_while_draining >= MAX_ERRORS_WHILE_DRAINING;
                    } else {
                        self.feed();
                    }
                }
            }
        }
        None
    }

    /// Sends the next packet of the video stream, or starts flushing at the end of input.
    fn feed(&mut self) {
        if !self.packet_pending {
            loop {
                let read = if self.packet_held {
                    self.packet_held = false;
                    Ok(true)
                } else {
                    self.input.read_packet(&mut self.packet)
                };
                match read {
                    Ok(true) if self.packet.stream_index() != self.stream.index => continue,
                    Ok(true) if self.packets_read < self.packets.start => {
                        self.packets_read += 1;
                        continue;
                    }
                    Ok(true) if self.packets_read >= self.packets.end => {
                        self.packet_held = true;
                        return self.start_draining();
                    }
                    Ok(true) => break,
                    Ok(false) => {
                        self.input_ended = true;
                        self.note_missing_packets();
                        return self.start_draining();
                    }
                    Err(e) => {
                        self.input_ended = true;
                        self.pending_warnings.push(format!(
                            "reading stopped after packet {}: {e} (treated as the end of a \
                             truncated file)",
                            self.packets_read
                        ));
                        return self.start_draining();
                    }
                }
            }
            self.packets_read += 1;
            if self.packet.is_corrupt() {
                self.pending_warnings.push(format!(
                    "packet {} (decode order) is marked corrupt by the demuxer",
                    self.packets_read - 1
                ));
            }
        }
        if !self.packet_pending {
            self.plan_skip();
        }
        match self.decoder.send_packet(Some(&self.packet)) {
            Ok(()) => self.packet_pending = false,
            Err(e) if e.is_again() => {
                self.packet_pending = true;
                // An earlier packet still waits in the decoder and would be decoded with the
                // setting meant for this one: decode everything from here on.
                self.stop_skipping();
            }
            Err(e) => {
                self.packet_pending = false;
                self.pending_warnings.push(format!(
                    "packet {} (decode order) could not be decoded: {e}",
                    self.packets_read - 1
                ));
            }
        }
    }

    /// At the end of the file: a container index that lists more frames than the file holds
    /// means the file was cut short, which the demuxer does not report by itself.
    fn note_missing_packets(&mut self) {
        if let Some(indexed) = self.stream.indexed_frames {
            let read = self.packets_read as u64;
            if read < indexed {
                self.pending_warnings.push(format!(
                    "the file ends after {read} of the {indexed} frames its index lists \
                     (truncated?)"
                ));
            }
        }
    }

    /// Sets the decoder to skip or decode the packet about to be sent.
    fn plan_skip(&mut self) {
        let Some(plan) = &mut self.skip else {
            return;
        };
        let skip = plan.decide(self.packets_read - 1, self.packet.data());
        if skip != plan.skipping {
            self.decoder.set_skip_non_reference(skip);
            plan.skipping = skip;
        }
    }

    fn stop_skipping(&mut self) {
        let Some(plan) = &mut self.skip else {
            return;
        };
        plan.stop();
        if plan.skipping {
            self.decoder.set_skip_non_reference(false);
            plan.skipping = false;
        }
    }

    fn start_draining(&mut self) {
        self.draining = true;
        // An error here only means the decoder is already flushing.
        let _ = self.decoder.send_packet(None);
    }

    /// Records what the decoder flagged on the current frame.
    fn note_frame_problems(&mut self) {
        let reasons = self.frame.decode_error_reasons();
        if !reasons.is_empty() {
            self.frame_warnings
                .push(format!("decoder reported errors: {}", reasons.join(", ")));
        }
        if self.frame.is_marked_corrupt() {
            self.frame_warnings
                .push("decoder marked the frame as corrupt".to_owned());
        }
    }

    /// Builds the record of the frame `next_frame` just returned.
    pub(super) fn record(
        &mut self,
        index: usize,
        pixels: Option<PixelRequest>,
    ) -> Result<FrameRecord, Error> {
        let frame = &self.frame;
        let map = frame
            .bitcost_map()
            .transpose()
            .map_err(|source| Error::new(&self.path, ErrorKind::InvalidMap { index, source }))?;
        let pts_time = self.frame_pts_time();
        let pixels = pixels
            .map(|request| {
                let width = if request.width == 0 {
                    frame.width()
                } else {
                    request.width
                };
                let height = if request.height == 0 {
                    frame.height()
                } else {
                    request.height
                };
                self.scaler
                    .convert(frame, width, height, request.format)
                    .map(|data| Pixels::new(width, height, request.format, data))
                    .map_err(|source| Error::new(&self.path, ErrorKind::Pixels { index, source }))
            })
            .transpose()?;
        let mut warnings = std::mem::take(&mut self.frame_warnings);
        if map.as_ref().is_some_and(BitcostMap::damaged) {
            warnings.push(
                "invalid data in the frame: blocks after the damage in its slice or tile have \
                 no bit cost"
                    .to_owned(),
            );
        }
        Ok(FrameRecord {
            index,
            pts_time,
            pict_type: frame.picture_type(),
            keyframe: frame.is_keyframe(),
            packet_bits: frame.packet_size().unwrap_or(0) * 8,
            width: frame.width(),
            height: frame.height(),
            map,
            pixels,
            warnings,
        })
    }

    /// Warnings raised after the last output frame (e.g. a truncated end).
    pub(super) fn take_trailing_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.pending_warnings)
    }

    /// The error for a pass that produced no frame at all.
    pub(super) fn no_frames_error(&self) -> Error {
        Error::new(
            &self.path,
            ErrorKind::NoFrames {
                last_warning: self.pending_warnings.last().cloned(),
            },
        )
    }
}
