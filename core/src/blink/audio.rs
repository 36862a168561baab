//! Loudness envelopes: the RMS level of a clip's audio every few milliseconds, decoded through
//! GStreamer (`gst-launch-1.0` as a child process; this crate links no GStreamer).
//!
//! The pipeline decodes only the audio: `decodebin caps=audio/x-raw expose-all-streams=false`
//! stops at raw audio and plugs no video decoder, so a 1080p clip costs no video decoding.
//! Samples come out as mono 32-bit float at `SAMPLE_RATE` on the child's standard output and
//! are folded into hops as they arrive.
//!
//! Time origin: `identity single-segment=true ! audiorate` turns the audio into one segment
//! that starts at the container's time origin and fills any gap before the first sample with
//! silence, so the first value is at the container's time zero. In MP4/MOV files (Blink clips,
//! and what encoders write with edit lists) the first video frame is at that origin, so
//! `start` is 0 and audio that begins later than the video shows as leading silence. The
//! first video frame of other files is not looked up: `start` is 0 for them too.
//!
//! No audio stream: with `expose-all-streams=false`, decodebin reports the streams it did not
//! decode as "missing decoders" and fails when nothing was exposed. A failure with no samples
//! whose missing decoders are all for non-audio streams (or that has none) means the file has
//! no audio: `Ok(None)`. A missing decoder for an audio stream is an error naming the package
//! to install; anything else GStreamer reports is a decoding error with its message.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::audio_decode::{Ended, decode_audio};
use super::features::LoudnessEnvelope;
use crate::output::video::{GST_LAUNCH, quoted};

/// Default spacing of the envelope's values in seconds.
pub const DEFAULT_HOP_S: f64 = 0.02;
/// Rate the audio is resampled to: plenty for a loudness envelope, and cheap.
pub const SAMPLE_RATE: u32 = 8000;
/// Longest a decode may take before the child is stopped (a clip of hours decodes in less).
pub const DECODE_TIMEOUT: Duration = Duration::from_secs(300);
/// Level of digital silence.
pub const SILENCE_DBFS: f32 = -120.0;

/// Why a loudness envelope could not be made; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{}: no such file", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: cannot read the file: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: hop of {hop_s} s: the hop must be at least 1/{SAMPLE_RATE} s", path.display())]
    InvalidHop { path: PathBuf, hop_s: f64 },
    #[error(
        "{}: cannot run {GST_LAUNCH} ({source}): install gstreamer1.0-tools, \
         gstreamer1.0-plugins-base/-good and gstreamer1.0-libav (scripts/install-deps.sh)",
        path.display()
    )]
    Tools {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{}: GStreamer has no decoder for the audio stream ({caps}): install gstreamer1.0-libav \
         (AAC, MP3) or gstreamer1.0-plugins-good/-base (FLAC, Vorbis)",
        path.display()
    )]
    MissingDecoder { path: PathBuf, caps: String },
    #[error("{}: GStreamer could not decode the audio: {message}", path.display())]
    Decode { path: PathBuf, message: String },
    #[error("{}: audio decoding took longer than {} s and was stopped", path.display(), timeout.as_secs())]
    Timeout { path: PathBuf, timeout: Duration },
}

/// The RMS level of the audio of `path` (any file with audio: video containers, .wav, .flac,
/// .mp3, .m4a, .aac, .ogg) every `hop_s` seconds (rounded to whole samples at `SAMPLE_RATE`);
/// `Ok(None)` when the file has no audio stream.
pub fn loudness_envelope(path: &Path, hop_s: f64) -> Result<Option<LoudnessEnvelope>, AudioError> {
    loudness_envelope_with_timeout(path, hop_s, DECODE_TIMEOUT)
}

/// `loudness_envelope`, stopping GStreamer after `timeout`.
pub fn loudness_envelope_with_timeout(
    path: &Path,
    hop_s: f64,
    timeout: Duration,
) -> Result<Option<LoudnessEnvelope>, AudioError> {
    let owned = || path.to_path_buf();
    let hop_samples = (hop_s * f64::from(SAMPLE_RATE)).round();
    if !(hop_samples.is_finite() && hop_samples >= 1.0) {
        return Err(AudioError::InvalidHop {
            path: owned(),
            hop_s,
        });
    }
    match std::fs::metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(AudioError::NotFound { path: owned() });
        }
        Err(source) => {
            return Err(AudioError::Unreadable {
                path: owned(),
                source,
            });
        }
    }
    // `quoted` fails only for paths that are not UTF-8, which GStreamer cannot open.
    let location = quoted(path).map_err(|source| AudioError::Unreadable {
        path: owned(),
        source,
    })?;
    let hop_samples = hop_samples as usize;
    let caps = format!("audio/x-raw,format=F32LE,channels=1,rate={SAMPLE_RATE}");
    let decoded = decode_audio(&location, &caps, timeout, move |mut stdout| {
        let mut hops = HopLevels::new(hop_samples);
        let mut buffer = vec![0u8; 64 * 1024];
        let mut carry = Vec::with_capacity(4);
        loop {
            match stdout.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => hops.push_bytes(&mut carry, &buffer[..n]),
            }
        }
        hops
    })
    .map_err(|source| AudioError::Tools {
        path: owned(),
        source,
    })?;
    let (hops, messages) = (decoded.output, decoded.messages);
    let Ended::Exited(status) = decoded.ended else {
        // Timed out, or its status could not be read: either way it was stopped unfinished.
        return Err(AudioError::Timeout {
            path: owned(),
            timeout,
        });
    };
    if status.success() {
        return Ok(Some(LoudnessEnvelope {
            start: 0.0,
            hop: hop_samples as f64 / f64::from(SAMPLE_RATE),
            rms_dbfs: hops.finish(),
        }));
    }
    if hops.samples > 0 {
        return Err(decode_error(path, &messages, status));
    }
    let missing = missing_decoders(&messages);
    if let Some(caps) = missing.iter().find(|caps| caps.starts_with("audio/")) {
        return Err(AudioError::MissingDecoder {
            path: owned(),
            caps: caps.split(',').next().unwrap_or(caps).to_owned(),
        });
    }
    if messages.contains("no suitable plugins found") {
        // Nothing was exposed and no audio stream was missed: there is no audio.
        return Ok(None);
    }
    Err(decode_error(path, &messages, status))
}

/// The first error GStreamer printed (its "ERROR: from element ...: text" line), or the exit
/// status.
fn decode_error(path: &Path, messages: &str, status: std::process::ExitStatus) -> AudioError {
    let first_error = messages.lines().find_map(|line| {
        let rest = line.strip_prefix("ERROR: from element ")?;
        Some(rest.split_once(": ").map_or(rest, |(_, text)| text).trim())
    });
    let message = first_error
        .or_else(|| messages.lines().map(str::trim).find(|l| !l.is_empty()))
        .map_or_else(
            || format!("{GST_LAUNCH} exited with {status}"),
            str::to_owned,
        );
    AudioError::Decode {
        path: path.to_path_buf(),
        message,
    }
}

/// The caps of the streams decodebin reports as "Missing decoder: <name> (<caps>)".
fn missing_decoders(messages: &str) -> Vec<&str> {
    messages
        .lines()
        .filter_map(|line| {
            let rest = line.split_once("Missing decoder: ")?.1;
            // The description may itself hold parentheses ("H.264 (High Profile)"); the caps
            // are the last parenthesised part, which starts with a media type.
            let open = rest.rfind(" (")?;
            Some(rest[open + 2..].trim_end().trim_end_matches(')'))
        })
        .collect()
}

/// Mean squares of whole hops, folded as samples arrive.
struct HopLevels {
    hop: usize,
    in_hop: usize,
    sum_squares: f64,
    samples: u64,
    levels: Vec<f32>,
}

impl HopLevels {
    fn new(hop: usize) -> Self {
        Self {
            hop,
            in_hop: 0,
            sum_squares: 0.0,
            samples: 0,
            levels: Vec::new(),
        }
    }

    /// Adds little-endian f32 samples; `carry` holds the bytes of a sample split between
    /// two reads.
    fn push_bytes(&mut self, carry: &mut Vec<u8>, bytes: &[u8]) {
        let mut bytes = bytes;
        if !carry.is_empty() {
            let take = (4 - carry.len()).min(bytes.len());
            carry.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if carry.len() < 4 {
                return;
            }
            let sample = f32::from_le_bytes([carry[0], carry[1], carry[2], carry[3]]);
            carry.clear();
            self.push(sample);
        }
        let mut chunks = bytes.chunks_exact(4);
        for chunk in &mut chunks {
            self.push(f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        }
        carry.extend_from_slice(chunks.remainder());
    }

    fn push(&mut self, sample: f32) {
        self.sum_squares += f64::from(sample) * f64::from(sample);
        self.in_hop += 1;
        self.samples += 1;
        if self.in_hop == self.hop {
            self.close_hop();
        }
    }

    fn close_hop(&mut self) {
        let mean_square = self.sum_squares / self.in_hop as f64;
        self.levels.push(dbfs(mean_square));
        self.in_hop = 0;
        self.sum_squares = 0.0;
    }

    /// The levels; a last partial hop counts when it holds at least half a hop.
    fn finish(mut self) -> Vec<f32> {
        if self.in_hop * 2 >= self.hop && self.in_hop > 0 {
            self.close_hop();
        }
        self.levels
    }
}

/// A mean square (full scale 1.0) in dB, clamped at `SILENCE_DBFS`.
fn dbfs(mean_square: f64) -> f32 {
    if mean_square <= 0.0 {
        return SILENCE_DBFS;
    }
    ((10.0 * mean_square.log10()) as f32).max(SILENCE_DBFS)
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};
    use std::time::Instant;

    use super::super::activity::fixtures::fixture;
    use super::*;

    fn gst_available() -> bool {
        let found = Command::new(GST_LAUNCH)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            eprintln!("skipping: {GST_LAUNCH} is not installed");
        }
        found
    }

    /// 5 s of quiet noise with loud noise bursts during [1, 2) s and [3, 4) s, at 44.1 kHz.
    const BURSTS: &str = "anoisesrc=d=5:c=white:a=0.5:r=44100:seed=7,\
                          volume='if(between(t,1,2)+between(t,3,4),1,0.01)':eval=frame";

    #[test]
    fn hop_levels_are_rms_in_dbfs() {
        let mut hops = HopLevels::new(4);
        let samples: Vec<u8> = [0.5f32, -0.5, 0.5, -0.5, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        // Split mid-sample to exercise the carry.
        let mut carry = Vec::new();
        hops.push_bytes(&mut carry, &samples[..6]);
        hops.push_bytes(&mut carry, &samples[6..]);
        let levels = hops.finish();
        assert_eq!(levels.len(), 3);
        assert!((levels[0] - (-6.0206)).abs() < 1e-3, "{levels:?}");
        assert_eq!(levels[1], SILENCE_DBFS);
        assert!(
            levels[2].abs() < 1e-6,
            "a half hop of full scale: {levels:?}"
        );
        let mut short = HopLevels::new(4);
        short.push(1.0);
        assert!(short.finish().is_empty(), "a quarter hop is dropped");
    }

    #[test]
    fn missing_decoders_are_read_from_decodebins_message() {
        let text = "no suitable plugins found:\nMissing decoder: H.264 (High Profile) \
                    (video/x-h264, stream-format=(string)avc, width=(int)320)\n\
                    Missing decoder: MPEG-4 AAC (audio/mpeg, mpegversion=(int)4)\n";
        assert_eq!(
            missing_decoders(text),
            vec![
                "video/x-h264, stream-format=(string)avc, width=(int)320",
                "audio/mpeg, mpegversion=(int)4"
            ]
        );
    }

    fn assert_bursts(envelope: &LoudnessEnvelope) {
        assert!((envelope.hop - 0.02).abs() < 1e-9);
        assert_eq!(envelope.start, 0.0);
        let n = envelope.rms_dbfs.len();
        // MP3 and Vorbis pad their last frame: a few hops more.
        assert!((248..=254).contains(&n), "{n} hops for 5 s");
        // Resampling to 8 kHz keeps a fifth of the white noise's band: bursts are near -18 dBFS,
        // the quiet noise 40 dB lower.
        let loud: Vec<bool> = envelope.rms_dbfs.iter().map(|&v| v > -35.0).collect();
        // Away from the edges (the encoder and resampler smear a few milliseconds), loud
        // hops are exactly those inside the bursts.
        for (i, &is_loud) in loud.iter().enumerate() {
            let t = (i as f64 + 0.5) * envelope.hop;
            let edge = [1.0, 2.0, 3.0, 4.0].iter().any(|e| (t - e).abs() < 0.1);
            if edge || t > 4.9 {
                continue;
            }
            let inside = (1.0..2.0).contains(&t) || (3.0..4.0).contains(&t);
            assert_eq!(
                is_loud, inside,
                "hop {i} at {t:.2} s: {} dBFS",
                envelope.rms_dbfs[i]
            );
        }
    }

    #[test]
    fn bursts_show_where_they_are_in_a_wav() {
        if !gst_available() {
            return;
        }
        let Some(wav) = fixture("bursts.wav", &["-f", "lavfi", "-i", BURSTS]) else {
            return;
        };
        let envelope = loudness_envelope(&wav, DEFAULT_HOP_S).unwrap().unwrap();
        assert_bursts(&envelope);
    }

    #[test]
    fn standalone_audio_formats_decode() {
        if !gst_available() {
            return;
        }
        for (name, codec) in [
            ("bursts.flac", "flac"),
            ("bursts.mp3", "libmp3lame"),
            ("bursts.m4a", "aac"),
            ("bursts.ogg", "libvorbis"),
        ] {
            let Some(file) = fixture(name, &["-f", "lavfi", "-i", BURSTS, "-c:a", codec]) else {
                continue;
            };
            let envelope = loudness_envelope(&file, DEFAULT_HOP_S)
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|| panic!("{name}: no envelope"));
            assert_bursts(&envelope);
        }
    }

    #[test]
    fn bursts_show_in_the_aac_track_of_a_video() {
        if !gst_available() {
            return;
        }
        let Some(clip) = fixture(
            "bursts.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=160x120:rate=10:duration=5",
                "-f",
                "lavfi",
                "-i",
                BURSTS,
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-b:a",
                "128k",
            ],
        ) else {
            return;
        };
        assert_bursts(&loudness_envelope(&clip, DEFAULT_HOP_S).unwrap().unwrap());
        // Twice the hop, half the values.
        let coarse = loudness_envelope(&clip, 0.04).unwrap().unwrap();
        assert!((coarse.hop - 0.04).abs() < 1e-9);
        assert!((124..=126).contains(&coarse.rms_dbfs.len()));
    }

    #[test]
    fn audio_starting_after_the_video_is_aligned_to_it() {
        if !gst_available() {
            return;
        }
        // The AAC track starts 1 s after the first video frame (an MP4 edit list).
        let Some(clip) = fixture(
            "late-audio.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=160x120:rate=10:duration=3",
                "-itsoffset",
                "1",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=2",
                "-c:v",
                "libx264",
                "-c:a",
                "aac",
            ],
        ) else {
            return;
        };
        let envelope = loudness_envelope(&clip, 0.1).unwrap().unwrap();
        assert_eq!(envelope.start, 0.0);
        let levels = &envelope.rms_dbfs;
        assert!((29..=31).contains(&levels.len()), "{levels:?}");
        assert!(levels[..9].iter().all(|&v| v == SILENCE_DBFS), "{levels:?}");
        assert!(levels[11..29].iter().all(|&v| v > -30.0), "{levels:?}");
    }

    #[test]
    fn a_video_without_audio_has_no_envelope() {
        if !gst_available() {
            return;
        }
        let Some(clip) = fixture(
            "silent-video.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=160x120:rate=10:duration=2",
                "-c:v",
                "libx264",
            ],
        ) else {
            return;
        };
        let started = Instant::now();
        assert_eq!(loudness_envelope(&clip, DEFAULT_HOP_S).unwrap(), None);
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn bad_files_are_errors_naming_them() {
        if !gst_available() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("notes.mp3");
        std::fs::write(
            &junk,
            b"these are not the samples you are looking for\n".repeat(50),
        )
        .unwrap();
        let err = loudness_envelope(&junk, DEFAULT_HOP_S).unwrap_err();
        assert!(matches!(err, AudioError::Decode { .. }), "{err:?}");
        assert!(err.to_string().contains("notes.mp3"), "{err}");

        let missing = dir.path().join("gone.wav");
        let err = loudness_envelope(&missing, DEFAULT_HOP_S).unwrap_err();
        assert!(matches!(err, AudioError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("gone.wav"));

        let err = loudness_envelope(&junk, 0.0).unwrap_err();
        assert!(matches!(err, AudioError::InvalidHop { .. }), "{err:?}");

        // GStreamer cannot even start in a millisecond: it is stopped, not waited for.
        let started = Instant::now();
        let err = loudness_envelope_with_timeout(&junk, DEFAULT_HOP_S, Duration::from_millis(1))
            .unwrap_err();
        assert!(matches!(err, AudioError::Timeout { .. }), "{err:?}");
        assert!(err.to_string().contains("notes.mp3"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
