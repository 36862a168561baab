//! `gst_check::Harness` tests of readinessgroup and canvaspack, fed frames bitcostdec decoded.

mod common;

use gst::prelude::*;
use gst_check::Harness;
use gstcodecprep::BitcostMeta;

const RAW_CAPS: &str = "video/x-raw,format=I420,width=160,height=128,framerate=25/1";
const FIXED: &str = "grouping-mode=fixed group-size=4 frame-sampling-mode=all_frames \
                     avoid-keyframes=false";

/// The 20 frames of the 160x128 Annex B fixture, decoded by bitcostdec.
fn decoded_frames() -> Vec<gst::Buffer> {
    common::init();
    let data = std::fs::read(common::h264_annexb()).expect("read the fixture");
    let mut h = Harness::new("bitcostdec");
    h.set_src_caps_str(
        "video/x-h264,stream-format=byte-stream,alignment=au,width=160,height=128,framerate=25/1",
    );
    for (i, unit) in common::split_access_units(&data).into_iter().enumerate() {
        let mut buffer = gst::Buffer::from_slice(unit.to_vec());
        let pts = gst::ClockTime::from_mseconds(40 * i as u64);
        buffer.get_mut().unwrap().set_dts(pts);
        h.push(buffer).expect("decode");
    }
    h.push_event(gst::event::Eos::new());
    std::iter::from_fn(|| h.try_pull()).collect()
}

fn custom_events(h: &mut Harness, name: &str) -> Vec<gst::Structure> {
    std::iter::from_fn(|| h.try_pull_event())
        .filter_map(|e| e.structure().map(ToOwned::to_owned))
        .filter(|s| s.name() == name)
        .collect()
}

fn frame_ids(s: &gst::StructureRef) -> Vec<u64> {
    s.get::<gst::Array>("frame-ids")
        .unwrap()
        .iter()
        .map(|v| v.get::<u64>().unwrap())
        .collect()
}

#[test]
fn readinessgroup_brackets_fixed_groups_with_events() {
    let frames = decoded_frames();
    assert_eq!(frames.len(), 20);
    assert!(frames[0].meta::<BitcostMeta>().is_some());
    let mut h = Harness::new_parse(&format!("readinessgroup {FIXED}"));
    h.set_src_caps_str(RAW_CAPS);
    for frame in &frames {
        h.push(frame.clone()).expect("push a frame");
    }
    h.push_event(gst::event::Eos::new());
    let out: Vec<gst::Buffer> = std::iter::from_fn(|| h.try_pull()).collect();
    assert_eq!(out.len(), 20);
    let caps = h.sinkpad().unwrap().current_caps().unwrap();
    let s = caps.structure(0).unwrap();
    assert_eq!(s.get::<&str>("format").unwrap(), "BGR");
    // 160x128 under the default pixel budget: 14-pixel patches in 2x2 blocks, padded up.
    let (w, h_px) = (
        s.get::<i32>("width").unwrap(),
        s.get::<i32>("height").unwrap(),
    );
    assert_eq!((w % 28, h_px % 28), (0, 0));
    assert_eq!(out[0].size(), (w * h_px * 3) as usize);
    assert_eq!(
        out.iter().map(|b| b.offset()).collect::<Vec<_>>(),
        (0..20).collect::<Vec<u64>>()
    );
    let starts = custom_events(&mut h, "codecprep-group-start");
    assert_eq!(starts.len(), 5);
    assert_eq!(frame_ids(&starts[1]), vec![4, 5, 6, 7]);
    assert_eq!(
        starts[1].get::<&str>("stop-reason").unwrap(),
        "fixed_group_size"
    );
}

#[test]
fn readinessgroup_reports_its_grouping_delay_as_latency() {
    let frames = decoded_frames();
    let mut h = Harness::new_parse(&format!("readinessgroup {FIXED}"));
    h.set_src_caps_str(RAW_CAPS);
    h.set_upstream_latency(gst::ClockTime::from_mseconds(10));
    let src = h.element().unwrap().static_pad("src").unwrap();
    // Before the first frame (the latency of a live pipeline is queried early) the settings
    // give the delay; after it the running engine does.
    h.push_event(gst::event::StreamStart::new("test"));
    let mut q = gst::query::Latency::new();
    assert!(src.query(&mut q));
    assert_eq!(q.result().1, gst::ClockTime::from_mseconds(10 + 5 * 40));
    h.push(frames[0].clone()).unwrap();
    let mut q = gst::query::Latency::new();
    assert!(src.query(&mut q));
    let (live, min, _) = q.result();
    assert!(live);
    // Groups of 4 sampled frames, every frame sampled: a frame waits at most 5 frames.
    assert_eq!(min, gst::ClockTime::from_mseconds(10 + 5 * 40));
}

#[test]
fn canvaspack_packs_each_group_into_rgb_canvases_with_positions() {
    let frames = decoded_frames();
    let mut h = Harness::new_parse(&format!("readinessgroup {FIXED} ! canvaspack"));
    h.set_src_caps_str(RAW_CAPS);
    for frame in &frames {
        h.push(frame.clone()).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    let canvases: Vec<gst::Buffer> = std::iter::from_fn(|| h.try_pull()).collect();
    // 5 groups, 4 canvases each.
    assert_eq!(canvases.len(), 20);
    let caps = h.sinkpad().unwrap().current_caps().unwrap();
    let s = caps.structure(0).unwrap();
    assert_eq!(s.get::<&str>("format").unwrap(), "RGB");
    let (w, h_px) = (
        s.get::<i32>("width").unwrap(),
        s.get::<i32>("height").unwrap(),
    );
    assert_eq!(canvases[0].size(), (w * h_px * 3) as usize);
    let events = custom_events(&mut h, "codecprep-canvas");
    assert_eq!(events.len(), 20);
    let positions = events[4].get::<gst::Buffer>("positions").unwrap();
    let map = positions.map_readable().unwrap();
    let values: Vec<i32> = map
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let patches = (w / 14 * (h_px / 14)) as usize;
    assert_eq!(values.len(), patches * 3);
    // The first canvas of group 1 starts with its anchor frame, whole, in raster order.
    assert_eq!(&values[..6], &[4, 0, 0, 4, 0, 1]);
    assert_eq!(events[4].get::<u64>("canvas-index").unwrap(), 4);
}

#[test]
fn canvaspack_refuses_frames_outside_a_group() {
    common::init();
    let mut h = Harness::new("canvaspack");
    h.set_src_caps_str(
        "video/x-raw,format=BGR,width=56,height=28,framerate=25/1,patch=14,block-size=2,\
         grid-rows=2,grid-cols=4",
    );
    let frame = gst::Buffer::from_mut_slice(vec![0u8; 56 * 28 * 3]);
    assert_eq!(h.push(frame), Err(gst::FlowError::Error));
}
