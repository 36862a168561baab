//! Incremental decoding: packets handed in one at a time (from a GStreamer pipeline, a
//! network stream, ...) instead of being read from a file as `Reader` does.
//!
//! Each packet carries a caller-chosen integer tag that comes back on the frame the packet
//! produced, so callers can match output frames (which come in display order) to their own
//! per-packet bookkeeping. The tag travels as the packet's timestamp, which the decoders copy to
//! the frame they output; it is never interpreted as a time.

use crate::ffmpeg::{
    self, BitcostSetupError, Decoder, DecoderSetup, FfmpegError, Frame, Packet, Picture, Received,
};
use crate::map::{BitcostMap, Codec, MapError, Measure};

/// How a `StreamDecoder` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamDecoderOptions {
    /// Decoder threads; 0 lets FFmpeg choose. More than one uses frame threading, which
    /// delays output by about one frame per thread.
    pub threads: usize,
    pub measure: Measure,
    /// Parse only: frames carry maps but no pixels (much faster; the maps are the same).
    pub scan_only: bool,
    /// Skip the in-loop filters (deblocking, SAO, VP9 loop filter), like the reference tool.
    pub skip_loop_filter: bool,
}

impl Default for StreamDecoderOptions {
    fn default() -> Self {
        Self {
            threads: 1,
            measure: Measure::Reference,
            scan_only: false,
            skip_loop_filter: true,
        }
    }
}

/// Why a stream decoder could not be created or could not decode.
#[derive(Debug, thiserror::Error)]
pub enum StreamDecoderError {
    #[error("the linked FFmpeg has no {0} decoder")]
    DecoderMissing(&'static str),
    #[error("the linked FFmpeg's {0} decoder is not patched for bit-cost export")]
    NotPatched(&'static str),
    #[error("the {0} decoder does not offer the exact measure")]
    ExactMeasureUnsupported(&'static str),
    #[error("setting up the {decoder} decoder failed: {source}")]
    Setup {
        decoder: &'static str,
        source: FfmpegError,
    },
    #[error("decoding failed: {0}")]
    Decode(FfmpegError),
    #[error("the decoder attached an invalid bit-cost map: {0}")]
    InvalidMap(MapError),
}

/// What `StreamDecoder::send` did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Accepted,
    /// The decoder holds output frames: receive them, then send the same packet again.
    ReceiveFirst,
}

/// A patched FFmpeg decoder with bit-cost export, fed packet by packet.
pub struct StreamDecoder {
    codec: Codec,
    decoder: Decoder,
    packet: Packet,
    frame: Frame,
    scan_only: bool,
    draining: bool,
}

fn decoder_name(codec: Codec) -> &'static str {
    match codec {
        Codec::H264 => "h264",
        Codec::Hevc => "hevc",
        Codec::Vp9 => "vp9",
    }
}

impl StreamDecoder {
    /// Opens the decoder for `codec`. `extradata` is the codec configuration record of
    /// length-prefixed streams (`avcC`, `hvcC`); Annex B and VP9 streams need none.
    pub fn new(
        codec: Codec,
        extradata: Option<&[u8]>,
        options: &StreamDecoderOptions,
    ) -> Result<Self, StreamDecoderError> {
        ffmpeg::init();
        let name = decoder_name(codec);
        let setup_error = |source| StreamDecoderError::Setup {
            decoder: name,
            source,
        };
        let mut setup = DecoderSetup::by_name(name)
            .map_err(setup_error)?
            .ok_or(StreamDecoderError::DecoderMissing(name))?;
        setup
            .export_bitcost(options.measure, options.scan_only)
            .map_err(|e| match e {
                BitcostSetupError::NotPatched => StreamDecoderError::NotPatched(name),
                BitcostSetupError::ExactMeasureUnsupported => {
                    StreamDecoderError::ExactMeasureUnsupported(name)
                }
                BitcostSetupError::Option(source) => setup_error(source),
            })?;
        if let Some(data) = extradata.filter(|d| !d.is_empty()) {
            setup.set_extradata(data).map_err(setup_error)?;
        }
        let kind = if options.threads == 1 {
            ffmpeg::ThreadType::Slice
        } else {
            ffmpeg::ThreadType::Frame
        };
        setup.set_threads(options.threads, kind);
        setup.set_skip_loop_filter(options.skip_loop_filter);
        let decoder = setup.open().map_err(setup_error)?;
        Ok(Self {
            codec,
            decoder,
            packet: Packet::new().map_err(setup_error)?,
            frame: Frame::new().map_err(setup_error)?,
            scan_only: options.scan_only,
            draining: false,
        })
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Sends one packet (one access unit, or one VP9 superframe) tagged with `tag`.
    ///
    /// Invalid data is an error for this packet only: the decoder stays usable.
    pub fn send(
        &mut self,
        data: &[u8],
        tag: i64,
        keyframe: bool,
    ) -> Result<Sent, StreamDecoderError> {
        self.packet
            .fill(data, tag, keyframe)
            .map_err(StreamDecoderError::Decode)?;
        match self.decoder.send_packet(Some(&self.packet)) {
            Ok(()) => Ok(Sent::Accepted),
            Err(e) if e.is_again() => Ok(Sent::ReceiveFirst),
            Err(e) => Err(StreamDecoderError::Decode(e)),
        }
    }

    /// Tells the decoder that no more packets come: `receive` then returns the frames it
    /// still holds. Call `flush` before sending again.
    pub fn drain(&mut self) {
        if !self.draining {
            self.draining = true;
            // An error only means the decoder is already draining.
            let _ = self.decoder.send_packet(None);
        }
    }

    /// Discards all buffered packets and frames (after a seek, or to reuse a drained decoder).
    pub fn flush(&mut self) {
        self.decoder.flush();
        self.draining = false;
    }

    /// The next output frame, in display order; `None` when the decoder needs more input (or,
    /// after `drain`, holds no more frames).
    pub fn receive(&mut self) -> Result<Option<DecodedFrame<'_>>, StreamDecoderError> {
        match self.decoder.receive_frame(&mut self.frame) {
            Ok(Received::Frame) => Ok(Some(DecodedFrame {
                frame: &self.frame,
                scan_only: self.scan_only,
            })),
            Ok(Received::NeedsInput | Received::Drained) => Ok(None),
            Err(e) => Err(StreamDecoderError::Decode(e)),
        }
    }
}

/// One output frame, borrowed from the decoder until its next call.
pub struct DecodedFrame<'a> {
    frame: &'a Frame,
    scan_only: bool,
}

impl DecodedFrame<'_> {
    /// The tag of the packet that carried this picture.
    pub fn tag(&self) -> Option<i64> {
        self.frame.pts()
    }

    /// The frame's bit-cost map; `None` only if the decoder attached none.
    pub fn map(&self) -> Result<Option<BitcostMap>, StreamDecoderError> {
        self.frame
            .bitcost_map()
            .transpose()
            .map_err(StreamDecoderError::InvalidMap)
    }

    pub fn width(&self) -> u32 {
        self.frame.width()
    }

    pub fn height(&self) -> u32 {
        self.frame.height()
    }

    pub fn keyframe(&self) -> bool {
        self.frame.is_keyframe()
    }

    /// 'I', 'P' or 'B' ('?' otherwise).
    pub fn picture_type(&self) -> char {
        self.frame.picture_type()
    }

    /// The decoder flagged errors on the frame (concealment, missing references, ...).
    pub fn problems(&self) -> Vec<&'static str> {
        let mut reasons = self.frame.decode_error_reasons();
        if self.frame.is_marked_corrupt() {
            reasons.push("marked corrupt");
        }
        reasons
    }

    /// The decoded planes; `None` in scan-only mode (nothing was reconstructed) or for pixel
    /// formats outside `PlanarFormat`.
    pub fn picture(&self) -> Option<Picture<'_>> {
        if self.scan_only {
            return None;
        }
        self.frame.picture()
    }
}
