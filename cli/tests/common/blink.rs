//! Blink-style clips and trees for the `blink-stitch` tests: small H.264 + AAC clips with
//! audio (cached like every fixture), the two-camera "one moment" recording, and a builder
//! that lays files out under a temporary root in the naming conventions users have.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Output, encoded, run_checked};

/// Path of `blink-stitch`.
pub fn blink_bin() -> &'static str {
    env!("CARGO_BIN_EXE_blink-stitch")
}

/// Runs `blink-stitch ARGS` (no panics, no hangs accepted).
pub fn blink_stitch<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_checked(blink_bin(), args)
}

/// Runs `blink-stitch ARGS --json`, expects success and parses stdout.
pub fn blink_json(args: &[&str]) -> Value {
    let mut full: Vec<&str> = args.to_vec();
    full.push("--json");
    let out = blink_stitch(&full);
    out.expect_success();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: stdout is not JSON ({e}):\n{}",
            out.command,
            out.stdout_str()
        )
    })
}

/// Audio whose loudness has a distinctive, non-periodic pattern: tone bursts of different
/// lengths at irregular times (cross-correlation has one clear peak), over faint noise.
const BURSTS: &str = "0.02*(random(0)-0.5)+0.5*sin(2*PI*660*t)*(between(t,0.3,0.55)+between(t,1.1,1.2)\
+between(t,1.9,2.5)+between(t,3.05,3.15)+between(t,3.6,3.75)+between(t,4.4,5.0)+between(t,5.5,5.6)\
+between(t,6.2,6.45)+between(t,7.3,7.4))";

/// How the camera clips are encoded: H.264 with a keyframe every second, AAC audio.
const CAMERA_CODEC: &[&str] = &[
    "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
    "-b:a", "64k",
];

/// A `seconds`-long 320x240 H.264 + AAC clip: `testsrc2` (moving) through `filter`, with the
/// burst audio. Different `filter`s give different cameras' views of one scene.
pub fn clip(name: &str, seconds: f64, filter: &str) -> PathBuf {
    let (secs, audio) = (format!("{seconds}"), format!("aevalsrc='{BURSTS}':s=48000"));
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        &audio,
        "-vf",
        filter,
        "-t",
        &secs,
    ];
    args.extend(CAMERA_CODEC);
    args.push("-shortest");
    encoded(name, "mp4", &args)
}

/// A short plain clip for discovery tests (2 s).
pub fn small_clip() -> PathBuf {
    clip("blink-small", 2.0, "null")
}

/// The same moment seen by a camera: the master scene from `from_s` for `seconds`, through
/// this camera's crop and colour.
pub fn camera_cut(name: &str, from_s: f64, seconds: f64, view: &str) -> PathBuf {
    let master = clip("blink-master", 9.0, "null");
    let (from, secs) = (format!("{from_s}"), format!("{seconds}"));
    let mut args = vec![
        "-ss",
        &from,
        "-i",
        master.to_str().unwrap(),
        "-t",
        &secs,
        "-vf",
        view,
    ];
    args.extend(CAMERA_CODEC);
    encoded(name, "mp4", &args)
}

/// A re-encoded copy of `src` (other size and quality, same timing).
pub fn reencoded(name: &str, src: &Path) -> PathBuf {
    encoded(
        name,
        "mp4",
        &[
            "-i",
            src.to_str().unwrap(),
            "-vf",
            "scale=256:192",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "32",
            "-g",
            "25",
            "-c:a",
            "aac",
            "-b:a",
            "48k",
        ],
    )
}

/// Standalone audio with the burst pattern, `ext` one of wav/flac.
pub fn audio_file(ext: &str, seconds: f64) -> PathBuf {
    let secs = format!("{seconds}");
    encoded(
        "blink-audio",
        ext,
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("aevalsrc='{BURSTS}':s=16000"),
            "-t",
            &secs,
        ],
    )
}

/// The same clip remuxed into MPEG-TS (the Sync Module also writes `.ts`).
pub fn ts_clip() -> PathBuf {
    let src = small_clip();
    encoded(
        "blink-small-ts",
        "ts",
        &["-i", src.to_str().unwrap(), "-c", "copy"],
    )
}

/// Copies `src` to `root/relative`, creating folders.
pub fn place(root: &Path, relative: &str, src: &Path) -> PathBuf {
    let dst = root.join(relative);
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    std::fs::copy(src, &dst)
        .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", src.display(), dst.display()));
    dst
}

/// Writes `bytes` to `root/relative`, creating folders.
pub fn write(root: &Path, relative: &str, bytes: &[u8]) -> PathBuf {
    let dst = root.join(relative);
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    std::fs::write(&dst, bytes).unwrap();
    dst
}

/// Whether this process can read files without read permission (root can): tests of
/// unreadable files skip that one assertion then.
pub fn permissions_enforced(unreadable: &Path) -> bool {
    std::fs::File::open(unreadable).is_err()
}

/// The clip records of a `discover`/`preflight --json` document, by path relative to `root`.
pub fn clips_by_path(doc: &Value, root: &Path) -> std::collections::BTreeMap<String, Value> {
    doc["clips"]
        .as_array()
        .expect("clips array")
        .iter()
        .map(|c| {
            let p = PathBuf::from(c["path"].as_str().unwrap());
            let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            (rel, c.clone())
        })
        .collect()
}
