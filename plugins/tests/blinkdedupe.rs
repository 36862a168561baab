//! `gst_check::Harness` tests of blinkdedupe fed synthetic frames.

mod common;

use gst::prelude::*;
use gst_check::Harness;

const FPS: u64 = 10;

/// A 64x48 grey picture: a gradient with a bright 16-pixel square at (x, y).
fn picture(x: usize, y: usize) -> Vec<u8> {
    let mut data = vec![0u8; 64 * 48];
    for row in 0..48 {
        for col in 0..64 {
            let inside = (x..x + 16).contains(&col) && (y..y + 16).contains(&row);
            data[row * 64 + col] = if inside { 250 } else { (col * 2) as u8 };
        }
    }
    data
}

/// Grey picture to packed RGB.
fn rgb(grey: &[u8]) -> Vec<u8> {
    grey.iter().flat_map(|&v| [v, v, v]).collect()
}

fn harness(caps: &str, props: &[(&str, &str)]) -> (Harness, gst::Bus) {
    common::init();
    let mut h = Harness::new("blinkdedupe");
    let element = h.element().expect("the element");
    for (name, value) in props {
        element.set_property_from_str(name, value);
    }
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    h.set_src_caps_str(caps);
    (h, bus)
}

/// Pushes the frames at `FPS` and returns the pts (ms) of the frames that came out.
fn run(h: &mut Harness, frames: Vec<Vec<u8>>) -> Vec<u64> {
    for (i, frame) in frames.into_iter().enumerate() {
        let mut buffer = gst::Buffer::from_mut_slice(frame);
        buffer
            .get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(i as u64 * 1000 / FPS));
        assert_eq!(h.push(buffer), Ok(gst::FlowSuccess::Ok));
    }
    let mut out = Vec::new();
    while let Some(buffer) = h.try_pull() {
        out.push(buffer.pts().unwrap().mseconds());
    }
    out
}

/// The `(distance, pts ms)` of every drop message on the bus.
fn drops(bus: &gst::Bus) -> Vec<(u32, u64)> {
    let mut found = Vec::new();
    while let Some(message) = bus.pop_filtered(&[gst::MessageType::Element]) {
        let s = message
            .structure()
            .expect("element messages have a structure");
        assert_eq!(s.name(), "blinkdedupe-drop");
        let pts: u64 = s.get("pts").unwrap();
        found.push((s.get::<u32>("distance").unwrap(), pts / 1_000_000));
    }
    found
}

fn counters(h: &Harness) -> (u64, u64) {
    let element = h.element().unwrap();
    (element.property("kept"), element.property("dropped"))
}

#[test]
fn a_static_scene_collapses_to_one_frame_per_interval() {
    let (mut h, bus) = harness(
        "video/x-raw,format=GRAY8,width=64,height=48,framerate=10/1",
        &[("max-interval", "1000000000")],
    );
    let kept = run(&mut h, vec![picture(8, 8); 35]);
    assert_eq!(kept, vec![0, 1000, 2000, 3000]);
    assert_eq!(counters(&h), (4, 31));
    let messages = drops(&bus);
    assert_eq!(messages.len(), 31);
    assert!(messages.iter().all(|&(distance, _)| distance == 0));
    assert_eq!(messages[0].1, 100);
}

#[test]
fn a_scene_change_is_always_kept_and_reports_its_distance() {
    let (mut h, bus) = harness(
        "video/x-raw,format=RGB,width=64,height=48,framerate=10/1",
        &[("max-interval", "0"), ("threshold", "4")],
    );
    // Still, then the square jumps across the picture and stays: only the jump is new.
    let mut frames = vec![rgb(&picture(4, 4)); 10];
    frames.extend(vec![rgb(&picture(44, 28)); 10]);
    let kept = run(&mut h, frames);
    assert_eq!(kept, vec![0, 1000]);
    assert_eq!(counters(&h), (2, 18));
    let messages = drops(&bus);
    assert_eq!(messages.len(), 18);
    assert!(messages.iter().all(|&(distance, _)| distance <= 4));
    // A threshold above the jump's distance drops it too: the distance is real.
    let (mut h, bus) = harness(
        "video/x-raw,format=RGB,width=64,height=48,framerate=10/1",
        &[("max-interval", "0"), ("threshold", "64")],
    );
    let mut frames = vec![rgb(&picture(4, 4)); 2];
    frames.push(rgb(&picture(44, 28)));
    assert_eq!(run(&mut h, frames), vec![0]);
    let messages = drops(&bus);
    assert_eq!(messages.len(), 2);
    assert!(
        messages[1].0 > 4,
        "the jump moved the hash by {}",
        messages[1].0
    );
    assert_eq!(messages[1].1, 200);
}

#[test]
fn planar_yuv_uses_the_luma() {
    let (mut h, _bus) = harness(
        "video/x-raw,format=I420,width=64,height=48,framerate=10/1",
        &[("max-interval", "0")],
    );
    let i420 = |grey: Vec<u8>| {
        let mut data = grey;
        data.extend(vec![128u8; 2 * 32 * 24]);
        data
    };
    let frames = vec![
        i420(picture(4, 4)),
        i420(picture(4, 4)),
        i420(picture(44, 28)),
        i420(picture(44, 28)),
    ];
    assert_eq!(run(&mut h, frames), vec![0, 200]);
}

/// 4 s of SMPTE bars at 10 fps, keyframes every 2 s, a white square moving over them in the
/// last 2 s.
fn still_then_moving() -> std::path::PathBuf {
    common::fixture(
        "blinkdedupe-still-then-moving-v1.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "smptebars=size=160x120:rate=10:duration=4",
            "-f",
            "lavfi",
            "-i",
            "color=c=white:size=40x40:rate=10:duration=4",
            "-filter_complex",
            "[0][1]overlay=x='if(lt(t,2),10,10+(t-2)*50)':y=20",
            "-c:v",
            "libx264",
            "-g",
            "20",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

#[test]
fn activity_mode_reads_the_bit_cost_meta() {
    use codecprep_core::{PixelFormat, PixelRequest, Reader, ReaderOptions};
    use gstcodecprep::BitcostMeta;
    use std::sync::Arc;

    let mut frames = Vec::new();
    let request = PixelRequest {
        format: PixelFormat::Rgb,
        width: 0,
        height: 0,
    };
    Reader::open(still_then_moving(), ReaderOptions::default())
        .expect("open the fixture")
        .scan(Some(request), |record| {
            frames.push(record);
            Ok::<_, codecprep_core::Error>(std::ops::ControlFlow::Continue(()))
        })
        .expect("scan");
    assert_eq!(frames.len(), 40);
    let (mut h, bus) = harness(
        "video/x-raw,format=RGB,width=160,height=120,framerate=10/1",
        &[
            ("mode", "activity"),
            ("max-interval", "0"),
            ("activity-threshold", "0.05"),
        ],
    );
    for record in frames {
        let mut buffer = gst::Buffer::from_mut_slice(record.pixels.unwrap().into_data());
        let buffer_ref = buffer.get_mut().unwrap();
        buffer_ref.set_pts(gst::ClockTime::from_mseconds(record.index as u64 * 100));
        BitcostMeta::add(
            buffer_ref,
            Arc::new(record.map.unwrap()),
            record.index as u64,
        );
        assert_eq!(h.push(buffer), Ok(gst::FlowSuccess::Ok));
    }
    let mut kept = Vec::new();
    while let Some(buffer) = h.try_pull() {
        kept.push(buffer.pts().unwrap().mseconds());
    }
    // The still half costs almost no bits: only its first frame passes. In the moving half
    // the square's motion piles up bits, so every few frames one passes (and the keyframe).
    let still: Vec<u64> = kept.iter().copied().filter(|&t| t < 2000).collect();
    assert_eq!(still, vec![0], "kept in the still half: {kept:?}");
    let moving = kept.len() - still.len();
    assert!(
        kept.contains(&2000),
        "the keyframe at 2 s is kept: {kept:?}"
    );
    assert!(moving >= 5, "only {moving} moving frames kept: {kept:?}");
    let (k, d) = counters(&h);
    assert_eq!((k, d), (kept.len() as u64, 40 - kept.len() as u64));
    // Drop messages carry the activity since the last kept frame, at most the threshold.
    let mut messages = 0;
    while let Some(message) = bus.pop_filtered(&[gst::MessageType::Element]) {
        let s = message.structure().unwrap();
        let activity: f64 = s.get("activity").expect("an activity field");
        assert!((0.0..=0.05).contains(&activity), "{activity}");
        assert!(!s.has_field("distance"), "activity mode hashes nothing");
        messages += 1;
    }
    assert_eq!(messages, d);
}
