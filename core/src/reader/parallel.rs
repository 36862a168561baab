//! Segment-parallel scans: the file is cut at clean keyframes (see `segments`) and the
//! segments are decoded on `workers` threads. Frames are delivered either in display order
//! (`decode_in_order`) or as they are decoded (`decode_as_ready`), for consumers that place
//! frames by index themselves.
//!
//! In order, the segment being delivered streams: its frames go to the callback as they are
//! decoded, and only the frames of later segments wait in memory until their turn. Memory
//! stays bounded by the segments in flight (at most `workers + 1` segments of at most
//! `MAX_SEGMENT_FRAMES` frames or `MAX_SEGMENT_MAP_BYTES` of maps, unless a single GOP is
//! longer). As they are decoded, nothing waits: on 720p maps that saves touching and freeing
//! tens of megabytes, which was 14% of the CPU time of a two-segment HEVC scan. Every frame a segment decoded on its own yields must be the frame a serial scan
//! gives at that index (same timestamp as the packet shown there, no frame missing); from the
//! first one that is not, the segment is decoded again from the start of the file, which is
//! what a serial scan does, so results never depend on the number of workers.

use std::collections::{BTreeMap, VecDeque};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

use super::error::{Error, ErrorKind, Result};
use super::record::FrameRecord;
#[cfg(test)]
use super::segments::plan_segments;
use super::segments::{Segment, plan_tapered_segments};
use super::session::Session;
use super::{ProbeInfo, Reader, ReaderOptions, ScanSummary, probe};
use crate::sync::{into_inner, lock};

/// Upper bounds on a planned segment: frames, and bytes of maps (about a quarter of a byte
/// per pixel, mostly the float sub-grid), so that the segments in flight stay small.
const MAX_SEGMENT_FRAMES: usize = 250;
const MAX_SEGMENT_MAP_BYTES: usize = 32 << 20;

/// Frames a worker sends at once: waking the delivering thread for every frame costs more
/// than the few frames' delay.
const FRAMES_PER_REPORT: usize = 4;

/// Scans every frame's map (no pixels) on `workers` threads, each decoding one segment
/// with `options.threads` decoder threads, and hands the records to `on_frame` in display
/// order, on the calling thread. The records equal those of a serial `Reader::scan` without
/// pixels.
pub fn scan_parallel<E>(
    path: impl AsRef<Path>,
    options: ReaderOptions,
    workers: usize,
    on_frame: impl FnMut(FrameRecord) -> std::result::Result<ControlFlow<()>, E>,
) -> std::result::Result<ScanSummary, E>
where
    E: From<Error>,
{
    Reader::open(path, options)?.scan_segments(workers, on_frame)
}

/// `Reader::scan_segments`: the reader's own demuxer and decoder become the first worker's.
pub(super) fn scan_segments<E>(
    reader: &mut Reader,
    workers: usize,
    mut on_frame: impl FnMut(FrameRecord) -> std::result::Result<ControlFlow<()>, E>,
) -> std::result::Result<ScanSummary, E>
where
    E: From<Error>,
{
    let Some(mut plan) = Plan::make(reader, workers, None)? else {
        return reader.scan(None, on_frame);
    };
    let mut frames = 0;
    let mut deliver = |record| -> std::result::Result<bool, E> {
        frames += 1;
        Ok(on_frame(record)?.is_continue())
    };
    let (job, sessions) = plan.parts(reader);
    let outcome = decode_in_order(&job, workers, sessions, &mut deliver)?;
    plan_summary(reader, frames, outcome)
}

/// `Reader::scan_segments_unordered`.
pub(super) fn scan_segments_unordered<E>(
    reader: &mut Reader,
    known: Option<&ProbeInfo>,
    workers: usize,
    on_frame: impl Fn(FrameRecord) -> std::result::Result<ControlFlow<()>, E> + Sync,
) -> std::result::Result<ScanSummary, E>
where
    E: From<Error> + Send,
{
    let Some(mut plan) = Plan::make(reader, workers, known)? else {
        return reader.scan(None, on_frame);
    };
    let frames = AtomicUsize::new(0);
    let deliver = |record| -> std::result::Result<bool, E> {
        frames.fetch_add(1, Ordering::Relaxed);
        Ok(on_frame(record)?.is_continue())
    };
    let (job, sessions) = plan.parts(reader);
    let outcome = decode_as_ready(&job, workers, sessions, &deliver)?;
    plan_summary(reader, frames.into_inner(), outcome)
}

/// The summary of a segment scan that delivered `frames` frames: `outcome` is the last
/// segment's trailing warnings, `None` when the callback stopped the scan.
fn plan_summary<E: From<Error>>(
    reader: &Reader,
    frames: usize,
    outcome: Option<Vec<String>>,
) -> std::result::Result<ScanSummary, E> {
    let trailing_warnings = outcome.unwrap_or_default();
    if frames == 0 {
        return Err(Error::new(&reader.path, ErrorKind::NoFrames { last_warning: None }).into());
    }
    Ok(ScanSummary {
        frames,
        trailing_warnings,
    })
}

/// A file cut into segments for more than one worker, with the demuxers and decoders
/// already open for the first workers.
struct Plan {
    segments: Vec<Segment>,
    /// Display index -> timestamp of the packet shown there, which the frame decoded at that
    /// index must carry.
    expected_pts: Vec<Option<f64>>,
    sessions: Vec<Session>,
}

impl Plan {
    /// `None` when the scan is better done serially: fewer than two workers, or no place to
    /// cut.
    fn make(
        reader: &mut Reader,
        workers: usize,
        known: Option<&ProbeInfo>,
    ) -> Result<Option<Self>> {
        if workers < 2 {
            return Ok(None);
        }
        let (path, options) = (reader.path.clone(), reader.options);
        let open_second = || Session::open(&path, &options, true).ok();
        let probed;
        let (info, second) = match known {
            Some(info) => (info, open_second()),
            None => {
                // The second worker's demuxer and decoder open while the file is probed.
                let (info, second) = std::thread::scope(|scope| {
                    let opening = scope.spawn(open_second);
                    (probe(&path), opening.join().ok().flatten())
                });
                probed = info?;
                (&probed, second)
            }
        };
        let map_bytes = (info.width as usize * info.height as usize / 4).max(1);
        let longest = MAX_SEGMENT_FRAMES
            .min(MAX_SEGMENT_MAP_BYTES / map_bytes)
            .max(1);
        let segments = plan_tapered_segments(info, workers, longest);
        if segments.len() == 1 {
            return Ok(None);
        }
        // The reader's own session serves the first worker.
        let first = reader.session.take().filter(Session::parse_only);
        Ok(Some(Self {
            segments,
            expected_pts: info.packets.iter().map(|p| p.pts_time).collect(),
            sessions: first.into_iter().chain(second).collect(),
        }))
    }

    /// What the workers share, and the open sessions (taken: they go to the workers).
    fn parts<'a>(&'a mut self, reader: &'a Reader) -> (Job<'a>, Vec<Session>) {
        let job = Job {
            path: &reader.path,
            options: &reader.options,
            segments: &self.segments,
            expected_pts: &self.expected_pts,
        };
        (job, std::mem::take(&mut self.sessions))
    }
}

/// What the workers share about the scan.
struct Job<'a> {
    path: &'a Path,
    options: &'a ReaderOptions,
    segments: &'a [Segment],
    expected_pts: &'a [Option<f64>],
}

/// What a worker sends about its segment, in order: its frames, then how it ended.
enum Report {
    /// The next frames, at most `FRAMES_PER_REPORT`.
    Frames(Vec<FrameRecord>),
    /// The segment is complete (with the warnings after its last frame), or failed.
    End(Result<Vec<String>>),
}

/// Decodes the segments on `workers` threads and hands their frames to `deliver` in order:
/// those of the oldest undelivered segment as they come, those of later segments once every
/// segment before them is delivered. Workers start a segment only within `workers + 1` of
/// the oldest undelivered one. `deliver` returns false to stop early. Returns the trailing
/// warnings of the last segment when every segment was delivered, `None` when stopped.
/// `sessions` are open demuxers and decoders for the first workers (the others open theirs).
fn decode_in_order<E>(
    job: &Job,
    workers: usize,
    sessions: Vec<Session>,
    deliver: &mut dyn FnMut(FrameRecord) -> std::result::Result<bool, E>,
) -> std::result::Result<Option<Vec<String>>, E>
where
    E: From<Error>,
{
    let window = workers + 1;
    let next = AtomicUsize::new(0);
    let delivered = (Mutex::new(0usize), Condvar::new());
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<(usize, Report)>();
        let mut sessions = sessions.into_iter();
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, delivered, stop) = (&next, &delivered, &stop);
            let mut session = sessions.next();
            scope.spawn(move || {
                // `session`: the worker's demuxer and decoder, carried from one segment to the
                // next.
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= job.segments.len() || !wait_for_room(delivered, stop, index, window)
                    {
                        break;
                    }
                    let mut batch = Vec::with_capacity(FRAMES_PER_REPORT);
                    let mut send_frame = |record| {
                        batch.push(record);
                        if stop.load(Ordering::Relaxed) {
                            return false;
                        }
                        batch.len() < FRAMES_PER_REPORT
                            || sender
                                .send((index, Report::Frames(std::mem::take(&mut batch))))
                                .is_ok()
                    };
                    let segment = &job.segments[index];
                    let end = match scan_segment(job, segment, &mut session, &mut send_frame) {
                        Ok(Some(warnings)) => Ok(warnings),
                        Ok(None) => break,
                        Err(e) => Err(e),
                    };
                    let last_frames = Report::Frames(batch);
                    if stop.load(Ordering::Relaxed)
                        || sender.send((index, last_frames)).is_err()
                        || sender.send((index, Report::End(end))).is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(sender);

        let finish = |outcome| {
            stop.store(true, Ordering::Relaxed);
            delivered.1.notify_all();
            outcome
        };
        // Reports of segments after the one being delivered, kept until its turn.
        let mut later: BTreeMap<usize, Vec<Report>> = BTreeMap::new();
        let mut current = 0;
        let mut trailing_warnings = Vec::new();
        let mut ready = VecDeque::new();
        for (index, report) in receiver {
            if index != current {
                later.entry(index).or_default().push(report);
                continue;
            }
            ready.push_back(report);
            while let Some(report) = ready.pop_front() {
                match report {
                    Report::Frames(records) => {
                        for record in records {
                            match deliver(record) {
                                Ok(true) => {}
                                Ok(false) => return finish(Ok(None)),
                                Err(e) => return finish(Err(e)),
                            }
                        }
                    }
                    Report::End(Err(e)) => return finish(Err(e.into())),
                    Report::End(Ok(warnings)) => {
                        trailing_warnings = warnings;
                        current += 1;
                        *lock(&delivered.0) = current;
                        delivered.1.notify_all();
                        ready.extend(later.remove(&current).into_iter().flatten());
                    }
                }
            }
        }
        finish(Ok(
            (current == job.segments.len()).then_some(trailing_warnings)
        ))
    })
}

/// Blocks a worker until segment `index` is within `window` of the next one to deliver;
/// false when the scan stopped meanwhile.
fn wait_for_room(
    delivered: &(Mutex<usize>, Condvar),
    stop: &AtomicBool,
    index: usize,
    window: usize,
) -> bool {
    let (count, changed) = delivered;
    let mut count = lock(count);
    while index >= *count + window && !stop.load(Ordering::Relaxed) {
        count = changed.wait(count).unwrap_or_else(|e| e.into_inner());
    }
    !stop.load(Ordering::Relaxed)
}

/// Decodes the segments on `workers` threads and hands each frame to `deliver` on the worker
/// that decoded it, as soon as it is decoded: in order within a segment, segments at the same
/// time. Nothing waits for its turn. `deliver` returns false to stop early.
///
/// After an error in a segment, later segments are abandoned and earlier ones run to their
/// end; the error returned is that of the earliest failing segment, the one a serial scan
/// would meet first. Returns the trailing warnings of the last segment, `None` when stopped.
fn decode_as_ready<E>(
    job: &Job,
    workers: usize,
    sessions: Vec<Session>,
    deliver: &(dyn Fn(FrameRecord) -> std::result::Result<bool, E> + Sync),
) -> std::result::Result<Option<Vec<String>>, E>
where
    E: From<Error> + Send,
{
    let next = AtomicUsize::new(0);
    // The earliest segment that failed so far (`usize::MAX`: none).
    let failed_at = AtomicUsize::new(usize::MAX);
    let failures: Mutex<Vec<(usize, E)>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let last_warnings = Mutex::new(None);
    let last = job.segments.len() - 1;
    std::thread::scope(|scope| {
        let mut sessions = sessions.into_iter();
        for _ in 0..workers {
            let (next, failed_at, failures, stop) = (&next, &failed_at, &failures, &stop);
            let last_warnings = &last_warnings;
            let mut session = sessions.next();
            scope.spawn(move || {
                let abandoned = |index| {
                    stop.load(Ordering::Relaxed) || index > failed_at.load(Ordering::Relaxed)
                };
                let fail = |index, error| {
                    failed_at.fetch_min(index, Ordering::Relaxed);
                    lock(failures).push((index, error));
                };
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index > last || abandoned(index) {
                        break;
                    }
                    let mut delivery_error = None;
                    let mut emit = |record| {
                        if abandoned(index) {
                            return false;
                        }
                        match deliver(record) {
                            Ok(true) => true,
                            Ok(false) => {
                                stop.store(true, Ordering::Relaxed);
                                false
                            }
                            Err(e) => {
                                delivery_error = Some(e);
                                false
                            }
                        }
                    };
                    match scan_segment(job, &job.segments[index], &mut session, &mut emit) {
                        Ok(Some(warnings)) if index == last => {
                            *lock(last_warnings) = Some(warnings)
                        }
                        Ok(_) => {}
                        Err(e) => fail(index, E::from(e)),
                    }
                    if let Some(e) = delivery_error {
                        fail(index, e);
                    }
                }
            });
        }
    });
    let earliest = into_inner(failures)
        .into_iter()
        .min_by_key(|(index, _)| *index);
    match earliest {
        Some((_, error)) => Err(error),
        None if stop.into_inner() => Ok(None),
        None => Ok(Some(into_inner(last_warnings).unwrap_or_default())),
    }
}

/// Hands the segment's frames to `emit` in order (false from it stops the scan): decoded on
/// their own, and from the first frame that is not the serial one, decoded from the start of
/// the file. `session` is the worker's previous session, reused when it can move on to this
/// segment, and the session that completed the segment afterwards. Returns the warnings after
/// the segment's last frame, `None` when stopped.
fn scan_segment(
    job: &Job,
    segment: &Segment,
    session: &mut Option<Session>,
    emit: &mut dyn FnMut(FrameRecord) -> bool,
) -> Result<Option<Vec<String>>> {
    let (packets, first_frame) = (segment.packets.clone(), segment.frames.start);
    let mut alone = Session::open_part(
        session.take(),
        job.path,
        job.options,
        true,
        packets,
        first_frame,
    )?;
    let mut emitted = 0;
    match emit_frames(
        &mut alone,
        segment,
        Some(job.expected_pts),
        &mut emitted,
        emit,
    )? {
        Run::Complete(warnings) => {
            *session = Some(alone);
            return Ok(Some(warnings));
        }
        Run::Stopped => return Ok(None),
        Run::Diverged => {}
    }
    let mut from_start =
        Session::open_part(None, job.path, job.options, true, 0..segment.packets.end, 0)?;
    match emit_frames(&mut from_start, segment, None, &mut emitted, emit)? {
        Run::Complete(warnings) => {
            *session = Some(from_start);
            Ok(Some(warnings))
        }
        Run::Stopped => Ok(None),
        Run::Diverged => Err(Error::new(
            job.path,
            ErrorKind::SegmentMismatch {
                frames: segment.frames.clone(),
                decoded: emitted,
            },
        )),
    }
}

enum Run {
    Complete(Vec<String>),
    Stopped,
    /// A frame was missing or not the expected one; `emitted` counts the good ones before it.
    Diverged,
}

/// Emits the segment's frames after the `emitted` ones already out. With `expected_pts`, each
/// frame must carry the timestamp of the packet shown at its index.
fn emit_frames(
    session: &mut Session,
    segment: &Segment,
    expected_pts: Option<&[Option<f64>]>,
    emitted: &mut usize,
    emit: &mut dyn FnMut(FrameRecord) -> bool,
) -> Result<Run> {
    while let Some(index) = session.next_frame() {
        if index >= segment.frames.end {
            break;
        }
        if index < segment.frames.start + *emitted {
            continue;
        }
        let record = session.record(index, None)?;
        let expected = expected_pts.map(|pts| pts.get(index).copied().flatten());
        if expected.is_some_and(|pts| pts.is_none() || pts != record.pts_time) {
            return Ok(Run::Diverged);
        }
        if !emit(record) {
            return Ok(Run::Stopped);
        }
        *emitted += 1;
    }
    Ok(if *emitted == segment.frames.len() {
        Run::Complete(session.take_trailing_warnings())
    } else {
        Run::Diverged
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::Mutex;

    use super::*;
    use crate::reader::Reader;

    /// 60 frames of 160x96 H.264 with B-frames and a closed GOP every 10 frames, made once
    /// with the ffmpeg command under the workspace's target directory; `None` without it.
    fn short_gops() -> Option<PathBuf> {
        static LOCK: Mutex<()> = Mutex::new(());
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-fixtures");
        let path = dir.join("core_parallel_gop10.mp4");
        if path.exists() {
            return Some(path);
        }
        std::fs::create_dir_all(&dir).ok()?;
        let partial = dir.join("core_parallel_gop10.partial.mp4");
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .args([
                "testsrc2=size=160x96:rate=25",
                "-frames:v",
                "60",
                "-c:v",
                "libx264",
            ])
            .args(["-g", "10", "-bf", "2", "-pix_fmt", "yuv420p"])
            .arg(&partial)
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("skipping: ffmpeg could not make the fixture");
            return None;
        }
        std::fs::rename(&partial, &path).ok()?;
        Some(path)
    }

    fn serial(path: &Path) -> Vec<FrameRecord> {
        let mut records = Vec::new();
        Reader::open(path, ReaderOptions::default())
            .unwrap()
            .scan(None, |record| {
                records.push(record);
                Ok::<_, Error>(ControlFlow::Continue(()))
            })
            .unwrap();
        records
    }

    /// The records `decode_in_order` delivers for `segments`, with `expected_pts` as the
    /// timestamps each frame is checked against.
    fn in_order(
        path: &Path,
        segments: &[Segment],
        expected_pts: &[Option<f64>],
        workers: usize,
    ) -> Vec<FrameRecord> {
        let options = ReaderOptions::default();
        let job = Job {
            path,
            options: &options,
            segments,
            expected_pts,
        };
        let mut records = Vec::new();
        let outcome = decode_in_order(&job, workers, Vec::new(), &mut |record| {
            records.push(record);
            Ok::<_, Error>(true)
        });
        assert!(
            outcome.unwrap().is_some(),
            "not every segment was delivered"
        );
        records
    }

    fn assert_same(serial: &[FrameRecord], other: &[FrameRecord]) {
        assert_eq!(serial.len(), other.len());
        for (a, b) in serial.iter().zip(other) {
            assert_eq!(a.index, b.index);
            assert_eq!(a.pts_time, b.pts_time, "frame {}", a.index);
            assert_eq!(a.pict_type, b.pict_type, "frame {}", a.index);
            assert_eq!(a.map, b.map, "frame {}", a.index);
        }
    }

    #[test]
    fn workers_moving_on_to_later_segments_give_the_serial_frames() {
        let Some(path) = short_gops() else {
            return;
        };
        let info = probe(&path).unwrap();
        let expected_pts: Vec<_> = info.packets.iter().map(|p| p.pts_time).collect();
        let segments = plan_segments(&info, 10);
        assert_eq!(segments.len(), 6, "{segments:?}");
        let serial = serial(&path);
        // One worker decodes every segment with one demuxer and decoder; two take turns.
        for workers in [1, 2] {
            assert_same(&serial, &in_order(&path, &segments, &expected_pts, workers));
        }
    }

    #[test]
    fn from_a_frame_that_is_not_the_serial_one_the_segment_decodes_from_the_start() {
        let Some(path) = short_gops() else {
            return;
        };
        let info = probe(&path).unwrap();
        let segments = plan_segments(&info, 10);
        let serial = serial(&path);
        // Frame 25 (in the third segment) seems to be the wrong one, as if the segment's own
        // decode had lost a frame: its frames 20..25 come from that decode, the rest from a
        // decode from the start of the file.
        let mut expected_pts: Vec<_> = info.packets.iter().map(|p| p.pts_time).collect();
        expected_pts[25] = Some(-1.0);
        let options = ReaderOptions::default();
        let job = Job {
            path: &path,
            options: &options,
            segments: &segments,
            expected_pts: &expected_pts,
        };
        let mut records = Vec::new();
        let mut session = None;
        let warnings = scan_segment(&job, &segments[2], &mut session, &mut |record| {
            records.push(record);
            true
        });
        assert_eq!(warnings.unwrap(), Some(Vec::new()));
        assert_same(&serial[20..30], &records);
        // The whole scan still equals the serial one.
        assert_same(&serial, &in_order(&path, &segments, &expected_pts, 2));
    }

    /// Frames from `decode_as_ready` over `segments`, sorted by index, and its outcome;
    /// `fail_at` frames are refused by the callback with their index as the error.
    fn as_ready(
        path: &Path,
        segments: &[Segment],
        workers: usize,
        fail_at: &[usize],
    ) -> (
        Vec<FrameRecord>,
        std::result::Result<Option<Vec<String>>, FailedAt>,
    ) {
        let info = probe(path).unwrap();
        let expected_pts: Vec<_> = info.packets.iter().map(|p| p.pts_time).collect();
        let options = ReaderOptions::default();
        let job = Job {
            path,
            options: &options,
            segments,
            expected_pts: &expected_pts,
        };
        let records = Mutex::new(Vec::new());
        let outcome = decode_as_ready(&job, workers, Vec::new(), &|record: FrameRecord| {
            if fail_at.contains(&record.index) {
                return Err(FailedAt(record.index));
            }
            records.lock().unwrap().push(record);
            Ok(true)
        });
        let mut records = records.into_inner().unwrap();
        records.sort_by_key(|r| r.index);
        (records, outcome)
    }

    #[derive(Debug, PartialEq)]
    struct FailedAt(usize);

    impl From<Error> for FailedAt {
        fn from(error: Error) -> Self {
            panic!("unexpected reader error: {error}")
        }
    }

    #[test]
    fn frames_delivered_as_ready_are_the_serial_frames() {
        let Some(path) = short_gops() else {
            return;
        };
        let segments = plan_segments(&probe(&path).unwrap(), 10);
        let serial = serial(&path);
        for workers in [1, 2, 3] {
            let (records, outcome) = as_ready(&path, &segments, workers, &[]);
            assert_eq!(outcome, Ok(Some(Vec::new())));
            assert_same(&serial, &records);
        }
    }

    #[test]
    fn the_error_delivered_as_ready_is_the_one_met_first_in_order() {
        let Some(path) = short_gops() else {
            return;
        };
        let segments = plan_segments(&probe(&path).unwrap(), 10);
        // Three workers start the first three segments together: frame 21 (second of the
        // third segment) fails long before frame 8 (ninth of the first). The first segment
        // still runs on, and the scan reports frame 8, with every frame before it delivered.
        for _ in 0..5 {
            let (records, outcome) = as_ready(&path, &segments, 3, &[8, 21]);
            assert_eq!(outcome, Err(FailedAt(8)));
            assert!(records.iter().map(|r| r.index).take(8).eq(0..8));
        }
    }
}
