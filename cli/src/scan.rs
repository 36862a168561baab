//! `codecprep scan`: every frame's maps (and optionally pixels) as npy arrays plus a JSON
//! frame list, streamed to disk so memory does not grow with the video's length.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use codecprep_core::output::{NpyElement, NpyWriter, StagingDir};
use codecprep_core::sync::{into_inner, lock};
use codecprep_core::{BitcostMap, FrameRecord, Measure, PixelFormat, PixelRequest, Reader};
use serde::Serialize;

use crate::DecodeArgs;
use crate::error::CliError;

/// Largest accepted `--size` side: bigger requests are typos that would allocate gigabytes.
const MAX_OUTPUT_SIDE: u32 = 16384;

/// Output written between two background flushes to disk (see `BackgroundSync`).
const SYNC_EVERY_BYTES: u64 = 64 << 20;

/// The output files, in the staging directory.
const OUTPUT_FILES: [&str; 4] = ["frames.json", "cells.npy", "sub.npy", "pixels.npy"];

#[derive(clap::Args)]
pub struct ScanArgs {
    /// Video file (H.264, HEVC or VP9)
    video: PathBuf,
    /// Output directory (created if missing)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Also write pixels.npy (uint8, frames x H x W x 3, BGR unless --rgb)
    #[arg(long)]
    pixels: bool,
    /// Pixel output size (0 for a side keeps the decoded size)
    #[arg(long, value_name = "WxH", requires = "pixels", value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Write RGB instead of BGR
    #[arg(long, requires = "pixels")]
    rgb: bool,
    /// Segments of the file (cut at keyframes) scanned in parallel, each with --threads
    /// decoder threads; default: the number of cores. Maps do not depend on it. With
    /// --pixels the scan is serial.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    segments: Option<u16>,
}

/// The default number of parallel segments: one per core.
fn core_count() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WxH, got {text:?}"))?;
    let side = |s: &str| match s.trim().parse::<u32>() {
        Ok(v) if v <= MAX_OUTPUT_SIDE => Ok(v),
        _ => Err(format!("{s:?} is not a size in 0..={MAX_OUTPUT_SIDE}")),
    };
    Ok((side(w)?, side(h)?))
}

pub fn run(args: &ScanArgs) -> Result<(), CliError> {
    let pixels = args.pixels.then(|| {
        let (width, height) = args.size.unwrap_or((0, 0));
        PixelRequest {
            format: if args.rgb {
                PixelFormat::Rgb
            } else {
                PixelFormat::Bgr
            },
            width,
            height,
        }
    });
    let options = args.decode.reader_options();
    // Opening first reports a bad file before anything is created.
    let mut reader = Reader::open(&args.video, options)?;
    let staging = StagingDir::create(&args.out, "scan").map_err(CliError::io(&args.out))?;
    let writer = ScanWriter::create(&staging, &args.video)?;
    let on_frame = |record| {
        writer.write(record)?;
        Ok::<_, CliError>(ControlFlow::Continue(()))
    };
    let segments = args.segments.map_or_else(core_count, usize::from);
    let summary = if pixels.is_none() && segments > 1 {
        reader.scan_segments_unordered(None, segments, on_frame)?
    } else {
        reader.scan(pixels, on_frame)?
    };
    writer.finish(summary.frames)?;
    staging.commit().map_err(CliError::io(&args.out))?;
    for warning in summary.trailing_warnings {
        eprintln!("codecprep: warning: {}: {warning}", args.video.display());
    }
    Ok(())
}

/// The block grid of a map, as recorded per frame in frames.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
struct Grid {
    kind: &'static str,
    block_size: u32,
    rows: usize,
    cols: usize,
    sub_rows: usize,
    sub_cols: usize,
}

impl Grid {
    fn of(map: &BitcostMap) -> Self {
        Self {
            kind: map.codec().grid_kind(),
            block_size: map.block_size(),
            rows: map.rows(),
            cols: map.cols(),
            sub_rows: map.sub_rows(),
            sub_cols: map.sub_cols(),
        }
    }
}

/// One element of frames.json.
#[derive(Serialize)]
struct FrameEntry<'a> {
    index: usize,
    pts_time: Option<f64>,
    pict_type: char,
    keyframe: bool,
    packet_bits: u64,
    total_bits: i64,
    /// Entropy-coded data of the frame (slice data or tiles) and its independently started
    /// parts: `data_bits - total_bits` is the coder's start-up and flush overhead.
    data_bits: u32,
    segments: u32,
    grid: Grid,
    measure: Measure,
    warnings: &'a [String],
}

/// The npy writers, created by the first frame to arrive, with its grid (and picture size);
/// pixels.npy exists only when pixels were requested.
struct Arrays {
    grid: Grid,
    cells: NpyWriter<i32>,
    sub: NpyWriter<f32>,
    /// Picture size and writer, with --pixels.
    pixels: Option<((u32, u32), NpyWriter<u8>)>,
}

/// Writes each frame's maps (and pixels) into the arrays at the frame's index, so frames may
/// come in any order and from several threads (a segment-parallel scan delivers them as they
/// are decoded); frames.json is written in display order.
struct ScanWriter<'a> {
    staging: &'a StagingDir,
    video: &'a Path,
    arrays: OnceLock<Arrays>,
    /// Held while the arrays are created, so that only one frame creates them.
    creating: Mutex<()>,
    listing: Mutex<FrameListing>,
    sync: BackgroundSync,
    /// Array bytes written since the last background flush was asked for.
    unsynced_bytes: AtomicU64,
}

impl<'a> ScanWriter<'a> {
    fn create(staging: &'a StagingDir, video: &'a Path) -> Result<Self, CliError> {
        let file = File::create(staging.path("frames.json"))
            .map(BufWriter::new)
            .and_then(|mut file| file.write_all(b"[").map(|()| file))
            .map_err(output_error(staging, "frames.json"))?;
        Ok(Self {
            staging,
            video,
            arrays: OnceLock::new(),
            creating: Mutex::new(()),
            listing: Mutex::new(FrameListing {
                file,
                written: 0,
                first_grid: None,
                waiting: BTreeMap::new(),
            }),
            sync: BackgroundSync::start(OUTPUT_FILES.map(|name| staging.path(name)).to_vec()),
            unsynced_bytes: AtomicU64::new(0),
        })
    }

    /// The arrays, created for this frame's grid and picture when it is the first frame.
    fn arrays(&self, grid: Grid, record: &FrameRecord) -> Result<&Arrays, CliError> {
        if let Some(arrays) = self.arrays.get() {
            return Ok(arrays);
        }
        let _creating = lock(&self.creating);
        if let Some(arrays) = self.arrays.get() {
            return Ok(arrays);
        }
        let pixels = match &record.pixels {
            Some(p) => {
                let shape = [p.height() as usize, p.width() as usize, 3];
                Some((
                    (p.width(), p.height()),
                    create_npy(self.staging, "pixels.npy", &shape)?,
                ))
            }
            None => None,
        };
        let created = Arrays {
            grid,
            cells: create_npy(self.staging, "cells.npy", &[grid.rows, grid.cols])?,
            sub: create_npy(self.staging, "sub.npy", &[grid.sub_rows, grid.sub_cols])?,
            pixels,
        };
        Ok(self.arrays.get_or_init(|| created))
    }

    fn write(&self, record: FrameRecord) -> Result<(), CliError> {
        let index = record.index;
        let map = record.map.as_ref().ok_or_else(|| {
            CliError::video(
                self.video,
                format!("frame {index} carries no bit-cost map (decoder bug?)"),
            )
        })?;
        let grid = Grid::of(map);
        let arrays = self.arrays(grid, &record)?;
        // A frame whose grid is not the arrays' is not written: the listing reports the
        // first frame (in display order) whose grid differs from frame 0's, and the scan
        // fails there.
        let mut written_bytes = 0;
        if grid == arrays.grid {
            arrays
                .cells
                .write_items(index, map.cells())
                .map_err(output_error(self.staging, "cells.npy"))?;
            arrays
                .sub
                .write_items(index, map.sub())
                .map_err(output_error(self.staging, "sub.npy"))?;
            written_bytes += 4 * (map.cells().len() + map.sub().len()) as u64;
        }
        if let Some((size, writer)) = &arrays.pixels {
            // Pixel scans are serial, so the first size change met is the first in order.
            let pixels = record.pixels.as_ref().ok_or_else(|| {
                CliError::video(self.video, format!("frame {index} has no pixels"))
            })?;
            let new_size = (pixels.width(), pixels.height());
            if new_size != *size {
                return Err(CliError::video(
                    self.video,
                    format!(
                        "frame {index} changes the picture size from {}x{} to {}x{} \
                         (resolution change mid-stream; pass --size to get one size)",
                        size.0, size.1, new_size.0, new_size.1
                    ),
                ));
            }
            writer
                .write_items(index, pixels.data())
                .map_err(output_error(self.staging, "pixels.npy"))?;
            written_bytes += pixels.data().len() as u64;
        }
        let unsynced = self
            .unsynced_bytes
            .fetch_add(written_bytes, Ordering::Relaxed);
        if unsynced + written_bytes >= SYNC_EVERY_BYTES {
            self.unsynced_bytes.store(0, Ordering::Relaxed);
            self.sync.request();
        }

        let entry = FrameEntry {
            index,
            pts_time: record.pts_time,
            pict_type: record.pict_type,
            keyframe: record.keyframe,
            packet_bits: record.packet_bits,
            total_bits: map.total_bits(),
            data_bits: map.data_bits(),
            segments: map.segments(),
            grid,
            measure: map.measure(),
            warnings: &record.warnings,
        };
        let json = serde_json::to_vec(&entry).map_err(|e| {
            CliError::video(self.video, format!("frame {index} cannot be listed: {e}"))
        })?;
        lock(&self.listing)
            .add(index, grid, json)
            .map_err(|problem| match problem {
                ListingProblem::Io(e) => output_error(self.staging, "frames.json")(e),
                ListingProblem::GridChange { index, first, grid } => {
                    grid_change_error(self.video, index, first, grid)
                }
            })
    }

    /// Completes every file for `frames` frames (final npy shapes, closing bracket) and syncs
    /// them to disk.
    fn finish(mut self, frames: usize) -> Result<(), CliError> {
        // A background flush under way overlaps with the final syncs; it is waited for when
        // `self.sync` is dropped, after them.
        self.sync.close();
        let listing = into_inner(self.listing);
        if listing.written != frames || !listing.waiting.is_empty() {
            return Err(CliError::video(
                self.video,
                format!(
                    "the scan reported {frames} frames but frames 0..{} arrived (reader bug?)",
                    listing.written
                ),
            ));
        }
        let mut file = listing.file;
        file.write_all(b"\n]\n")
            .and_then(|()| file.into_inner().map_err(|e| e.into_error()))
            .and_then(|file| file.sync_all())
            .map_err(output_error(self.staging, "frames.json"))?;
        if let Some(arrays) = self.arrays.take() {
            let staging = self.staging;
            let finish = |name: &'static str, result: io::Result<()>| {
                result.map_err(output_error(staging, name))
            };
            finish("cells.npy", arrays.cells.finish(frames))?;
            finish("sub.npy", arrays.sub.finish(frames))?;
            if let Some((_, writer)) = arrays.pixels {
                finish("pixels.npy", writer.finish(frames))?;
            }
        }
        Ok(())
    }
}

/// frames.json: entries written in display order, each frame's grid checked against frame
/// 0's in that order, so that a grid change is reported at the same frame however the
/// frames arrive.
struct FrameListing {
    file: BufWriter<File>,
    /// Entries written: the index of the next one.
    written: usize,
    /// Frame 0's grid, once written.
    first_grid: Option<Grid>,
    /// Entries (grid, JSON) of frames that arrived before a frame ahead of them.
    waiting: BTreeMap<usize, (Grid, Vec<u8>)>,
}

enum ListingProblem {
    Io(io::Error),
    GridChange {
        index: usize,
        first: Grid,
        grid: Grid,
    },
}

impl FrameListing {
    fn add(&mut self, index: usize, grid: Grid, json: Vec<u8>) -> Result<(), ListingProblem> {
        if index != self.written {
            self.waiting.insert(index, (grid, json));
            return Ok(());
        }
        self.write(grid, &json)?;
        while let Some((grid, json)) = self.waiting.remove(&self.written) {
            self.write(grid, &json)?;
        }
        Ok(())
    }

    fn write(&mut self, grid: Grid, json: &[u8]) -> Result<(), ListingProblem> {
        let first = *self.first_grid.get_or_insert(grid);
        if grid != first {
            return Err(ListingProblem::GridChange {
                index: self.written,
                first,
                grid,
            });
        }
        let separator: &[u8] = if self.written == 0 { b"\n  " } else { b",\n  " };
        self.file
            .write_all(separator)
            .and_then(|()| self.file.write_all(json))
            .map_err(ListingProblem::Io)?;
        self.written += 1;
        Ok(())
    }
}

/// Flushes what was written to the output files to disk on a separate thread while the scan
/// goes on. Flushing hundreds of megabytes of maps at the end is mostly waiting for the disk,
/// after the decoding is over; flushing as the output grows overlaps that wait with decoding,
/// so that the final sync in `finish` (which reports errors) has little left to do.
struct BackgroundSync {
    requests: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundSync {
    fn start(paths: Vec<PathBuf>) -> Self {
        // One waiting request is enough: a flush covers everything written before it starts.
        let (requests, received) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("scan-sync".to_owned())
            .spawn(move || {
                for () in received {
                    for path in &paths {
                        // Errors are left to the final sync, which redoes the work and reports
                        // them; files not created (yet) are skipped.
                        if let Ok(file) = File::options().write(true).open(path) {
                            let _ = file.sync_data();
                        }
                    }
                }
            })
            .ok();
        Self {
            requests: thread.is_some().then_some(requests),
            thread,
        }
    }

    /// Asks for a flush, unless one is already waiting.
    fn request(&self) {
        if let Some(requests) = &self.requests {
            let _ = requests.try_send(());
        }
    }

    /// Asks for no more flushes.
    fn close(&mut self) {
        self.requests = None;
    }
}

impl Drop for BackgroundSync {
    /// Waits for the flush under way, if any.
    fn drop(&mut self) {
        self.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn create_npy<T: NpyElement>(
    staging: &StagingDir,
    name: &str,
    item_shape: &[usize],
) -> Result<NpyWriter<T>, CliError> {
    NpyWriter::create(staging.path(name), item_shape).map_err(output_error(staging, name))
}

/// Errors name the final output file: the staging copy is gone once the scan fails.
fn output_error(staging: &StagingDir, name: &str) -> impl FnOnce(io::Error) -> CliError {
    let path = staging.destination().join(name);
    move |source| CliError::Io { path, source }
}

/// The error for frame `index`, whose grid is not frame 0's.
fn grid_change_error(video: &Path, index: usize, first: Grid, grid: Grid) -> CliError {
    let (what, from, to) = if (grid.sub_rows, grid.sub_cols) == (first.sub_rows, first.sub_cols)
        || (grid.rows, grid.cols) != (first.rows, first.cols)
    {
        ("grid", (first.rows, first.cols), (grid.rows, grid.cols))
    } else {
        (
            "sub-grid",
            (first.sub_rows, first.sub_cols),
            (grid.sub_rows, grid.sub_cols),
        )
    };
    CliError::video(
        video,
        format!(
            "frame {index} changes the {what} from {}x{} to {}x{} (resolution change \
             mid-stream; scan writes one grid per video)",
            from.0, from.1, to.0, to.1
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: usize, cols: usize, sub_rows: usize, sub_cols: usize) -> Grid {
        Grid {
            kind: "mb",
            block_size: 16,
            rows,
            cols,
            sub_rows,
            sub_cols,
        }
    }

    #[test]
    fn sizes_parse_with_limits() {
        assert_eq!(parse_size("640x360"), Ok((640, 360)));
        assert_eq!(parse_size("0X48"), Ok((0, 48)));
        assert!(parse_size("640").is_err());
        assert!(parse_size("axb").is_err());
        assert!(parse_size("16385x2").is_err());
    }

    fn listing(dir: &tempfile::TempDir) -> FrameListing {
        FrameListing {
            file: BufWriter::new(File::create(dir.path().join("frames.json")).unwrap()),
            written: 0,
            first_grid: None,
            waiting: BTreeMap::new(),
        }
    }

    #[test]
    fn listing_writes_entries_in_display_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut listing = listing(&dir);
        let g = grid(15, 20, 60, 80);
        for index in [2, 0, 3, 1] {
            assert!(
                listing
                    .add(index, g, format!("{index}").into_bytes())
                    .is_ok()
            );
        }
        assert_eq!((listing.written, listing.waiting.len()), (4, 0));
        listing.file.flush().unwrap();
        let text = std::fs::read_to_string(dir.path().join("frames.json")).unwrap();
        assert_eq!(text, "\n  0,\n  1,\n  2,\n  3");
    }

    #[test]
    fn listing_reports_the_first_grid_change_in_display_order() {
        // Frames 3 and 5 have another grid; 5 arrives first, and frame 0 last.
        let dir = tempfile::tempdir().unwrap();
        let mut listing = listing(&dir);
        let (a, b) = (grid(15, 20, 60, 80), grid(9, 11, 36, 44));
        for (index, g) in [(5, b), (3, b), (1, a), (2, a), (4, a)] {
            assert!(listing.add(index, g, Vec::new()).is_ok());
        }
        match listing.add(0, a, Vec::new()) {
            Err(ListingProblem::GridChange { index, first, grid }) => {
                assert_eq!((index, first, grid), (3, a, b));
            }
            _ => panic!("the grid change at frame 3 was not reported"),
        }
    }

    #[test]
    fn grid_change_names_frame_and_both_grids() {
        let err = grid_change_error(
            Path::new("v.ts"),
            10,
            grid(15, 20, 60, 80),
            grid(9, 11, 36, 44),
        );
        assert!(
            err.to_string()
                .starts_with("v.ts: frame 10 changes the grid from 15x20 to 9x11 "),
            "{err}"
        );
    }

    #[test]
    fn sub_grid_change_is_reported_when_blocks_stay() {
        let err = grid_change_error(Path::new("v.ts"), 4, grid(3, 5, 12, 20), grid(3, 5, 12, 19));
        assert!(
            err.to_string()
                .contains("frame 4 changes the sub-grid from 12x20 to 12x19"),
            "{err}"
        );
    }
}
