//! Encoding videos (mask videos, heat-map videos, stitched Blink clips) through GStreamer's
//! command-line tool.
//!
//! The statically linked FFmpeg only decodes; encoding and muxing go through GStreamer
//! (x264enc, an AAC encoder, mp4mux), run as `gst-launch-1.0` with raw frames piped to its
//! standard input, so this crate links no GStreamer library. An audio track, when wanted, is
//! read by the same pipeline from a raw PCM file. The file is written under a temporary name
//! next to the destination and renamed into place once GStreamer has finished it.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::JoinHandle;

/// The GStreamer launcher (Debian package gstreamer1.0-tools).
pub const GST_LAUNCH: &str = "gst-launch-1.0";
/// Elements the encoding pipeline needs, and the Debian packages that hold them.
const ELEMENTS: [(&str, &str); 4] = [
    ("rawvideoparse", "gstreamer1.0-plugins-base"),
    ("videoconvert", "gstreamer1.0-plugins-base"),
    ("x264enc", "gstreamer1.0-plugins-ugly"),
    ("mp4mux", "gstreamer1.0-plugins-good"),
];
/// Elements of the audio branch besides the encoder.
const AUDIO_ELEMENTS: [(&str, &str); 2] = [
    ("rawaudioparse", "gstreamer1.0-plugins-base"),
    ("audioconvert", "gstreamer1.0-plugins-base"),
];
/// AAC encoders in order of preference (FFmpeg's native encoder sounds better at low rates
/// than VisualOn's), with their Debian packages and priming delays in samples. mp4mux writes
/// no edit list for the priming, so players start the track with it: audio comes out that
/// much later than it went in (measured by encoding a click at 1 s at 48 kHz and finding it
/// in ffmpeg's and GStreamer's decodes).
const AAC_ENCODERS: [(&str, &str, u32); 2] = [
    ("avenc_aac", "gstreamer1.0-libav", 1024),
    ("voaacenc", "gstreamer1.0-plugins-bad", 1600),
];

/// An installed AAC encoder element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AacEncoder {
    pub element: &'static str,
    /// Samples of silence the encoded track starts with (see `AAC_ENCODERS`).
    pub priming: u32,
}

/// Samples per AAC frame: encoded tracks last a whole number of frames.
pub const AAC_FRAME_SAMPLES: u32 = 1024;

/// Packed 8-bit pixel layouts the encoder accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFormat {
    Rgb,
    Bgr,
}

impl RawFormat {
    fn caps_name(self) -> &'static str {
        match self {
            Self::Rgb => "rgb",
            Self::Bgr => "bgr",
        }
    }
}

/// Frame rate `num/den`, from frames per second (millisecond precision; 29.97 becomes
/// 2997/100). Rates that are not positive and finite become 25.
pub fn frame_rate(fps: f64) -> (u32, u32) {
    if !(fps.is_finite() && fps > 0.0) {
        return (25, 1);
    }
    let num = (fps * 1000.0).round().clamp(1.0, f64::from(u32::MAX)) as u32;
    let g = gcd(num, 1000);
    (num / g, 1000 / g)
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Checks that `gst-launch-1.0` and the pipeline's elements are installed, naming the Debian
/// package of whatever is missing.
pub fn check_encoder() -> io::Result<()> {
    check_elements(&ELEMENTS)
}

/// Checks that each `(element, Debian package)` is installed, naming the package of the first
/// missing one.
pub fn check_elements(elements: &[(&str, &str)]) -> io::Result<()> {
    for &(element, package) in elements {
        if !element_exists(element)? {
            return Err(io::Error::other(format!(
                "GStreamer element {element} is missing (install {package}, e.g. with \
                 scripts/install-deps.sh)"
            )));
        }
    }
    Ok(())
}

/// Whether `gst-inspect-1.0` knows `element`.
fn element_exists(element: &str) -> io::Result<bool> {
    let status = Command::new("gst-inspect-1.0")
        .args(["--exists", element])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| missing_tools(&e))?;
    Ok(status.success())
}

/// Checks the elements of an encoding pipeline with an audio track and returns the AAC
/// encoder to use.
pub fn check_audio_encoder() -> io::Result<AacEncoder> {
    check_encoder()?;
    check_elements(&AUDIO_ELEMENTS)?;
    for (element, _, priming) in AAC_ENCODERS {
        if element_exists(element)? {
            return Ok(AacEncoder { element, priming });
        }
    }
    Err(io::Error::other(
        "no GStreamer AAC encoder is installed (avenc_aac from gstreamer1.0-libav, or \
         voaacenc from gstreamer1.0-plugins-bad; e.g. scripts/install-deps.sh)",
    ))
}

/// Where a file is written before it is renamed to `destination`: a hidden name in the same
/// directory (so the rename is atomic) that keeps the extension, since some writers pick the
/// format from it.
pub fn temporary_path(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = destination
        .extension()
        .map_or_else(|| "part".to_owned(), |e| e.to_string_lossy().into_owned());
    destination.with_file_name(format!(".{name}.{}.part.{extension}", std::process::id()))
}

pub(crate) fn missing_tools(e: &io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "cannot run the GStreamer tools ({e}): install gstreamer1.0-tools, \
             gstreamer1.0-plugins-base, -good and -ugly (scripts/install-deps.sh)"
        ),
    )
}

/// A raw audio track muxed next to the video: interleaved signed 16-bit little-endian samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcmTrack {
    pub path: PathBuf,
    pub rate: u32,
    pub channels: u32,
    /// See [`check_audio_encoder`].
    pub encoder: AacEncoder,
}

/// What to encode: frames of one size and rate, and optionally an audio track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeSettings {
    /// Both even (the encoder writes 4:2:0) and non-zero.
    pub width: u32,
    pub height: u32,
    pub format: RawFormat,
    /// Frames per second as `num/den`.
    pub frame_rate: (u32, u32),
    /// Encoder threads; 0 lets x264 choose from the CPU count.
    pub threads: u32,
    pub audio: Option<PcmTrack>,
}

/// An H.264 MP4 being encoded from raw frames of a fixed size.
pub struct VideoWriter {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    stderr: Option<JoinHandle<String>>,
    temporary: PathBuf,
    destination: PathBuf,
    frame_bytes: usize,
    frames: usize,
}

impl VideoWriter {
    /// Starts encoding `width` x `height` frames (both even: the encoder writes 4:2:0) at
    /// `fps` frames per second into `destination`.
    pub fn create(
        destination: &Path,
        width: u32,
        height: u32,
        format: RawFormat,
        fps: f64,
    ) -> io::Result<Self> {
        let settings = EncodeSettings {
            width,
            height,
            format,
            frame_rate: frame_rate(fps),
            threads: 0,
            audio: None,
        };
        Self::start(destination, &settings)
    }

    /// Starts encoding as `settings` say into `destination`.
    pub fn start(destination: &Path, settings: &EncodeSettings) -> io::Result<Self> {
        let EncodeSettings {
            width,
            height,
            format,
            frame_rate: (num, den),
            threads,
            ..
        } = *settings;
        if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot encode {width}x{height} frames: sizes must be even and non-zero"),
            ));
        }
        if num == 0 || den == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot encode at {num}/{den} frames per second"),
            ));
        }
        let temporary = temporary_path(destination);
        let location = quoted(&temporary)?;
        let mut command = Command::new(GST_LAUNCH);
        command
            .arg("-q")
            .args(["fdsrc", "fd=0", "!"])
            .arg("rawvideoparse")
            .arg(format!("width={width}"))
            .arg(format!("height={height}"))
            .arg(format!("format={}", format.caps_name()))
            .arg(format!("framerate={num}/{den}"))
            .args(["!", "videoconvert", "!", "video/x-raw,format=I420", "!"])
            // Constant quality 23, like libx264's default CRF.
            .args(["x264enc", "pass=qual", "quantizer=23"])
            .arg(format!("threads={threads}"))
            .args(["!", "queue", "!", "mp4mux", "name=mux", "!"])
            .arg("filesink")
            .arg(format!("location={location}"));
        if let Some(audio) = &settings.audio {
            // A second branch into the same muxer; samples carry their own timestamps
            // (sample count / rate), so the tracks line up from time zero.
            command
                .arg("filesrc")
                .arg(format!("location={}", quoted(&audio.path)?))
                .args(["!", "rawaudioparse", "use-sink-caps=false", "format=pcm"])
                .args(["pcm-format=s16le", "interleaved=true"])
                .arg(format!("sample-rate={}", audio.rate))
                .arg(format!("num-channels={}", audio.channels))
                .args([
                    "!",
                    "audioconvert",
                    "!",
                    audio.encoder.element,
                    "!",
                    "queue",
                    "!",
                    "mux.",
                ]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| missing_tools(&e))?;
        let stdin = child.stdin.take();
        // Drained on a thread, so that a chatty GStreamer never blocks on a full pipe.
        let stderr = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        Ok(Self {
            child: Some(child),
            stdin,
            stderr,
            temporary,
            destination: destination.to_path_buf(),
            frame_bytes: width as usize * height as usize * 3,
            frames: 0,
        })
    }

    /// Appends one frame (`height` rows of `width * 3` bytes).
    pub fn write_frame(&mut self, pixels: &[u8]) -> io::Result<()> {
        if pixels.len() != self.frame_bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {} bytes, the video's frames have {}",
                    pixels.len(),
                    self.frame_bytes
                ),
            ));
        }
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("closed"))?;
        match stdin.write_all(pixels) {
            Ok(()) => {
                self.frames += 1;
                Ok(())
            }
            // GStreamer stopped reading: its own message says why.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(self.failure()),
            Err(e) => Err(e),
        }
    }

    /// Frames written so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Ends the stream, waits for GStreamer to finish the file and moves it into place.
    pub fn finish(mut self) -> io::Result<PathBuf> {
        if self.frames == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no frames to encode",
            ));
        }
        drop(self.stdin.take());
        let status = match self.child.take() {
            Some(mut child) => child.wait()?,
            None => return Err(io::Error::other("encoder already finished")),
        };
        let messages = self.messages();
        if !status.success() {
            return Err(io::Error::other(format!(
                "GStreamer could not encode {}: {}",
                self.destination.display(),
                last_line(&messages, status)
            )));
        }
        fs::rename(&self.temporary, &self.destination)?;
        Ok(self.destination.clone())
    }

    /// The error for an encoder that stopped early.
    fn failure(&mut self) -> io::Error {
        drop(self.stdin.take());
        let status = self.child.take().and_then(|mut c| c.wait().ok());
        let messages = self.messages();
        io::Error::other(format!(
            "GStreamer stopped encoding {}: {}",
            self.destination.display(),
            match status {
                Some(status) => last_line(&messages, status),
                None => "no exit status".to_owned(),
            }
        ))
    }

    fn messages(&mut self) -> String {
        self.stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for VideoWriter {
    /// An unfinished video is abandoned: the encoder is stopped and its partial file removed.
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_file(&self.temporary);
    }
}

/// The last non-empty line GStreamer printed, or its exit status.
pub(crate) fn last_line(messages: &str, status: std::process::ExitStatus) -> String {
    messages
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map_or_else(
            || format!("gst-launch-1.0 exited with {status}"),
            str::to_owned,
        )
}

/// A path as a double-quoted gst-launch property value.
pub(crate) fn quoted(path: &Path) -> io::Result<String> {
    let text = path.to_str().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: GStreamer needs a UTF-8 path", path.display()),
        )
    })?;
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rates_are_fractions() {
        assert_eq!(frame_rate(4.0), (4, 1));
        assert_eq!(frame_rate(25.0), (25, 1));
        assert_eq!(frame_rate(29.97), (2997, 100));
        assert_eq!(frame_rate(0.5), (1, 2));
        assert_eq!(frame_rate(0.0), (25, 1));
        assert_eq!(frame_rate(f64::NAN), (25, 1));
    }

    #[test]
    fn paths_are_quoted_for_gst_launch() {
        assert_eq!(
            quoted(Path::new("/tmp/a b/\"x\".mp4")).unwrap(),
            r#""/tmp/a b/\"x\".mp4""#
        );
    }

    #[test]
    fn odd_sizes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = VideoWriter::create(&dir.path().join("a.mp4"), 3, 2, RawFormat::Rgb, 4.0)
            .err()
            .expect("odd width");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    /// Encodes a few frames when GStreamer is installed (the integration tests require it).
    #[test]
    fn encodes_an_mp4_and_leaves_nothing_else() {
        if check_encoder().is_err() {
            eprintln!("skipping: GStreamer encoder not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("clip.mp4");
        let mut writer = VideoWriter::create(&out, 32, 16, RawFormat::Bgr, 4.0).unwrap();
        for i in 0..6u8 {
            writer.write_frame(&vec![i * 40; 32 * 16 * 3]).unwrap();
        }
        assert!(writer.write_frame(&[0; 5]).is_err());
        assert_eq!(writer.finish().unwrap(), out);
        let bytes = fs::read(&out).unwrap();
        assert_eq!(&bytes[4..8], b"ftyp");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temporary file left behind");
        // An abandoned video leaves nothing.
        let writer = VideoWriter::create(&dir.path().join("b.mp4"), 32, 16, RawFormat::Rgb, 4.0);
        drop(writer);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
