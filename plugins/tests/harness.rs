//! `gst_check::Harness` tests of bitcostdec fed H.264 access units directly.

mod common;

use gst::prelude::*;
use gst_check::Harness;
use gstcodecprep::BitcostMeta;

const BYTE_STREAM_CAPS: &str =
    "video/x-h264,stream-format=byte-stream,alignment=au,width=160,height=128,framerate=25/1";

fn access_units() -> Vec<Vec<u8>> {
    let data = std::fs::read(common::h264_annexb()).expect("read the fixture");
    common::split_access_units(&data)
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect()
}

fn harness(props: &[(&str, &str)]) -> Harness {
    common::init();
    let mut h = Harness::new("bitcostdec");
    let element = h.element().expect("the element");
    for (name, value) in props {
        element.set_property_from_str(name, value);
    }
    h.set_src_caps_str(BYTE_STREAM_CAPS);
    h
}

/// Pushes every access unit, then EOS, and returns every output buffer.
fn decode_all(h: &mut Harness) -> Vec<gst::Buffer> {
    let units = access_units();
    assert_eq!(units.len(), 20, "the fixture has one AUD per frame");
    for (i, unit) in units.into_iter().enumerate() {
        let mut buffer = gst::Buffer::from_mut_slice(unit);
        buffer
            .get_mut()
            .unwrap()
            .set_dts(gst::ClockTime::from_mseconds(40 * i as u64));
        assert_eq!(h.push(buffer), Ok(gst::FlowSuccess::Ok));
    }
    assert!(h.push_event(gst::event::Eos::new()));
    let mut out = Vec::new();
    while let Some(buffer) = h.try_pull() {
        out.push(buffer);
    }
    out
}

#[test]
fn every_frame_gets_a_meta_in_display_order() {
    let mut h = harness(&[]);
    let buffers = decode_all(&mut h);
    assert_eq!(buffers.len(), 20);
    let caps = h.sinkpad().unwrap().current_caps().unwrap();
    assert_eq!(caps.structure(0).unwrap().name(), "video/x-raw");
    for (i, buffer) in buffers.iter().enumerate() {
        let meta = buffer.meta::<BitcostMeta>().expect("meta on every buffer");
        assert_eq!(meta.frame_index(), i as u64);
        assert_eq!(meta.grid_kind(), "mb");
        assert_eq!(meta.grid_dims(), (8, 10));
        assert_eq!(meta.sub_dims(), (32, 40));
        assert!(meta.cells().iter().any(|&c| c != 0));
        assert_eq!(buffer.size(), 160 * 128 * 3 / 2, "an I420 picture");
    }
}

#[test]
fn scan_only_buffers_carry_the_same_maps_and_no_pixels() {
    let full: Vec<_> = decode_all(&mut harness(&[]))
        .iter()
        .map(|b| common::maps_of(&b.meta::<BitcostMeta>().unwrap()))
        .collect();
    let mut h = harness(&[("scan-only", "true"), ("measure", "reference")]);
    let buffers = decode_all(&mut h);
    let caps = h.sinkpad().unwrap().current_caps().unwrap();
    let s = caps.structure(0).unwrap();
    assert_eq!(s.name(), "video/x-codecprep-bitcost");
    assert_eq!(s.get::<&str>("codec").unwrap(), "h264");
    assert!(buffers.iter().all(|b| b.size() == 0));
    let scanned: Vec<_> = buffers
        .iter()
        .map(|b| common::maps_of(&b.meta::<BitcostMeta>().unwrap()))
        .collect();
    assert_eq!(scanned, full);
}

#[test]
fn exact_measure_is_reported_in_the_meta() {
    let buffers = decode_all(&mut harness(&[("measure", "exact")]));
    let meta = buffers[0].meta::<BitcostMeta>().unwrap();
    assert_eq!(meta.measure(), codecprep_core::Measure::Exact);
}

#[test]
fn flushing_restarts_the_display_index() {
    let mut h = harness(&[]);
    let units = access_units();
    for unit in &units[..10] {
        h.push(gst::Buffer::from_slice(unit.clone())).unwrap();
    }
    assert!(h.push_event(gst::event::FlushStart::new()));
    assert!(h.push_event(gst::event::FlushStop::new(true)));
    while h.try_pull().is_some() {}
    h.set_src_caps_str(BYTE_STREAM_CAPS);
    h.push_event(gst::event::Segment::new(&gst::FormattedSegment::<
        gst::ClockTime,
    >::new()));
    for unit in &units {
        h.push(gst::Buffer::from_slice(unit.clone())).unwrap();
    }
    h.push_event(gst::event::Eos::new());
    let first = h.pull().unwrap();
    assert_eq!(first.meta::<BitcostMeta>().unwrap().frame_index(), 0);
}

#[test]
fn raw_video_caps_are_refused() {
    common::init();
    let mut h = Harness::new("bitcostdec");
    let caps = gst::Caps::builder("video/x-raw")
        .field("format", "I420")
        .build();
    let element = h.element().unwrap();
    let sink = element.static_pad("sink").unwrap();
    assert!(!sink.query_accept_caps(&caps));
    let nal = gst::Caps::builder("video/x-h264")
        .field("stream-format", "byte-stream")
        .field("alignment", "nal")
        .build();
    assert!(!sink.query_accept_caps(&nal));
    h.set_src_caps(caps);
    assert_eq!(
        h.push(gst::Buffer::with_size(16).unwrap()),
        Err(gst::FlowError::NotNegotiated)
    );
}

#[test]
fn avc_caps_without_codec_data_are_refused() {
    common::init();
    let mut h = Harness::new("bitcostdec");
    h.set_src_caps_str("video/x-h264,stream-format=avc,alignment=au");
    assert_eq!(
        h.push(gst::Buffer::with_size(16).unwrap()),
        Err(gst::FlowError::NotNegotiated)
    );
}
