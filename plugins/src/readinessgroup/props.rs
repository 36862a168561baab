//! The properties of `readinessgroup`: the `codec-video-prep` flags that shape sampling,
//! scoring and grouping, with the CLI's names (dashes for underscores) and defaults, applied
//! to a [`PreinferConfig`]. Choice-valued flags are strings with the CLI's values.

use std::str::FromStr;

use codecprep_core::preinfer::PreinferConfig;
use gst::glib;
use gst::prelude::*;

/// How a property reads and writes its config field.
enum Field {
    Int(fn(&mut PreinferConfig) -> &mut i64, i64, i64),
    Double(fn(&mut PreinferConfig) -> &mut f64, f64, f64),
    Bool(fn(&mut PreinferConfig) -> &mut bool),
    Choice(
        fn(&PreinferConfig) -> &'static str,
        fn(&mut PreinferConfig, &str) -> Result<(), String>,
    ),
}

struct Property {
    name: &'static str,
    blurb: &'static str,
    field: Field,
}

fn parse_into<T: FromStr<Err = impl std::fmt::Display>>(
    target: &mut T,
    value: &str,
) -> Result<(), String> {
    *target = value.parse::<T>().map_err(|e| e.to_string())?;
    Ok(())
}

const PROPERTIES: &[Property] = &[
    Property {
        name: "num-sampled-frames",
        blurb: "Frames sampled by uniform_count (the CLI's --num_sampled_frames)",
        field: Field::Int(|c| &mut c.num_sampled_frames, 1, i32::MAX as i64),
    },
    Property {
        name: "frame-sampling-mode",
        blurb: "How frames are sampled: uniform_count, fps or all_frames",
        field: Field::Choice(
            |c| c.frame_sampling_mode.as_str(),
            |c, v| parse_into(&mut c.frame_sampling_mode, v),
        ),
    },
    Property {
        name: "sample-fps",
        blurb: "Frames per second sampled by fps sampling",
        field: Field::Double(|c| &mut c.sample_fps, 0.0, 1000.0),
    },
    Property {
        name: "grouping-mode",
        blurb: "readiness (grow groups until their best blocks carry enough bits) or fixed",
        field: Field::Choice(
            |c| c.grouping_mode.as_str(),
            |c, v| parse_into(&mut c.grouping_mode, v),
        ),
    },
    Property {
        name: "group-size",
        blurb: "Frames per group (fixed grouping; chunk size of the threshold estimate)",
        field: Field::Int(|c| &mut c.group_size, 1, i32::MAX as i64),
    },
    Property {
        name: "min-group-frames",
        blurb: "Fewest frames of a readiness group (at least 4)",
        field: Field::Int(|c| &mut c.min_group_frames, 0, i32::MAX as i64),
    },
    Property {
        name: "max-group-frames",
        blurb: "Most frames of a readiness group",
        field: Field::Int(|c| &mut c.max_group_frames, 0, i32::MAX as i64),
    },
    Property {
        name: "images-per-group",
        blurb: "Canvases per group",
        field: Field::Int(|c| &mut c.images_per_group, 1, 1024),
    },
    Property {
        name: "patch",
        blurb: "Patch side in pixels",
        field: Field::Int(|c| &mut c.patch, 1, 1024),
    },
    Property {
        name: "block-size",
        blurb: "Blocks are block-size x block-size patches",
        field: Field::Int(|c| &mut c.block_size, 1, 64),
    },
    Property {
        name: "max-pixels",
        blurb: "Pixel budget of the processed frame size (0: max-dim decides)",
        field: Field::Int(|c| &mut c.max_pixels, 0, i32::MAX as i64),
    },
    Property {
        name: "max-dim",
        blurb: "Longest side of the processed frame when max-pixels is 0",
        field: Field::Int(|c| &mut c.max_dim, 1, 65536),
    },
    Property {
        name: "bitcost-grid",
        blurb: "Grid the scores come from: adaptive, mb, ctu or sub",
        field: Field::Choice(
            |c| c.bitcost_grid.as_str(),
            |c, v| parse_into(&mut c.bitcost_grid, v),
        ),
    },
    Property {
        name: "readiness-sum-threshold",
        blurb: "Readiness threshold (legacy: used when positive; fixed: always)",
        field: Field::Double(|c| &mut c.readiness_sum_threshold, 0.0, f64::MAX),
    },
    Property {
        name: "readiness-sum-threshold-mode",
        blurb: "legacy, auto (both estimate from the whole video), fixed or clamped_sqrt_bpppf",
        field: Field::Choice(
            |c| c.readiness_sum_threshold_mode.as_str(),
            |c, v| parse_into(&mut c.readiness_sum_threshold_mode, v),
        ),
    },
    Property {
        name: "readiness-norm-sum-threshold",
        blurb: "Threshold of clamped_sqrt_bpppf before the bit-rate factor",
        field: Field::Double(|c| &mut c.readiness_norm_sum_threshold, 0.0, f64::MAX),
    },
    Property {
        name: "iframe-score-clip-mode",
        blurb: "none, or non_i_percentile (caps I-frame scores; needs the whole video)",
        field: Field::Choice(
            |c| c.iframe_score_clip_mode.as_str(),
            |c, v| parse_into(&mut c.iframe_score_clip_mode, v),
        ),
    },
    Property {
        name: "iframe-score-clip-percentile",
        blurb: "Percentile of the non-I frames' scores I frames are capped at",
        field: Field::Double(|c| &mut c.iframe_score_clip_percentile, 0.0, 100.0),
    },
    Property {
        name: "avoid-keyframes",
        blurb: "Move sampled frames off keyframes (the CLI's --avoid_keyframes)",
        field: Field::Bool(|c| &mut c.avoid_keyframes),
    },
    Property {
        name: "compat",
        blurb: "reference (reproduce the reference tool's outputs) or none (corrected)",
        field: Field::Choice(|c| c.compat.as_str(), |c, v| parse_into(&mut c.compat, v)),
    },
];

/// The GObject property specs.
pub fn specs() -> Vec<glib::ParamSpec> {
    let mut defaults = PreinferConfig::default();
    PROPERTIES
        .iter()
        .map(|p| match &p.field {
            Field::Int(get, min, max) => glib::ParamSpecInt64::builder(p.name)
                .blurb(p.blurb)
                .minimum(*min)
                .maximum(*max)
                .default_value(*get(&mut defaults))
                .mutable_ready()
                .build(),
            Field::Double(get, min, max) => glib::ParamSpecDouble::builder(p.name)
                .blurb(p.blurb)
                .minimum(*min)
                .maximum(*max)
                .default_value(*get(&mut defaults))
                .mutable_ready()
                .build(),
            Field::Bool(get) => glib::ParamSpecBoolean::builder(p.name)
                .blurb(p.blurb)
                .default_value(*get(&mut defaults))
                .mutable_ready()
                .build(),
            Field::Choice(get, _) => glib::ParamSpecString::builder(p.name)
                .blurb(p.blurb)
                .default_value(Some(get(&defaults)))
                .mutable_ready()
                .build(),
        })
        .collect()
}

fn find(name: &str) -> &'static Property {
    PROPERTIES
        .iter()
        .find(|p| p.name == name)
        .expect("only registered properties reach here")
}

/// Sets property `name` on `config`; a bad choice is refused with the reason.
pub fn set(config: &mut PreinferConfig, name: &str, value: &glib::Value) -> Result<(), String> {
    match &find(name).field {
        Field::Int(get, ..) => *get(config) = value.get::<i64>().map_err(|e| e.to_string())?,
        Field::Double(get, ..) => *get(config) = value.get::<f64>().map_err(|e| e.to_string())?,
        Field::Bool(get) => *get(config) = value.get::<bool>().map_err(|e| e.to_string())?,
        Field::Choice(_, put) => {
            let text = value.get::<Option<String>>().map_err(|e| e.to_string())?;
            put(config, text.as_deref().unwrap_or_default())?;
        }
    }
    Ok(())
}

/// Reads property `name` from `config`.
pub fn get(config: &PreinferConfig, name: &str) -> glib::Value {
    let mut copy = config.clone();
    match &find(name).field {
        Field::Int(get, ..) => (*get(&mut copy)).to_value(),
        Field::Double(get, ..) => (*get(&mut copy)).to_value(),
        Field::Bool(get) => (*get(&mut copy)).to_value(),
        Field::Choice(get, _) => get(config).to_value(),
    }
}
