//! End-to-end tests of probe and Reader against small videos made with the system ffmpeg.
//! They skip (with a message) when no `ffmpeg` command is installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use codecprep_core::{
    Codec, ErrorKind, PixelFormat, PixelRequest, Reader, ReaderOptions, ThreadType, probe,
};

/// Makes `name` in cargo's per-target scratch directory once; `None` without ffmpeg.
fn fixture(name: &str, args: &[&str]) -> Option<PathBuf> {
    // Tests run in parallel; two of them must not encode the same file at once.
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if path.exists() {
        return Some(path);
    }
    let partial = path.with_extension("partial");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&partial)
        .status();
    match status {
        Ok(s) if s.success() => {
            std::fs::rename(&partial, &path).unwrap();
            Some(path)
        }
        _ => {
            eprintln!("skipping: ffmpeg could not make the {name} fixture");
            None
        }
    }
}

/// 2 s of 320x240 H.264 at 25 fps with B-frames: 50 frames, one keyframe.
fn h264_mp4() -> Option<PathBuf> {
    fixture(
        "h264.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mp4",
        ],
    )
}

/// MPEG-TS starts its timestamps at 1.4 s; 30 frames of 176x144 (odd macroblock count).
fn h264_ts() -> Option<PathBuf> {
    fixture(
        "h264.ts",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=176x144:rate=25",
            "-t",
            "1.2",
            "-c:v",
            "libx264",
            "-g",
            "10",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mpegts",
        ],
    )
}

#[test]
fn probe_reports_stream_facts_and_display_order() {
    let Some(video) = h264_mp4() else { return };
    let info = probe(&video).unwrap();
    assert_eq!(info.codec, "h264");
    assert_eq!((info.width, info.height), (320, 240));
    assert_eq!(info.fps, 25.0);
    assert_eq!(info.frame_count, 50);
    assert_eq!(info.keyframes, vec![0]);
    assert!(info.warnings.is_empty());
    let times: Vec<f64> = info.packets.iter().map(|p| p.pts_time.unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "packets not in display order"
    );
    assert!(
        info.packets.iter().any(|p| p.index != p.decode_index),
        "no reordering seen"
    );
}

#[test]
fn scan_outputs_every_frame_with_a_map() {
    let Some(video) = h264_mp4() else { return };
    let mut reader = Reader::open(&video, ReaderOptions::default()).unwrap();
    assert_eq!(reader.decoder_name(), "h264");
    let mut records = Vec::new();
    let summary = reader
        .scan(None, |r| {
            records.push(r);
            Ok::<_, codecprep_core::Error>(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    assert_eq!(summary.frames, 50);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.index, i);
        let map = r.map.as_ref().expect("patched decoder attaches a map");
        assert_eq!(map.codec(), Codec::H264);
        assert_eq!(
            (map.rows(), map.cols(), map.sub_rows(), map.sub_cols()),
            (15, 20, 60, 80)
        );
        assert!(map.total_bits() > 0 && map.total_bits() as u64 <= r.packet_bits);
        assert!((r.pts_time.unwrap() - i as f64 * 0.04).abs() < 1e-9);
        assert!(r.warnings.is_empty());
    }
    assert_eq!(records[0].pict_type, 'I');
    assert!(records[0].keyframe);
}

#[test]
fn read_frames_returns_the_asked_order_and_pixels() {
    let Some(video) = h264_mp4() else { return };
    let mut reader = Reader::open(&video, ReaderOptions::default()).unwrap();
    let request = PixelRequest {
        format: PixelFormat::Rgb,
        width: 64,
        height: 0,
    };
    let frames = reader.read_frames(&[7, 0, 7, 49], Some(request)).unwrap();
    let ids: Vec<usize> = frames.iter().map(|f| f.index).collect();
    assert_eq!(ids, [7, 0, 7, 49]);
    let pixels = frames[0].pixels.as_ref().unwrap();
    assert_eq!((pixels.width(), pixels.height()), (64, 240));
    assert_eq!(pixels.as_array().dim(), (240, 64, 3));
    assert_eq!(frames[0].map, frames[2].map);

    // The same reader decodes again from the start, with the same results.
    let again = reader.read_frames(&[7], None).unwrap();
    assert_eq!(again[0].map, frames[0].map);
    assert!(again[0].pixels.is_none());
}

#[test]
fn read_frames_names_the_first_missing_frame() {
    let Some(video) = h264_mp4() else { return };
    let mut reader = Reader::open(&video, ReaderOptions::default()).unwrap();
    let err = reader.read_frames(&[3, 60, 50], None).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::FrameOutOfRange {
            first_missing: 50,
            frame_count: 50
        }
    ));
    assert!(
        err.to_string()
            .contains("frame 50 does not exist: the video has 50 frames")
    );
    assert!(reader.read_frames(&[], None).unwrap().is_empty());
}

#[test]
fn threading_does_not_change_h264_maps() {
    let Some(video) = h264_mp4() else { return };
    let ids: Vec<usize> = (0..50).collect();
    let maps = |threads, thread_type| {
        let options = ReaderOptions {
            threads,
            thread_type,
            ..ReaderOptions::default()
        };
        let mut reader = Reader::open(&video, options).unwrap();
        let frames = reader.read_frames(&ids, None).unwrap();
        frames
            .into_iter()
            .map(|f| f.map.unwrap())
            .collect::<Vec<_>>()
    };
    let serial = maps(1, ThreadType::Slice);
    assert_eq!(maps(2, ThreadType::Frame), serial);
    assert_eq!(maps(2, ThreadType::Slice), serial);
}

#[test]
fn start_time_does_not_shift_indices_or_times() {
    let Some(video) = h264_ts() else { return };
    let info = probe(&video).unwrap();
    assert!(info.start_time.unwrap() > 0.5, "MPEG-TS should start late");
    assert_eq!(info.packets[0].pts_time, Some(0.0));
    assert_eq!(info.keyframes, vec![0, 10, 20]);
    let mut reader = Reader::open(&video, ReaderOptions::default()).unwrap();
    let frames = reader.read_frames(&[0, 29], None).unwrap();
    assert_eq!(frames[0].pts_time, Some(0.0));
    let map = frames[1].map.as_ref().unwrap();
    assert_eq!(
        (map.width(), map.height(), map.cols(), map.rows()),
        (176, 144, 11, 9)
    );
}

/// MPEG-TS whose resolution changes after 10 frames (two streams concatenated).
fn resolution_change() -> Option<PathBuf> {
    let first = fixture(
        "part-320.ts",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-t",
            "0.4",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "mpegts",
        ],
    )?;
    let second = h264_ts()?;
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("resize.ts");
    let mut bytes = std::fs::read(first).unwrap();
    bytes.extend(std::fs::read(second).unwrap());
    std::fs::write(&path, bytes).unwrap();
    Some(path)
}

#[test]
fn each_map_carries_its_own_dimensions() {
    let Some(video) = resolution_change() else {
        return;
    };
    let mut reader = Reader::open(&video, ReaderOptions::default()).unwrap();
    let frames = reader.read_frames(&[9, 10, 39], None).unwrap();
    let dims: Vec<_> = frames
        .iter()
        .map(|f| {
            let map = f.map.as_ref().unwrap();
            (f.width, f.height, map.rows(), map.cols())
        })
        .collect();
    assert_eq!(
        dims,
        [(320, 240, 15, 20), (176, 144, 9, 11), (176, 144, 9, 11)]
    );
}

#[test]
fn truncated_file_ends_early_without_failing() {
    let Some(video) = h264_ts() else { return };
    let bytes = std::fs::read(&video).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.ts");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut reader = Reader::open(&cut, ReaderOptions::default()).unwrap();
    let mut count = 0;
    let summary = reader
        .scan(None, |_| {
            count += 1;
            Ok::<_, codecprep_core::Error>(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    assert!(count > 0 && count < 30, "{count} frames");
    assert_eq!(summary.frames, count);
}

#[test]
fn damaged_packets_become_warnings() {
    let Some(video) = h264_mp4() else { return };
    let mut bytes = std::fs::read(&video).unwrap();
    // Scribble pseudo-random bytes over slice data inside mdat (MP4 has no checksums, so the
    // damage reaches the decoder).
    let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap();
    let mut state = 12345u32;
    for chunk in 0..40 {
        let start = mdat + 2000 + chunk * 1300;
        for byte in &mut bytes[start..start + 20] {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *byte = (state >> 16) as u8;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged.mp4");
    std::fs::write(&damaged, &bytes).unwrap();
    let mut reader = Reader::open(&damaged, ReaderOptions::default()).unwrap();
    let mut frames = Vec::new();
    reader
        .scan(None, |r| {
            frames.push(r);
            Ok::<_, codecprep_core::Error>(std::ops::ControlFlow::Continue(()))
        })
        .unwrap();
    assert_eq!(frames.len(), 50);
    assert!(frames.iter().all(|f| f.map.is_some()));
    assert!(
        frames.iter().any(|f| !f.warnings.is_empty()),
        "damage went unnoticed"
    );
}

#[test]
fn opening_errors_name_the_file_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let open_err = |path: &Path| Reader::open(path, ReaderOptions::default()).err().unwrap();

    let missing = dir.path().join("missing.mp4");
    let err = open_err(&missing);
    assert!(matches!(err.kind(), ErrorKind::NotFound));
    assert_eq!(
        err.to_string(),
        format!("{}: no such file", missing.display())
    );

    assert!(matches!(
        open_err(dir.path()).kind(),
        ErrorKind::IsDirectory
    ));

    let text = dir.path().join("text.mp4");
    std::fs::write(&text, b"not a video at all").unwrap();
    assert!(matches!(open_err(&text).kind(), ErrorKind::NotMedia(_)));

    if let Some(audio) = fixture(
        "audio.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=duration=0.5",
            "-c:a",
            "aac",
            "-f",
            "mp4",
        ],
    ) {
        let err = open_err(&audio);
        assert!(matches!(err.kind(), ErrorKind::NoVideoStream));
        assert!(
            err.to_string()
                .ends_with(": no video stream (audio-only file?)")
        );
    }
    if let Some(mpeg4) = fixture(
        "mpeg4.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x64:rate=5",
            "-t",
            "0.4",
            "-c:v",
            "mpeg4",
            "-f",
            "mp4",
        ],
    ) {
        let err = open_err(&mpeg4);
        assert!(
            err.to_string()
                .ends_with(": codec mpeg4 is not supported: codecprep reads H.264, HEVC and VP9")
        );
        assert!(matches!(
            probe(&mpeg4).unwrap_err().kind(),
            ErrorKind::UnsupportedCodec(_)
        ));
    }
}
