//! All cameras of an event side by side: one grid cell per clip, each clip shown from its
//! place on the event's timeline, labelled, black before and after it.
//!
//! The grid is laid out in Rust from the same frame sources as the stitched clip (rather than
//! GStreamer's compositor, which would need a decoding branch with a time offset per clip in
//! one gst-launch line, and Pango for textoverlay), so tile timing follows the same exact
//! rule. The mosaic has no audio: the stitched clip carries the event's best audio.

use std::path::{Path, PathBuf};

use super::font::{GLYPH_HEIGHT, draw_label};
use super::frames::{FrameSource, Picture};
use super::{PackageError, StitchOptions, check_video_format, frame_count, frame_time};
use crate::output::video::{EncodeSettings, RawFormat, VideoWriter, check_encoder};

/// One clip of the mosaic.
#[derive(Debug, Clone, PartialEq)]
pub struct MosaicTile {
    pub source: PathBuf,
    /// Seconds from the start of the mosaic at which the clip's first frame shows.
    pub at: f64,
    pub label: String,
}

/// Columns and rows for `tiles` cells: as square as possible, wider than tall.
fn grid(tiles: usize) -> (u32, u32) {
    let columns = (tiles as f64).sqrt().ceil().max(1.0) as u32;
    let rows = (tiles as u32).div_ceil(columns).max(1);
    (columns, rows)
}

/// Writes a `width` x `height` MP4 (H.264, no audio) of `duration` seconds at `fps` showing
/// every tile in a grid cell; `out` appears only when complete.
pub fn mosaic(
    tiles: &[MosaicTile],
    duration: f64,
    width: u32,
    height: u32,
    fps: (u32, u32),
    out: &Path,
) -> Result<(), PackageError> {
    let format = VideoFormat { width, height, fps };
    mosaic_with(tiles, duration, format, out, &StitchOptions::default())
}

/// Size and rate of a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoFormat {
    pub width: u32,
    pub height: u32,
    /// Frames per second as `num/den`.
    pub fps: (u32, u32),
}

/// [`mosaic`] with encoder threads, progress and cancellation.
pub fn mosaic_with(
    tiles: &[MosaicTile],
    duration: f64,
    format: VideoFormat,
    out: &Path,
    options: &StitchOptions<'_>,
) -> Result<(), PackageError> {
    let VideoFormat { width, height, fps } = format;
    check_video_format(out, width, height, fps)?;
    if tiles.is_empty() {
        return Err(PackageError::invalid(
            out,
            "a mosaic needs at least one clip",
        ));
    }
    let frames = frame_count(duration, fps);
    if !duration.is_finite() || frames == 0 {
        return Err(PackageError::invalid(
            out,
            format!("duration {duration} s holds no frame"),
        ));
    }
    if let Some(tile) = tiles.iter().find(|t| !t.at.is_finite()) {
        return Err(PackageError::invalid(
            &tile.source,
            format!("placed at {} s", tile.at),
        ));
    }
    let (columns, rows) = grid(tiles.len());
    let (cell_width, cell_height) = (width / columns, height / rows);
    if cell_width < 2 || cell_height < 2 {
        return Err(PackageError::invalid(
            out,
            format!("{width}x{height} is too small for {} tiles", tiles.len()),
        ));
    }
    let mut sources = tiles
        .iter()
        .map(|tile| FrameSource::open(&tile.source, cell_width, cell_height))
        .collect::<Result<Vec<_>, _>>()?;
    check_encoder().map_err(PackageError::io(out))?;
    let settings = EncodeSettings {
        width,
        height,
        format: RawFormat::Rgb,
        frame_rate: fps,
        threads: options.threads,
        audio: None,
    };
    // Labels about a twentieth of the cell high, at least the font's own size.
    let scale = (cell_height / (20 * GLYPH_HEIGHT)).max(1);
    let mut writer = VideoWriter::start(out, &settings).map_err(PackageError::io(out))?;
    let mut picture = Picture::filled(width, height, [0, 0, 0]);
    for n in 0..frames {
        let time = frame_time(n, fps);
        picture.data.fill(0);
        for (i, (tile, source)) in tiles.iter().zip(&mut sources).enumerate() {
            let (column, row) = (i as u32 % columns, i as u32 / columns);
            let (x, y) = (column * cell_width, row * cell_height);
            let (w, h) = source.size();
            if let Some(pixels) = source.frame_at(time - tile.at)? {
                picture.blit(
                    pixels,
                    w,
                    h,
                    x + (cell_width - w) / 2,
                    y + (cell_height - h) / 2,
                );
            }
            draw_label(&mut picture, x, y, cell_width, &tile.label, scale);
        }
        writer
            .write_frame(&picture.data)
            .map_err(PackageError::io(out))?;
        options.frame_written(n, frames, out)?;
    }
    writer.finish().map_err(PackageError::io(out))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_are_nearly_square() {
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(2), (2, 1));
        assert_eq!(grid(3), (2, 2));
        assert_eq!(grid(4), (2, 2));
        assert_eq!(grid(5), (3, 2));
        assert_eq!(grid(10), (4, 3));
    }

    #[test]
    fn empty_mosaics_are_refused() {
        let err = mosaic(&[], 1.0, 64, 64, (10, 1), Path::new("m.mp4")).unwrap_err();
        assert_eq!(err.to_string(), "m.mp4: a mosaic needs at least one clip");
    }
}
