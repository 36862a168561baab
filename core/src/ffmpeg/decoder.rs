//! Owned decoder (`AVCodecContext`): configured while closed, then opened.

use std::ffi::{CStr, CString, c_int};
use std::ptr::{self, NonNull};

use ffmpeg_sys_next as ff;

use super::error::{FfmpegError, check};
use super::format::InputContext;
use super::frame::Frame;
use super::packet::Packet;
use crate::map::Measure;

/// Private options of the codecprep-patched decoders.
pub mod bitcost_options {
    use std::ffi::CStr;

    /// Attaches a bit-cost map to every frame.
    pub const EXPORT: &CStr = c"export_bitcost";
    /// Which measure the maps use (`Measure::option_value`).
    pub const MEASURE: &CStr = c"bitcost_measure";
    /// Parses the entropy-coded data without reconstructing pixels.
    pub const SCAN: &CStr = c"bitcost_scan";
}

/// Why `DecoderSetup::export_bitcost` refused.
#[derive(Debug)]
pub(crate) enum BitcostSetupError {
    /// A stock decoder: it would decode fine and silently return no maps.
    NotPatched,
    /// A patched build from before the `exact` measure.
    ExactMeasureUnsupported,
    Option(FfmpegError),
}

/// Upper bound for decoder threads: FFmpeg allocates per-thread state up front, so an absurd
/// request would exhaust memory instead of failing cleanly.
pub const MAX_THREADS: usize = 256;

/// How FFmpeg parallelises decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadType {
    /// Slices of one picture in parallel (no added latency; needs multi-slice streams or WPP).
    #[default]
    Slice,
    /// Several pictures in parallel (faster on single-slice streams, adds delay).
    Frame,
}

impl ThreadType {
    fn flag(self) -> c_int {
        match self {
            Self::Slice => ff::FF_THREAD_SLICE,
            Self::Frame => ff::FF_THREAD_FRAME,
        }
    }
}

/// The decoder's codec-context wrapper; freeing it also closes an opened decoder.
struct CodecContext {
    ptr: NonNull<ff::AVCodecContext>,
}

impl CodecContext {
    fn raw(&self) -> *mut ff::AVCodecContext {
        self.ptr.as_ptr()
    }
}

impl Drop for CodecContext {
    fn drop(&mut self) {
        let mut ptr = self.ptr.as_ptr();
        // SAFETY: we own the context.
        unsafe { ff::avcodec_free_context(&mut ptr) }
    }
}

/// A decoder that has been allocated but not opened: options can still be changed.
pub(crate) struct DecoderSetup {
    ctx: CodecContext,
    codec: NonNull<ff::AVCodec>,
}

// SAFETY: neither the context nor the static codec description is tied to a thread.
unsafe impl Send for DecoderSetup {}

fn codec_name(codec: NonNull<ff::AVCodec>) -> &'static str {
    // SAFETY: AVCodec descriptions and their names are static data of the library.
    unsafe { CStr::from_ptr((*codec.as_ptr()).name) }
        .to_str()
        .unwrap_or("unknown")
}

impl DecoderSetup {
    /// A decoder for the given stream; `Ok(None)` when the linked FFmpeg has no decoder for
    /// its codec.
    pub(crate) fn for_stream(
        input: &InputContext,
        stream: usize,
    ) -> Result<Option<Self>, FfmpegError> {
        let params = input.codec_parameters(stream);
        // SAFETY: params is valid while input lives; codec_id holds a known value.
        let codec =
            NonNull::new(unsafe { ff::avcodec_find_decoder((*params).codec_id) }.cast_mut());
        let Some(codec) = codec else {
            return Ok(None);
        };
        let setup = Self::alloc(codec)?;
        // SAFETY: both pointers are valid; this copies extradata, size and format.
        check(unsafe { ff::avcodec_parameters_to_context(setup.ctx.raw(), params) })?;
        Ok(Some(setup))
    }

    /// The decoder registered under `name`, if the linked FFmpeg has it.
    pub(crate) fn by_name(name: &str) -> Result<Option<Self>, FfmpegError> {
        let Ok(c_name) = CString::new(name) else {
            return Ok(None);
        };
        // SAFETY: valid C string.
        let codec =
            NonNull::new(unsafe { ff::avcodec_find_decoder_by_name(c_name.as_ptr()) }.cast_mut());
        codec.map(Self::alloc).transpose()
    }

    fn alloc(codec: NonNull<ff::AVCodec>) -> Result<Self, FfmpegError> {
        // SAFETY: codec is a valid decoder; the context (and its private options, set to their
        // defaults) is ours to free.
        let ptr = unsafe { ff::avcodec_alloc_context3(codec.as_ptr()) };
        let ptr = NonNull::new(ptr).ok_or(FfmpegError::from_code(ff::AVERROR(ff::ENOMEM)))?;
        Ok(Self {
            ctx: CodecContext { ptr },
            codec,
        })
    }

    /// FFmpeg's name for the decoder ("h264", "hevc", "vp9").
    pub(crate) fn name(&self) -> &'static str {
        codec_name(self.codec)
    }

    fn private_data(&self) -> *mut std::ffi::c_void {
        // SAFETY: valid context; priv_data is NULL for decoders without private options.
        unsafe { (*self.ctx.raw()).priv_data }
    }

    /// Switches on the patch's map export with `measure`, and with `parse_only` its scan mode
    /// (builds from before the scan mode give the same maps, only slower).
    pub(crate) fn export_bitcost(
        &mut self,
        measure: Measure,
        parse_only: bool,
    ) -> Result<(), BitcostSetupError> {
        if !self.has_private_option(bitcost_options::EXPORT) {
            return Err(BitcostSetupError::NotPatched);
        }
        self.set_private_option(bitcost_options::EXPORT, 1)
            .map_err(BitcostSetupError::Option)?;
        // The reference measure is the decoders' default; only the exact one is asked for,
        // so builds whose decoders lack the option still work with the default.
        if measure != Measure::Reference {
            if !self.has_private_option(bitcost_options::MEASURE) {
                return Err(BitcostSetupError::ExactMeasureUnsupported);
            }
            self.set_private_option(bitcost_options::MEASURE, i64::from(measure.option_value()))
                .map_err(BitcostSetupError::Option)?;
        }
        if parse_only && self.has_private_option(bitcost_options::SCAN) {
            self.set_private_option(bitcost_options::SCAN, 1)
                .map_err(BitcostSetupError::Option)?;
        }
        Ok(())
    }

    /// Whether the decoder's private options include `name`; patched decoders add some.
    pub(crate) fn has_private_option(&self, name: &CStr) -> bool {
        let private = self.private_data();
        if private.is_null() {
            return false;
        }
        // SAFETY: priv_data starts with its AVClass pointer, as av_opt_find requires.
        let option = unsafe { ff::av_opt_find(private, name.as_ptr(), ptr::null(), 0, 0) };
        !option.is_null()
    }

    /// Sets an integer (or boolean / enum) private option.
    pub(crate) fn set_private_option(
        &mut self,
        name: &CStr,
        value: i64,
    ) -> Result<(), FfmpegError> {
        let private = self.private_data();
        if private.is_null() {
            return Err(FfmpegError::from_code(ff::AVERROR_OPTION_NOT_FOUND));
        }
        // SAFETY: as in has_private_option; FFmpeg range-checks the value.
        check(unsafe { ff::av_opt_set_int(private, name.as_ptr(), value, 0) }).map(drop)
    }

    /// Thread count (0 = FFmpeg picks from the CPU count, capped at `MAX_THREADS`) and kind.
    pub(crate) fn set_threads(&mut self, count: usize, kind: ThreadType) {
        let count = count.min(MAX_THREADS) as c_int;
        // SAFETY: valid, unopened context; plain int fields.
        unsafe {
            (*self.ctx.raw()).thread_count = count;
            (*self.ctx.raw()).thread_type = kind.flag();
        }
    }

    /// Skip the in-loop filters (deblocking, SAO, VP9 loop filter) on every frame.
    pub(crate) fn set_skip_loop_filter(&mut self, skip: bool) {
        let discard = if skip {
            ff::AVDiscard::AVDISCARD_ALL
        } else {
            ff::AVDiscard::AVDISCARD_DEFAULT
        };
        // SAFETY: valid, unopened context.
        unsafe { (*self.ctx.raw()).skip_loop_filter = discard }
    }

    /// Codec-specific setup data (the `avcC` / `hvcC` record of MP4-style streams), copied
    /// into an FFmpeg allocation with the zeroed padding its bit readers require.
    pub(crate) fn set_extradata(&mut self, data: &[u8]) -> Result<(), FfmpegError> {
        let nomem = FfmpegError::from_code(ff::AVERROR(ff::ENOMEM));
        let size = c_int::try_from(data.len()).map_err(|_| nomem)?;
        let padded = data.len() + ff::AV_INPUT_BUFFER_PADDING_SIZE as usize;
        // SAFETY: av_mallocz returns `padded` zeroed bytes or NULL; the copy stays in bounds.
        // The context takes ownership and frees the old extradata (if any) first.
        unsafe {
            let buffer = ff::av_mallocz(padded).cast::<u8>();
            if buffer.is_null() {
                return Err(nomem);
            }
            ptr::copy_nonoverlapping(data.as_ptr(), buffer, data.len());
            let ctx = self.ctx.raw();
            ff::av_freep((&raw mut (*ctx).extradata).cast());
            (*ctx).extradata = buffer;
            (*ctx).extradata_size = size;
        }
        Ok(())
    }

    /// Time base of the packets that will be sent, so frame timestamps use it too.
    pub(crate) fn set_packet_time_base(&mut self, time_base: super::Rational) {
        // SAFETY: valid, unopened context.
        unsafe {
            (*self.ctx.raw()).pkt_timebase = ff::AVRational {
                num: time_base.num,
                den: time_base.den,
            }
        }
    }

    pub(crate) fn open(self) -> Result<Decoder, FfmpegError> {
        // SAFETY: the context was allocated for this codec; on failure it stays ours to free.
        check(unsafe { ff::avcodec_open2(self.ctx.raw(), self.codec.as_ptr(), ptr::null_mut()) })?;
        Ok(Decoder {
            ctx: self.ctx,
            codec: self.codec,
        })
    }
}

/// What `receive_frame` produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Received {
    Frame,
    /// Send more input first.
    NeedsInput,
    /// Flushed completely: no more frames will come.
    Drained,
}

/// An opened decoder.
pub(crate) struct Decoder {
    ctx: CodecContext,
    codec: NonNull<ff::AVCodec>,
}

// SAFETY: as for DecoderSetup; FFmpeg's own worker threads are internal to the context.
unsafe impl Send for Decoder {}

impl Decoder {
    pub(crate) fn name(&self) -> &'static str {
        codec_name(self.codec)
    }

    /// Sends one packet, or `None` to start flushing.
    pub(crate) fn send_packet(&mut self, packet: Option<&Packet>) -> Result<(), FfmpegError> {
        let pkt = packet.map_or(ptr::null(), Packet::as_ptr);
        // SAFETY: open decoder; NULL enters draining mode.
        check(unsafe { ff::avcodec_send_packet(self.ctx.raw(), pkt) }).map(drop)
    }

    pub(crate) fn receive_frame(&mut self, frame: &mut Frame) -> Result<Received, FfmpegError> {
        // SAFETY: open decoder; receive_frame unrefs the frame before filling it.
        match check(unsafe { ff::avcodec_receive_frame(self.ctx.raw(), frame.as_mut_ptr()) }) {
            Ok(_) => Ok(Received::Frame),
            Err(e) if e.is_again() => Ok(Received::NeedsInput),
            Err(e) if e.is_eof() => Ok(Received::Drained),
            Err(e) => Err(e),
        }
    }

    /// Drops every buffered packet and frame and leaves draining mode, so decoding can start
    /// again from a keyframe (after a seek or a drain).
    pub(crate) fn flush(&mut self) {
        // SAFETY: open decoder.
        unsafe { ff::avcodec_flush_buffers(self.ctx.raw()) }
    }

    /// Whether the next packets' non-reference pictures are skipped (`skip_frame` at
    /// `AVDISCARD_NONREF`) or decoded (`AVDISCARD_DEFAULT`). FFmpeg reads the field while it
    /// decodes a packet, so it may change between packets.
    pub(crate) fn set_skip_non_reference(&mut self, skip: bool) {
        let discard = if skip {
            ff::AVDiscard::AVDISCARD_NONREF
        } else {
            ff::AVDiscard::AVDISCARD_DEFAULT
        };
        // SAFETY: open decoder; &mut self, so no decoding runs while the field changes.
        unsafe { (*self.ctx.raw()).skip_frame = discard }
    }

    /// The threading FFmpeg actually enabled (it may fall back to none).
    pub(crate) fn active_thread_type(&self) -> Option<ThreadType> {
        // SAFETY: open decoder; int field.
        let active = unsafe { (*self.ctx.raw()).active_thread_type };
        if active & ff::FF_THREAD_FRAME != 0 {
            Some(ThreadType::Frame)
        } else if active & ff::FF_THREAD_SLICE != 0 {
            Some(ThreadType::Slice)
        } else {
            None
        }
    }

    pub(crate) fn thread_count(&self) -> usize {
        // SAFETY: open decoder; int field.
        usize::try_from(unsafe { (*self.ctx.raw()).thread_count }).unwrap_or(0)
    }
}
