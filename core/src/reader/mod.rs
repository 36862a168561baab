//! Reading bit-cost maps, frame facts and pixels from a video through the patched FFmpeg.
//!
//! `probe` looks at packets only. `Reader` decodes: `scan` visits every frame, `read_frames`
//! returns selected frames by display-order index. Each call decodes from the start of the
//! file; indices are the decoder's output count, so they match between calls and tools.
//! `scan_parallel` and `read_selected` give the same results faster, decoding independent
//! segments of the file in parallel.

mod error;
mod h264;
mod open;
mod parallel;
mod probe;
mod record;
mod segments;
mod select;
mod session;
mod skip;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

pub use error::{Error, ErrorKind, Result};
pub use parallel::scan_parallel;
pub use probe::{PacketInfo, ProbeInfo, probe};
pub use record::{FrameRecord, PixelRequest, Pixels};
pub use segments::{Segment, plan_segments};
pub use select::{SelectOptions, SelectStats, read_selected};

use crate::ffmpeg::ThreadType;
use crate::map::Measure;
use session::Session;

/// How the decoder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Decoder threads; 0 lets FFmpeg choose from the CPU count (at most `MAX_THREADS`).
    pub threads: usize,
    pub thread_type: ThreadType,
    pub measure: Measure,
    /// Run the in-loop filters. Off by default, like the reference tool: maps do not depend on
    /// it, decoding is faster, and pixels then match the reference's.
    pub deblock: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self {
            threads: 1,
            thread_type: ThreadType::Slice,
            measure: Measure::Reference,
            deblock: false,
        }
    }
}

/// What a completed `scan` saw besides the frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSummary {
    /// Frames delivered to the callback.
    pub frames: usize,
    /// Problems after the last frame (for example a truncated end of file).
    pub trailing_warnings: Vec<String>,
}

/// A video opened for decoding with bit-cost export.
pub struct Reader {
    path: PathBuf,
    options: ReaderOptions,
    /// `None` once a pass consumed it; the next pass reopens the file.
    session: Option<Session>,
    decoder_name: &'static str,
}

impl Reader {
    /// Opens `path` and its decoder, failing early with a clear error for missing files,
    /// non-media files, files without video, unsupported codecs and unpatched FFmpeg builds.
    pub fn open(path: impl AsRef<Path>, options: ReaderOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let session = Session::open(&path, &options, true)?;
        Ok(Self {
            decoder_name: session.decoder_name(),
            path,
            options,
            session: Some(session),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn options(&self) -> &ReaderOptions {
        &self.options
    }

    /// FFmpeg's name of the decoder in use ("h264", "hevc", "vp9").
    pub fn decoder_name(&self) -> &'static str {
        self.decoder_name
    }

    /// A session positioned at the start of the file; `pixels` says whether frames must be
    /// reconstructed or the decoder may only parse (the maps are the same either way).
    fn fresh_session(&mut self, pixels: Option<PixelRequest>) -> Result<Session> {
        let parse_only = pixels.is_none();
        match self.session.take() {
            Some(session) if session.parse_only() == parse_only => Ok(session),
            _ => Session::open(&self.path, &self.options, parse_only),
        }
    }

    /// Decodes every frame in display order and hands each to `on_frame`, which may stop
    /// the scan early with `ControlFlow::Break`. Fails if the video yields no frame at all.
    pub fn scan<E>(
        &mut self,
        pixels: Option<PixelRequest>,
        mut on_frame: impl FnMut(FrameRecord) -> Result<ControlFlow<()>, E>,
    ) -> Result<ScanSummary, E>
    where
        E: From<Error>,
    {
        let mut session = self.fresh_session(pixels)?;
        while let Some(index) = session.next_frame() {
            let record = session.record(index, pixels)?;
            if on_frame(record)?.is_break() {
                break;
            }
        }
        if session.frames_output() == 0 {
            return Err(session.no_frames_error().into());
        }
        Ok(ScanSummary {
            frames: session.frames_output(),
            trailing_warnings: session.take_trailing_warnings(),
        })
    }

    /// `scan` without pixels on `workers` threads, each decoding segments of the file cut at
    /// clean keyframes (see `scan_parallel`): the same frames, in the same order.
    pub fn scan_segments<E>(
        &mut self,
        workers: usize,
        on_frame: impl FnMut(FrameRecord) -> Result<ControlFlow<()>, E>,
    ) -> Result<ScanSummary, E>
    where
        E: From<Error>,
    {
        parallel::scan_segments(self, workers, on_frame)
    }

    /// `scan_segments` for consumers that place each frame by its index and need no order
    /// (fixed-size records in a file, say): `on_frame` runs on the worker thread that decoded
    /// the frame, as soon as it is decoded, so nothing waits in memory for its turn. Frames of
    /// one segment come in order, segments at the same time. On failure the error is the one
    /// a serial scan meets first (the earliest failing segment's), though later frames may
    /// have been delivered before it. `known` is the file's packet index from `probe` when the
    /// caller has it; otherwise the file is probed here.
    pub fn scan_segments_unordered<E>(
        &mut self,
        known: Option<&ProbeInfo>,
        workers: usize,
        on_frame: impl Fn(FrameRecord) -> Result<ControlFlow<()>, E> + Sync,
    ) -> Result<ScanSummary, E>
    where
        E: From<Error> + Send,
    {
        parallel::scan_segments_unordered(self, known, workers, on_frame)
    }

    /// The frames with the given display-order indices, in the order asked (duplicates
    /// allowed). Decoding stops as soon as the largest wanted index is reached; an index past
    /// the end is an error naming the first missing index and the frame count.
    pub fn read_frames(
        &mut self,
        ids: &[usize],
        pixels: Option<PixelRequest>,
    ) -> Result<Vec<FrameRecord>> {
        let mut wanted = ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let Some(&last_wanted) = wanted.last() else {
            return Ok(Vec::new());
        };
        let mut session = self.fresh_session(pixels)?;
        let mut found: Vec<Option<FrameRecord>> = vec![None; wanted.len()];
        while let Some(index) = session.next_frame() {
            if let Ok(slot) = wanted.binary_search(&index) {
                found[slot] = Some(session.record(index, pixels)?);
            }
            if index == last_wanted {
                break;
            }
        }
        if session.frames_output() == 0 {
            return Err(session.no_frames_error());
        }
        if let Some(slot) = found.iter().position(Option::is_none) {
            return Err(Error::new(
                &self.path,
                ErrorKind::FrameOutOfRange {
                    first_missing: wanted[slot],
                    frame_count: session.frames_output(),
                },
            ));
        }
        let found = found.into_iter().flatten().collect();
        Ok(select::in_asked_order(ids, &wanted, found))
    }
}
