//! The `blinkdedupe` element: an in-place `BaseTransform` that passes buffers through
//! untouched or drops them (`BASE_TRANSFORM_FLOW_DROPPED`).
//!
//! Locking: `settings` and `state` are short-lived locks; the drop message is posted after
//! the state lock is released.

use std::sync::{LazyLock, Mutex, MutexGuard};

use codecprep_core::blink::{PerceptualHash, PerceptualHasher};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::prelude::*;
use image::GrayImage;

use super::Mode;
use crate::meta::BitcostMeta;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "blinkdedupe",
        gst::DebugColorFlags::empty(),
        Some("codecprep near-duplicate frame dropper"),
    )
});

const DEFAULT_MODE: Mode = Mode::Hash;
const DEFAULT_THRESHOLD: u32 = 4;
const DEFAULT_HASH_SIZE: u32 = 8;
const DEFAULT_ACTIVITY_THRESHOLD: f64 = 0.05;
const DEFAULT_MAX_INTERVAL: u64 = 5_000_000_000;
/// Longest side of the grey picture that is hashed: the hash looks at a 2 * hash-size
/// square, so a box-averaged thumbnail keeps all it needs and costs one read of the luma.
const HASHED_SIDE: u32 = 128;

/// 8-bit formats whose luma (or RGB) is read directly.
const FORMATS: &str = "{ GRAY8, I420, YV12, NV12, NV21, Y41B, Y42B, Y444, YUY2, UYVY, YVYU, \
                       AYUV, VUYA, RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR }";

#[derive(Debug, Clone, Copy)]
struct Settings {
    mode: Mode,
    threshold: u32,
    hash_size: u32,
    activity_threshold: f64,
    max_interval: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: DEFAULT_MODE,
            threshold: DEFAULT_THRESHOLD,
            hash_size: DEFAULT_HASH_SIZE,
            activity_threshold: DEFAULT_ACTIVITY_THRESHOLD,
            max_interval: DEFAULT_MAX_INTERVAL,
        }
    }
}

#[derive(Default)]
struct State {
    info: Option<gst_video::VideoInfo>,
    hasher: Option<PerceptualHasher>,
    /// Whether a frame was kept since start (the first frame always is).
    any_kept: bool,
    last_hash: Option<PerceptualHash>,
    last_pts: Option<gst::ClockTime>,
    /// Bits per pixel of the frames since the last kept one, this one included.
    activity: f64,
    kept: u64,
    dropped: u64,
}

#[derive(Default)]
pub struct BlinkDedupe {
    settings: Mutex<Settings>,
    state: Mutex<State>,
}

/// Why a frame was dropped, for the element message.
struct Drop {
    distance: Option<u32>,
    activity: Option<f64>,
    pts: Option<gst::ClockTime>,
}

impl BlinkDedupe {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn settings(&self) -> Settings {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decides about one buffer; `Some` when it is dropped.
    fn judge(&self, buffer: &gst::BufferRef) -> Result<Option<Drop>, gst::FlowError> {
        let settings = self.settings();
        let mut state = self.state();
        let Some(info) = state.info.clone() else {
            gst::error!(CAT, imp = self, "no caps before the first buffer");
            return Err(gst::FlowError::NotNegotiated);
        };
        let pixels = u64::from(info.width()) * u64::from(info.height());
        let activity = buffer
            .meta::<BitcostMeta>()
            .filter(|_| pixels > 0)
            .map(|meta| meta.map().total_bits().max(0) as f64 / pixels as f64);
        let needs_hash = settings.mode != Mode::Activity || activity.is_none();
        let hash = if needs_hash {
            if state.hasher.as_ref().map(PerceptualHasher::side) != Some(settings.hash_size) {
                state.hasher = PerceptualHasher::new(settings.hash_size);
            }
            let hasher = state.hasher.as_ref().ok_or(gst::FlowError::NotNegotiated)?;
            Some(hasher.hash(&grey_thumbnail(buffer, &info)?))
        } else {
            None
        };
        state.activity += activity.unwrap_or(0.0);
        let distance = match (&hash, &state.last_hash) {
            (Some(a), Some(b)) => a.distance(b),
            _ => None,
        };
        let similar_hash = distance.map(|d| d <= settings.threshold);
        let similar_activity = activity.map(|_| state.activity <= settings.activity_threshold);
        let similar = match settings.mode {
            Mode::Hash => similar_hash.unwrap_or(false),
            Mode::Activity => similar_activity.or(similar_hash).unwrap_or(false),
            Mode::Both => {
                similar_hash.unwrap_or(false) && similar_activity.unwrap_or(true)
                    || similar_hash.is_none() && similar_activity.unwrap_or(false)
            }
        };
        let pts = buffer.pts();
        let interval_due = settings.max_interval > 0
            && matches!((pts, state.last_pts), (Some(now), Some(last))
                if now.nseconds().saturating_sub(last.nseconds()) >= settings.max_interval);
        if !state.any_kept || !similar || interval_due {
            gst::trace!(
                CAT,
                imp = self,
                "keeping {pts:?}: distance {distance:?}, activity {:.4}",
                state.activity
            );
            state.any_kept = true;
            if hash.is_some() {
                state.last_hash = hash;
            }
            state.last_pts = pts.or(state.last_pts);
            state.activity = 0.0;
            state.kept += 1;
            return Ok(None);
        }
        state.dropped += 1;
        Ok(Some(Drop {
            distance,
            activity: activity.map(|_| state.activity),
            pts,
        }))
    }
}

/// One 8-bit colour component of a mapped frame.
struct Component<'a> {
    data: &'a [u8],
    stride: usize,
    /// Bytes from one pixel to the next in a row.
    step: usize,
    offset: usize,
}

impl Component<'_> {
    /// Row `y`, starting at the component's first byte (empty past the plane's end).
    fn row(&self, y: usize) -> &[u8] {
        self.data
            .get(y * self.stride + self.offset..)
            .unwrap_or(&[])
    }
}

/// Value of pixel `x` in a row from [`Component::row`] (0 past the row's end).
fn at(row: &[u8], step: usize, x: usize) -> u32 {
    u32::from(row.get(x * step).copied().unwrap_or(0))
}

/// Where the grey of a pixel comes from.
enum Grey<'a> {
    Luma(Component<'a>),
    Rgb([Component<'a>; 3]),
}

impl Grey<'_> {
    /// Adds the grey of pixels `xs` of row `y` to `sum`.
    fn add_row(&self, y: usize, xs: std::ops::Range<usize>, sum: &mut u32) {
        match self {
            Self::Luma(l) => {
                let row = l.row(y);
                for x in xs {
                    *sum += at(row, l.step, x);
                }
            }
            Self::Rgb([r, g, b]) => {
                let (rr, gr, br) = (r.row(y), g.row(y), b.row(y));
                for x in xs {
                    // BT.601 weights in 1/256.
                    *sum +=
                        (77 * at(rr, r.step, x) + 150 * at(gr, g.step, x) + 29 * at(br, b.step, x))
                            >> 8;
                }
            }
        }
    }
}

/// The frame's luma (or the grey of its RGB) box-averaged down to at most `HASHED_SIDE`.
///
/// The whole frame is read here on every buffer: each row's start is found once and the
/// colour layout is decided per row, so the per-pixel work is the reads and the sum.
fn grey_thumbnail(
    buffer: &gst::BufferRef,
    info: &gst_video::VideoInfo,
) -> Result<GrayImage, gst::FlowError> {
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, info).map_err(|_| {
        gst::error!(CAT, "cannot map the buffer as a video frame");
        gst::FlowError::Error
    })?;
    let format = info.format_info();
    let component = |c: usize| -> Result<Component<'_>, gst::FlowError> {
        let plane = format.plane()[c];
        Ok(Component {
            data: frame.plane_data(plane).map_err(|_| gst::FlowError::Error)?,
            stride: frame.plane_stride()[plane as usize] as usize,
            step: format.pixel_stride()[c] as usize,
            offset: format.poffset()[c] as usize,
        })
    };
    let grey = if format.is_rgb() {
        Grey::Rgb([component(0)?, component(1)?, component(2)?])
    } else {
        Grey::Luma(component(0)?)
    };
    let (width, height) = (info.width().max(1), info.height().max(1));
    let block = width.max(height).div_ceil(HASHED_SIDE).max(1);
    let (out_w, out_h) = ((width / block).max(1), (height / block).max(1));
    let (width, height, block) = (width as usize, height as usize, block as usize);
    let mut picture = GrayImage::new(out_w, out_h);
    for (oy, out_row) in picture.chunks_exact_mut(out_w as usize).enumerate() {
        let rows = oy * block..((oy + 1) * block).min(height);
        for (ox, out) in out_row.iter_mut().enumerate() {
            let cols = ox * block..((ox + 1) * block).min(width);
            let mut sum = 0u32;
            for y in rows.clone() {
                grey.add_row(y, cols.clone(), &mut sum);
            }
            let count = (rows.len() * cols.len()) as u32;
            *out = (sum / count.max(1)) as u8;
        }
    }
    Ok(picture)
}

#[glib::object_subclass]
impl ObjectSubclass for BlinkDedupe {
    const NAME: &'static str = "GstBlinkDedupe";
    type Type = super::BlinkDedupe;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for BlinkDedupe {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecEnum::builder_with_default("mode", DEFAULT_MODE)
                    .nick("Mode")
                    .blurb("How similarity to the last kept frame is measured")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("threshold")
                    .nick("Threshold")
                    .blurb("Largest perceptual hash distance (bits) of a frame that is dropped")
                    .maximum(32 * 32)
                    .default_value(DEFAULT_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("hash-size")
                    .nick("Hash size")
                    .blurb("Bits per side of the perceptual hash (even, 4 to 32)")
                    .minimum(4)
                    .maximum(32)
                    .default_value(DEFAULT_HASH_SIZE)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecDouble::builder("activity-threshold")
                    .nick("Activity threshold")
                    .blurb(
                        "Largest bit cost (bits per pixel) since the last kept frame of a \
                         frame that is dropped (activity and both modes)",
                    )
                    .minimum(0.0)
                    .default_value(DEFAULT_ACTIVITY_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("max-interval")
                    .nick("Maximum interval")
                    .blurb(
                        "Stream time (ns) after which a frame is kept whatever its \
                         similarity (0 = no limit)",
                    )
                    .default_value(DEFAULT_MAX_INTERVAL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("kept")
                    .nick("Kept")
                    .blurb("Frames passed on since the element started")
                    .read_only()
                    .build(),
                glib::ParamSpecUInt64::builder("dropped")
                    .nick("Dropped")
                    .blurb("Frames dropped since the element started")
                    .read_only()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        match pspec.name() {
            "mode" => settings.mode = value.get().expect("type checked upstream"),
            "threshold" => settings.threshold = value.get().expect("type checked upstream"),
            "hash-size" => {
                let size: u32 = value.get().expect("type checked upstream");
                // The hash is stored in whole bytes: odd sizes round down.
                settings.hash_size = size & !1;
            }
            "activity-threshold" => {
                settings.activity_threshold = value.get().expect("type checked upstream");
            }
            "max-interval" => settings.max_interval = value.get().expect("type checked upstream"),
            name => unimplemented!("property {name}"),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = self.settings();
        match pspec.name() {
            "mode" => settings.mode.to_value(),
            "threshold" => settings.threshold.to_value(),
            "hash-size" => settings.hash_size.to_value(),
            "activity-threshold" => settings.activity_threshold.to_value(),
            "max-interval" => settings.max_interval.to_value(),
            "kept" => self.state().kept.to_value(),
            "dropped" => self.state().dropped.to_value(),
            name => unimplemented!("property {name}"),
        }
    }
}

impl GstObjectImpl for BlinkDedupe {}

impl ElementImpl for BlinkDedupe {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Blink near-duplicate frame dropper",
                "Filter/Video",
                "Drops frames too similar to the last kept frame (perceptual hash and/or \
                 bit-cost activity)",
                "codecprep developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = format!("video/x-raw, format=(string){FORMATS}")
                .parse::<gst::Caps>()
                .expect("valid caps");
            crate::pads::always_sink_and_src(&caps, &caps)
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for BlinkDedupe {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = true;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = true;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let info = self.state().info.take();
        *self.state() = State {
            info,
            ..State::default()
        };
        Ok(())
    }

    fn set_caps(&self, incaps: &gst::Caps, _outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(CAT, "cannot parse caps {incaps}"))?;
        gst::debug!(CAT, imp = self, "negotiated {incaps}");
        self.state().info = Some(info);
        Ok(())
    }

    fn transform_ip_passthrough(
        &self,
        buffer: &gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        let Some(drop) = self.judge(buffer)? else {
            return Ok(gst::FlowSuccess::Ok);
        };
        let mut structure = gst::Structure::builder("blinkdedupe-drop");
        if let Some(distance) = drop.distance {
            structure = structure.field("distance", distance);
        }
        if let Some(activity) = drop.activity {
            structure = structure.field("activity", activity);
        }
        if let Some(pts) = drop.pts {
            structure = structure.field("pts", pts.nseconds());
        }
        let obj = self.obj();
        let message = gst::message::Element::builder(structure.build())
            .src(&*obj)
            .build();
        let _ = obj.post_message(message);
        Ok(gst_base::BASE_TRANSFORM_FLOW_DROPPED)
    }
}
