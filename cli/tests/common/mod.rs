//! Shared helpers of the `codecprep` integration tests: fixture clips generated with the system
//! FFmpeg (cached under `target/test-fixtures/`), oracles from `ffprobe`/`ffmpeg`, running the
//! binary with a timeout, and reading its outputs.
//!
//! Every fixture is made by a recipe (the FFmpeg command line); the cache file name carries a
//! hash of the recipe, so changing a recipe makes a new file. Files are written under a temporary
//! name and renamed into place, so parallel test threads and processes never see half a file.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ndarray::{Array3, Array4};
use serde_json::Value;

pub mod blink;

/// Time allowed for one run of `codecprep` on a fixture (debug build, small clips).
pub const CLI_TIMEOUT: Duration = Duration::from_secs(180);
/// Time allowed for one run of ffmpeg/ffprobe/python on a fixture.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

// ------------------------------------------------------------------------------------------
// Running processes

/// What a finished (or killed) child process left behind.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub timed_out: bool,
    pub command: String,
}

impl Output {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Panics with the command, exit code and stderr unless the process exited 0.
    pub fn expect_success(&self) -> &Self {
        assert!(
            !self.timed_out,
            "timed out: {}\nstderr:\n{}",
            self.command, self.stderr
        );
        assert_eq!(
            self.code,
            Some(0),
            "command failed: {}\nstderr:\n{}",
            self.command,
            self.stderr
        );
        self
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` with stdin closed, collecting stdout and stderr; kills it after `timeout`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let command = describe(cmd);
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot start `{command}`: {e}"),
    };
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > timeout => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for `{command}`: {e}"),
        }
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err_thread.join().unwrap_or_default()).into_owned();
    Output {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
        timed_out,
        command,
    }
}

/// Path of the binary under test.
pub fn codecprep_bin() -> &'static str {
    env!("CARGO_BIN_EXE_codecprep")
}

/// Runs `codecprep ARGS` with [`CLI_TIMEOUT`]. Never accepts a panic: exit code 101 or a
/// "panicked" message fails the test whatever the caller expects.
pub fn codecprep<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_checked(codecprep_bin(), args)
}

/// Runs one of the package's binaries with [`CLI_TIMEOUT`], failing the test on a hang, a
/// panic or a signal whatever exit code the caller expects.
pub fn run_checked<I, S>(bin: &str, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(bin);
    cmd.args(args);
    let out = run_with_timeout(&mut cmd, CLI_TIMEOUT);
    assert!(
        !out.timed_out,
        "{bin} hung (killed after {CLI_TIMEOUT:?}): {}\nstderr:\n{}",
        out.command, out.stderr
    );
    assert_ne!(
        out.code,
        Some(101),
        "{bin} panicked: {}\nstderr:\n{}",
        out.command,
        out.stderr
    );
    assert!(
        !out.stderr.contains("panicked"),
        "{bin} panicked: {}\nstderr:\n{}",
        out.command,
        out.stderr
    );
    assert!(
        out.code.is_some(),
        "{bin} was killed by a signal: {}\nstderr:\n{}",
        out.command,
        out.stderr
    );
    out
}

fn tool(name: &str) -> Command {
    let probe = Command::new(name)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match probe {
        Ok(s) if s.success() => Command::new(name),
        _ => panic!(
            "`{name}` is not available: the tests generate fixtures and oracles with the system \
             FFmpeg (Debian: apt-get install ffmpeg, or scripts/install-deps.sh)"
        ),
    }
}

/// Runs the system `ffmpeg` with the given arguments (`-nostdin -hide_banner` prepended).
pub fn ffmpeg<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = tool("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner"]).args(args);
    let out = run_with_timeout(&mut cmd, TOOL_TIMEOUT);
    assert!(!out.timed_out, "ffmpeg timed out: {}", out.command);
    out
}

/// Runs the system `ffprobe`; panics unless it succeeds; returns stdout.
pub fn ffprobe<I, S>(args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = tool("ffprobe");
    cmd.args(["-v", "error"]).args(args);
    let out = run_with_timeout(&mut cmd, TOOL_TIMEOUT);
    out.expect_success();
    out.stdout
}

fn ffprobe_json(args: &[&OsStr]) -> Value {
    let out = ffprobe(
        args.iter()
            .copied()
            .chain([OsStr::new("-of"), OsStr::new("json")]),
    );
    serde_json::from_slice(&out).expect("ffprobe printed invalid JSON")
}

// ------------------------------------------------------------------------------------------
// Fixtures

/// Directory of cached fixtures: `<target>/test-fixtures`.
pub fn fixture_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("test-fixtures");
    fs::create_dir_all(&dir).expect("create target/test-fixtures");
    dir
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A unique temporary path in the fixture directory ending in `.ext` (ffmpeg picks the muxer
/// from the extension).
fn temp_path(name: &str, ext: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    fixture_dir().join(format!(".tmp-{}-{n}-{name}.{ext}", std::process::id()))
}

/// FNV-1a, enough to tell recipes apart in file names.
fn fnv<T: AsRef<[u8]>>(parts: &[T]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in p.as_ref().iter().chain([0u8].iter()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Returns the cached file `name-<hash>.ext`, running `make(tmp_path)` to create it when absent.
fn cached(name: &str, ext: &str, recipe: &[String], make: impl FnOnce(&Path)) -> PathBuf {
    let path = fixture_dir().join(format!("{name}-{}.{ext}", fnv(recipe)));
    if path.is_file() {
        return path;
    }
    let tmp = temp_path(name, ext);
    make(&tmp);
    assert!(
        tmp.is_file(),
        "fixture {name}: the recipe did not produce {}",
        tmp.display()
    );
    fs::rename(&tmp, &path)
        .unwrap_or_else(|e| panic!("rename {} -> {}: {e}", tmp.display(), path.display()));
    path
}

/// Encodes a fixture with the system ffmpeg: `ffmpeg -y ARGS tmp`.
fn encoded(name: &str, ext: &str, args: &[&str]) -> PathBuf {
    let recipe: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    cached(name, ext, &recipe, |tmp| {
        let mut full: Vec<OsString> = vec!["-v".into(), "error".into(), "-y".into()];
        full.extend(args.iter().map(OsString::from));
        full.push(tmp.as_os_str().to_owned());
        let out = ffmpeg(&full);
        if out.code != Some(0) {
            let _ = fs::remove_file(tmp);
            panic!(
                "generating fixture {name} failed: {}\n{}",
                out.command, out.stderr
            );
        }
    })
}

/// Lavfi input arguments: a `testsrc2` background (static detail, a moving element) with a
/// moving, evolving `mandelbrot` patch on top, `frames` frames at 25 fps.
fn motion_source(w: u32, h: u32, pix_fmt: &str) -> Vec<String> {
    let patch = (w.min(h) * 2 / 5) & !1;
    let filter = format!(
        "[0][1]overlay=x='mod(t*{vx},{xr})':y='{y0}+{ya}*sin(t*4)',format={pix_fmt}",
        vx = w / 3,
        xr = w - patch,
        y0 = (h - patch) / 3,
        ya = (h - patch) / 4,
    );
    vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("testsrc2=size={w}x{h}:rate=25"),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("mandelbrot=size={patch}x{patch}:rate=25"),
        "-filter_complex".into(),
        filter,
    ]
}

/// `frames` frames of [`motion_source`] encoded with the `codec` arguments into MP4.
pub fn motion_clip(
    name: &str,
    w: u32,
    h: u32,
    frames: u32,
    pix_fmt: &str,
    codec: &[&str],
) -> PathBuf {
    let args = motion_args(w, h, frames, pix_fmt, codec);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    encoded(name, "mp4", &refs)
}

/// The ffmpeg arguments of [`motion_clip`] (for recipes encoded otherwise).
pub fn motion_args(w: u32, h: u32, frames: u32, pix_fmt: &str, codec: &[&str]) -> Vec<String> {
    let mut args = motion_source(w, h, pix_fmt);
    args.extend(["-frames:v".into(), frames.to_string(), "-an".into()]);
    args.extend(codec.iter().map(|s| s.to_string()));
    args
}

/// Encodes `args` (see [`motion_args`]) in two passes: libvpx makes hidden alt-ref frames
/// only then.
pub fn motion_clip_two_pass(name: &str, args: Vec<String>) -> PathBuf {
    let mut recipe = args.clone();
    recipe.push("two-pass".into());
    cached(name, "mp4", &recipe, |tmp| {
        let log = tmp.with_extension("passlog");
        let log_arg = log.to_string_lossy().into_owned();
        for (pass, target) in [("1", "-"), ("2", tmp.to_str().expect("UTF-8 fixture path"))] {
            let mut full: Vec<String> = vec!["-v".into(), "error".into(), "-y".into()];
            full.extend(args.iter().cloned());
            full.extend([
                "-pass".into(),
                pass.into(),
                "-passlogfile".into(),
                log_arg.clone(),
            ]);
            if pass == "1" {
                full.extend(["-f".into(), "null".into()]);
            }
            full.push(target.into());
            let out = ffmpeg(&full);
            if out.code != Some(0) {
                let _ = fs::remove_file(tmp);
                panic!(
                    "generating fixture {name} (pass {pass}) failed: {}\n{}",
                    out.command, out.stderr
                );
            }
        }
        for suffix in ["", "-0.log"] {
            let _ = fs::remove_file(format!("{log_arg}{suffix}"));
        }
    })
}

/// The H.264 fixtures the scan tests cover.
pub const H264_FIXTURES: &[&str] = &[
    "h264_cabac",
    "h264_cavlc",
    "h264_mbaff",
    "h264_cavlc_mbaff",
    "h264_slices4",
    "h264_10bit",
    "h264_odd",
];

/// Entropy coder a fixture was encoded with.
pub fn is_cavlc(name: &str) -> bool {
    name.contains("cavlc")
}

/// Path of a generated H.264 fixture (see [`H264_FIXTURES`]).
pub fn h264_fixture(name: &str) -> PathBuf {
    const X264: &[&str] = &[
        "-c:v", "libx264", "-preset", "medium", "-g", "48", "-crf", "26",
    ];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        X264.iter().chain(extra.iter()).copied().collect()
    };
    match name {
        // High profile, CABAC, B-frames (3, adaptive), faststart.
        "h264_cabac" => motion_clip(
            name,
            320,
            240,
            48,
            "yuv420p",
            &with(&["-profile:v", "high", "-bf", "3", "-movflags", "+faststart"]),
        ),
        // High profile with CAVLC (8x8 transform still on), B-frames.
        "h264_cavlc" => motion_clip(
            name,
            320,
            240,
            48,
            "yuv420p",
            &with(&["-profile:v", "high", "-bf", "3", "-x264-params", "cabac=0"]),
        ),
        // Interlaced, MBAFF-coded (x264 codes interlaced content as MBAFF), top field first.
        "h264_mbaff" => motion_clip(
            name,
            320,
            240,
            48,
            "yuv420p",
            &with(&[
                "-bf",
                "3",
                "-flags",
                "+ildct+ilme",
                "-x264-params",
                "interlaced=1:tff=1",
            ]),
        ),
        // MBAFF with CAVLC: skip runs over macroblock pairs.
        "h264_cavlc_mbaff" => motion_clip(
            name,
            320,
            240,
            48,
            "yuv420p",
            &with(&[
                "-bf",
                "2",
                "-flags",
                "+ildct+ilme",
                "-x264-params",
                "interlaced=1:tff=1:cabac=0",
            ]),
        ),
        // Four slices per picture.
        "h264_slices4" => motion_clip(
            name,
            320,
            240,
            48,
            "yuv420p",
            &with(&["-bf", "3", "-x264-params", "slices=4"]),
        ),
        // High 10.
        "h264_10bit" => motion_clip(
            name,
            320,
            240,
            48,
            "yuv420p10le",
            &with(&["-profile:v", "high10", "-bf", "3"]),
        ),
        // 176x144 coded, cropped to 174x142 by the SPS (odd display size).
        "h264_odd" => motion_clip(
            name,
            176,
            144,
            30,
            "yuv420p",
            &with(&[
                "-bf",
                "2",
                "-bsf:v",
                "h264_metadata=crop_right=2:crop_bottom=2",
            ]),
        ),
        other => panic!("unknown H.264 fixture {other}"),
    }
}

/// Deterministic pseudo-random bytes (64-bit LCG), for garbage inputs and corruption.
pub fn pseudo_random(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) as u8
        })
        .collect()
}

fn written(name: &str, ext: &str, bytes: &[u8]) -> PathBuf {
    let recipe = vec![format!("bytes:{}", fnv(&[bytes]))];
    cached(name, ext, &recipe, |tmp| {
        fs::write(tmp, bytes).expect("write fixture")
    })
}

/// An MPEG-TS H.264 stream that changes its picture size at frame 20: two closed-GOP clips
/// (160x96, then 128x64, 20 frames each, timestamps continuing) joined byte for byte, as a
/// camera that switches resolution records.
pub fn resolution_change() -> PathBuf {
    let part = |name: &str, size: &str, offset: &str| {
        let source = format!("testsrc2=size={size}:rate=25");
        encoded(
            name,
            "ts",
            &[
                "-f",
                "lavfi",
                "-i",
                &source,
                "-frames:v",
                "20",
                "-c:v",
                "libx264",
                "-g",
                "10",
                "-bf",
                "2",
                "-pix_fmt",
                "yuv420p",
                "-output_ts_offset",
                offset,
            ],
        )
    };
    let mut bytes = fs::read(part("size_a", "160x96", "0")).expect("read first part");
    bytes.extend(fs::read(part("size_b", "128x64", "0.8")).expect("read second part"));
    written("resolution_change", "ts", &bytes)
}

/// Bad inputs that must fail with a one-line error (exit 1).
pub const BAD_INPUTS: &[&str] = &[
    "missing",
    "empty",
    "text",
    "random",
    "truncated",
    "audio_only",
    "mpeg4",
];

pub fn bad_input(name: &str) -> PathBuf {
    match name {
        "missing" => fixture_dir().join("does-not-exist").join("missing.mp4"),
        "empty" => written("empty", "mp4", b""),
        "text" => written(
            "text",
            "mp4",
            "This is a text file, not a video.\nIt merely has an .mp4 name.\n"
                .repeat(20)
                .as_bytes(),
        ),
        "random" => written("random", "mp4", &pseudo_random(1, 64 * 1024)),
        "truncated" => {
            // moov at the end (no faststart), cut in half: the index is gone.
            let full = motion_clip(
                "truncated_source",
                320,
                240,
                48,
                "yuv420p",
                &["-c:v", "libx264", "-crf", "26", "-bf", "3"],
            );
            let bytes = fs::read(&full).expect("read truncated_source");
            let moov = find(&bytes, b"moov").expect("source clip has a moov box");
            assert!(
                moov > bytes.len() / 2,
                "truncated_source: moov is not at the end"
            );
            written("truncated", "mp4", &bytes[..bytes.len() / 2])
        }
        "audio_only" => encoded(
            "audio_only",
            "m4a",
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:sample_rate=44100:duration=1",
                "-c:a",
                "aac",
                "-b:a",
                "64k",
            ],
        ),
        "mpeg4" => motion_clip(
            "mpeg4",
            320,
            240,
            24,
            "yuv420p",
            &["-c:v", "mpeg4", "-q:v", "5"],
        ),
        other => panic!("unknown bad input {other}"),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The faststart H.264 clip cut in half: index intact, the second half of the mdat missing.
pub fn truncated_faststart() -> PathBuf {
    let src = h264_fixture("h264_cabac");
    let bytes = fs::read(&src).expect("read h264_cabac");
    let moov = find(&bytes, b"moov").expect("h264_cabac has a moov box");
    let mdat = find(&bytes, b"mdat").expect("h264_cabac has an mdat box");
    assert!(moov < mdat, "h264_cabac is not faststart");
    written("truncated_faststart", "mp4", &bytes[..bytes.len() / 2])
}

/// Where the mid-file corruption went.
#[derive(Debug, Clone)]
pub struct Corruption {
    pub path: PathBuf,
    /// pts_time of the corrupted packet.
    pub pts_time: f64,
    pub offset: u64,
    pub len: usize,
}

/// A faststart H.264 MP4 with 200 bytes of slice data overwritten in the middle of one inter
/// frame's packet near the middle of the mdat. Headers, SPS/PPS and the index are intact.
pub fn corrupt_mdat() -> Corruption {
    corrupted_copy("corrupt_mdat", &h264_fixture("h264_cabac"))
}

/// The H.264 MP4 `src` with 200 bytes of slice data overwritten in the middle of one inter
/// frame's packet near the middle of the file, cached as `name`.
///
/// CABAC decoding of garbage does not always trip one of FFmpeg's checks, so candidates (packet
/// near the middle, pseudo-random pattern) are tried in a fixed order and the first one that
/// makes `ffmpeg -v error` complain is kept. The choice is cached with the file; where the
/// damage went is recovered by comparing it with the clean clip.
pub fn corrupted_copy(name: &str, src: &Path) -> Corruption {
    const LEN: usize = 200;
    let clean = fs::read(src).expect("read the clip to corrupt");
    let packets = packets_of(src);
    let recipe = vec![format!("corrupt-v2:{}:{LEN}", fnv(&[&clean]))];
    let path = cached(name, "mp4", &recipe, |tmp| {
        let middle = clean.len() as u64 / 2;
        let mut victims: Vec<&Packet> = packets
            .iter()
            .filter(|p| !p.keyframe && p.size >= 1400)
            .collect();
        victims.sort_by_key(|p| p.pos.abs_diff(middle));
        for victim in victims.iter().take(6) {
            for seed in 1..=4u64 {
                let offset = (victim.pos + victim.size / 2) as usize - LEN / 2;
                let mut bad = clean.clone();
                bad[offset..offset + LEN].copy_from_slice(&pseudo_random(seed, LEN));
                fs::write(tmp, &bad).expect("write corrupt candidate");
                let out = ffmpeg([
                    "-v".as_ref(),
                    "error".as_ref(),
                    "-i".as_ref(),
                    tmp.as_os_str(),
                    "-f".as_ref(),
                    "null".as_ref(),
                    "-".as_ref(),
                ]);
                if out.code == Some(0) && out.stderr.contains("error while decoding MB") {
                    return;
                }
            }
        }
        let _ = fs::remove_file(tmp);
        panic!("{name}: no candidate corruption makes the H.264 decoder report an error");
    });
    let bad = fs::read(&path).expect("read the corrupted clip");
    assert_eq!(
        bad.len(),
        clean.len(),
        "{name}: size differs from its source"
    );
    let first = clean
        .iter()
        .zip(&bad)
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| panic!("{name} equals its source"));
    let last = clean.iter().zip(&bad).rposition(|(a, b)| a != b).unwrap();
    let victim = packets
        .iter()
        .find(|p| p.pos as usize <= first && last < (p.pos + p.size) as usize)
        .unwrap_or_else(|| panic!("{name}: the damage is not inside one packet"));
    Corruption {
        path,
        pts_time: victim.pts_time,
        offset: first as u64,
        len: last + 1 - first,
    }
}

// ------------------------------------------------------------------------------------------
// Oracles from ffprobe / ffmpeg

/// Number of decodable video frames according to `ffprobe -count_frames`.
pub fn ffprobe_frame_count(video: &Path) -> usize {
    let v = ffprobe_json(&[
        "-count_frames".as_ref(),
        "-select_streams".as_ref(),
        "v:0".as_ref(),
        "-show_entries".as_ref(),
        "stream=nb_read_frames".as_ref(),
        video.as_os_str(),
    ]);
    v["streams"][0]["nb_read_frames"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "ffprobe gave no nb_read_frames for {}: {v}",
                video.display()
            )
        })
}

/// Stream-level facts from ffprobe (first video stream).
pub fn ffprobe_stream(video: &Path) -> Value {
    let v = ffprobe_json(&[
        "-select_streams".as_ref(),
        "v:0".as_ref(),
        "-show_streams".as_ref(),
        video.as_os_str(),
    ]);
    v["streams"][0].clone()
}

/// Key-frame indices in presentation order according to `ffprobe -show_frames`.
pub fn ffprobe_keyframes(video: &Path) -> Vec<usize> {
    let v = ffprobe_json(&[
        "-select_streams".as_ref(),
        "v:0".as_ref(),
        "-show_entries".as_ref(),
        "frame=key_frame".as_ref(),
        video.as_os_str(),
    ]);
    v["frames"]
        .as_array()
        .expect("ffprobe frames")
        .iter()
        .enumerate()
        .filter(|(_, f)| f["key_frame"].as_i64() == Some(1))
        .map(|(i, _)| i)
        .collect()
}

/// One demuxed video packet.
#[derive(Debug, Clone)]
pub struct Packet {
    pub pts_time: f64,
    pub pos: u64,
    pub size: u64,
    pub keyframe: bool,
    pub data: Vec<u8>,
}

fn parse_hexdump(dump: &str) -> Vec<u8> {
    // ffprobe's dump: "xxxxxxxx: " then a 40-column hex area (8 groups of 4 digits), then ASCII.
    let mut out = Vec::new();
    for line in dump.lines() {
        let Some(rest) = line.get(10..) else { continue };
        let hex: String = rest
            .chars()
            .take(40)
            .filter(|c| !c.is_whitespace())
            .collect();
        for i in (0..hex.len()).step_by(2) {
            out.push(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex byte in ffprobe dump"));
        }
    }
    out
}

/// All video packets with their payloads, in decode order.
pub fn packets_of(video: &Path) -> Vec<Packet> {
    let v = ffprobe_json(&[
        "-select_streams".as_ref(),
        "v:0".as_ref(),
        "-show_packets".as_ref(),
        "-show_data".as_ref(),
        video.as_os_str(),
    ]);
    v["packets"]
        .as_array()
        .expect("ffprobe packets")
        .iter()
        .map(|p| {
            let num = |k: &str| -> String { p[k].as_str().unwrap_or_default().to_string() };
            let data = parse_hexdump(p["data"].as_str().unwrap_or_default());
            let size: u64 = num("size").parse().expect("packet size");
            assert_eq!(
                data.len() as u64,
                size,
                "ffprobe data dump length != packet size"
            );
            Packet {
                pts_time: num("pts_time").parse().expect("packet pts_time"),
                pos: num("pos").parse().unwrap_or(0),
                size,
                keyframe: num("flags").starts_with('K'),
                data,
            }
        })
        .collect()
}

/// Splits a packet into NAL units: 4-byte big-endian lengths (MP4/avcC) when they tile the
/// packet exactly, else Annex-B start codes. (Length-prefixed first: a length of 256..511 begins
/// with the bytes 00 00 01, which looks like a start code.)
pub fn nal_units(data: &[u8]) -> Vec<&[u8]> {
    let mut nals = Vec::new();
    let mut i = 0;
    while i + 4 <= data.len() {
        let n = u32::from_be_bytes(data[i..i + 4].try_into().unwrap()) as usize;
        if n == 0 || i + 4 + n > data.len() {
            break;
        }
        nals.push(&data[i + 4..i + 4 + n]);
        i += 4 + n;
    }
    if i == data.len() && !nals.is_empty() {
        return nals;
    }
    assert!(
        data.starts_with(&[0, 0, 1]) || data.starts_with(&[0, 0, 0, 1]),
        "packet is neither 4-byte length-prefixed nor Annex-B"
    );
    nals.clear();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    for (k, &s) in starts.iter().enumerate() {
        let mut e = starts.get(k + 1).map(|&n| n - 3).unwrap_or(data.len());
        while e > s && data[e - 1] == 0 {
            e -= 1; // trailing_zero_8bits / the leading zero of a 4-byte start code
        }
        nals.push(&data[s..e]);
    }
    nals
}

/// Bits of a packet's NAL units other than SEI (6), SPS (7), PPS (8) and AUD (9).
pub fn slice_nal_bits(data: &[u8]) -> u64 {
    nal_units(data)
        .into_iter()
        .filter(|n| !n.is_empty() && !matches!(n[0] & 0x1f, 6..=9))
        .map(|n| n.len() as u64 * 8)
        .sum()
}

/// SPS/PPS/slice facts read with the `trace_headers` bitstream filter.
#[derive(Debug, Clone)]
pub struct H264Headers {
    pub mb_width: usize,
    /// Frame macroblock rows: (pic_height_in_map_units_minus1 + 1) * (2 - frame_mbs_only_flag).
    pub frame_mb_rows: usize,
    pub frame_mbs_only: bool,
    pub mbaff: bool,
    pub cabac: bool,
    pub bit_depth_luma: u32,
    /// Number of slice headers in the stream.
    pub slices: usize,
    /// Number of slice headers with field_pic_flag = 1.
    pub field_slices: usize,
}

pub fn h264_headers(video: &Path) -> H264Headers {
    let out = ffmpeg([
        "-v".as_ref(),
        "info".as_ref(),
        "-i".as_ref(),
        video.as_os_str(),
        "-map".as_ref(),
        "0:v:0".as_ref(),
        "-c".as_ref(),
        "copy".as_ref(),
        "-bsf:v".as_ref(),
        "trace_headers".as_ref(),
        "-f".as_ref(),
        "null".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(
        out.code,
        Some(0),
        "trace_headers failed: {}\n{}",
        out.command,
        out.stderr
    );
    let mut first: BTreeMap<String, i64> = BTreeMap::new();
    let mut counts: BTreeMap<(String, i64), usize> = BTreeMap::new();
    for line in out.stderr.lines() {
        if !line.starts_with("[trace_headers") {
            continue;
        }
        // "[trace_headers @ 0x..] 68          mb_adaptive_frame_field_flag     1 = 1"
        let Some((_, body)) = line.split_once("] ") else {
            continue;
        };
        let mut toks = body.split_whitespace();
        let (Some(_pos), Some(field)) = (toks.next(), toks.next()) else {
            continue;
        };
        let Some((_, value)) = body.rsplit_once("= ") else {
            continue;
        };
        let Ok(value) = value.trim().parse::<i64>() else {
            continue;
        };
        first.entry(field.to_string()).or_insert(value);
        *counts.entry((field.to_string(), value)).or_default() += 1;
    }
    let get = |k: &str| -> i64 {
        *first
            .get(k)
            .unwrap_or_else(|| panic!("trace_headers shows no {k} for {}", video.display()))
    };
    let count_all = |k: &str| -> usize {
        counts
            .iter()
            .filter(|((f, _), _)| f == k)
            .map(|(_, n)| n)
            .sum()
    };
    let frame_mbs_only = get("frame_mbs_only_flag") == 1;
    H264Headers {
        mb_width: (get("pic_width_in_mbs_minus1") + 1) as usize,
        frame_mb_rows: (get("pic_height_in_map_units_minus1") + 1) as usize
            * if frame_mbs_only { 1 } else { 2 },
        frame_mbs_only,
        mbaff: !frame_mbs_only && get("mb_adaptive_frame_field_flag") == 1,
        cabac: get("entropy_coding_mode_flag") == 1,
        bit_depth_luma: first
            .get("bit_depth_luma_minus8")
            .map_or(8, |v| *v as u32 + 8),
        slices: count_all("first_mb_in_slice"),
        field_slices: counts
            .get(&("field_pic_flag".to_string(), 1))
            .copied()
            .unwrap_or(0),
    }
}

/// Checks that the fixture really is coded the way its name says.
pub fn check_fixture_coding(name: &str, hdr: &H264Headers, stream: &Value, frames: usize) {
    let cavlc = is_cavlc(name);
    assert_eq!(
        hdr.cabac, !cavlc,
        "{name}: entropy_coding_mode_flag is not what the fixture needs"
    );
    assert_eq!(
        hdr.field_slices, 0,
        "{name}: x264 should not produce field pictures"
    );
    match name {
        "h264_mbaff" | "h264_cavlc_mbaff" => {
            assert!(hdr.mbaff, "{name}: not MBAFF-coded ({hdr:?})");
            assert_eq!(stream["field_order"], "tt", "{name}: field_order is not tt");
        }
        _ => assert!(
            hdr.frame_mbs_only,
            "{name}: expected progressive (frame_mbs_only) coding"
        ),
    }
    if name == "h264_slices4" {
        assert_eq!(
            hdr.slices,
            4 * frames,
            "{name}: expected 4 slices per picture"
        );
    } else {
        assert_eq!(hdr.slices, frames, "{name}: expected one slice per picture");
    }
    if name == "h264_10bit" {
        assert_eq!(hdr.bit_depth_luma, 10, "{name}: not 10-bit");
        assert_eq!(stream["profile"], "High 10", "{name}: profile");
    }
    if name == "h264_odd" {
        assert_eq!(
            (stream["width"].as_u64(), stream["height"].as_u64()),
            (Some(174), Some(142))
        );
    }
}

/// `(frames, width, height, frame rate)` of a video's stream, from ffprobe.
pub fn video_stream(path: &Path) -> (u64, u64, u64, String) {
    let text = String::from_utf8(ffprobe([
        "-v".as_ref(),
        "error".as_ref(),
        "-count_frames".as_ref(),
        "-show_entries".as_ref(),
        "stream=nb_read_frames,width,height,avg_frame_rate".as_ref(),
        "-of".as_ref(),
        "json".as_ref(),
        path.as_os_str(),
    ]))
    .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let s = &v["streams"][0];
    let n = |k: &str| {
        s[k].as_u64()
            .or_else(|| s[k].as_str()?.parse().ok())
            .unwrap()
    };
    (
        n("nb_read_frames"),
        n("width"),
        n("height"),
        s["avg_frame_rate"].as_str().unwrap().to_owned(),
    )
}

/// The frames of a video as 8-bit grey pictures.
pub fn grey_frames(path: &Path, width: usize, height: usize) -> Vec<Vec<u8>> {
    let out = ffmpeg([
        "-v".as_ref(),
        "error".as_ref(),
        "-i".as_ref(),
        path.as_os_str(),
        "-f".as_ref(),
        "rawvideo".as_ref(),
        "-pix_fmt".as_ref(),
        "gray".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.stdout
        .chunks_exact(width * height)
        .map(<[u8]>::to_vec)
        .collect()
}

/// Decodes `video` with the system ffmpeg (loop filter skipped unless `deblock`), scaled with
/// SWS_AREA to `size` (native when None), as packed 8-bit BGR frames.
pub fn ffmpeg_bgr(video: &Path, size: Option<(u32, u32)>, deblock: bool) -> Vec<u8> {
    let scale = match size {
        Some((w, h)) => format!("scale={w}:{h}:flags=area"),
        None => "scale=iw:ih:flags=area".to_string(),
    };
    let mut args: Vec<OsString> = vec!["-v".into(), "error".into()];
    if !deblock {
        args.extend(["-skip_loop_filter".into(), "all".into()]);
    }
    args.extend([
        "-i".into(),
        video.as_os_str().to_owned(),
        "-map".into(),
        "0:v:0".into(),
        "-vf".into(),
        scale.into(),
        "-fps_mode".into(),
        "passthrough".into(),
        "-pix_fmt".into(),
        "bgr24".into(),
        "-f".into(),
        "rawvideo".into(),
        "-".into(),
    ]);
    let out = ffmpeg(&args);
    out.expect_success();
    out.stdout
}

// ------------------------------------------------------------------------------------------
// Scans

/// Outputs of one successful `codecprep scan`.
pub struct Scan {
    pub dir: tempfile::TempDir,
    pub frames: Vec<Value>,
    pub cells: Array3<i32>,
    pub sub: Array3<f32>,
    pub stderr: String,
}

impl Scan {
    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.out().join(name)
    }

    pub fn bytes(&self, name: &str) -> Vec<u8> {
        fs::read(self.file(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    pub fn pixels(&self) -> Array4<u8> {
        read_npy(&self.file("pixels.npy"))
    }

    /// Σ cells of frame `i` (i64).
    pub fn cell_sum(&self, i: usize) -> i64 {
        self.cells
            .index_axis(ndarray::Axis(0), i)
            .iter()
            .map(|&v| i64::from(v))
            .sum()
    }

    /// Σ sub-grid of frame `i` in f64.
    pub fn sub_sum(&self, i: usize) -> f64 {
        self.sub
            .index_axis(ndarray::Axis(0), i)
            .iter()
            .map(|&v| f64::from(v))
            .sum()
    }
}

pub fn read_npy<A, D>(path: &Path) -> ndarray::Array<A, D>
where
    A: ndarray_npy::ReadableElement,
    D: ndarray::Dimension,
{
    ndarray_npy::read_npy(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} as the expected npy type: {e}",
            path.display()
        )
    })
}

/// Runs `codecprep scan VIDEO --out <tmp>/out EXTRA...`, requires success and reads the outputs.
pub fn scan(video: &Path, extra: &[&str]) -> Scan {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let mut args: Vec<OsString> = vec![
        "scan".into(),
        video.as_os_str().to_owned(),
        "--out".into(),
        out_dir.clone().into(),
    ];
    args.extend(extra.iter().map(OsString::from));
    let out = codecprep(&args);
    out.expect_success();
    let frames_path = out_dir.join("frames.json");
    let text = fs::read_to_string(&frames_path).unwrap_or_else(|e| {
        panic!(
            "{}: no frames.json ({e}); stderr:\n{}",
            out.command, out.stderr
        )
    });
    let frames: Value = serde_json::from_str(&text).expect("frames.json is not valid JSON");
    let frames = frames
        .as_array()
        .expect("frames.json is not an array")
        .clone();
    let cells = read_npy(&out_dir.join("cells.npy"));
    let sub = read_npy(&out_dir.join("sub.npy"));
    Scan {
        dir,
        frames,
        cells,
        sub,
        stderr: out.stderr,
    }
}

// ------------------------------------------------------------------------------------------
// The reference tool

pub const SKIP_REFERENCE: &str = "skipping: reference tool not available (run scripts/reference-env.sh and set CODECPREP_REFERENCE_BIN)";

/// The reference venv's python when `CODECPREP_REFERENCE_BIN` is set and its python imports
/// the reference's native reader; else prints the skip message and returns None.
pub fn reference_python() -> Option<PathBuf> {
    let Some(bin) = std::env::var_os("CODECPREP_REFERENCE_BIN").filter(|b| !b.is_empty()) else {
        eprintln!("{SKIP_REFERENCE}");
        return None;
    };
    let py = Path::new(&bin).join("python");
    let ok = Command::new(&py)
        .args([
            "-c",
            "from codec_video_prep import cv_reader_fast; import numpy",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("{SKIP_REFERENCE}");
        return None;
    }
    Some(py)
}

/// The reference's maps of every frame (tests/reference/dump_maps.py).
pub struct RefMaps {
    pub cells: Array3<i32>,
    pub sub: Array3<f32>,
    pub frames: Vec<Value>,
}

pub fn reference_maps(python: &Path, video: &Path) -> RefMaps {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/reference/dump_maps.py");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(python);
    cmd.arg(&script).arg(video).arg(dir.path());
    let out = run_with_timeout(&mut cmd, TOOL_TIMEOUT);
    out.expect_success();
    let frames: Value = serde_json::from_slice(
        &fs::read(dir.path().join("ref_frames.json")).expect("ref_frames.json"),
    )
    .expect("ref_frames.json JSON");
    RefMaps {
        cells: read_npy(&dir.path().join("ref_cells.npy")),
        sub: read_npy(&dir.path().join("ref_sub.npy")),
        frames: frames.as_array().cloned().unwrap_or_default(),
    }
}

// ------------------------------------------------------------------------------------------
// Small things

/// The `meta.json` a preinfer run wrote into `dir`.
pub fn preinfer_meta(dir: &Path) -> Value {
    serde_json::from_slice(&fs::read(dir.join("meta.json")).expect("meta.json"))
        .expect("meta.json parses")
}

/// `(start, end, stop_reason)` of each group in a preinfer `meta.json`.
pub fn group_bounds(meta: &Value) -> Vec<(u64, u64, String)> {
    meta["group_specs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["start"].as_u64().unwrap(),
                g["end"].as_u64().unwrap(),
                g["stop_reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The first of `keys` present in a JSON object.
pub fn field<'a>(obj: &'a Value, keys: &[&str]) -> &'a Value {
    keys.iter()
        .find_map(|k| obj.get(*k))
        .unwrap_or_else(|| panic!("none of {keys:?} in {obj}"))
}

/// Median of a non-empty slice.
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[s.len() / 2]
}
