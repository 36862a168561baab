//! A PNG grid of labelled thumbnails: each thumbnail centred in a cell as large as the largest
//! one, its label under it in the built-in bitmap font (see `font`).

use std::io::BufWriter;
use std::path::Path;

use image::{ImageFormat, RgbImage};

use super::font::{GLYPH_HEIGHT, draw_label};
use super::frames::Picture;
use super::{PackageError, check_output_dir};
use crate::output::video::temporary_path;

/// Space around and between cells.
const GAP: u32 = 4;
const BACKGROUND: [u8; 3] = [40, 40, 40];

/// Writes the thumbnails, `columns` per row in the given order, as a PNG to `out` (renamed
/// into place when complete).
pub fn contact_sheet(
    thumbnails: &[(String, RgbImage)],
    columns: u32,
    out: &Path,
) -> Result<(), PackageError> {
    let cell_width = thumbnails.iter().map(|(_, t)| t.width()).max().unwrap_or(0);
    let cell_height = thumbnails
        .iter()
        .map(|(_, t)| t.height())
        .max()
        .unwrap_or(0);
    if cell_width == 0 || cell_height == 0 || columns == 0 {
        return Err(PackageError::invalid(
            out,
            "a contact sheet needs at least one non-empty thumbnail and one column",
        ));
    }
    check_output_dir(out)?;
    let sheet = lay_out(thumbnails, columns, cell_width, cell_height);
    let image = RgbImage::from_raw(sheet.width, sheet.height, sheet.data)
        .expect("a picture holds width * height * 3 bytes");
    let temporary = temporary_path(out);
    let written = std::fs::File::create(&temporary)
        .map_err(image::ImageError::IoError)
        .and_then(|file| image.write_to(&mut BufWriter::new(file), ImageFormat::Png))
        .map_err(|source| PackageError::Image {
            path: out.to_path_buf(),
            source,
        })
        .and_then(|()| std::fs::rename(&temporary, out).map_err(PackageError::io(out)));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Label scale for cells `cell_width` wide: about 24 characters per cell, at least 1.
fn label_scale(cell_width: u32) -> u32 {
    (cell_width / (24 * 6)).max(1)
}

fn lay_out(
    thumbnails: &[(String, RgbImage)],
    columns: u32,
    cell_width: u32,
    cell_height: u32,
) -> Picture {
    let columns = columns.min(thumbnails.len() as u32).max(1);
    let rows = (thumbnails.len() as u32).div_ceil(columns);
    let scale = label_scale(cell_width);
    let band = GLYPH_HEIGHT * scale + 2 * scale;
    let width = columns * (cell_width + GAP) + GAP;
    let height = rows * (cell_height + band + GAP) + GAP;
    let mut sheet = Picture::filled(width, height, BACKGROUND);
    for (i, (label, thumbnail)) in thumbnails.iter().enumerate() {
        let x = GAP + (i as u32 % columns) * (cell_width + GAP);
        let y = GAP + (i as u32 / columns) * (cell_height + band + GAP);
        sheet.blit(
            thumbnail.as_raw(),
            thumbnail.width(),
            thumbnail.height(),
            x + (cell_width - thumbnail.width()) / 2,
            y + (cell_height - thumbnail.height()) / 2,
        );
        draw_label(&mut sheet, x, y + cell_height, cell_width, label, scale);
    }
    sheet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheets_have_one_cell_per_thumbnail() {
        let thumbs: Vec<(String, RgbImage)> = (0..5)
            .map(|i| {
                (
                    format!("cam{i}"),
                    RgbImage::from_pixel(40 + i, 30, image::Rgb([200, 0, 0])),
                )
            })
            .collect();
        let sheet = lay_out(&thumbs, 3, 44, 30);
        // 3 columns of 44 + gaps, 2 rows of 30 + a 9-pixel label band + gaps.
        assert_eq!(
            (sheet.width, sheet.height),
            (3 * 48 + 4, 2 * (30 + 9 + 4) + 4)
        );
        // The first thumbnail's middle is red, the gap is background.
        let at = |x: u32, y: u32| &sheet.data[((y * sheet.width + x) * 3) as usize..][..3];
        assert_eq!(at(4 + 22, 4 + 15), &[200, 0, 0]);
        assert_eq!(at(1, 1), &BACKGROUND);
    }

    #[test]
    fn empty_sheets_are_refused() {
        let err = contact_sheet(&[], 2, Path::new("/out/s.png")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/out/s.png: a contact sheet needs")
        );
    }
}
