//! `blink-stitch discover` / `preflight` on generated Blink-style trees: every discovery rule,
//! camera and time parsing with their sources and zones, bad files reported, missing roots.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::blink::{
    audio_file, blink_json, blink_stitch, clips_by_path, permissions_enforced, place, small_clip,
    ts_clip, write,
};
use serde_json::Value;

/// Seconds since the epoch of a UTC date-time (tests only need whole seconds).
fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> f64 {
    // Days from civil (Howard Hinnant's algorithm), valid for the Gregorian calendar.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + h * 3600 + mi * 60 + s) as f64
}

/// A tree with every layout and every kind of bad entry.
fn full_tree(root: &Path) {
    let clip = small_clip();
    place(
        root,
        "usb/24-01/24-01-05/10-00-00_DrivewayG8T1ABC123_001.mp4",
        &clip,
    );
    place(
        root,
        "usb/24-01/24-01-05/10-05-30_BackGardenG8T1XYZ789_002.ts",
        &ts_clip(),
    );
    place(
        root,
        "usb/blink_backups/24-01/24-01-05/11-00-00_PorchG9A2B3C4D5_003.mp4",
        &clip,
    );
    place(root, "cloud/driveway-2024-01-06t18-30-00-00-00.mp4", &clip);
    place(root, "cloud/20240106_183000_Front Door.mp4", &clip);
    place(root, "hand/2024-01/2024-01-01/cam1/clip_a.mp4", &clip);
    place(root, "flat/random_name.mp4", &clip);
    place(root, "top_level.mp4", &clip);
    place(root, "audio/loose.wav", &audio_file("wav", 3.0));
    place(root, "flat/.hidden.mp4", &clip);
    place(root, ".cache/inside_hidden_dir.mp4", &clip);
    std::os::unix::fs::symlink(
        root.join("flat/random_name.mp4"),
        root.join("flat/link.mp4"),
    )
    .unwrap();
    let unreadable = place(root, "flat/unreadable.mp4", &clip);
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    write(root, "flat/empty.mp4", b"");
    write(root, "flat/notes.mp4", b"this is not a video at all\n");
    write(root, "flat/readme.txt", b"ignored: not a media extension\n");
}

fn str_of<'a>(clip: &'a Value, key: &str) -> Option<&'a str> {
    clip[key].as_str()
}

#[test]
fn preflight_reports_every_rule_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    full_tree(root);
    let doc = blink_json(&[
        "preflight",
        "-i",
        root.to_str().unwrap(),
        "--timezone",
        "America/New_York",
    ]);
    let clips = clips_by_path(&doc, root);
    let names: Vec<&str> = clips.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        vec![
            "audio/loose.wav",
            "cloud/20240106_183000_Front Door.mp4",
            "cloud/driveway-2024-01-06t18-30-00-00-00.mp4",
            "flat/empty.mp4",
            "flat/notes.mp4",
            "flat/random_name.mp4",
            "flat/unreadable.mp4",
            "hand/2024-01/2024-01-01/cam1/clip_a.mp4",
            "top_level.mp4",
            "usb/24-01/24-01-05/10-00-00_DrivewayG8T1ABC123_001.mp4",
            "usb/24-01/24-01-05/10-05-30_BackGardenG8T1XYZ789_002.ts",
            "usb/blink_backups/24-01/24-01-05/11-00-00_PorchG9A2B3C4D5_003.mp4",
        ],
        "hidden entries, symlinks and other extensions must not be discovered"
    );

    // Sync Module names: UTC, camera split from the serial.
    let sync = &clips["usb/24-01/24-01-05/10-00-00_DrivewayG8T1ABC123_001.mp4"];
    assert_eq!(str_of(sync, "camera"), Some("Driveway"));
    assert_eq!(str_of(sync, "serial"), Some("G8T1ABC123"));
    assert_eq!(sync["time"].as_f64(), Some(utc(2024, 1, 5, 10, 0, 0)));
    assert_eq!(str_of(sync, "time_source"), Some("sync_module_name"));
    let ts = &clips["usb/24-01/24-01-05/10-05-30_BackGardenG8T1XYZ789_002.ts"];
    assert_eq!(str_of(ts, "camera"), Some("BackGarden"));
    assert_eq!(ts["time"].as_f64(), Some(utc(2024, 1, 5, 10, 5, 30)));
    assert_eq!(ts["media"]["format"].as_str(), Some("mpegts"));
    let backup = &clips["usb/blink_backups/24-01/24-01-05/11-00-00_PorchG9A2B3C4D5_003.mp4"];
    assert_eq!(str_of(backup, "camera"), Some("Porch"));
    assert_eq!(backup["time"].as_f64(), Some(utc(2024, 1, 5, 11, 0, 0)));

    // blinkpy: ISO with offset (UTC here), and local time in --timezone (EST = UTC-5).
    let iso = &clips["cloud/driveway-2024-01-06t18-30-00-00-00.mp4"];
    assert_eq!(str_of(iso, "camera"), Some("driveway"));
    assert_eq!(iso["time"].as_f64(), Some(utc(2024, 1, 6, 18, 30, 0)));
    assert_eq!(str_of(iso, "time_source"), Some("blinkpy_iso_name"));
    let local = &clips["cloud/20240106_183000_Front Door.mp4"];
    assert_eq!(str_of(local, "camera"), Some("Front Door"));
    assert_eq!(local["time"].as_f64(), Some(utc(2024, 1, 6, 23, 30, 0)));
    assert_eq!(str_of(local, "time_source"), Some("blinkpy_local_name"));

    // Folder camera; time from the container (ffmpeg writes no creation_time) else mtime.
    let hand = &clips["hand/2024-01/2024-01-01/cam1/clip_a.mp4"];
    assert_eq!(str_of(hand, "camera"), Some("cam1"));
    assert_eq!(str_of(hand, "camera_source"), Some("folder"));
    assert!(
        matches!(
            str_of(hand, "time_source"),
            Some("creation_time" | "file_mtime")
        ),
        "{hand}"
    );
    assert_eq!(
        str_of(&clips["flat/random_name.mp4"], "camera"),
        Some("flat")
    );
    let top = &clips["top_level.mp4"];
    assert_eq!(top["camera"], Value::Null, "the root folder is no camera");

    // Probe facts.
    let media = &sync["media"];
    assert_eq!(media["video"]["codec"].as_str(), Some("h264"));
    assert_eq!(media["video"]["width"].as_u64(), Some(320));
    assert_eq!(media["video"]["frame_rate"], serde_json::json!([25, 1]));
    assert_eq!(media["audio"]["codec"].as_str(), Some("aac"));
    assert_eq!(media["audio"]["sample_rate"].as_u64(), Some(48000));
    let duration = media["duration"].as_f64().unwrap();
    assert!((duration - 2.0).abs() < 0.1, "duration {duration}");
    let wav = &clips["audio/loose.wav"];
    assert_eq!(str_of(wav, "kind"), Some("audio"));
    assert_eq!(wav["media"]["audio"]["sample_rate"].as_u64(), Some(16000));
    assert_eq!(wav["media"]["video"], Value::Null);
    assert_eq!(str_of(wav, "camera"), Some("audio"));

    // Bad files: reported with a reason, not usable; the good ones are.
    let problem = |rel: &str| clips[rel]["problems"][0].as_str().unwrap_or("").to_string();
    assert!(
        problem("flat/empty.mp4").contains("empty"),
        "{}",
        problem("flat/empty.mp4")
    );
    assert!(
        problem("flat/notes.mp4").contains("not a readable media file"),
        "{}",
        problem("flat/notes.mp4")
    );
    if permissions_enforced(&root.join("flat/unreadable.mp4")) {
        assert!(
            problem("flat/unreadable.mp4").contains("unreadable"),
            "{}",
            problem("flat/unreadable.mp4")
        );
    } else {
        eprintln!(
            "running as root: chmod 000 does not stop reading, unreadable-file check skipped"
        );
    }
    assert!(sync["problems"].as_array().unwrap().is_empty());
    assert_eq!(doc["summary"]["files"].as_u64(), Some(12));
    assert_eq!(
        doc["summary"]["with_problems"].as_u64(),
        Some(if permissions_enforced(&root.join("flat/unreadable.mp4")) {
            3
        } else {
            2
        })
    );

    // Skipped entries name their reason.
    let skipped: Vec<(String, String)> = doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let p = Path::new(s["path"].as_str().unwrap());
            (
                p.strip_prefix(root).unwrap().display().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        skipped.contains(&("flat/.hidden.mp4".into(), "hidden".into())),
        "{skipped:?}"
    );
    assert!(
        skipped.contains(&(".cache".into(), "hidden".into())),
        "{skipped:?}"
    );
    assert!(
        skipped.contains(&("flat/link.mp4".into(), "symbolic link".into())),
        "{skipped:?}"
    );

    // The human table shows the same: problems and adjustments sections.
    let out = blink_stitch([
        "preflight",
        "-i",
        root.to_str().unwrap(),
        "--timezone",
        "UTC",
    ]);
    out.expect_success();
    let table = out.stdout_str();
    assert!(table.starts_with("FILE"), "{table}");
    assert!(
        table.contains("Problems (left out of later stages)"),
        "{table}"
    );
    assert!(table.contains("flat/empty.mp4: empty file"), "{table}");
    assert!(table.contains("Automatic adjustments"), "{table}");
    assert!(table.contains("Skipped entries"), "{table}");
}

#[test]
fn no_recursive_prefers_top_level_then_audio_then_one_level() {
    let dir = tempfile::tempdir().unwrap();
    let clip = small_clip();
    let wav = audio_file("wav", 2.0);
    let flac = audio_file("flac", 2.0);
    // Root a: top-level video only -> just those (not the subfolder's).
    let a = dir.path().join("a");
    place(&a, "top.mp4", &clip);
    place(&a, "sub/below.mp4", &clip);
    // Root b: top-level audio and video -> only the audio.
    let b = dir.path().join("b");
    place(&b, "video.mp4", &clip);
    place(&b, "voice.wav", &wav);
    place(&b, "voice2.flac", &flac);
    // Root c: nothing on top -> one level down, not two.
    let c = dir.path().join("c");
    place(&c, "cam1/one.mp4", &clip);
    place(&c, "cam2/two.mp4", &clip);
    place(&c, "cam2/deeper/three.mp4", &clip);
    place(&c, ".hidden/four.mp4", &clip);

    let rel = |doc: &Value| -> Vec<String> {
        doc["clips"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                Path::new(c["path"].as_str().unwrap())
                    .strip_prefix(dir.path())
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect()
    };
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let doc = blink_json(&["discover", "--no-recursive", "-i", &path(&a)]);
    assert_eq!(rel(&doc), vec!["a/top.mp4"]);
    let doc = blink_json(&["discover", "--no-recursive", "-i", &path(&b)]);
    assert_eq!(rel(&doc), vec!["b/voice.wav", "b/voice2.flac"]);
    assert!(doc["notes"][0].as_str().unwrap().contains("audio"), "{doc}");
    let doc = blink_json(&["discover", "--no-recursive", "-i", &path(&c)]);
    assert_eq!(rel(&doc), vec!["c/cam1/one.mp4", "c/cam2/two.mp4"]);
    // Recursive (the default) sees everything visible, across repeated roots.
    let doc = blink_json(&["discover", "-i", &path(&a), "-i", &path(&c)]);
    assert_eq!(
        rel(&doc),
        vec![
            "a/sub/below.mp4",
            "a/top.mp4",
            "c/cam1/one.mp4",
            "c/cam2/deeper/three.mp4",
            "c/cam2/two.mp4"
        ]
    );
}

#[test]
fn extensions_and_yaml_config() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let clip = small_clip();
    place(&root, "x/one.MP4", &clip);
    place(&root, "x/two.mov", &clip);
    place(&root, "x/three.wav", &audio_file("wav", 2.0));
    let names = |doc: &Value| -> Vec<String> {
        doc["clips"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                Path::new(c["path"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    };
    let r = root.to_str().unwrap();
    let doc = blink_json(&["discover", "-i", r, "--extensions", ".mp4, WAV"]);
    assert_eq!(names(&doc), vec!["one.MP4", "three.wav"]);

    // YAML: input_paths as a string, video_extensions as a list; relative to the file.
    let config = dir.path().join("blink.yaml");
    std::fs::write(&config, "input_paths: tree\nvideo_extensions: [MOV]\n").unwrap();
    let doc = blink_json(&["discover", "--config", config.to_str().unwrap()]);
    assert_eq!(names(&doc), vec!["two.mov"]);
    // input_paths as a list, extensions as a comma string; -i wins over the file.
    std::fs::write(
        &config,
        "input_paths: [tree, tree/x]\nvideo_extensions: '.mp4,.mov'\n",
    )
    .unwrap();
    let doc = blink_json(&["discover", "--config", config.to_str().unwrap()]);
    assert_eq!(names(&doc), vec!["one.MP4", "two.mov"]);
    let other = dir.path().join("other");
    place(&other, "z.mov", &clip);
    let doc = blink_json(&[
        "discover",
        "--config",
        config.to_str().unwrap(),
        "-i",
        other.to_str().unwrap(),
    ]);
    assert_eq!(names(&doc), vec!["z.mov"]);

    // Legacy audio_dir: no input paths -> its .wav/.flac files.
    let audio = dir.path().join("legacy");
    place(&audio, "a.wav", &audio_file("wav", 2.0));
    place(&audio, "b.flac", &audio_file("flac", 2.0));
    place(&audio, "c.mp4", &clip);
    std::fs::write(&config, "audio_dir: legacy\n").unwrap();
    let doc = blink_json(&["discover", "--config", config.to_str().unwrap()]);
    assert_eq!(names(&doc), vec!["a.wav", "b.flac"]);
    let flac = &doc["clips"][1];
    assert_eq!(flac["media"]["audio"]["codec"].as_str(), Some("flac"));

    // A typo in the config is an error naming the key.
    std::fs::write(&config, "input_path: tree\n").unwrap();
    let out = blink_stitch(["discover", "--config", config.to_str().unwrap()]);
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("input_path"), "{}", out.stderr);
}

#[test]
fn missing_root_and_bad_options_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/folder");
    let out = blink_stitch(["preflight", "-i", missing.to_str().unwrap()]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(missing.to_str().unwrap()),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);

    let out = blink_stitch([
        "preflight",
        "-i",
        dir.path().to_str().unwrap(),
        "--timezone",
        "Mars/Olympus",
    ]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("Mars/Olympus"), "{}", out.stderr);

    let out = blink_stitch(["discover"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("--input-path"), "{}", out.stderr);
}
