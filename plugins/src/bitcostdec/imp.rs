//! The `bitcostdec` element: a `VideoDecoder` over codecprep-core's `StreamDecoder`.
//!
//! Locking: `settings` and `state` are short-lived locks. The FFmpeg decoder is taken out of
//! `state` for every call into it (and put back afterwards), so no lock is held while FFmpeg
//! runs or while frames are pushed downstream. The base class serialises the streaming-thread
//! vfuncs (handle_frame, drain, finish, flush, set_format) with its stream lock.
//!
//! Frames are matched by tag: each packet is sent with its `system_frame_number`, which the
//! decoder returns on the frame the packet carried.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use codecprep_core::decoder::{Sent, StreamDecoder, StreamDecoderOptions};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_video::prelude::*;
use gst_video::subclass::prelude::*;

use super::MeasureProperty;
use super::caps::{self, InputConfig};
use crate::meta::BitcostMeta;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "bitcostdec",
        gst::DebugColorFlags::empty(),
        Some("codecprep bit-cost decoder"),
    )
});

const DEFAULT_MEASURE: MeasureProperty = MeasureProperty::Reference;
const DEFAULT_SCAN_ONLY: bool = false;
const DEFAULT_SKIP_LOOP_FILTER: bool = true;
const DEFAULT_MAX_THREADS: u32 = 0;
/// Consecutive decoding errors tolerated before the stream fails (the base class's
/// `max-errors`; GStreamer's own default of -1 would let a garbage stream run forever).
const DEFAULT_MAX_ERRORS: i32 = 10;

#[derive(Debug, Clone, Copy)]
struct Settings {
    measure: MeasureProperty,
    scan_only: bool,
    skip_loop_filter: bool,
    max_threads: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            measure: DEFAULT_MEASURE,
            scan_only: DEFAULT_SCAN_ONLY,
            skip_loop_filter: DEFAULT_SKIP_LOOP_FILTER,
            max_threads: DEFAULT_MAX_THREADS,
        }
    }
}

/// The negotiated output: raw video of a format and size, or scan-only of a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Raw(gst_video::VideoFormat, u32, u32),
    ScanOnly(u32, u32),
}

#[derive(Default)]
struct State {
    /// `None` before the first caps, or while taken out for a call into FFmpeg.
    decoder: Option<StreamDecoder>,
    config: Option<InputConfig>,
    scan_only: bool,
    input_state:
        Option<gst_video::VideoCodecState<'static, gst_video::video_codec_state::Readable>>,
    output: Option<Output>,
    /// Frames output since start or the last flush: the meta's display index.
    frames_out: u64,
    /// Input buffers since start, and whether any frame was ever output (for the EOS check).
    frames_in: u64,
    any_output: bool,
}

#[derive(Default)]
pub struct BitcostDec {
    settings: Mutex<Settings>,
    state: Mutex<State>,
}

impl BitcostDec {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn settings(&self) -> Settings {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with the decoder taken out of the state, so no lock is held during the call.
    fn with_decoder<R>(
        &self,
        f: impl FnOnce(&mut StreamDecoder) -> Result<R, gst::FlowError>,
    ) -> Result<R, gst::FlowError> {
        let Some(mut decoder) = self.state().decoder.take() else {
            gst::error!(CAT, imp = self, "no decoder: input caps were never set");
            return Err(gst::FlowError::NotNegotiated);
        };
        let result = f(&mut decoder);
        self.state().decoder = Some(decoder);
        result
    }

    fn open_decoder(&self, config: &InputConfig) -> Result<(), gst::LoggableError> {
        let settings = self.settings();
        let options = StreamDecoderOptions {
            threads: settings.max_threads as usize,
            measure: settings.measure.into(),
            scan_only: settings.scan_only,
            skip_loop_filter: settings.skip_loop_filter,
        };
        gst::debug!(
            CAT,
            imp = self,
            "opening {:?} decoder with {options:?}",
            config.codec
        );
        let decoder = StreamDecoder::new(config.codec, config.extradata.as_deref(), &options)
            .map_err(|e| gst::loggable_error!(CAT, "cannot open the decoder: {e}"))?;
        let mut state = self.state();
        state.decoder = Some(decoder);
        state.config = Some(config.clone());
        state.scan_only = settings.scan_only;
        state.output = None;
        Ok(())
    }

    /// Receives every frame the decoder has ready and finishes the matching codec frames.
    fn output_ready_frames(&self, decoder: &mut StreamDecoder) -> Result<(), gst::FlowError> {
        let obj = self.obj();
        loop {
            let decoded = match decoder.receive() {
                Ok(Some(decoded)) => decoded,
                Ok(None) => return Ok(()),
                Err(e) => {
                    gst_video::video_decoder_error!(
                        obj,
                        1,
                        gst::StreamError::Decode,
                        ["receiving a frame failed: {e}"]
                    )?;
                    return Ok(());
                }
            };
            let tag = decoded.tag().and_then(|t| i32::try_from(t).ok());
            let Some(mut frame) = tag.and_then(|t| obj.frame(t)) else {
                gst::warning!(
                    CAT,
                    imp = self,
                    "decoded frame with unknown tag {:?}",
                    decoded.tag()
                );
                continue;
            };
            let map = match decoded.map() {
                Ok(Some(map)) => Arc::new(map),
                Ok(None) | Err(_) => {
                    let why = decoded.map().err().map(|e| e.to_string());
                    let why = why.unwrap_or_else(|| "no bit-cost map on the frame".to_owned());
                    obj.drop_frame(frame)?;
                    gst_video::video_decoder_error!(obj, 1, gst::StreamError::Decode, ["{why}"])?;
                    continue;
                }
            };
            let problems = decoded.problems();
            if !problems.is_empty() {
                gst::warning!(CAT, imp = self, "frame {tag:?}: {}", problems.join(", "));
            }
            let wanted = match decoded.picture() {
                Some(picture) => Output::Raw(
                    caps::video_format(picture.format),
                    picture.width,
                    picture.height,
                ),
                None => Output::ScanOnly(decoded.width(), decoded.height()),
            };
            if matches!(wanted, Output::ScanOnly(..)) && !self.state().scan_only {
                gst::element_imp_error!(
                    self,
                    gst::StreamError::Format,
                    ["the decoder produced a pixel format bitcostdec cannot output"]
                );
                return Err(gst::FlowError::NotNegotiated);
            }
            self.ensure_output(wanted)?;
            match decoded.picture() {
                Some(picture) => {
                    obj.allocate_output_frame(&mut frame, None)?;
                    let info = obj
                        .output_state()
                        .ok_or(gst::FlowError::NotNegotiated)?
                        .info()
                        .clone();
                    let buffer = frame.output_buffer_mut().ok_or(gst::FlowError::Error)?;
                    let mut video =
                        gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, &info)
                            .map_err(|_| gst::FlowError::Error)?;
                    caps::copy_picture(&picture, &mut video).map_err(|e| {
                        gst::error!(CAT, imp = self, "copying the picture failed: {e}");
                        gst::FlowError::Error
                    })?;
                }
                None => frame.set_output_buffer(gst::Buffer::new()),
            }
            let index = {
                let mut state = self.state();
                state.frames_out += 1;
                state.any_output = true;
                state.frames_out - 1
            };
            // Raw output buffers never carry DELTA_UNIT: keyframes get the keyframe meta.
            let sync_point = frame
                .input_buffer()
                .is_some_and(|b| !b.flags().contains(gst::BufferFlags::DELTA_UNIT));
            let buffer = frame.output_buffer_mut().ok_or(gst::FlowError::Error)?;
            if sync_point {
                crate::meta::mark_keyframe(buffer).map_err(|_| gst::FlowError::Error)?;
            }
            BitcostMeta::add(buffer, map, index);
            obj.finish_frame(frame)?;
        }
    }

    /// (Re)negotiates the src caps when the output format or size changes.
    fn ensure_output(&self, wanted: Output) -> Result<(), gst::FlowError> {
        let (reference, config) = {
            let state = self.state();
            if state.output == Some(wanted) {
                return Ok(());
            }
            (state.input_state.clone(), state.config.clone())
        };
        let obj = self.obj();
        let (format, width, height) = match wanted {
            Output::Raw(format, width, height) => (format, width, height),
            Output::ScanOnly(width, height) => (gst_video::VideoFormat::Encoded, width, height),
        };
        let mut output_state = obj.set_output_state(format, width, height, reference.as_ref())?;
        if let (Output::ScanOnly(..), Some(config)) = (wanted, config) {
            let mut builder = gst::Caps::builder(caps::SCAN_ONLY_MEDIA_TYPE)
                .field("codec", caps::codec_name(config.codec))
                .field("width", width as i32)
                .field("height", height as i32);
            let fps = output_state.info().fps();
            if fps.denom() > 0 {
                builder = builder.field("framerate", fps);
            }
            output_state.set_caps(&builder.build());
        }
        obj.negotiate(output_state)?;
        self.state().output = Some(wanted);
        Ok(())
    }

    /// Sends the decoder into draining, outputs everything it holds, and resets it.
    fn drain_decoder(&self) -> Result<gst::FlowSuccess, gst::FlowError> {
        if self.state().decoder.is_none() {
            return Ok(gst::FlowSuccess::Ok);
        }
        self.with_decoder(|decoder| {
            decoder.drain();
            let result = self.output_ready_frames(decoder);
            decoder.flush();
            result
        })?;
        Ok(gst::FlowSuccess::Ok)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for BitcostDec {
    const NAME: &'static str = "GstBitcostDec";
    type Type = super::BitcostDec;
    type ParentType = gst_video::VideoDecoder;
}

impl ObjectImpl for BitcostDec {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecEnum::builder_with_default("measure", DEFAULT_MEASURE)
                    .nick("Measure")
                    .blurb("How bits are counted: reference (as the reference tool) or exact")
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("scan-only")
                    .nick("Scan only")
                    .blurb(
                        "Parse only, output video/x-codecprep-bitcost buffers carrying the \
                         bit-cost meta and no pixels",
                    )
                    .default_value(DEFAULT_SCAN_ONLY)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("skip-loop-filter")
                    .nick("Skip loop filter")
                    .blurb("Skip deblocking, SAO and the VP9 loop filter (maps are unaffected)")
                    .default_value(DEFAULT_SKIP_LOOP_FILTER)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("max-threads")
                    .nick("Maximum threads")
                    .blurb("Decoder threads (0 = automatic; more than 1 uses frame threading)")
                    .maximum(codecprep_core::ffmpeg::MAX_THREADS as u32)
                    .default_value(DEFAULT_MAX_THREADS)
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        match pspec.name() {
            "measure" => settings.measure = value.get().expect("type checked upstream"),
            "scan-only" => settings.scan_only = value.get().expect("type checked upstream"),
            "skip-loop-filter" => {
                settings.skip_loop_filter = value.get().expect("type checked upstream")
            }
            "max-threads" => settings.max_threads = value.get().expect("type checked upstream"),
            other => unreachable!("unknown property {other}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings();
        match pspec.name() {
            "measure" => settings.measure.to_value(),
            "scan-only" => settings.scan_only.to_value(),
            "skip-loop-filter" => settings.skip_loop_filter.to_value(),
            "max-threads" => settings.max_threads.to_value(),
            other => unreachable!("unknown property {other}"),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.set_max_errors(DEFAULT_MAX_ERRORS);
        obj.set_packetized(true);
    }
}

impl GstObjectImpl for BitcostDec {}

impl ElementImpl for BitcostDec {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Bit-cost decoder",
                "Codec/Decoder/Video",
                "Decodes H.264, HEVC and VP9 with codecprep's patched FFmpeg and attaches the \
                 per-block bit cost (CodecPrepBitcostMeta) to every frame",
                "codecprep developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            crate::pads::always_sink_and_src(&caps::sink_caps(), &caps::src_caps())
        });
        TEMPLATES.as_ref()
    }
}

impl VideoDecoderImpl for BitcostDec {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        *self.state() = State::default();
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *self.state() = State::default();
        Ok(())
    }

    fn set_format(
        &self,
        input_state: &gst_video::VideoCodecState<'static, gst_video::video_codec_state::Readable>,
    ) -> Result<(), gst::LoggableError> {
        let caps = input_state
            .caps()
            .ok_or_else(|| gst::loggable_error!(CAT, "input state without caps"))?;
        let config = caps::input_config(caps)
            .map_err(|e| gst::loggable_error!(CAT, "refusing caps {caps}: {e}"))?;
        let (reopen, has_decoder) = {
            let mut state = self.state();
            state.input_state = Some(input_state.clone());
            state.output = None;
            (
                state.config.as_ref() != Some(&config),
                state.decoder.is_some(),
            )
        };
        if reopen {
            if has_decoder {
                gst::debug!(CAT, imp = self, "caps changed: draining before reopening");
                self.drain_decoder()
                    .map_err(|e| gst::loggable_error!(CAT, "draining failed: {e:?}"))?;
            }
            self.open_decoder(&config)?;
        }
        Ok(())
    }

    fn handle_frame(
        &self,
        frame: gst_video::VideoCodecFrame,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let tag = i64::from(frame.system_frame_number());
        let input = frame.input_buffer_owned().ok_or(gst::FlowError::Error)?;
        let keyframe = !input.flags().contains(gst::BufferFlags::DELTA_UNIT);
        let data = input.map_readable().map_err(|_| gst::FlowError::Error)?;
        self.state().frames_in += 1;
        // Drop our handle: the base class keeps the frame until it is finished or released.
        drop(frame);
        let sent = self.with_decoder(|decoder| {
            loop {
                match decoder.send(&data, tag, keyframe) {
                    Ok(Sent::Accepted) => {
                        return self.output_ready_frames(decoder).map(|()| Ok(()));
                    }
                    Ok(Sent::ReceiveFirst) => self.output_ready_frames(decoder)?,
                    Err(e) => return Ok(Err(e)),
                }
            }
        })?;
        if let Err(e) = sent {
            let obj = self.obj();
            if let Some(frame) = obj.frame(tag as i32) {
                obj.release_frame(frame);
            }
            gst_video::video_decoder_error!(
                obj,
                1,
                gst::StreamError::Decode,
                ["could not decode frame {tag}: {e}"]
            )?;
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn flush(&self) -> bool {
        gst::debug!(CAT, imp = self, "flushing");
        if self.state().decoder.is_some() {
            let _ = self.with_decoder(|decoder| {
                decoder.flush();
                Ok(())
            });
        }
        self.state().frames_out = 0;
        true
    }

    fn drain(&self) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.drain_decoder()
    }

    fn finish(&self) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.drain_decoder()?;
        let (frames_in, any_output) = {
            let state = self.state();
            (state.frames_in, state.any_output)
        };
        if frames_in > 0 && !any_output {
            gst::element_imp_error!(
                self,
                gst::StreamError::Decode,
                ["no frame could be decoded from {frames_in} input buffers"]
            );
            return Err(gst::FlowError::Error);
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn decide_allocation(
        &self,
        query: &mut gst::query::Allocation,
    ) -> Result<(), gst::LoggableError> {
        if !self.state().scan_only {
            return self.parent_decide_allocation(query);
        }
        // Scan-only buffers hold no memory: a plain pool satisfies the base class, which
        // insists on one, while no video pool ever sees the non-video caps.
        while query.allocation_pools().len() > 0 {
            query.remove_nth_allocation_pool(0);
        }
        query.add_allocation_pool(Some(&gst::BufferPool::new()), 0, 0, 0);
        Ok(())
    }
}
