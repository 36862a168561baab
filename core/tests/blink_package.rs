//! Packaging Blink events end to end: stitched clips, mosaics, contact sheets, manifests and
//! canvases made from two small generated clips (a red one with a 440 Hz tone, a blue one
//! with 880 Hz), checked with the system ffmpeg/ffprobe. Needs ffmpeg and GStreamer (x264enc,
//! an AAC encoder, mp4mux), which the project installs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use codecprep_core::blink::package::{
    Cut, MosaicTile, OutputFile, PackageError, StitchOptions, StitchPlan, contact_sheet,
    event_canvases, mosaic, stitch, stitch_with, verify_manifest, write_manifest,
};

/// A 3-s 320x240 clip of one colour at 25 fps with a sine tone, made once per target dir.
fn coloured_clip(colour: &str, tone_hz: u32) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("blink-{colour}-{tone_hz}.mp4"));
    if !path.exists() {
        let partial = path.with_extension("partial.mp4");
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
            .arg(format!("color=c={colour}:s=320x240:r=25:d=3"))
            .args(["-f", "lavfi", "-i"])
            .arg(format!(
                "sine=frequency={tone_hz}:sample_rate=48000:duration=3"
            ))
            .args([
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-shortest",
            ])
            .arg(&partial)
            .status()
            .expect("the tests need the ffmpeg command (scripts/install-deps.sh)");
        assert!(
            status.success(),
            "ffmpeg could not make the {colour} fixture"
        );
        std::fs::rename(&partial, &path).unwrap();
    }
    path
}

/// Standard output of a successful tool run.
fn run(program: &str, args: &[&str], file: &Path) -> Vec<u8> {
    let out = Command::new(program)
        .args(["-v", "error"])
        .args(args.iter().take_while(|a| **a != "FILE"))
        .arg(file)
        .args(args.iter().skip_while(|a| **a != "FILE").skip(1))
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `codec_type:codec_name` of each stream, and the container's duration.
fn streams_and_duration(video: &Path) -> (Vec<String>, f64) {
    let text = run(
        "ffprobe",
        &[
            "-show_entries",
            "stream=codec_type,codec_name:format=duration",
            "-of",
            "compact=p=0:nk=1",
            "FILE",
        ],
        video,
    );
    let text = String::from_utf8(text).unwrap();
    let mut streams = Vec::new();
    let mut duration = f64::NAN;
    for line in text.lines() {
        match line.split_once('|') {
            Some((name, kind)) => streams.push(format!("{kind}:{name}")),
            None => duration = line.trim().parse().unwrap(),
        }
    }
    (streams, duration)
}

/// Mean R, G, B of the region `x0..x1` (fractions of the width) of the frame at `time`.
fn mean_colour(video: &Path, time: f64, x0: f64, x1: f64) -> [f64; 3] {
    let at = format!("{time}");
    let pixels = run(
        "ffmpeg",
        &[
            "-nostdin",
            "-ss",
            &at,
            "-i",
            "FILE",
            "-frames:v",
            "1",
            "-s",
            "32x16",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        video,
    );
    assert_eq!(pixels.len(), 32 * 16 * 3, "one frame at {time} s");
    let mut sum = [0.0; 3];
    let mut count = 0.0;
    for (i, px) in pixels.chunks(3).enumerate() {
        let x = (i % 32) as f64 / 32.0;
        if x >= x0 && x < x1 {
            for c in 0..3 {
                sum[c] += f64::from(px[c]);
            }
            count += 1.0;
        }
    }
    sum.map(|s| s / count)
}

fn is_close(colour: [f64; 3], expected: [f64; 3]) -> bool {
    colour
        .iter()
        .zip(expected)
        .all(|(a, b)| (a - b).abs() < 40.0)
}

/// Mono samples of `length` seconds from `start`.
fn samples(video: &Path, start: f64, length: f64) -> Vec<f64> {
    let (ss, t) = (format!("{start}"), format!("{length}"));
    let bytes = run(
        "ffmpeg",
        &[
            "-nostdin", "-ss", &ss, "-t", &t, "-i", "FILE", "-vn", "-ac", "1", "-ar", "48000",
            "-f", "s16le", "-",
        ],
        video,
    );
    bytes
        .chunks_exact(2)
        .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

fn rms(samples: &[f64]) -> f64 {
    (samples.iter().map(|s| s * s).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

/// Frequency from sign changes: a clean tone crosses zero twice per period.
fn tone_hz(samples: &[f64]) -> f64 {
    let crossings = samples
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    crossings as f64 / 2.0 / (samples.len() as f64 / 48_000.0)
}

fn cut(source: &Path, source_start: f64, duration: f64, at: f64) -> Cut {
    Cut {
        source: source.to_path_buf(),
        source_start,
        duration,
        at,
    }
}

const RED: [f64; 3] = [255.0, 0.0, 0.0];
const BLUE: [f64; 3] = [0.0, 0.0, 255.0];
const BLACK: [f64; 3] = [0.0, 0.0, 0.0];

#[test]
fn stitched_clip_follows_the_plan() {
    let (red, blue) = (coloured_clip("red", 440), coloured_clip("blue", 880));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("event.mp4");
    // Video: red 0-1.5 s, black, blue 2-3.5 s, black to 4 s.
    // Audio: 440 Hz 0-1.5 s, silence, 880 Hz 2.5-4 s.
    let plan = StitchPlan {
        video: vec![cut(&red, 0.5, 1.5, 0.0), cut(&blue, 1.0, 1.5, 2.0)],
        audio: vec![cut(&red, 0.0, 1.5, 0.0), cut(&blue, 0.0, 1.5, 2.5)],
        duration: 4.0,
        width: 320,
        height: 240,
        fps: (25, 1),
    };
    let report = stitch(&plan, &out).unwrap();
    assert_eq!(report.frames, 100);
    assert!(report.reencoded);
    assert!((report.duration - 4.0).abs() < 1e-9);

    let (streams, duration) = streams_and_duration(&out);
    assert_eq!(streams, ["video:h264", "audio:aac"]);
    assert!((duration - 4.0).abs() <= 1.0 / 25.0, "duration {duration}");
    // Both tracks start at zero and last the plan's duration (A/V in sync).
    let tracks = String::from_utf8(run(
        "ffprobe",
        &[
            "-show_entries",
            "stream=start_time,duration",
            "-of",
            "csv=p=0",
            "FILE",
        ],
        &out,
    ))
    .unwrap();
    eprintln!("tracks (start, duration):\n{tracks}");
    for line in tracks.lines() {
        let (start, length) = line.split_once(',').unwrap();
        let (start, length): (f64, f64) = (start.parse().unwrap(), length.parse().unwrap());
        assert!(
            start.abs() < 1e-3 && (length - 4.0).abs() <= 1.0 / 25.0,
            "{line}"
        );
    }
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "temporary files left behind");

    for (time, expected) in [
        (0.1, RED),
        (1.3, RED),
        (1.75, BLACK),
        (2.1, BLUE),
        (3.3, BLUE),
        (3.8, BLACK),
    ] {
        let colour = mean_colour(&out, time, 0.0, 1.0);
        assert!(
            is_close(colour, expected),
            "at {time} s: {colour:?}, expected {expected:?}"
        );
    }
    let first = samples(&out, 0.3, 0.5);
    assert!(rms(&first) > 0.05, "tone at 0.3 s, rms {}", rms(&first));
    assert!(
        (tone_hz(&first) - 440.0).abs() < 20.0,
        "{} Hz",
        tone_hz(&first)
    );
    let gap = samples(&out, 1.7, 0.6);
    assert!(rms(&gap) < 0.001, "silence in the gap, rms {}", rms(&gap));
    let second = samples(&out, 2.8, 0.5);
    assert!(
        (tone_hz(&second) - 880.0).abs() < 40.0,
        "{} Hz",
        tone_hz(&second)
    );
}

#[test]
fn missing_sources_are_clear_errors_and_leave_nothing() {
    let red = coloured_clip("red", 440);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("event.mp4");
    let missing = dir.path().join("gone.mp4");
    let mut plan = StitchPlan {
        video: vec![cut(&red, 0.0, 1.0, 0.0), cut(&missing, 0.0, 1.0, 1.0)],
        audio: vec![],
        duration: 2.0,
        width: 160,
        height: 120,
        fps: (10, 1),
    };
    let err = stitch(&plan, &out).unwrap_err().to_string();
    assert!(
        err.contains("gone.mp4") && err.contains("no such file"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // Audio that cannot be decoded fails after the video sources were opened.
    let not_media = dir.path().join("notes.txt");
    std::fs::write(&not_media, b"not audio").unwrap();
    plan.video.pop();
    plan.audio = vec![cut(&not_media, 0.0, 1.0, 0.0)];
    let err = stitch(&plan, &out).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: cannot decode its audio", not_media.display())),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only notes.txt"
    );
}

#[test]
fn mosaic_places_each_camera_at_its_time() {
    let (red, blue) = (coloured_clip("red", 440), coloured_clip("blue", 880));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mosaic.mp4");
    let tiles = [
        MosaicTile {
            source: red,
            at: 0.0,
            label: "Driveway".into(),
        },
        MosaicTile {
            source: blue,
            at: 1.0,
            label: "Door 10:00:01".into(),
        },
    ];
    mosaic(&tiles, 3.5, 320, 120, (10, 1), &out).unwrap();
    let (streams, duration) = streams_and_duration(&out);
    assert_eq!(streams, ["video:h264"]);
    assert!((duration - 3.5).abs() <= 0.1, "duration {duration}");
    let size = String::from_utf8(run(
        "ffprobe",
        &[
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
            "FILE",
        ],
        &out,
    ))
    .unwrap();
    assert_eq!(size.trim(), "320,120");
    // The lower part of each cell, away from the label.
    let left = |t| mean_colour(&out, t, 0.05, 0.45);
    let right = |t| mean_colour(&out, t, 0.55, 0.95);
    assert!(
        is_close(left(0.5), RED) && is_close(right(0.5), BLACK),
        "{:?} {:?}",
        left(0.5),
        right(0.5)
    );
    assert!(is_close(left(2.0), RED) && is_close(right(2.0), BLUE));
    assert!(
        is_close(left(3.3), BLACK) && is_close(right(3.3), BLUE),
        "red ended at 3 s"
    );
}

#[test]
fn contact_sheet_manifest_and_canvases() {
    let red = coloured_clip("red", 440);
    let dir = tempfile::tempdir().unwrap();
    let thumbs: Vec<(String, image::RgbImage)> = (0..3)
        .map(|i| {
            (
                format!("cam {i}"),
                image::RgbImage::from_pixel(64, 48, image::Rgb([0, 90 * i as u8, 0])),
            )
        })
        .collect();
    let sheet = dir.path().join("sheet.png");
    contact_sheet(&thumbs, 2, &sheet).unwrap();
    let decoded = image::open(&sheet).unwrap();
    // 2 columns of 64 + 4-px gaps; 2 rows of 48 + a 9-px label band + gaps.
    assert_eq!(
        (decoded.width(), decoded.height()),
        (2 * 68 + 4, 2 * (48 + 9 + 4) + 4)
    );

    let canvases = dir.path().join("canvases");
    let result = event_canvases(&red, &canvases, None).unwrap();
    assert!(!result.canvas_files.is_empty());
    assert!(
        result.canvas_files.iter().all(|f| f.ends_with(".png")),
        "{:?}",
        result.canvas_files
    );

    let mut outputs = vec![OutputFile::new("sheet.png", "contact_sheet")];
    outputs.extend(
        result
            .canvas_files
            .iter()
            .map(|f| OutputFile::new(canvases.join(f), "canvas")),
    );
    let manifest = write_manifest(dir.path(), &outputs).unwrap();
    assert_eq!(manifest.outputs.len(), outputs.len());
    assert!(verify_manifest(dir.path()).unwrap().is_empty());
    let mut bytes = std::fs::read(&sheet).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&sheet, bytes).unwrap();
    assert_eq!(
        verify_manifest(dir.path()).unwrap(),
        ["sheet.png: content changed (BLAKE3 differs)"]
    );
}

#[test]
fn other_sizes_and_rates_are_fitted_with_bars() {
    let red = coloured_clip("red", 440);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("wide.mp4");
    // 4:3 at 25 fps into 16:6 at 30 fps: a 160x120 picture between black bars.
    let plan = StitchPlan {
        // Asks for 1.5 s of a clip that has 1 s left.
        video: vec![cut(&red, 2.0, 1.5, 0.0)],
        audio: vec![],
        duration: 1.5,
        width: 320,
        height: 120,
        fps: (30, 1),
    };
    let report = stitch(&plan, &out).unwrap();
    assert_eq!(report.frames, 45);
    let (streams, duration) = streams_and_duration(&out);
    assert_eq!(streams, ["video:h264", "audio:aac"]);
    assert!((duration - 1.5).abs() <= 1.0 / 30.0, "duration {duration}");
    let bars = |t| {
        (
            mean_colour(&out, t, 0.0, 0.2),
            mean_colour(&out, t, 0.8, 1.0),
        )
    };
    let (left, right) = bars(0.5);
    assert!(
        is_close(left, BLACK) && is_close(right, BLACK),
        "{left:?} {right:?}"
    );
    assert!(is_close(mean_colour(&out, 0.5, 0.3, 0.7), RED));
    // The source ends at 3 s, one second into the cut: black from then on.
    assert!(is_close(mean_colour(&out, 0.9, 0.3, 0.7), RED));
    assert!(is_close(mean_colour(&out, 1.1, 0.3, 0.7), BLACK));
    // Silence throughout.
    assert!(rms(&samples(&out, 0.0, 1.4)) < 0.001);
}

#[test]
fn progress_is_reported_and_cancelling_leaves_nothing() {
    let red = coloured_clip("red", 440);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("event.mp4");
    let plan = StitchPlan {
        video: vec![cut(&red, 0.0, 3.0, 0.0)],
        audio: vec![cut(&red, 0.0, 3.0, 0.0)],
        duration: 3.0,
        width: 160,
        height: 120,
        fps: (20, 1),
    };
    let cancel = AtomicBool::new(false);
    let last = AtomicU64::new(0);
    let progress = |done: u64, total: u64| {
        assert_eq!(total, 60);
        last.store(done, Ordering::Relaxed);
        if done == 10 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let options = StitchOptions {
        threads: 1,
        progress: Some(&progress),
        cancel: Some(&cancel),
    };
    let err = stitch_with(&plan, &out, &options).unwrap_err();
    assert!(matches!(err, PackageError::Cancelled { .. }), "{err}");
    assert_eq!(last.load(Ordering::Relaxed), 10);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left"
    );
}
