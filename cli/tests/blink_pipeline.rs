//! `blink-stitch run` end to end on a generated multi-camera tree: exact and re-encoded copies,
//! two cameras of one moment joined into one event with their clock offset, annotations, a
//! stitched MP4 as long as the event, manifest checksums, bad files skipped, and a resumed
//! run after a crash giving the same outputs.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::blink::{
    blink_bin, blink_json, camera_cut, clip, permissions_enforced, place, reencoded, write,
};
use common::{CLI_TIMEOUT, ffprobe, run_with_timeout};
use serde_json::Value;

/// Camera B's view starts this much later in the master scene than camera A's, while both
/// file names give the same second: B's clock is behind by this much.
const OFFSET_S: f64 = 1.3;
const FPS: f64 = 25.0;

const CAM_A: &str = "usb/24-01/24-01-05/10-00-00_FrontDoorG8T1AAA111_001.mp4";
const CAM_B: &str = "usb/24-01/24-01-05/10-00-00_PorchG8T1BBB222_001.mp4";
const EXACT_COPY: &str = "usb/blink_backups/24-01/24-01-05/10-00-00_FrontDoorG8T1AAA111_001.mp4";
const REENCODED: &str = "cloud/FrontDoor-2024-01-05t10-00-00-00-00.mp4";
const LATER: &str = "usb/24-01/24-01-05/10-02-00_FrontDoorG8T1AAA111_002.mp4";

fn cam_a() -> PathBuf {
    camera_cut("blink-cam-a", 0.5, 5.0, "crop=280:200:0:0,scale=320:240")
}

fn cam_b() -> PathBuf {
    camera_cut(
        "blink-cam-b",
        0.5 + OFFSET_S,
        5.0,
        "crop=280:200:40:40,scale=320:240,hue=h=90:s=1.5",
    )
}

/// The two cameras, the second event, and optionally the copies and the bad files.
fn build_tree(root: &Path, with_copies_and_bad_files: bool) {
    place(root, CAM_A, &cam_a());
    place(root, CAM_B, &cam_b());
    place(root, LATER, &clip("blink-later", 3.0, "hue=s=0"));
    if with_copies_and_bad_files {
        place(root, EXACT_COPY, &cam_a());
        place(root, REENCODED, &reencoded("blink-cam-a-reenc", &cam_a()));
        write(root, "zbad/empty.mp4", b"");
        write(root, "zbad/notes.mp4", b"not a video\n");
        let unreadable = place(root, "zbad/unreadable.mp4", &cam_a());
        std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ffprobe_duration(video: &Path) -> f64 {
    let out = ffprobe([
        "-show_entries",
        "format=duration",
        "-of",
        "default=nw=1:nk=1",
        s(video),
    ]);
    String::from_utf8_lossy(&out).trim().parse().unwrap()
}

fn event_paths(event: &Value) -> Vec<String> {
    event["clips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn copies_companions_events_annotations_and_packages() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let out = dir.path().join("work");
    build_tree(&root, true);
    let doc = blink_json(&[
        "run",
        "-i",
        s(&root),
        "--out",
        s(&out),
        "--timezone",
        "Europe/Berlin",
        "--workers",
        "2",
        "--mosaic",
        "--canvases",
    ]);
    let path = |rel: &str| s(&root.join(rel)).to_string();

    // Bad files: reported, left out, and the run succeeded.
    let bad: Vec<&str> = doc["clips"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["problems"].as_array().unwrap().is_empty())
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    let mut expected_bad = vec![path("zbad/empty.mp4"), path("zbad/notes.mp4")];
    if permissions_enforced(&root.join("zbad/unreadable.mp4")) {
        expected_bad.push(path("zbad/unreadable.mp4"));
    } else {
        eprintln!(
            "running as root: chmod 000 does not stop reading, unreadable-file check skipped"
        );
    }
    assert_eq!(bad, expected_bad);

    // Duplicates: the exact and the re-encoded copy of camera A, both keeping A.
    let duplicates = doc["dedupe"]["duplicates"].as_array().unwrap();
    let found: Vec<(&str, &str, &str)> = duplicates
        .iter()
        .map(|d| {
            (
                d["clip"].as_str().unwrap(),
                d["kept"].as_str().unwrap(),
                d["reason"].as_str().unwrap(),
            )
        })
        .collect();
    let a = path(CAM_A);
    assert!(
        found.contains(&(path(EXACT_COPY).as_str(), a.as_str(), "exact_copy")),
        "{found:?}"
    );
    assert!(
        found.contains(&(path(REENCODED).as_str(), a.as_str(), "reencoded")),
        "{found:?}"
    );
    let root_is_reader = !permissions_enforced(&root.join("zbad/unreadable.mp4"));
    // As root the unreadable copy of A is readable: a third (exact) duplicate.
    assert_eq!(
        duplicates.len(),
        if root_is_reader { 3 } else { 2 },
        "{found:?}"
    );

    // Companions and the clock offset: B's camera is 1.3 s behind A's.
    let offsets = &doc["dedupe"]["camera_offsets"];
    let diff = offsets["Porch"].as_f64().unwrap() - offsets["FrontDoor"].as_f64().unwrap();
    assert!((diff + OFFSET_S).abs() < 0.1, "camera offsets {offsets}");

    // Events: A and B together (duplicates left out), the later clip alone.
    let events = doc["cluster"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(event_paths(&events[0]), vec![path(CAM_A), path(CAM_B)]);
    assert_eq!(
        events[0]["cameras"],
        serde_json::json!(["FrontDoor", "Porch"])
    );
    assert_eq!(event_paths(&events[1]), vec![path(LATER)]);
    let span = events[0]["end"].as_f64().unwrap() - events[0]["start"].as_f64().unwrap();
    assert!((span - (5.0 + OFFSET_S)).abs() < 0.15, "event span {span}");

    // Annotations: JSON and CSV, UTC and Berlin times, best camera per second.
    let annotations: Value =
        serde_json::from_slice(&std::fs::read(out.join("annotations.json")).unwrap()).unwrap();
    let first = &annotations["events"][0];
    assert_eq!(
        first["start_utc"].as_str().unwrap()[..19],
        *"2024-01-05T10:00:00"
    );
    assert!(
        first["start_local"]
            .as_str()
            .unwrap()
            .starts_with("2024-01-05T11:00:00")
    );
    assert!(first["start_local"].as_str().unwrap().ends_with("+01:00"));
    let per_second = first["best_camera_per_second"].as_array().unwrap();
    assert_eq!(per_second.len(), span.ceil() as usize);
    assert!(
        per_second.iter().all(|c| c == "FrontDoor" || c == "Porch"),
        "{per_second:?}"
    );
    let clip_a = &first["clips"][0];
    assert_eq!(
        clip_a["duplicates"].as_array().unwrap().len(),
        duplicates.len()
    );
    assert_eq!(
        clip_a["companions"][0]["path"].as_str(),
        Some(path(CAM_B).as_str())
    );
    assert!(clip_a["activity"]["mean"].as_f64().unwrap() > 0.0);
    let csv = std::fs::read_to_string(out.join("annotations.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 3, "{csv}");
    assert!(lines[0].starts_with("event,event_start_utc"), "{csv}");
    assert!(
        lines[1].starts_with("event-001,") && lines[1].contains("FrontDoor"),
        "{csv}"
    );

    // Package: the stitched MP4 plays and lasts the event span (one frame interval).
    let event_dir = out.join("events/event-001");
    let stitched = event_dir.join("stitched.mp4");
    let duration = ffprobe_duration(&stitched);
    assert!(
        (duration - span).abs() <= 1.0 / FPS + 1e-6,
        "stitched {duration} s, event {span} s"
    );
    assert!(event_dir.join("contact_sheet.png").is_file());
    let mosaic = ffprobe_duration(&event_dir.join("mosaic.mp4"));
    assert!(
        (mosaic - span).abs() <= 1.0 / FPS + 1e-6,
        "mosaic {mosaic} s, event {span} s"
    );
    let kinds = verify_manifest(&event_dir);
    for kind in [
        "stitched_video",
        "mosaic_video",
        "contact_sheet",
        "canvas_meta",
        "canvas",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind} in the manifest: {kinds:?}"
        );
    }
    verify_manifest(&out.join("events/event-002"));

    // Nothing under the input root was moved or deleted.
    for rel in [CAM_A, CAM_B, EXACT_COPY, REENCODED, LATER] {
        assert!(root.join(rel).is_file(), "{rel} is gone");
    }

    // A second run finds everything finished.
    let again = blink_json(&[
        "run",
        "-i",
        s(&root),
        "--out",
        s(&out),
        "--timezone",
        "Europe/Berlin",
        "--mosaic",
        "--canvases",
    ]);
    assert_eq!(again["extract"]["extracted"].as_u64(), Some(0));
    assert_eq!(
        again["package"]["already_done"].as_array().unwrap().len(),
        2
    );
}

/// Every manifest entry exists with its size and blake3; returns the entries' kinds.
fn verify_manifest(dir: &Path) -> Vec<String> {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["version"].as_u64(), Some(1));
    let outputs = manifest["outputs"].as_array().unwrap();
    assert!(!outputs.is_empty());
    for entry in outputs {
        let file = dir.join(entry["path"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(
            entry["bytes"].as_u64(),
            Some(bytes.len() as u64),
            "{}",
            file.display()
        );
        assert_eq!(
            entry["blake3"].as_str(),
            Some(blake3::hash(&bytes).to_hex().as_str()),
            "{}",
            file.display()
        );
    }
    outputs
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The outputs that must be identical between an interrupted and an uninterrupted run.
fn comparable_outputs(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        "dedupe.json".to_string(),
        "events.json".to_string(),
        "annotations.json".to_string(),
        "annotations.csv".to_string(),
    ];
    let mut signals: Vec<String> = std::fs::read_dir(out.join("clips"))
        .unwrap()
        .map(|e| {
            format!(
                "clips/{}/signals.json",
                e.unwrap().file_name().to_string_lossy()
            )
        })
        .collect();
    signals.sort();
    files.extend(signals);
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(out.join(&f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            (f, bytes)
        })
        .collect()
}

#[test]
fn crash_mid_extract_resumes_with_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    build_tree(&root, false);
    let crashed = dir.path().join("crashed");
    let clean = dir.path().join("clean");

    // A dry run says what would happen and writes nothing.
    let plan = blink_json(&["run", "-i", s(&root), "--out", s(&crashed), "--dry-run"]);
    assert_eq!(plan["extract"]["to_extract"].as_u64(), Some(3));
    assert_eq!(
        plan["package"]["previously_complete"].as_bool(),
        Some(false)
    );
    assert!(!crashed.exists(), "--dry-run created the work directory");

    // Abort after the first finished clip, as a crash would.
    let mut cmd = Command::new(blink_bin());
    cmd.args([
        "run",
        "-i",
        s(&root),
        "--out",
        s(&crashed),
        "--workers",
        "1",
        "--json",
    ])
    .env("BLINK_STITCH_CRASH_AFTER_CLIPS", "1");
    let first = run_with_timeout(&mut cmd, CLI_TIMEOUT);
    assert_eq!(first.code, None, "expected an abort: {}", first.stderr);
    assert!(!crashed.join("annotations.json").exists());
    let state: Value =
        serde_json::from_slice(&std::fs::read(crashed.join("state.json")).unwrap()).unwrap();
    assert_eq!(
        state["stages"]["extract"]["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let resumed = blink_json(&[
        "run",
        "-i",
        s(&root),
        "--out",
        s(&crashed),
        "--workers",
        "1",
    ]);
    assert_eq!(resumed["extract"]["already_done"].as_u64(), Some(1));
    assert_eq!(resumed["extract"]["extracted"].as_u64(), Some(2));
    blink_json(&["run", "-i", s(&root), "--out", s(&clean), "--workers", "2"]);

    let (a, b) = (comparable_outputs(&crashed), comparable_outputs(&clean));
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{name} differs between the resumed and the clean run"
        );
    }
    let durations = |out: &Path| ffprobe_duration(&out.join("events/event-001/stitched.mp4"));
    assert_eq!(durations(&crashed), durations(&clean));
    // No temporary file is left behind anywhere in the work directory.
    let leftovers: Vec<PathBuf> = walk(&crashed)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
