//! Fast reads of selected frames: segment-parallel, each segment decoded only up to its last
//! wanted frame, and (H.264) the non-reference pictures no wanted frame needs skipped.
//!
//! The file is cut at clean keyframes (see `segments`); each wanted frame is decoded from the
//! last clean keyframe at or before it, never from further back, on a bounded pool of
//! `workers` threads. A job runs on through the next clean keyframe only when its frames are
//! needed anyway (the wanted frames continue right after it), and then only up to a share of
//! the file that keeps every worker busy. A worker moves on to its next job with the same
//! demuxer and decoder (flushed), so a job costs no reopening of the file. A segment decoded on its own must
//! show, frame for frame, the timestamps the probe lists for its display indices, without
//! any decoding problem (error concealment could draw on pictures outside the segment);
//! otherwise the whole read is done again serially from the start of the file, which is what
//! `Reader::read_frames` does. Results therefore never depend on the number of workers.
//!
//! H.264 pictures that are neither wanted nor references are skipped by the decoder (see
//! `skip`); a session that skips checks its frames against the file's index in the same way,
//! and any mismatch makes the read start again without skipping.
//!
//! Parsing those pictures without reconstructing them (the decoders' `bitcost_scan` switched
//! per packet) would also keep their maps, but is not safe with FFmpeg 5.1's H.264
//! decoder: its CABAC and CAVLC parsers write a macroblock's residual coefficients into the
//! slice context's coefficient buffer (`H264SliceContext.mb`), which only the inverse
//! transforms of the reconstruction clear again (`ff_h264_idct_add` and friends zero the
//! block), so a parsed-only picture leaves coefficients behind that the next reconstructed
//! picture adds to its own. A test showed it (a wanted B-frame decoded after an unwanted
//! non-reference B-frame came out wrong). Clearing that buffer when the decoder switches back
//! to reconstructing would need a change to the FFmpeg patch.

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::ReaderOptions;
use super::error::{Error, ErrorKind, Result};
use super::probe::ProbeInfo;
use super::record::{FrameRecord, PixelRequest};
use super::segments::plan_segments;
use super::session::Session;
use crate::sync::{into_inner, lock};

/// Jobs per worker a run of wanted frames is cut into, so that uneven jobs still keep every
/// worker busy.
const JOBS_PER_WORKER: usize = 4;

/// How [`read_selected`] decodes.
#[derive(Clone, Copy)]
pub struct SelectOptions<'a> {
    /// Decoder settings of every segment.
    pub reader: ReaderOptions,
    /// Segments decoded at the same time (0 and 1: one at a time).
    pub workers: usize,
    /// Let the decoder skip the H.264 non-reference pictures of unwanted frames.
    pub skip_unneeded: bool,
    /// Called after every decoded frame with (frames decoded, frames to decode). A fallback
    /// to the serial read starts the count again.
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    /// Checked after every decoded frame: once set, the read stops with
    /// [`ErrorKind::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

impl Default for SelectOptions<'_> {
    fn default() -> Self {
        Self {
            reader: ReaderOptions::default(),
            workers: 1,
            skip_unneeded: true,
            progress: None,
            cancel: None,
        }
    }
}

/// How a [`read_selected`] went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectStats {
    /// Decoding sessions run (segments, or 1 for a serial read).
    pub segments: usize,
    /// Frames the decoder output.
    pub frames_decoded: usize,
    /// Unwanted non-reference pictures the decoder skipped.
    pub frames_skipped: usize,
    /// Why the segment-parallel read was given up for a serial one, if it was.
    pub fallback: Option<String>,
}

/// The frames with the given display-order indices, in the order asked (duplicates allowed),
/// each passed through `convert` on the thread that decoded it. Same frames, maps and pixels
/// as [`Reader::read_frames`](super::Reader::read_frames), whatever the options; an index
/// past the end is an error naming the first missing index and the frame count.
pub fn read_selected<T, E>(
    path: impl AsRef<Path>,
    info: &ProbeInfo,
    ids: &[usize],
    pixels: Option<PixelRequest>,
    options: &SelectOptions<'_>,
    convert: impl Fn(FrameRecord) -> std::result::Result<T, E> + Sync,
) -> std::result::Result<(Vec<T>, SelectStats), E>
where
    T: Clone + Send,
    E: From<Error> + Send,
{
    let path = path.as_ref();
    let mut wanted = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok((Vec::new(), SelectStats::default()));
    }
    let ctx = JobContext {
        path,
        info,
        wanted: &wanted,
        pixels,
        options,
        convert: &convert,
        // Skipped frames are numbered by timestamps: they must exist and be distinct.
        skip: (options.skip_unneeded && timestamps_increase(info))
            .then(|| skip_inputs(info, &wanted)),
        decoded: AtomicUsize::new(0),
        total: AtomicUsize::new(0),
    };
    let mut stats = SelectStats::default();
    let found = match ctx.run_segments(&mut stats)? {
        Ok(found) => found,
        Err(reason) => {
            stats = SelectStats {
                fallback: Some(reason),
                ..SelectStats::default()
            };
            ctx.run_serial(&mut stats)?
        }
    };
    Ok((in_asked_order(ids, &wanted, found), stats))
}

/// `found[i]` is the item of `wanted[i]` (sorted, distinct); returns the items of `ids`,
/// cloning only for repeated ids.
pub(super) fn in_asked_order<T: Clone>(ids: &[usize], wanted: &[usize], found: Vec<T>) -> Vec<T> {
    let mut found: Vec<Option<T>> = found.into_iter().map(Some).collect();
    // Every id is in `wanted`, so its slot is where it would be inserted.
    let slots: Vec<usize> = ids
        .iter()
        .map(|id| wanted.partition_point(|w| w < id))
        .collect();
    let mut uses = vec![0usize; wanted.len()];
    for &slot in &slots {
        uses[slot] += 1;
    }
    let mut items = Vec::with_capacity(ids.len());
    for slot in slots {
        uses[slot] -= 1;
        items.extend(if uses[slot] == 0 {
            found[slot].take()
        } else {
            found[slot].clone()
        });
    }
    items
}

/// A run of packets decoded by one session, and the wanted frames it shows.
#[derive(Debug, Clone)]
struct Job {
    packets: Range<usize>,
    first_frame: usize,
    /// Positions in the sorted wanted list.
    wanted: Range<usize>,
}

/// What a job produced: its items, or why its decode cannot stand for the serial one.
type Outcome<T> = std::result::Result<Decoded<T>, String>;

/// A job's outcome, or the error that ends the whole read.
type JobResult<T, E> = std::result::Result<Outcome<T>, E>;

struct Decoded<T> {
    items: Vec<T>,
    frames: usize,
    skipped: usize,
}

struct JobContext<'a, T, E> {
    path: &'a Path,
    info: &'a ProbeInfo,
    wanted: &'a [usize],
    pixels: Option<PixelRequest>,
    options: &'a SelectOptions<'a>,
    convert: &'a (dyn Fn(FrameRecord) -> std::result::Result<T, E> + Sync),
    skip: Option<SkipInputs>,
    decoded: AtomicUsize,
    total: AtomicUsize,
}

impl<T: Send, E: From<Error> + Send> JobContext<'_, T, E> {
    /// The jobs of a segment-parallel read, or `None` when it would be the serial read.
    fn plan(&self) -> Option<Vec<Job>> {
        let count = self.info.frame_count;
        let last = *self.wanted.last()?;
        if last >= count {
            return None;
        }
        let workers = self.options.workers.max(1);
        let longest = count.div_ceil(workers * JOBS_PER_WORKER).max(1);
        let mut jobs: Vec<Job> = Vec::new();
        // Every clean keyframe starts a segment.
        for segment in plan_segments(self.info, 1) {
            let lo = self.wanted.partition_point(|&w| w < segment.frames.start);
            let hi = self.wanted.partition_point(|&w| w < segment.frames.end);
            if lo == hi {
                continue;
            }
            match jobs.last_mut() {
                // Decoding on from the job's last wanted frame reaches this segment's first
                // frame without decoding any frame no wanted frame needs.
                Some(job)
                    if job.packets.end == segment.packets.start
                        && self.wanted[job.wanted.end - 1] + 1 == segment.frames.start
                        && (workers == 1 || segment.frames.start - job.first_frame < longest) =>
                {
                    job.packets.end = segment.packets.end;
                    job.wanted.end = hi;
                }
                _ => jobs.push(Job {
                    packets: segment.packets,
                    first_frame: segment.frames.start,
                    wanted: lo..hi,
                }),
            }
        }
        let serial = jobs.len() == 1 && jobs[0].first_frame == 0;
        if serial {
            return None;
        }
        for job in &mut jobs {
            job.packets.end = self.packets_needed(job);
        }
        Some(jobs)
    }

    /// The end of the packets (decode order) that show the job's frames up to its last wanted
    /// one. Every reference of a frame comes before it in decode order, so the packets after
    /// these are not needed: the decoder is drained there instead of being fed the packets
    /// that a reordering delay would otherwise make it decode before it shows the last frame.
    fn packets_needed(&self, job: &Job) -> usize {
        let last = self.wanted[job.wanted.end - 1];
        let shown = self
            .info
            .packets
            .get(job.first_frame..=last)
            .unwrap_or_default();
        shown
            .iter()
            .map(|p| p.decode_index + 1)
            .max()
            .map_or(job.packets.end, |end| end.min(job.packets.end))
    }

    /// Runs the segment jobs; `Ok(Err(reason))` when the read must be redone serially.
    fn run_segments(
        &self,
        stats: &mut SelectStats,
    ) -> std::result::Result<std::result::Result<Vec<T>, String>, E> {
        let Some(jobs) = self.plan() else {
            return Ok(match self.run_job(&self.serial_job(), true, &mut None)? {
                Ok(done) => Ok(self.account(stats, vec![done])),
                Err(reason) => Err(reason),
            });
        };
        let total = jobs
            .iter()
            .map(|job| self.wanted[job.wanted.end - 1] + 1 - job.first_frame)
            .sum();
        self.total.store(total, Ordering::Relaxed);
        let workers = self.options.workers.max(1).min(jobs.len());
        let outcomes: Vec<JobResult<T, E>> = if workers == 1 {
            let mut session = None;
            jobs.iter()
                .map(|job| self.run_job(job, true, &mut session))
                .collect()
        } else {
            self.run_on_threads(&jobs, workers)
        };
        let mut done = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            match outcome? {
                Ok(decoded) => done.push(decoded),
                Err(reason) => return Ok(Err(reason)),
            }
        }
        if done.len() != jobs.len() {
            return Ok(Err("a segment was not decoded".to_owned()));
        }
        Ok(Ok(self.account(stats, done)))
    }

    /// Runs `jobs` on `workers` scoped threads, each taking the next job not yet taken; once a
    /// job fails or gives up, no new job starts (its result decides the read anyway).
    fn run_on_threads(&self, jobs: &[Job], workers: usize) -> Vec<JobResult<T, E>> {
        let next = AtomicUsize::new(0);
        let give_up = AtomicBool::new(false);
        let slots: Vec<Mutex<Option<JobResult<T, E>>>> =
            jobs.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    // Jobs are taken in file order, so the worker's session can move on.
                    let mut session = None;
                    while !give_up.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else {
                            break;
                        };
                        let outcome = self.run_job(job, true, &mut session);
                        if !matches!(outcome, Ok(Ok(_))) {
                            give_up.store(true, Ordering::Relaxed);
                        }
                        *lock(&slots[i]) = Some(outcome);
                    }
                });
            }
        });
        // Jobs never started (after a failure) come last and are not needed.
        slots.into_iter().map_while(into_inner).collect()
    }

    /// The plain serial read, from the start of the file, without skipping.
    fn run_serial(&self, stats: &mut SelectStats) -> std::result::Result<Vec<T>, E> {
        self.decoded.store(0, Ordering::Relaxed);
        match self.run_job(&self.serial_job(), false, &mut None)? {
            Ok(done) => Ok(self.account(stats, vec![done])),
            // Unreachable: the serial job without skipping never gives up.
            Err(reason) => Err(Error::new(
                self.path,
                ErrorKind::NoFrames {
                    last_warning: Some(reason),
                },
            )
            .into()),
        }
    }

    fn serial_job(&self) -> Job {
        let last = self.wanted[self.wanted.len() - 1];
        self.total.store(last + 1, Ordering::Relaxed);
        Job {
            packets: 0..usize::MAX,
            first_frame: 0,
            wanted: 0..self.wanted.len(),
        }
    }

    fn account(&self, stats: &mut SelectStats, done: Vec<Decoded<T>>) -> Vec<T> {
        stats.segments += done.len();
        let mut items = Vec::with_capacity(self.wanted.len());
        for d in done {
            stats.frames_decoded += d.frames;
            stats.frames_skipped += d.skipped;
            items.extend(d.items);
        }
        items
    }

    /// Counts `frames` decoded (or skipped) frames, reports progress, checks cancellation.
    fn tick(&self, frames: usize) -> Result<()> {
        let done = self.decoded.fetch_add(frames, Ordering::Relaxed) + frames;
        if let Some(progress) = self.options.progress {
            let total = self.total.load(Ordering::Relaxed);
            progress(done.min(total), total);
        }
        match self.options.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => {
                Err(Error::new(self.path, ErrorKind::Cancelled))
            }
            _ => Ok(()),
        }
    }

    /// Decodes one job, skipping unneeded pictures if `may_skip`. The job of the whole file
    /// without skipping is the serial read itself: its frames need no checking. Other jobs
    /// give up on anything that could make them differ from it. `previous` is the session of
    /// the worker's previous job, reused when it can move on to this job's packets; a job that
    /// completes leaves its session there.
    fn run_job(
        &self,
        job: &Job,
        may_skip: bool,
        previous: &mut Option<Session>,
    ) -> JobResult<T, E> {
        let whole_file = job.packets.start == 0 && job.packets.end == usize::MAX;
        let wanted = &self.wanted[job.wanted.clone()];
        let last = wanted[wanted.len() - 1];
        if let Some(flag) = self.options.cancel
            && flag.load(Ordering::Relaxed)
        {
            return Err(Error::new(self.path, ErrorKind::Cancelled).into());
        }
        let mut session = Session::open_part(
            previous.take(),
            self.path,
            &self.options.reader,
            self.pixels.is_none(),
            job.packets.clone(),
            job.first_frame,
        )?;
        let skipping = match (&self.skip, may_skip) {
            (Some((wanted, display)), true) => {
                session.skip_unwanted(Arc::clone(wanted), Arc::clone(display))
            }
            _ => false,
        };
        let checked = !whole_file || skipping;
        let mut items = Vec::with_capacity(wanted.len());
        let (mut frames, mut counted) = (0, 0);
        while let Some(index) = session.next_frame() {
            frames += 1;
            // Frames skipped since the last output count as done.
            let now = frames + session.skipped_frames();
            self.tick(now - counted)?;
            counted = now;
            if checked {
                if session.frame_has_problems() {
                    return Ok(Err(format!("decoding problems at frame {index}")));
                }
                if session.skip_plan_broken() {
                    return Ok(Err(
                        "a parameter set without the reordering depth came after skipped \
                         pictures"
                            .to_owned(),
                    ));
                }
                let expected = self.info.packets.get(index).and_then(|p| p.pts_time);
                if session.frame_pts_time() != expected {
                    return Ok(Err(format!(
                        "frame {index} of a segment decoded alone or with skipped pictures is \
                         not the one the file's index lists"
                    )));
                }
            }
            if wanted.get(items.len()) == Some(&index) {
                let record = session.record(index, self.pixels)?;
                items.push((self.convert)(record)?);
            }
            if index >= last {
                break;
            }
        }
        if items.len() < wanted.len() {
            if checked {
                return Ok(Err(format!(
                    "a segment decoded alone or with skipped pictures ended before frame {}",
                    wanted[items.len()]
                )));
            }
            if session.frames_output() == 0 {
                return Err(session.no_frames_error().into());
            }
            return Err(Error::new(
                self.path,
                ErrorKind::FrameOutOfRange {
                    first_missing: wanted[items.len()],
                    frame_count: session.frames_output(),
                },
            )
            .into());
        }
        // Frames skipped after the last output, up to the last wanted frame.
        let planned = last + 1 - job.first_frame;
        if planned > counted {
            self.tick(planned - counted)?;
        }
        let skipped = session.skipped_frames();
        *previous = Some(session);
        Ok(Ok(Decoded {
            items,
            frames,
            skipped,
        }))
    }
}

/// Whether every packet has a timestamp and they increase strictly in display order.
fn timestamps_increase(info: &ProbeInfo) -> bool {
    let times: Option<Vec<f64>> = info.packets.iter().map(|p| p.pts_time).collect();
    times.is_some_and(|t| t.windows(2).all(|w| w[0] < w[1]))
}

/// By decode position: whether the packet shows a wanted frame, and its display index.
type SkipInputs = (Arc<[bool]>, Arc<[usize]>);

/// The [`SkipInputs`] of the `wanted` (sorted) frames.
fn skip_inputs(info: &ProbeInfo, wanted: &[usize]) -> SkipInputs {
    let mut shows_wanted = vec![false; info.packets.len()];
    let mut display = vec![usize::MAX; info.packets.len()];
    for packet in &info.packets {
        if let Some(slot) = shows_wanted.get_mut(packet.decode_index) {
            *slot = wanted.binary_search(&packet.index).is_ok();
            display[packet.decode_index] = packet.index;
        }
    }
    (Arc::from(shows_wanted), Arc::from(display))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::segments::tests::probe_of;

    /// 100 frames in display order, no reordering, a keyframe every 10.
    fn probe_of_gops() -> ProbeInfo {
        let packets: Vec<(usize, bool)> = (0..100).map(|i| (i, i % 10 == 0)).collect();
        probe_of(&packets)
    }

    /// The jobs planned for `wanted` on `workers`.
    fn jobs_of(wanted: &[usize], workers: usize) -> Vec<Job> {
        let info = probe_of_gops();
        let options = SelectOptions {
            workers,
            ..SelectOptions::default()
        };
        let convert = |record: FrameRecord| Ok::<_, Error>(record.index);
        let ctx = JobContext {
            path: Path::new("unused.mp4"),
            info: &info,
            wanted,
            pixels: None,
            options: &options,
            convert: &convert,
            skip: None,
            decoded: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
        };
        ctx.plan().unwrap_or_default()
    }

    /// (first frame, wanted frames) of each job planned for `wanted` on `workers`.
    fn planned(wanted: &[usize], workers: usize) -> Vec<(usize, Vec<usize>)> {
        jobs_of(wanted, workers)
            .into_iter()
            .map(|job| (job.first_frame, wanted[job.wanted].to_vec()))
            .collect()
    }

    #[test]
    fn each_wanted_frame_starts_at_the_last_keyframe_before_it() {
        // One worker: 37 and 52 start at their own keyframes, not at a segment start before.
        assert_eq!(
            planned(&[0, 37, 52, 90], 1),
            vec![(0, vec![0]), (30, vec![37]), (50, vec![52]), (90, vec![90])]
        );
        assert_eq!(planned(&[37, 52], 2), vec![(30, vec![37]), (50, vec![52])]);
    }

    #[test]
    fn jobs_end_at_the_packet_of_their_last_shown_frame() {
        let packets: Vec<_> = jobs_of(&[30, 52], 1)
            .into_iter()
            .map(|j| j.packets)
            .collect();
        assert_eq!(packets, vec![30..31, 50..53]);
    }

    #[test]
    fn jobs_run_on_only_through_frames_that_are_needed() {
        // 19 is wanted, so decoding goes on into the next GOP instead of starting over; 29
        // is not wanted, so 30 starts its own job.
        assert_eq!(
            planned(&[15, 19, 20, 21, 31], 1),
            vec![(10, vec![15, 19, 20, 21]), (30, vec![31])]
        );
        // Every frame wanted: one worker reads the file as one run (the serial read), two
        // workers split it at the first keyframe past a fourth of a worker's share (13).
        let all: Vec<usize> = (0..100).collect();
        assert!(planned(&all, 1).is_empty());
        let starts: Vec<usize> = planned(&all, 2).iter().map(|j| j.0).collect();
        assert_eq!(starts, vec![0, 20, 40, 60, 80]);
    }
}
