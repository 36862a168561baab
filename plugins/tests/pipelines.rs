//! Real pipelines: `filesrc ! qtdemux ! <parser> ! bitcostdec` on encoded fixtures.

mod common;

use common::{Ending, collect_maps, scan_maps};
use std::path::Path;

fn decode(path: &Path, parser: &str, props: &str) -> Vec<common::Maps> {
    let description = format!(
        "filesrc location={} ! qtdemux ! {parser} ! bitcostdec {props} ! appsink name=sink sync=false",
        path.display()
    );
    let (maps, ending) = collect_maps(&description);
    assert!(matches!(ending, Ending::Eos), "{description}: {ending:?}");
    maps
}

fn assert_same_as_scan(path: &Path, parser: &str) {
    let expected = scan_maps(path);
    assert!(!expected.is_empty());
    for props in [
        "",
        "scan-only=true",
        "scan-only=true max-threads=2",
        "skip-loop-filter=false",
    ] {
        let got = decode(path, parser, props);
        assert_eq!(got.len(), expected.len(), "{parser} {props}: frame count");
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!(g, e, "{parser} {props}: frame {}", e.index);
        }
    }
}

#[test]
fn h264_maps_equal_scan_in_full_and_scan_only_mode() {
    assert_same_as_scan(&common::h264_mp4(), "h264parse");
}

#[test]
fn hevc_maps_equal_scan_in_full_and_scan_only_mode() {
    assert_same_as_scan(&common::hevc_mp4(), "h265parse");
}

#[test]
fn vp9_maps_equal_scan_in_full_and_scan_only_mode() {
    assert_same_as_scan(&common::vp9_mp4(), "vp9parse");
}

#[test]
fn byte_stream_h264_through_h264parse() {
    let path = common::h264_annexb();
    let description = format!(
        "filesrc location={} ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au \
         ! bitcostdec ! appsink name=sink sync=false",
        path.display()
    );
    let (maps, ending) = collect_maps(&description);
    assert!(matches!(ending, Ending::Eos), "{ending:?}");
    assert_eq!(maps.len(), 20);
    assert!(maps.iter().enumerate().all(|(i, m)| m.index == i as u64));
}

/// gst-libav's avdec_h264 (system libavcodec, unpatched) and bitcostdec (static patched
/// FFmpeg) in one process and one pipeline: each keeps its own FFmpeg.
#[test]
fn coexists_with_avdec_h264_in_one_pipeline() {
    common::init();
    if gst::ElementFactory::find("avdec_h264").is_none() {
        panic!("avdec_h264 missing: install gstreamer1.0-libav (scripts/install-deps.sh)");
    }
    let path = common::h264_mp4();
    let description = format!(
        "filesrc location={} ! qtdemux ! h264parse ! tee name=t \
         t. ! queue ! avdec_h264 ! fakesink sync=false \
         t. ! queue ! bitcostdec ! appsink name=sink sync=false",
        path.display()
    );
    let (maps, ending) = collect_maps(&description);
    assert!(matches!(ending, Ending::Eos), "{ending:?}");
    assert_eq!(maps, scan_maps(&path));
}

fn expect_error(description: &str) {
    let (_, ending) = collect_maps(description);
    assert!(
        matches!(ending, Ending::Error(_)),
        "{description}: {ending:?}"
    );
}

#[test]
fn garbage_file_ends_with_an_error() {
    let dir = tempfile_dir();
    let path = dir.join("garbage.mp4");
    let bytes: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, bytes).unwrap();
    expect_error(&format!(
        "filesrc location={} ! qtdemux ! h264parse ! bitcostdec ! appsink name=sink sync=false",
        path.display()
    ));
}

#[test]
fn truncated_file_ends_with_an_error() {
    let source = std::fs::read(common::h264_mp4()).unwrap();
    let path = tempfile_dir().join("truncated.mp4");
    // Without faststart the index (moov) comes last: cutting the file removes it.
    std::fs::write(&path, &source[..source.len() / 2]).unwrap();
    expect_error(&format!(
        "filesrc location={} ! qtdemux ! h264parse ! bitcostdec ! appsink name=sink sync=false",
        path.display()
    ));
}

#[test]
fn garbage_byte_stream_ends_with_an_error() {
    let path = tempfile_dir().join("garbage.h264");
    // Start codes followed by junk: the parser passes units on, nothing decodes.
    let mut bytes = Vec::new();
    for i in 0..200u32 {
        bytes.extend_from_slice(&[0, 0, 0, 1, 0x65]);
        bytes.extend((0..500u32).map(|j| ((i * 31 + j * 7) % 251) as u8 | 1));
    }
    std::fs::write(&path, bytes).unwrap();
    expect_error(&format!(
        "filesrc location={} ! video/x-h264,stream-format=byte-stream,alignment=au \
         ! bitcostdec ! appsink name=sink sync=false",
        path.display()
    ));
}

#[test]
fn unparsed_nal_alignment_is_refused_at_negotiation() {
    common::init();
    let path = common::h264_annexb();
    let description = format!(
        "filesrc location={} ! h264parse ! video/x-h264,alignment=nal ! bitcostdec \
         ! appsink name=sink sync=false",
        path.display()
    );
    // The caps filter fixes NAL alignment, which the sink template does not accept: linking
    // fails while the pipeline is built.
    let err = gst::parse::launch(&description).expect_err("linking must fail");
    assert!(err.message().contains("can't handle caps"), "{err}");
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gst-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn caps_change_mid_stream_reopens_the_decoder() {
    // Two byte streams of different sizes, one after the other: h264parse announces new caps.
    let first = std::fs::read(common::h264_annexb()).expect("read the first part");
    let second = std::fs::read(common::fixture(
        "gst-h264-96x64-v1.h264",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=96x64:rate=25",
            "-frames:v",
            "10",
            "-an",
            "-c:v",
            "libx264",
            "-bsf:v",
            "h264_metadata=aud=insert",
            "-f",
            "h264",
        ],
    ))
    .expect("read the second part");
    let path = tempfile_dir().join("two-sizes.h264");
    std::fs::write(&path, [first, second].concat()).expect("write the joined stream");
    let (maps, ending) = common::collect_maps(&format!(
        "filesrc location={} ! h264parse ! bitcostdec ! appsink name=sink sync=false",
        path.display()
    ));
    assert!(matches!(ending, common::Ending::Eos), "{ending:?}");
    assert_eq!(maps.len(), 30);
    // 4x4-pixel sub-grids: 160x128 then 96x64 pictures.
    assert_eq!((maps[0].dims.2, maps[0].dims.3), (32, 40));
    assert_eq!((maps[29].dims.2, maps[29].dims.3), (16, 24));
}
