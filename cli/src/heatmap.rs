//! `codecprep heatmap`: the bit-cost map drawn over the frames, as a PNG of one frame or an
//! MP4 of all of them (encoded by GStreamer).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use codecprep_core::heatmap::{self, HeatGrid};
use codecprep_core::output::video::{RawFormat, VideoWriter, check_encoder};
use codecprep_core::preinfer::CanvasFormat;
use codecprep_core::preinfer::output::write_canvas;
use codecprep_core::{
    FrameRecord, PixelFormat, PixelRequest, Reader, ReaderOptions, SelectOptions, probe,
    read_selected,
};

use crate::DecodeArgs;
use crate::error::CliError;

#[derive(clap::Args)]
pub struct HeatmapArgs {
    /// Video file (H.264, HEVC or VP9)
    video: PathBuf,
    /// Output: FILE.png (one frame) or FILE.mp4 (every frame, H.264 encoded by GStreamer)
    #[arg(long, value_name = "FILE.png|FILE.mp4", value_parser = parse_out)]
    out: PathBuf,
    /// Frame to draw (display order) for PNG output [default: the middle frame]
    #[arg(long, value_name = "N")]
    frame: Option<usize>,
    /// Grid drawn: the 4x4-pixel sub-grid or the codec's blocks (macroblocks, CTUs,
    /// superblocks)
    #[arg(long, value_enum, default_value_t = GridArg::Sub)]
    grid: GridArg,
    #[command(flatten)]
    decode: DecodeArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum GridArg {
    Sub,
    Cells,
}

/// Output kinds, by file extension.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OutKind {
    Png,
    Mp4,
}

fn out_kind(path: &Path) -> Option<OutKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "png" => Some(OutKind::Png),
        "mp4" => Some(OutKind::Mp4),
        _ => None,
    }
}

fn parse_out(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    match out_kind(&path) {
        Some(_) => Ok(path),
        None => Err(format!("{text:?} must end in .png or .mp4")),
    }
}

pub fn run(args: &HeatmapArgs) -> Result<ExitCode, CliError> {
    let kind = out_kind(&args.out).unwrap_or(OutKind::Png);
    if kind == OutKind::Mp4 && args.frame.is_some() {
        eprintln!("codecprep heatmap: error: --frame applies to PNG output only");
        return Ok(ExitCode::from(2));
    }
    let grid = match args.grid {
        GridArg::Sub => HeatGrid::Sub,
        GridArg::Cells => HeatGrid::Cells,
    };
    let options = args.decode.reader_options();
    match kind {
        OutKind::Png => png(args, options, grid)?,
        OutKind::Mp4 => mp4(args, options, grid)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Draws the map of `record` over its pixels; returns the RGB picture and its size.
fn render(
    video: &Path,
    record: FrameRecord,
    grid: HeatGrid,
) -> Result<(Vec<u8>, usize, usize), CliError> {
    let index = record.index;
    let (Some(map), Some(pixels)) = (record.map, record.pixels) else {
        return Err(CliError::video(
            video,
            format!("frame {index}: no bit-cost map or pixels"),
        ));
    };
    let (w, h) = (pixels.width() as usize, pixels.height() as usize);
    let mut rgb = pixels.into_data();
    heatmap::overlay(&mut rgb, w, h, &map, grid);
    Ok((rgb, w, h))
}

fn png(args: &HeatmapArgs, options: ReaderOptions, grid: HeatGrid) -> Result<(), CliError> {
    let info = probe(&args.video)?;
    let frame = args.frame.unwrap_or(info.frame_count / 2);
    let request = PixelRequest {
        format: PixelFormat::Rgb,
        width: 0,
        height: 0,
    };
    let select = SelectOptions {
        reader: options,
        workers: std::thread::available_parallelism().map_or(1, usize::from),
        ..SelectOptions::default()
    };
    let (mut records, _) =
        read_selected::<_, CliError>(&args.video, &info, &[frame], Some(request), &select, Ok)?;
    let record = records
        .pop()
        .ok_or_else(|| CliError::video(&args.video, format!("frame {frame} was not decoded")))?;
    let (rgb, w, h) = render(&args.video, record, grid)?;
    let temporary = temporary_sibling(&args.out);
    let written = write_canvas(&temporary, &rgb, w, h, CanvasFormat::Png)
        .and_then(|()| std::fs::rename(&temporary, &args.out));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(CliError::io(&args.out))?;
    println!(
        "wrote {} (frame {frame} of {}, {w}x{h})",
        args.out.display(),
        info.frame_count
    );
    Ok(())
}

/// `DIR/.NAME.<pid>.part.EXT` for `DIR/NAME.EXT`, renamed into place when complete.
fn temporary_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.part.{ext}", std::process::id()))
}

fn mp4(args: &HeatmapArgs, options: ReaderOptions, grid: HeatGrid) -> Result<(), CliError> {
    let video = args.video.as_path();
    check_encoder().map_err(CliError::io(&args.out))?;
    let info = probe(video)?;
    // Every frame at the first frame's size, cut to even sides for the 4:2:0 encoder.
    let mut reader = Reader::open(video, options)?;
    let mut writer: Option<(VideoWriter, usize, usize)> = None;
    let mut size = None;
    let request = PixelRequest {
        format: PixelFormat::Rgb,
        width: info.width,
        height: info.height,
    };
    let summary = reader.scan(
        Some(request),
        |record| -> Result<ControlFlow<()>, CliError> {
            let (rgb, w, h) = render(video, record, grid)?;
            let (even_w, even_h) = (w & !1, h & !1);
            if writer.is_none() {
                let created = VideoWriter::create(
                    &args.out,
                    even_w as u32,
                    even_h as u32,
                    RawFormat::Rgb,
                    info.fps,
                )
                .map_err(CliError::io(&args.out))?;
                writer = Some((created, even_w, even_h));
                size = Some((even_w, even_h));
            }
            let (out, ew, eh) = writer.as_mut().expect("created above");
            let frame: Vec<u8> = rgb
                .chunks_exact(w * 3)
                .take(*eh)
                .flat_map(|row| &row[..*ew * 3])
                .copied()
                .collect();
            out.write_frame(&frame).map_err(CliError::io(&args.out))?;
            Ok(ControlFlow::Continue(()))
        },
    )?;
    let (out, _, _) = writer.ok_or_else(|| CliError::video(video, "no frame decoded".into()))?;
    out.finish().map_err(CliError::io(&args.out))?;
    let (w, h) = size.unwrap_or_default();
    println!(
        "wrote {} ({} frames, {w}x{h}, {:.3} fps)",
        args.out.display(),
        summary.frames,
        info.fps
    );
    Ok(())
}
