//! Writing the job's files (§14): canvases (JPEG quality 95 4:2:0 baseline, PNG, or npy),
//! `frame_ids.npy`, `src_patch_position.npy` and `meta.json`, all staged in a hidden
//! directory inside the output directory and moved into place only when everything is
//! written (`meta.json` last), so a failed or cancelled run leaves no partial outputs.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::config::CanvasFormat;
use crate::output::{NpyElement, NpyWriter};

/// The reference's JPEG quality (OpenCV's default is 95 too).
pub const JPEG_QUALITY: u8 = 95;
/// Name of the metadata file, moved into place last.
pub const META_NAME: &str = "meta.json";

/// `canvas_000.png`, ..., `canvas_999.png`, `canvas_1000.png`.
pub fn canvas_name(index: usize, format: CanvasFormat) -> String {
    format!("canvas_{index:03}.{}", format.as_str())
}

/// Writes one RGB canvas (`width x height`, packed rows).
pub fn write_canvas(
    path: &Path,
    rgb: &[u8],
    width: usize,
    height: usize,
    format: CanvasFormat,
) -> io::Result<()> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
    match format {
        CanvasFormat::Png => {
            use image::ImageEncoder;
            use image::codecs::png::{CompressionType, FilterType, PngEncoder};
            let file = BufWriter::new(fs::File::create(path)?);
            PngEncoder::new_with_quality(file, CompressionType::Fast, FilterType::Adaptive)
                .write_image(
                    rgb,
                    width as u32,
                    height as u32,
                    image::ExtendedColorType::Rgb8,
                )
                .map_err(|e| io::Error::other(e.to_string()))
        }
        CanvasFormat::Jpg => {
            let (w, h) = (
                u16::try_from(width)
                    .map_err(|_| invalid(format!("canvas width {width} is too large for JPEG")))?,
                u16::try_from(height).map_err(|_| {
                    invalid(format!("canvas height {height} is too large for JPEG"))
                })?,
            );
            let mut encoder = jpeg_encoder::Encoder::new_file(path, JPEG_QUALITY)
                .map_err(|e| io::Error::other(e.to_string()))?;
            // OpenCV (libjpeg): baseline, 4:2:0 with box-filtered chroma.
            encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
            encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
            encoder
                .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
                .map_err(|e| io::Error::other(e.to_string()))
        }
        CanvasFormat::Npy => write_npy(path, rgb, &[height, width, 3]),
    }
}

/// Writes an array of the given shape (the first dimension included) as `.npy`.
pub fn write_npy<T: NpyElement>(path: &Path, data: &[T], shape: &[usize]) -> io::Result<()> {
    let (&count, rest) = shape.split_first().expect("a shape has a first dimension");
    let writer = NpyWriter::<T>::create(path, rest)?;
    let items = data.get(..count * writer.item_len()).ok_or_else(|| {
        io::Error::other(format!(
            "{}: {} values cannot fill shape {shape:?}",
            path.display(),
            data.len()
        ))
    })?;
    writer.write_items(0, items)?;
    writer.finish(count)
}

/// Writes text and flushes it to disk.
pub fn write_text(path: &Path, text: &str) -> io::Result<()> {
    let mut file = BufWriter::new(fs::File::create(path)?);
    file.write_all(text.as_bytes())?;
    file.into_inner()
        .map_err(io::IntoInnerError::into_error)?
        .sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canvas_names() {
        assert_eq!(canvas_name(7, CanvasFormat::Png), "canvas_007.png");
        assert_eq!(canvas_name(1234, CanvasFormat::Jpg), "canvas_1234.jpg");
        assert_eq!(canvas_name(0, CanvasFormat::Npy), "canvas_000.npy");
    }

    fn gradient(w: usize, h: usize) -> Vec<u8> {
        (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [(x * 3) as u8, (y * 5) as u8, ((x + y) * 2) as u8]
            })
            .collect()
    }

    #[test]
    fn canvases_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let (w, h) = (56, 28);
        let rgb = gradient(w, h);
        let png = dir.path().join("c.png");
        write_canvas(&png, &rgb, w, h, CanvasFormat::Png).unwrap();
        let back = image::open(&png).unwrap().to_rgb8();
        assert_eq!(back.as_raw(), &rgb);
        let jpg = dir.path().join("c.jpg");
        write_canvas(&jpg, &rgb, w, h, CanvasFormat::Jpg).unwrap();
        let back = image::open(&jpg).unwrap().to_rgb8();
        let mad: f64 = back
            .as_raw()
            .iter()
            .zip(&rgb)
            .map(|(&a, &b)| f64::from(a.abs_diff(b)))
            .sum::<f64>()
            / rgb.len() as f64;
        assert!(mad < 3.0, "mean abs diff {mad}");
        // 4:2:0: SOF0 component 1 has sampling factors 0x22.
        let bytes = fs::read(&jpg).unwrap();
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        assert_eq!(bytes[sof + 11], 0x22);
        let npy = dir.path().join("c.npy");
        write_canvas(&npy, &rgb, w, h, CanvasFormat::Npy).unwrap();
        let arr: ndarray::Array3<u8> = ndarray_npy::read_npy(&npy).unwrap();
        assert_eq!(arr.shape(), &[h, w, 3]);
        assert_eq!(arr.as_slice().unwrap(), &rgb[..]);
    }

    #[test]
    fn npy_arrays() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pos.npy");
        write_npy(&p, &[1i32, 2, 3, -1, -1, -1], &[2, 3]).unwrap();
        let arr: ndarray::Array2<i32> = ndarray_npy::read_npy(&p).unwrap();
        assert_eq!(arr.shape(), &[2, 3]);
        assert_eq!(arr[[1, 0]], -1);
        let ids = dir.path().join("ids.npy");
        write_npy(&ids, &[5i32, 6], &[2]).unwrap();
        let arr: ndarray::Array1<i32> = ndarray_npy::read_npy(&ids).unwrap();
        assert_eq!(arr.to_vec(), vec![5, 6]);
    }
}
