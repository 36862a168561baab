//! Source frames by time, scaled to fit a box, and RGB pictures to lay them out on.
//!
//! A [`FrameSource`] decodes its clip forward on a thread of its own (the reader decodes from
//! the start of the file; the packaging steps ask for ever later times), handing frames over
//! a small bounded channel, so at most a few pictures per source are in memory and several
//! sources decode in parallel. Asking for an earlier time than the last one restarts the
//! decode.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::ffmpeg::PixelFormat;
use crate::reader::{self, FrameRecord, PixelRequest, Reader, ReaderOptions};

/// Frames decoded ahead of the consumer.
const CHANNEL_DEPTH: usize = 3;
/// Tolerance when comparing times: far below any frame interval, far above rounding errors.
const TIME_EPSILON: f64 = 1e-4;

/// The largest even size within `max_width` x `max_height` with the aspect ratio of
/// `width` x `height` (at least 2x2).
pub(crate) fn fit_within(width: u32, height: u32, max_width: u32, max_height: u32) -> (u32, u32) {
    if width == 0 || height == 0 {
        return (max_width.max(2) & !1, max_height.max(2) & !1);
    }
    let scale = f64::min(
        f64::from(max_width) / f64::from(width),
        f64::from(max_height) / f64::from(height),
    );
    let even = |x: f64, max: u32| ((x.round() as u32).min(max) & !1).max(2);
    (
        even(f64::from(width) * scale, max_width),
        even(f64::from(height) * scale, max_height),
    )
}

/// A packed RGB picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Picture {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl Picture {
    pub fn filled(width: u32, height: u32, rgb: [u8; 3]) -> Self {
        let mut data = Vec::with_capacity(width as usize * height as usize * 3);
        for _ in 0..width as usize * height as usize {
            data.extend_from_slice(&rgb);
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// Fills the rectangle at (`x`, `y`) of `width` x `height`, clipped to the picture.
    pub fn fill_rect(&mut self, x: u32, y: u32, width: u32, height: u32, rgb: [u8; 3]) {
        let x_end = (x.saturating_add(width)).min(self.width) as usize;
        let y_end = (y.saturating_add(height)).min(self.height) as usize;
        for row in y as usize..y_end {
            for col in x as usize..x_end {
                let at = (row * self.width as usize + col) * 3;
                self.data[at..at + 3].copy_from_slice(&rgb);
            }
        }
    }

    /// Copies the packed RGB rows of a `width` x `height` picture to (`x`, `y`), clipped.
    pub fn blit(&mut self, pixels: &[u8], width: u32, height: u32, x: u32, y: u32) {
        let columns = width.min(self.width.saturating_sub(x)) as usize;
        let rows = height.min(self.height.saturating_sub(y)) as usize;
        for row in 0..rows {
            let from = row * width as usize * 3;
            let to = ((y as usize + row) * self.width as usize + x as usize) * 3;
            self.data[to..to + columns * 3].copy_from_slice(&pixels[from..from + columns * 3]);
        }
    }
}

/// A decoded frame: its time from the clip's first frame and its pixels at the fitted size.
struct TimedFrame {
    time: f64,
    pixels: Vec<u8>,
}

type Delivery = Result<TimedFrame, reader::Error>;

/// The frames of one video clip by time, at a fixed size.
pub(crate) struct FrameSource {
    path: PathBuf,
    width: u32,
    height: u32,
    /// The clip's frame interval, to tell when a time is past its last frame.
    frame_interval: f64,
    decoder: Option<Decoder>,
}

/// One forward pass over the clip.
struct Decoder {
    frames: Receiver<Delivery>,
    thread: Option<JoinHandle<()>>,
    /// The latest frame handed out, and the one after it once looked at.
    current: Option<TimedFrame>,
    next: Option<TimedFrame>,
    /// The pass delivered its last frame.
    ended: bool,
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // Closing the channel makes the decoding thread stop at its next frame.
        let (_, closed) = sync_channel(0);
        drop(std::mem::replace(&mut self.frames, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl FrameSource {
    /// Probes `path` (failing early for missing or unreadable files) and prepares frames
    /// fitted within `max_width` x `max_height`.
    pub fn open(path: &Path, max_width: u32, max_height: u32) -> Result<Self, reader::Error> {
        let info = reader::probe(path)?;
        let (width, height) = fit_within(info.width, info.height, max_width, max_height);
        let frame_interval = if info.fps > 0.0 { 1.0 / info.fps } else { 0.04 };
        Ok(Self {
            path: path.to_path_buf(),
            width,
            height,
            frame_interval,
            decoder: None,
        })
    }

    /// Size of the pictures [`frame_at`](Self::frame_at) returns.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The picture shown at `time` seconds from the clip's first frame: the last frame
    /// starting at or before it; `None` past the end of the clip or before its start.
    pub fn frame_at(&mut self, time: f64) -> Result<Option<&[u8]>, reader::Error> {
        if time < -TIME_EPSILON {
            return Ok(None);
        }
        let restart = match &self.decoder {
            None => true,
            Some(d) => d
                .current
                .as_ref()
                .is_some_and(|c| c.time > time + TIME_EPSILON),
        };
        if restart {
            self.decoder = None;
            self.decoder = Some(self.start());
        }
        let interval = self.frame_interval;
        let decoder = self.decoder.as_mut().expect("started above");
        loop {
            if decoder.next.is_none() && !decoder.ended {
                match decoder.frames.recv() {
                    Ok(delivery) => decoder.next = Some(delivery?),
                    Err(_) => decoder.ended = true,
                }
            }
            match decoder.next.take() {
                Some(next) if next.time <= time + TIME_EPSILON => decoder.current = Some(next),
                other => {
                    decoder.next = other;
                    break;
                }
            }
        }
        let past_end = decoder.ended
            && decoder
                .current
                .as_ref()
                .is_some_and(|c| time >= c.time + interval - TIME_EPSILON);
        Ok(match &decoder.current {
            Some(frame) if !past_end => Some(&frame.pixels),
            _ => None,
        })
    }

    /// Starts decoding from the first frame on a thread.
    fn start(&self) -> Decoder {
        let (sender, frames) = sync_channel(CHANNEL_DEPTH);
        let path = self.path.clone();
        let request = PixelRequest {
            format: PixelFormat::Rgb,
            width: self.width,
            height: self.height,
        };
        let interval = self.frame_interval;
        let thread = std::thread::spawn(move || decode_into(&path, request, interval, &sender));
        Decoder {
            frames,
            thread: Some(thread),
            current: None,
            next: None,
            ended: false,
        }
    }
}

/// Decodes `path` and sends its frames until the receiver is gone; errors are sent too.
fn decode_into(path: &Path, request: PixelRequest, interval: f64, sender: &SyncSender<Delivery>) {
    // One decoder thread per source: the packaging pool bounds how many run at once, and
    // in-loop filtering on, since these pictures are watched.
    let options = ReaderOptions {
        deblock: true,
        ..ReaderOptions::default()
    };
    let mut first_time: Option<f64> = None;
    let result = Reader::open(path, options).and_then(|mut reader| {
        reader.scan(Some(request), |record: FrameRecord| {
            // Without timestamps, frames follow each other at the probed rate.
            let pts = record.pts_time.unwrap_or(record.index as f64 * interval);
            let time = pts - *first_time.get_or_insert(pts);
            let pixels = record
                .pixels
                .map(reader::Pixels::into_data)
                .unwrap_or_default();
            Ok(match sender.send(Ok(TimedFrame { time, pixels })) {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            })
        })
    });
    if let Err(e) = result {
        let _ = sender.send(Err(e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_keeps_the_aspect_ratio_and_even_sides() {
        assert_eq!(fit_within(320, 240, 640, 360), (480, 360));
        assert_eq!(fit_within(1920, 1080, 320, 240), (320, 180));
        assert_eq!(fit_within(1920, 1080, 1920, 1080), (1920, 1080));
        assert_eq!(fit_within(100, 3000, 64, 64), (2, 64));
        assert_eq!(fit_within(0, 0, 64, 48), (64, 48));
    }

    #[test]
    fn pictures_blit_and_fill_clipped() {
        let mut p = Picture::filled(4, 3, [0, 0, 0]);
        p.blit(&[9; 3 * 3 * 2], 3, 2, 2, 2);
        assert_eq!(&p.data[(2 * 4 + 2) * 3..], &[9, 9, 9, 9, 9, 9]);
        assert_eq!(p.data[(2 * 4 + 1) * 3], 0);
        p.fill_rect(3, 0, 5, 1, [1, 2, 3]);
        assert_eq!(&p.data[9..12], &[1, 2, 3]);
        assert_eq!(p.data.len(), 36);
    }
}
