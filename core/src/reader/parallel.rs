//! Segment-parallel scans: the file is cut at clean keyframes (see `segments`) and the
//! segments are decoded on `workers` threads and delivered in display order, delivery of one
//! segment overlapping with the decoding of the next ones.
//!
//! Memory stays bounded by the segments in flight (at most `workers + 1` segments of at most
//! `MAX_SEGMENT_FRAMES` frames or `MAX_SEGMENT_MAP_BYTES` of maps, unless a single GOP is
//! longer). A segment whose decode does not yield exactly
//! its frames is decoded again from the start of the file, which is what a serial scan does,
//! so results never depend on the number of workers.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

use super::error::{Error, ErrorKind, Result};
use super::record::FrameRecord;
use super::segments::{Segment, plan_segments};
use super::session::Session;
use super::{ReaderOptions, ScanSummary, probe};

/// Upper bounds on a planned segment: frames, and bytes of maps (about a quarter of a byte
/// per pixel, mostly the float sub-grid), so that the segments in flight stay small.
const MAX_SEGMENT_FRAMES: usize = 250;
const MAX_SEGMENT_MAP_BYTES: usize = 32 << 20;

/// Scans every frame's map (no pixels) on `workers` threads, each decoding one segment
/// with `options.threads` decoder threads, and hands the records to `on_frame` in display
/// order. The records equal those of a serial `Reader::scan` without pixels.
pub fn scan_parallel<E>(
    path: impl AsRef<Path>,
    options: ReaderOptions,
    workers: usize,
    mut on_frame: impl FnMut(FrameRecord) -> std::result::Result<ControlFlow<()>, E>,
) -> std::result::Result<ScanSummary, E>
where
    E: From<Error>,
{
    let path = path.as_ref();
    let workers = workers.max(1);
    let info = probe(path)?;
    let map_bytes = (info.width as usize * info.height as usize / 4).max(1);
    let longest = MAX_SEGMENT_FRAMES
        .min(MAX_SEGMENT_MAP_BYTES / map_bytes)
        .max(1);
    let target = info.frame_count.div_ceil(workers).clamp(1, longest);
    let segments = plan_segments(&info, target);
    if workers == 1 || segments.len() == 1 {
        return super::Reader::open(path, options)?.scan(None, on_frame);
    }
    let mut frames = 0;
    let mut trailing_warnings = Vec::new();
    let mut on_segment = |scan: SegmentScan| -> std::result::Result<bool, E> {
        trailing_warnings = scan.trailing_warnings;
        for record in scan.records {
            frames += 1;
            if on_frame(record)?.is_break() {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let completed = decode_in_order(path, &options, &segments, workers, &mut on_segment)?;
    if !completed {
        return Ok(ScanSummary {
            frames,
            trailing_warnings: Vec::new(),
        });
    }
    if frames == 0 {
        return Err(Error::new(path, ErrorKind::NoFrames { last_warning: None }).into());
    }
    Ok(ScanSummary {
        frames,
        trailing_warnings,
    })
}

/// Decodes the segments on `workers` threads and hands them to `on_segment` in order, as soon
/// as each and all before it are done, so that delivering one segment overlaps with decoding
/// the next. At most `workers + 1` segments are decoded or waiting at any time. `on_segment` returns
/// false to stop early; the result says whether every segment was delivered.
fn decode_in_order<E>(
    path: &Path,
    options: &ReaderOptions,
    segments: &[Segment],
    workers: usize,
    on_segment: &mut dyn FnMut(SegmentScan) -> std::result::Result<bool, E>,
) -> std::result::Result<bool, E>
where
    E: From<Error>,
{
    let window = workers + 1;
    let next = AtomicUsize::new(0);
    let delivered = (Mutex::new(0usize), Condvar::new());
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<(usize, Result<SegmentScan>)>();
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, delivered, stop) = (&next, &delivered, &stop);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= segments.len() || !wait_for_room(delivered, stop, index, window) {
                        break;
                    }
                    let result = scan_segment(path, options, &segments[index]);
                    if sender.send((index, result)).is_err() {
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
        let mut waiting = BTreeMap::new();
        let mut expected = 0;
        for (index, result) in receiver {
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&expected) {
                let segment = &segments[expected];
                let scan = match result {
                    Ok(scan) if scan.records.len() == segment.frames.len() => scan,
                    Ok(_) => match scan_segment_from_start(path, options, segment) {
                        Ok(scan) => scan,
                        Err(e) => return finish(Err(e.into())),
                    },
                    Err(e) => return finish(Err(e.into())),
                };
                match on_segment(scan) {
                    Ok(true) => {}
                    other => return finish(other),
                }
                expected += 1;
                *delivered.0.lock().unwrap_or_else(|e| e.into_inner()) = expected;
                delivered.1.notify_all();
            }
        }
        finish(Ok(expected == segments.len()))
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
    let mut count = count.lock().unwrap_or_else(|e| e.into_inner());
    while index >= *count + window && !stop.load(Ordering::Relaxed) {
        count = changed.wait(count).unwrap_or_else(|e| e.into_inner());
    }
    !stop.load(Ordering::Relaxed)
}

struct SegmentScan {
    records: Vec<FrameRecord>,
    trailing_warnings: Vec<String>,
}

/// Decodes the segment's packets alone.
fn scan_segment(path: &Path, options: &ReaderOptions, segment: &Segment) -> Result<SegmentScan> {
    let session = Session::open_part(
        path,
        options,
        true,
        segment.packets.clone(),
        segment.frames.start,
    )?;
    collect(session, segment)
}

/// Decodes everything up to the segment's end and keeps the segment's frames: the serial
/// result, for segments that do not decode on their own.
fn scan_segment_from_start(
    path: &Path,
    options: &ReaderOptions,
    segment: &Segment,
) -> Result<SegmentScan> {
    let session = Session::open_part(path, options, true, 0..segment.packets.end, 0)?;
    let scan = collect(session, segment)?;
    if scan.records.len() != segment.frames.len() {
        return Err(Error::new(
            path,
            ErrorKind::SegmentMismatch {
                frames: segment.frames.clone(),
                decoded: scan.records.len(),
            },
        ));
    }
    Ok(scan)
}

fn collect(mut session: Session, segment: &Segment) -> Result<SegmentScan> {
    let mut records = Vec::with_capacity(segment.frames.len());
    while let Some(index) = session.next_frame() {
        if index >= segment.frames.end {
            break;
        }
        if index >= segment.frames.start {
            records.push(session.record(index, None)?);
        }
    }
    Ok(SegmentScan {
        records,
        trailing_warnings: session.take_trailing_warnings(),
    })
}
