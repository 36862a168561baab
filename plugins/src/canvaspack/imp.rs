//! The `canvaspack` element: collects a group's frames between `readinessgroup`'s events and
//! packs them with codecprep-core's `canvas::pack_group` when the group ends.

use std::sync::{LazyLock, Mutex, MutexGuard};

use codecprep_core::preinfer::canvas;
use codecprep_core::preinfer::geometry::Geometry;
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::CANVAS_STRUCTURE;
use crate::readinessgroup::{GROUP_END, GROUP_START};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "canvaspack",
        gst::DebugColorFlags::empty(),
        Some("codecprep canvas packing"),
    )
});

/// A group being collected.
struct Pending {
    group_index: u64,
    frame_ids: Vec<usize>,
    good: Vec<bool>,
    /// Frames x blocks per frame.
    scores: Vec<f32>,
    images_per_group: usize,
    budget: usize,
    buffers: Vec<gst::Buffer>,
    pts: Option<gst::ClockTime>,
}

#[derive(Default)]
struct State {
    geom: Option<Geometry>,
    group: Option<Pending>,
    /// Canvases pushed since the start (the CLI's file number).
    canvases: u64,
}

pub struct CanvasPack {
    sinkpad: gst::Pad,
    srcpad: gst::Pad,
    state: Mutex<State>,
}

/// The processed-frame geometry `readinessgroup` puts in its caps.
fn caps_geometry(caps: &gst::CapsRef) -> Result<Geometry, String> {
    let s = caps.structure(0).ok_or("empty caps")?;
    let field = |name: &'static str| {
        s.get::<i32>(name)
            .ok()
            .and_then(|v| usize::try_from(v).ok())
            .filter(|&v| v > 0)
            .ok_or_else(|| {
                format!("caps without {name}: canvaspack takes readinessgroup's output ({s})")
            })
    };
    let (w, h) = (field("width")?, field("height")?);
    let (patch, block) = (field("patch")?, field("block-size")?);
    let (hb, wb) = (field("grid-rows")?, field("grid-cols")?);
    if hb * patch != h || wb * patch != w || hb % block != 0 || wb % block != 0 {
        return Err(format!("caps with an inconsistent patch grid: {s}"));
    }
    Ok(Geometry {
        orig_h: h,
        orig_w: w,
        resize_h: h,
        resize_w: w,
        pad_bottom: 0,
        pad_right: 0,
        processed_h: h,
        processed_w: w,
        patch,
        block,
        hb,
        wb,
    })
}

fn group_start(s: &gst::StructureRef) -> Result<Pending, String> {
    let missing = |name: &str| format!("{GROUP_START} without {name}");
    let ids = s
        .get::<gst::Array>("frame-ids")
        .map_err(|_| missing("frame-ids"))?;
    let frame_ids = ids
        .iter()
        .map(|v| v.get::<u64>().map(|v| v as usize))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| missing("frame-ids"))?;
    let good = s
        .get::<gst::Array>("good")
        .map_err(|_| missing("good"))?
        .iter()
        .map(|v| v.get::<bool>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| missing("good"))?;
    let scores_buffer = s
        .get::<gst::Buffer>("block-scores")
        .map_err(|_| missing("block-scores"))?;
    let map = scores_buffer
        .map_readable()
        .map_err(|_| missing("block-scores"))?;
    let scores = map
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let number = |name: &str| {
        s.get::<u32>(name)
            .map(|v| v as usize)
            .map_err(|_| missing(name))
    };
    Ok(Pending {
        group_index: s
            .get::<u64>("group-index")
            .map_err(|_| missing("group-index"))?,
        frame_ids,
        good,
        scores,
        images_per_group: number("images-per-group")?,
        budget: number("block-budget")?,
        buffers: Vec::new(),
        pts: None,
    })
}

impl CanvasPack {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sink_chain(&self, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut state = self.state();
        let Some(group) = state.group.as_mut() else {
            drop(state);
            gst::element_imp_error!(
                self,
                gst::StreamError::Format,
                ["a frame outside a group: canvaspack takes readinessgroup's output"]
            );
            return Err(gst::FlowError::Error);
        };
        if group.buffers.is_empty() {
            group.pts = buffer.pts();
        }
        group.buffers.push(buffer);
        Ok(gst::FlowSuccess::Ok)
    }

    /// Packs the collected group and pushes its canvases.
    fn finish_group(&self) -> Result<(), String> {
        let (group, geom, first_canvas) = {
            let mut state = self.state();
            let group = state
                .group
                .take()
                .ok_or_else(|| format!("{GROUP_END} without {GROUP_START}"))?;
            let geom = state.geom.ok_or("a group before the caps")?;
            let first = state.canvases;
            state.canvases += group.images_per_group as u64;
            (group, geom, first)
        };
        let n = group.frame_ids.len();
        let per_frame = geom.blocks_per_frame();
        let frame_bytes = geom.processed_w * geom.processed_h * 3;
        if group.buffers.len() != n || group.good.len() != n || group.scores.len() != n * per_frame
        {
            return Err(format!(
                "group {} announced {n} frames and got {} frames, {} flags, {} block scores",
                group.group_index,
                group.buffers.len(),
                group.good.len(),
                group.scores.len()
            ));
        }
        let maps = group
            .buffers
            .iter()
            .map(|b| b.map_readable())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "an unreadable frame".to_owned())?;
        if maps.iter().any(|m| m.len() < frame_bytes) {
            return Err("a frame smaller than its caps".to_owned());
        }
        let frames: Vec<&[u8]> = maps.iter().map(|m| &m[..frame_bytes]).collect();
        let scores: Vec<&[f32]> = group.scores.chunks_exact(per_frame).collect();
        let packed = canvas::pack_group(
            &group.frame_ids,
            &frames,
            &scores,
            &group.good,
            &geom,
            group.images_per_group,
            group.budget,
        );
        let cells = geom.s_full();
        let ids = gst::Array::new(group.frame_ids.iter().map(|&id| id as u64));
        for (i, pixels) in packed.canvases.into_iter().enumerate() {
            let mut positions = Vec::with_capacity(cells * 12);
            for p in &packed.positions[i * cells..(i + 1) * cells] {
                for v in p {
                    positions.extend_from_slice(&v.to_le_bytes());
                }
            }
            let s = gst::Structure::builder(CANVAS_STRUCTURE)
                .field("canvas-index", first_canvas + i as u64)
                .field("group-index", group.group_index)
                .field("frame-ids", ids.clone())
                .field("positions", gst::Buffer::from_mut_slice(positions))
                .build();
            let _ = self.obj().post_message(
                gst::message::Element::builder(s.clone())
                    .src(&*self.obj())
                    .build(),
            );
            self.srcpad.push_event(gst::event::CustomDownstream::new(s));
            let mut buffer = gst::Buffer::from_mut_slice(pixels);
            {
                let buffer = buffer.get_mut().expect("a new buffer");
                buffer.set_pts(group.pts);
                buffer.set_offset(first_canvas + i as u64);
            }
            if let Err(e) = self.srcpad.push(buffer) {
                gst::debug!(CAT, imp = self, "pushing canvas: {e:?}");
                return Ok(());
            }
        }
        Ok(())
    }

    fn sink_event(&self, pad: &gst::Pad, event: gst::Event) -> bool {
        use gst::EventView;
        match event.view() {
            EventView::Caps(c) => match caps_geometry(c.caps()) {
                Ok(geom) => {
                    let caps = gst_video::VideoCapsBuilder::new()
                        .format(gst_video::VideoFormat::Rgb)
                        .width((geom.wb * geom.patch) as i32)
                        .height((geom.hb * geom.patch) as i32)
                        .framerate(gst::Fraction::new(0, 1))
                        .build();
                    self.state().geom = Some(geom);
                    self.srcpad.push_event(gst::event::Caps::new(&caps))
                }
                Err(e) => {
                    gst::element_imp_error!(self, gst::CoreError::Negotiation, ["{e}"]);
                    false
                }
            },
            EventView::CustomDownstream(c) => {
                let Some(s) = c.structure() else {
                    return gst::Pad::event_default(pad, Some(&*self.obj()), event);
                };
                let result = if s.name() == GROUP_START {
                    group_start(s).map(|g| self.state().group = Some(g))
                } else if s.name() == GROUP_END {
                    self.finish_group()
                } else {
                    return gst::Pad::event_default(pad, Some(&*self.obj()), event);
                };
                match result {
                    Ok(()) => true,
                    Err(e) => {
                        gst::element_imp_error!(self, gst::StreamError::Format, ["{e}"]);
                        false
                    }
                }
            }
            EventView::FlushStop(_) => {
                self.state().group = None;
                gst::Pad::event_default(pad, Some(&*self.obj()), event)
            }
            _ => gst::Pad::event_default(pad, Some(&*self.obj()), event),
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for CanvasPack {
    const NAME: &'static str = "GstCanvasPack";
    type Type = super::CanvasPack;
    type ParentType = gst::Element;

    fn with_class(klass: &Self::Class) -> Self {
        let sinkpad = gst::Pad::builder_from_template(&klass.pad_template("sink").expect("sink"))
            .chain_function(|_pad, parent, buffer| {
                CanvasPack::catch_panic_pad_function(
                    parent,
                    || Err(gst::FlowError::Error),
                    |imp| imp.sink_chain(buffer),
                )
            })
            .event_function(|pad, parent, event| {
                CanvasPack::catch_panic_pad_function(
                    parent,
                    || false,
                    |imp| imp.sink_event(pad, event),
                )
            })
            .build();
        let srcpad =
            gst::Pad::builder_from_template(&klass.pad_template("src").expect("src")).build();
        Self {
            sinkpad,
            srcpad,
            state: Mutex::new(State::default()),
        }
    }
}

impl ObjectImpl for CanvasPack {
    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.add_pad(&self.sinkpad).expect("add the sink pad");
        obj.add_pad(&self.srcpad).expect("add the src pad");
    }
}

impl GstObjectImpl for CanvasPack {}

impl ElementImpl for CanvasPack {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Canvas packing",
                "Filter/Video",
                "Packs the best bit-cost blocks of each readinessgroup group into RGB canvases \
                 as codec-video-prep does",
                "codecprep developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let sink_caps = gst_video::VideoCapsBuilder::new()
                .format(gst_video::VideoFormat::Bgr)
                .build();
            let src_caps = gst_video::VideoCapsBuilder::new()
                .format(gst_video::VideoFormat::Rgb)
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
            *self.state() = State::default();
        }
        self.parent_change_state(transition)
    }
}
