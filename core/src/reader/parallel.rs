//! Segment-parallel scans: the file is cut at clean keyframes (see `segments`) and the
//! segments are decoded on a bounded pool, in batches, and delivered in display order.
//!
//! Memory stays bounded by one batch (`workers` segments of at most `MAX_SEGMENT_FRAMES`
//! frames, unless a single GOP is longer). A segment whose decode does not yield exactly
//! its frames is decoded again from the start of the file, which is what a serial scan does,
//! so results never depend on the number of workers.

use std::ops::ControlFlow;
use std::path::Path;

use rayon::prelude::*;

use super::error::{Error, ErrorKind, Result};
use super::record::FrameRecord;
use super::segments::{Segment, plan_segments};
use super::session::Session;
use super::{ReaderOptions, ScanSummary, probe};

/// Upper bound on a planned segment's length, so that a batch's maps stay small.
const MAX_SEGMENT_FRAMES: usize = 250;

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
    let target = info
        .frame_count
        .div_ceil(workers)
        .clamp(1, MAX_SEGMENT_FRAMES);
    let segments = plan_segments(&info, target);
    if workers == 1 || segments.len() == 1 {
        return super::Reader::open(path, options)?.scan(None, on_frame);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .map_err(|e| Error::new(path, ErrorKind::ThreadPool(e.to_string())))?;
    let mut frames = 0;
    let mut trailing_warnings = Vec::new();
    for batch in segments.chunks(workers) {
        let decoded: Vec<Result<SegmentScan>> = pool.install(|| {
            batch
                .par_iter()
                .map(|segment| scan_segment(path, &options, segment))
                .collect()
        });
        for (segment, result) in batch.iter().zip(decoded) {
            let scan = match result? {
                scan if scan.records.len() == segment.frames.len() => scan,
                _ => scan_segment_from_start(path, &options, segment)?,
            };
            trailing_warnings = scan.trailing_warnings;
            for record in scan.records {
                frames += 1;
                if on_frame(record)?.is_break() {
                    return Ok(ScanSummary {
                        frames,
                        trailing_warnings: Vec::new(),
                    });
                }
            }
        }
    }
    if frames == 0 {
        return Err(Error::new(path, ErrorKind::NoFrames { last_warning: None }).into());
    }
    Ok(ScanSummary {
        frames,
        trailing_warnings,
    })
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
