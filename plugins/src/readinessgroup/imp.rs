//! The `readinessgroup` element: pads, events, queries and the glue between buffers and the
//! [`Engine`](super::engine::Engine).
//!
//! Locking: `settings` is read once when the first frame arrives; `state` is held while a
//! frame is handed to the engine, never while anything is pushed downstream.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use codecprep_core::PixelFormat;
use codecprep_core::ffmpeg::{Picture, PictureScaler, PlanarFormat, Plane};
use codecprep_core::preinfer::PreinferConfig;
use codecprep_core::preinfer::frames;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_video::prelude::*;

use super::engine::{DroppedOut, Engine, FrameIn, GroupOut, Kept, Outputs, StreamFacts};
use super::{GROUP_END, GROUP_START, props};
use crate::meta::BitcostMeta;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "readinessgroup",
        gst::DebugColorFlags::empty(),
        Some("codecprep readiness grouping"),
    )
});

/// Raw formats bitcostdec outputs.
const SINK_FORMATS: [gst_video::VideoFormat; 7] = [
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Y42b,
    gst_video::VideoFormat::Y444,
    gst_video::VideoFormat::I42010le,
    gst_video::VideoFormat::I42210le,
    gst_video::VideoFormat::Y44410le,
    gst_video::VideoFormat::Gray8,
];

#[derive(Default)]
struct State {
    info: Option<gst_video::VideoInfo>,
    engine: Option<Engine>,
    scaler: PictureScaler,
    /// Display position of the next frame.
    next_index: usize,
    /// Upstream's latest bit rate tag, until the engine exists.
    bit_rate: Option<f64>,
    /// Upstream latency (live, min, max), learnt when the engine is made.
    upstream_live: bool,
}

pub struct ReadinessGroup {
    sinkpad: gst::Pad,
    srcpad: gst::Pad,
    settings: Mutex<PreinferConfig>,
    state: Mutex<State>,
}

/// Buffer memory that shares a kept frame's pixels instead of copying them.
struct SharedPixels(Arc<Kept>);

impl AsRef<[u8]> for SharedPixels {
    fn as_ref(&self) -> &[u8] {
        &self.0.prepared.pixels
    }
}

fn planar_format(format: gst_video::VideoFormat) -> Option<PlanarFormat> {
    use gst_video::VideoFormat as F;
    Some(match format {
        F::I420 => PlanarFormat::Yuv420p,
        F::Y42b => PlanarFormat::Yuv422p,
        F::Y444 => PlanarFormat::Yuv444p,
        F::I42010le => PlanarFormat::Yuv420p10,
        F::I42210le => PlanarFormat::Yuv422p10,
        F::Y44410le => PlanarFormat::Yuv444p10,
        F::Gray8 => PlanarFormat::Gray8,
        _ => return None,
    })
}

/// The frame's pixels as packed BGR at `width` x `height` (SWS_AREA, as the CLI).
fn scale_frame(
    scaler: &mut PictureScaler,
    buffer: &gst::BufferRef,
    info: &gst_video::VideoInfo,
    (width, height): (usize, usize),
) -> Result<Vec<u8>, String> {
    let format = planar_format(info.format()).ok_or("unsupported raw format")?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, info)
        .map_err(|_| "unreadable video buffer".to_owned())?;
    let mut planes = Vec::with_capacity(format.planes());
    for index in 0..format.planes() {
        let (w, h) = format.plane_size(index, info.width(), info.height());
        let stride = usize::try_from(frame.plane_stride()[index]).map_err(|e| e.to_string())?;
        let data = frame
            .plane_data(index as u32)
            .map_err(|e| format!("plane {index}: {e}"))?;
        planes.push(Plane {
            data,
            stride,
            row_bytes: w as usize * format.bytes_per_sample(),
            rows: h as usize,
        });
    }
    let picture = Picture {
        format,
        full_range: info.colorimetry().range() == gst_video::VideoColorRange::Range0_255,
        width: info.width(),
        height: info.height(),
        planes,
    };
    scaler
        .convert(&picture, width as u32, height as u32, PixelFormat::Bgr)
        .map_err(|e| e.to_string())
}

impl ReadinessGroup {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn config(&self) -> PreinferConfig {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What upstream knows: frame count from the duration and frame rate, liveness.
    fn stream_facts(&self, info: &gst_video::VideoInfo) -> StreamFacts {
        let fps = info.fps();
        let fps = if fps.numer() > 0 && fps.denom() > 0 {
            f64::from(fps.numer()) / f64::from(fps.denom())
        } else {
            0.0
        };
        let total_frames = self
            .sinkpad
            .peer_query_duration::<gst::ClockTime>()
            .filter(|_| fps > 0.0)
            .map(|d| (d.nseconds() as f64 / 1e9 * fps).round() as usize)
            .filter(|&n| n > 0);
        let mut latency = gst::query::Latency::new();
        let live = self.sinkpad.peer_query(&mut latency) && latency.result().0;
        StreamFacts {
            total_frames,
            fps,
            width: info.width() as usize,
            height: info.height() as usize,
            live,
        }
    }

    fn sink_chain(&self, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let Some(meta) = buffer.meta::<BitcostMeta>() else {
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["a frame without the bit-cost meta: put bitcostdec before readinessgroup"]
            );
            return Err(gst::FlowError::Error);
        };
        let map = meta.shared_map();
        let (info, needs_engine) = {
            let state = self.state();
            (state.info.clone(), state.engine.is_none())
        };
        let Some(info) = info else {
            return Err(gst::FlowError::NotNegotiated);
        };
        // Queried upstream without holding the state lock.
        let facts = needs_engine.then(|| self.stream_facts(&info));
        let mut state = self.state();
        if let Some(facts) = facts {
            gst::debug!(CAT, imp = self, "stream: {facts:?}");
            match Engine::new(self.config(), facts) {
                Ok(mut engine) => {
                    if let Some(rate) = state.bit_rate {
                        engine.set_bit_rate(rate);
                    }
                    state.upstream_live = facts.live;
                    state.engine = Some(engine);
                }
                Err(e) => {
                    drop(state);
                    gst::element_imp_error!(self, gst::LibraryError::Settings, ["{e}"]);
                    return Err(gst::FlowError::NotNegotiated);
                }
            }
        }
        let index = state.next_index;
        state.next_index += 1;
        let State { engine, scaler, .. } = &mut *state;
        let engine = engine.as_mut().expect("made above");
        let pixels = if engine.wants_pixels(index) {
            let size = frames::scaled_size(engine.config().compat, engine.geometry());
            match scale_frame(scaler, &buffer, &info, size) {
                Ok(p) => Some(p),
                Err(e) => {
                    drop(state);
                    gst::element_imp_error!(self, gst::StreamError::Decode, ["frame {index}: {e}"]);
                    return Err(gst::FlowError::Error);
                }
            }
        } else {
            None
        };
        let frame = FrameIn {
            index,
            keyframe: crate::meta::is_keyframe(&buffer),
            pts: buffer.pts().map(gst::ClockTime::nseconds),
            map,
        };
        let outputs = engine.push(frame, pixels);
        drop(state);
        self.push_outputs(outputs)
    }

    fn push_outputs(&self, outputs: Outputs) -> Result<gst::FlowSuccess, gst::FlowError> {
        for dropped in &outputs.dropped {
            self.post_dropped(dropped);
        }
        for group in outputs.groups {
            self.push_group(group)?;
        }
        Ok(gst::FlowSuccess::Ok)
    }

    fn post_dropped(&self, dropped: &DroppedOut) {
        let s = gst::Structure::builder("codecprep-dropped")
            .field("start", dropped.start as u64)
            .field("end", dropped.end as u64)
            .field("reason", dropped.reason)
            .build();
        let _ = self
            .obj()
            .post_message(gst::message::Element::builder(s).src(&*self.obj()).build());
    }

    fn push_group(&self, group: GroupOut) -> Result<gst::FlowSuccess, gst::FlowError> {
        let spec = &group.spec;
        let ids = gst::Array::new(group.frames.iter().map(|f| f.id as u64));
        let mut scores = Vec::new();
        for frame in &group.frames {
            for s in frame.scores.iter() {
                scores.extend_from_slice(&s.to_le_bytes());
            }
        }
        let good = gst::Array::new(group.frames.iter().map(|f| f.frame.prepared.good));
        let (budget, ipg) = {
            let state = self.state();
            let engine = state.engine.as_ref().ok_or(gst::FlowError::Flushing)?;
            let ipg = engine.config().images_per_group_n();
            (engine.geometry().block_budget(ipg), ipg)
        };
        let mut start = gst::Structure::builder(GROUP_START)
            .field("group-index", spec.group_idx as u64)
            .field("frame-ids", ids.clone())
            .field("start", spec.start as u64)
            .field("end", spec.end as u64)
            .field("stop-reason", spec.stop_reason)
            .field("images-per-group", ipg as u32)
            .field("block-budget", budget as u32)
            .field("good", good)
            .field("block-scores", gst::Buffer::from_mut_slice(scores));
        if let Some(stats) = &spec.readiness {
            start = start.field("topk-sum", f64::from(stats.topk_sum));
        }
        let start = start.build();
        if !self
            .srcpad
            .push_event(gst::event::CustomDownstream::new(start))
        {
            gst::debug!(CAT, imp = self, "downstream refused the group-start event");
        }
        for frame in &group.frames {
            let mut buffer = gst::Buffer::from_slice(SharedPixels(Arc::clone(&frame.frame)));
            {
                let buffer = buffer.get_mut().expect("a new buffer");
                buffer.set_pts(frame.frame.pts.map(gst::ClockTime::from_nseconds));
                buffer.set_offset(frame.id as u64);
            }
            self.srcpad.push(buffer)?;
        }
        let end = gst::Structure::builder(GROUP_END)
            .field("group-index", spec.group_idx as u64)
            .field("frame-ids", ids)
            .field("stop-reason", spec.stop_reason)
            .build();
        self.srcpad
            .push_event(gst::event::CustomDownstream::new(end));
        Ok(gst::FlowSuccess::Ok)
    }

    /// Output caps for input `info`: BGR at the processed size, with the patch grid.
    fn output_caps(&self, info: &gst_video::VideoInfo) -> Result<gst::Caps, String> {
        let config = self.config();
        let geom = frames::frame_geometry(&config, info.width() as usize, info.height() as usize)
            .map_err(|e| format!("{}x{} frames: {e}", info.width(), info.height()))?;
        Ok(gst_video::VideoCapsBuilder::new()
            .format(gst_video::VideoFormat::Bgr)
            .width(geom.processed_w as i32)
            .height(geom.processed_h as i32)
            .framerate(info.fps())
            .field("patch", geom.patch as i32)
            .field("block-size", geom.block as i32)
            .field("grid-rows", geom.hb as i32)
            .field("grid-cols", geom.wb as i32)
            .build())
    }

    fn sink_event(&self, pad: &gst::Pad, event: gst::Event) -> bool {
        use gst::EventView;
        match event.view() {
            EventView::Caps(c) => {
                let info = match gst_video::VideoInfo::from_caps(c.caps()) {
                    Ok(info) => info,
                    Err(e) => {
                        gst::element_imp_error!(self, gst::CoreError::Negotiation, ["{e}"]);
                        return false;
                    }
                };
                {
                    let mut state = self.state();
                    if let Some(old) = &state.info
                        && state.engine.is_some()
                        && (old.width(), old.height()) != (info.width(), info.height())
                    {
                        drop(state);
                        gst::element_imp_error!(
                            self,
                            gst::StreamError::Format,
                            ["the frame size changed mid-stream; the processed size cannot"]
                        );
                        return false;
                    }
                    state.info = Some(info.clone());
                }
                match self.output_caps(&info) {
                    Ok(caps) => self.srcpad.push_event(gst::event::Caps::new(&caps)),
                    Err(e) => {
                        gst::element_imp_error!(self, gst::CoreError::Negotiation, ["{e}"]);
                        false
                    }
                }
            }
            EventView::Tag(t) => {
                let tags = t.tag();
                let rate = tags
                    .get::<gst::tags::Bitrate>()
                    .or_else(|| tags.get::<gst::tags::NominalBitrate>())
                    .map(|v| f64::from(v.get()));
                if let Some(rate) = rate.filter(|&r| r > 0.0) {
                    let mut state = self.state();
                    state.bit_rate = Some(rate);
                    if let Some(engine) = state.engine.as_mut() {
                        engine.set_bit_rate(rate);
                    }
                }
                gst::Pad::event_default(pad, Some(&*self.obj()), event)
            }
            EventView::Eos(_) => {
                let result = self.state().engine.as_mut().map(Engine::finish);
                match result {
                    Some(Ok(outputs)) => {
                        if let Err(e) = self.push_outputs(outputs) {
                            gst::debug!(CAT, imp = self, "pushing the last groups: {e:?}");
                        }
                    }
                    Some(Err(e)) => {
                        gst::element_imp_error!(self, gst::StreamError::Failed, ["{e}"]);
                    }
                    None => {}
                }
                gst::Pad::event_default(pad, Some(&*self.obj()), event)
            }
            EventView::FlushStop(_) => {
                self.reset();
                gst::Pad::event_default(pad, Some(&*self.obj()), event)
            }
            _ => gst::Pad::event_default(pad, Some(&*self.obj()), event),
        }
    }

    fn reset(&self) {
        let mut state = self.state();
        state.engine = None;
        state.next_index = 0;
    }

    fn src_query(&self, pad: &gst::Pad, query: &mut gst::QueryRef) -> bool {
        if let gst::QueryViewMut::Latency(q) = query.view_mut() {
            let mut upstream = gst::query::Latency::new();
            if !self.sinkpad.peer_query(&mut upstream) {
                return false;
            }
            let (live, min, max) = upstream.result();
            let (info, engine_delay) = {
                let state = self.state();
                (
                    state.info.clone(),
                    state.engine.as_ref().map(Engine::delay_frames),
                )
            };
            let frame = info
                .as_ref()
                .and_then(|i| {
                    let fps = i.fps();
                    (fps.numer() > 0).then(|| {
                        gst::ClockTime::SECOND
                            .mul_div_floor(fps.denom() as u64, fps.numer() as u64)
                            .unwrap_or(gst::ClockTime::ZERO)
                    })
                })
                .unwrap_or(gst::ClockTime::ZERO);
            let delay = match engine_delay {
                Some(Some(frames)) => Some(frame * frames as u64),
                Some(None) => None,
                // Before the first frame: the delay the settings will give.
                None => Some(frame * self.expected_delay_frames(info.as_ref()) as u64),
            };
            match delay {
                Some(d) => q.set(live, min + d, max.map(|m| m + d)),
                None => q.set(live, min, gst::ClockTime::NONE),
            }
            gst::debug!(CAT, imp = self, "latency {:?}", q.result());
            return true;
        }
        gst::Pad::query_default(pad, Some(&*self.obj()), query)
    }

    /// The delay of a streaming engine with the current settings (the grouping delay of a
    /// live stream, which is the only kind whose latency matters).
    fn expected_delay_frames(&self, info: Option<&gst_video::VideoInfo>) -> usize {
        let Some(info) = info else {
            return 0;
        };
        let facts = StreamFacts {
            total_frames: None,
            fps: 0.0,
            width: info.width() as usize,
            height: info.height() as usize,
            live: true,
        };
        Engine::new(self.config(), facts)
            .ok()
            .and_then(|e| e.delay_frames())
            .unwrap_or(0)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for ReadinessGroup {
    const NAME: &'static str = "GstReadinessGroup";
    type Type = super::ReadinessGroup;
    type ParentType = gst::Element;

    fn with_class(klass: &Self::Class) -> Self {
        let sinkpad = gst::Pad::builder_from_template(&klass.pad_template("sink").expect("sink"))
            .chain_function(|_pad, parent, buffer| {
                ReadinessGroup::catch_panic_pad_function(
                    parent,
                    || Err(gst::FlowError::Error),
                    |imp| imp.sink_chain(buffer),
                )
            })
            .event_function(|pad, parent, event| {
                ReadinessGroup::catch_panic_pad_function(
                    parent,
                    || false,
                    |imp| imp.sink_event(pad, event),
                )
            })
            .build();
        let srcpad = gst::Pad::builder_from_template(&klass.pad_template("src").expect("src"))
            .query_function(|pad, parent, query| {
                ReadinessGroup::catch_panic_pad_function(
                    parent,
                    || false,
                    |imp| imp.src_query(pad, query),
                )
            })
            .build();
        Self {
            sinkpad,
            srcpad,
            // The job's settings without files: the stream is the video, the pipeline the output.
            settings: Mutex::new(PreinferConfig::new("<stream>", "<pipeline>")),
            state: Mutex::new(State::default()),
        }
    }
}

impl ObjectImpl for ReadinessGroup {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(props::specs);
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = props::set(&mut settings, pspec.name(), value) {
            gst::warning!(
                CAT,
                imp = self,
                "{}: {e}; keeping the old value",
                pspec.name()
            );
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        props::get(
            &self.settings.lock().unwrap_or_else(|e| e.into_inner()),
            pspec.name(),
        )
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.add_pad(&self.sinkpad).expect("add the sink pad");
        obj.add_pad(&self.srcpad).expect("add the src pad");
    }
}

impl GstObjectImpl for ReadinessGroup {}

impl ElementImpl for ReadinessGroup {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Readiness grouping",
                "Filter/Video",
                "Samples, scores and groups frames carrying the bit-cost meta as \
                 codec-video-prep does, and outputs each group's frames at the processed size",
                "codecprep developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink_caps = gst_video::VideoCapsBuilder::new()
                .format_list(SINK_FORMATS)
                .build();
            let src_caps = gst_video::VideoCapsBuilder::new()
                .format(gst_video::VideoFormat::Bgr)
                .build();
            crate::pads::always_sink_and_src(&sink_caps, &src_caps)
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::ReadyToPaused {
            let config = self.config();
            if let Err(e) = config.validate() {
                gst::element_imp_error!(self, gst::LibraryError::Settings, ["invalid setting {e}"]);
                return Err(gst::StateChangeError);
            }
            *self.state() = State::default();
        }
        let result = self.parent_change_state(transition)?;
        if transition == gst::StateChange::PausedToReady {
            *self.state() = State::default();
        }
        Ok(result)
    }
}
