//! Builds `filesrc ! parsebin ! bitcostdec scan-only=true ! appsink` in code and reads the
//! bit-cost meta of every frame from the appsink: per frame its display index, whether it
//! was decoded from a keyframe and its bits; at the end, bits per frame of keyframes and of
//! the other frames.
//!
//! ```text
//! cargo run --release -p gst-plugin-codecprep --example bitcost_appsink -- clip.mp4
//! ```
//!
//! The plugin is registered from this crate (`plugin_register_static`), so no
//! `GST_PLUGIN_PATH` is needed.

use std::sync::{Arc, Mutex};

use gst::prelude::*;
use gstcodecprep::BitcostMeta;

#[derive(Default)]
struct Totals {
    frames: u64,
    keyframes: u64,
    key_bits: i64,
    other_bits: i64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let video = std::env::args()
        .nth(1)
        .ok_or("usage: bitcost_appsink VIDEO")?;
    gst::init()?;
    gstcodecprep::plugin_register_static()?;

    let pipeline = gst::Pipeline::new();
    let src = gst::ElementFactory::make("filesrc")
        .property("location", &video)
        .build()?;
    // parsebin demuxes and parses any container and codec bitcostdec takes.
    let parse = gst::ElementFactory::make("parsebin").build()?;
    let decoder = gst::ElementFactory::make("bitcostdec")
        .property("scan-only", true)
        .build()?;
    let sink = gst_app::AppSink::builder().sync(false).build();
    pipeline.add_many([&src, &parse, &decoder, sink.upcast_ref()])?;
    src.link(&parse)?;
    decoder.link(&sink)?;
    let decoder_weak = decoder.downgrade();
    parse.connect_pad_added(move |_, pad| {
        if let Some(decoder) = decoder_weak.upgrade()
            && let Some(sink_pad) = decoder.static_pad("sink")
            && !sink_pad.is_linked()
            && pad.link(&sink_pad).is_err()
        {
            eprintln!(
                "bitcost_appsink: {} is not a stream bitcostdec takes",
                pad.name()
            );
        }
    });

    let totals = Arc::new(Mutex::new(Totals::default()));
    let store = Arc::clone(&totals);
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let buffer = sample.buffer().ok_or(gst::FlowError::Error)?;
                let meta = buffer.meta::<BitcostMeta>().ok_or(gst::FlowError::Error)?;
                let key = gstcodecprep::meta::is_keyframe(buffer);
                let bits = meta.map().total_bits();
                let (rows, cols) = meta.grid_dims();
                println!(
                    "frame {:5} {} {:>3} {rows}x{cols} {bits:9} bits",
                    meta.frame_index(),
                    if key { "key" } else { "   " },
                    meta.grid_kind()
                );
                let mut t = store.lock().unwrap_or_else(|e| e.into_inner());
                t.frames += 1;
                if key {
                    t.keyframes += 1;
                    t.key_bits += bits;
                } else {
                    t.other_bits += bits;
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );

    pipeline.set_state(gst::State::Playing)?;
    let bus = pipeline.bus().ok_or("a pipeline without a bus")?;
    let mut failure = None;
    for msg in bus.iter_timed(gst::ClockTime::NONE) {
        match msg.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => {
                failure = Some(format!("{video}: {}", e.error()));
                break;
            }
            _ => {}
        }
    }
    pipeline.set_state(gst::State::Null)?;
    if let Some(failure) = failure {
        return Err(failure.into());
    }
    let t = totals.lock().unwrap_or_else(|e| e.into_inner());
    let mean = |bits: i64, n: u64| if n == 0 { 0.0 } else { bits as f64 / n as f64 };
    println!(
        "{} frames, {} keyframes: {:.0} bits per keyframe, {:.0} per other frame",
        t.frames,
        t.keyframes,
        mean(t.key_bits, t.keyframes),
        mean(t.other_bits, t.frames - t.keyframes)
    );
    Ok(())
}
