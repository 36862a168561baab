//! The audio-decoding child process shared by the loudness envelopes (`audio`) and the
//! stitched clip's track (`package::audio`): `gst-launch-1.0` decodes a file's audio to the raw
//! format the caller names and writes it to its standard output.
//!
//! `decodebin caps=audio/x-raw expose-all-streams=false` stops at raw audio and plugs no video
//! decoder (a video stream left unlinked can also stall decodebin's queues at the end of the
//! file), and `identity single-segment=true ! audiorate` turns the audio into one segment that
//! starts at the container's time origin, filling any gap before the first sample with
//! silence: sample 0 is the container's time 0.

use std::io::{self, Read};
use std::process::{ChildStdout, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::output::video::GST_LAUNCH;

/// How the decoder ended.
pub(crate) enum Ended {
    Exited(ExitStatus),
    /// It ran longer than the timeout and was stopped.
    TimedOut,
    /// Its status could not be read; it was stopped.
    WaitFailed(io::Error),
}

/// What a decode gave: what `read` made of the samples, how the child ended, and what it
/// printed on its standard error.
pub(crate) struct Decoded<T> {
    pub output: T,
    pub ended: Ended,
    pub messages: String,
}

/// Decodes the audio of the file at `location` (a path as `output::video::quoted` gives it) to
/// `raw_caps` (an `audio/x-raw,...` caps string) and hands the samples, as they arrive, to
/// `read` on a thread of its own; the child is stopped after `timeout`. An error is returned
/// only when `gst-launch-1.0` cannot be started.
pub(crate) fn decode_audio<T: Send + 'static>(
    location: &str,
    raw_caps: &str,
    timeout: Duration,
    read: impl FnOnce(ChildStdout) -> T + Send + 'static,
) -> io::Result<Decoded<T>> {
    let mut child = Command::new(GST_LAUNCH)
        .arg("-q")
        .args(["filesrc", &format!("location={location}"), "!"])
        .args([
            "decodebin",
            "caps=audio/x-raw",
            "expose-all-streams=false",
            "!",
        ])
        .args(["identity", "single-segment=true", "!", "audiorate", "!"])
        .args(["audioconvert", "!", "audioresample", "!", raw_caps])
        .args(["!", "fdsink", "fd=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Both pipes are read on threads so that neither can fill up and block the child.
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let output = thread::spawn(move || read(stdout));
    let messages = thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    });

    let deadline = Instant::now() + timeout;
    let ended = loop {
        let stopped = match child.try_wait() {
            Ok(Some(status)) => break Ended::Exited(status),
            Ok(None) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
                continue;
            }
            Ok(None) => Ended::TimedOut,
            Err(e) => Ended::WaitFailed(e),
        };
        let _ = child.kill();
        let _ = child.wait();
        break stopped;
    };
    Ok(Decoded {
        output: output.join().expect("the sample reader does not panic"),
        ended,
        messages: messages.join().unwrap_or_default(),
    })
}
