//! Writer for `.npy` (format version 1.0) arrays whose first dimension grows.
//!
//! ndarray-npy writes whole arrays; a scan must not hold the whole video in memory, so this
//! writer reserves room for the largest possible header, writes items as they come and
//! rewrites the header with the final count in `finish`.

use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::le_bytes::{LeScalar, to_le_bytes};

const MAGIC: &[u8] = b"\x93NUMPY";
/// Magic, two version bytes and the u16 header length.
const PREAMBLE_LEN: usize = MAGIC.len() + 2 + 2;
/// numpy aligns the data start to 64 bytes so readers can map it directly.
const ALIGNMENT: usize = 64;

/// Element types the writer supports, with their numpy type descriptor.
pub trait NpyElement: LeScalar {
    const DESCR: &'static str;
}

impl NpyElement for u8 {
    const DESCR: &'static str = "|u1";
}

impl NpyElement for i32 {
    const DESCR: &'static str = "<i4";
}

impl NpyElement for f32 {
    const DESCR: &'static str = "<f4";
}

/// Writes an array of shape `(count, item_shape...)` whose items are placed by index:
/// positional writes with no shared file cursor, so several threads may write items at once
/// and in any order (a parallel scan finishes frames out of order). `finish` writes the
/// header for the final count.
pub struct NpyWriter<T: NpyElement> {
    file: File,
    path: PathBuf,
    item_shape: Vec<usize>,
    item_len: usize,
    /// Length of the reserved preamble + header; the final header is padded to the same size.
    header_total: usize,
    element: PhantomData<T>,
}

impl<T: NpyElement> NpyWriter<T> {
    /// Creates (truncates) `path` and reserves the header.
    pub fn create(path: impl AsRef<Path>, item_shape: &[usize]) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        // The widest count a header may have to hold: room for it is reserved now so the data
        // never has to move when the real count is written.
        let header = header_bytes(T::DESCR, usize::MAX, item_shape, 0);
        let file = File::create(&path)?;
        file.write_all_at(&header, 0)?;
        Ok(Self {
            file,
            path,
            item_shape: item_shape.to_vec(),
            item_len: item_shape.iter().product(),
            header_total: header.len(),
            element: PhantomData,
        })
    }

    /// Values in one item: `product(item_shape)`.
    pub fn item_len(&self) -> usize {
        self.item_len
    }

    /// Writes consecutive items (row-major, a whole number of them) from item `first` on.
    /// Items of no values (numpy allows them) have nothing to write.
    pub fn write_items(&self, first: usize, items: &[T]) -> io::Result<()> {
        if !items.len().is_multiple_of(self.item_len) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: {} values are not whole items of shape {:?}",
                    self.path.display(),
                    items.len(),
                    self.item_shape
                ),
            ));
        }
        let item_bytes = self.item_len * size_of::<T>();
        let offset = first
            .checked_mul(item_bytes)
            .and_then(|bytes| bytes.checked_add(self.header_total))
            .ok_or_else(|| {
                io::Error::other(format!(
                    "{}: item {first} is out of reach",
                    self.path.display()
                ))
            })?;
        self.file.write_all_at(&to_le_bytes(items), offset as u64)
    }

    /// Writes the header for `count` items, cuts the file after the last of them and flushes
    /// it to disk. Items `0..count` must all have been written.
    pub fn finish(self, count: usize) -> io::Result<()> {
        let header = header_bytes(T::DESCR, count, &self.item_shape, self.header_total);
        self.file.write_all_at(&header, 0)?;
        let data_bytes = count * self.item_len * size_of::<T>();
        self.file.set_len((self.header_total + data_bytes) as u64)?;
        self.file.sync_all()
    }
}

/// Formats a numpy shape tuple; a 1-tuple needs its trailing comma.
fn shape_tuple(count: usize, item_shape: &[usize]) -> String {
    let dims: Vec<String> = std::iter::once(count)
        .chain(item_shape.iter().copied())
        .map(|d| d.to_string())
        .collect();
    if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    }
}

/// Preamble plus header dictionary, space-padded to `min_total` bytes (at least) and to a
/// multiple of 64, ending in a newline as numpy requires.
fn header_bytes(descr: &str, count: usize, item_shape: &[usize], min_total: usize) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}",
        shape_tuple(count, item_shape)
    );
    let unpadded = PREAMBLE_LEN + dict.len() + 1;
    let total = unpadded.max(min_total).next_multiple_of(ALIGNMENT);
    let header_len = total - PREAMBLE_LEN;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    // Shapes are a handful of numbers, so the header stays far below u16::MAX.
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, ArrayD};
    use ndarray_npy::read_npy;

    #[test]
    fn header_is_aligned_and_newline_terminated() {
        for shape in [&[][..], &[3], &[480, 640, 3]] {
            let header = header_bytes("<i4", usize::MAX, shape, 0);
            assert_eq!(header.len() % ALIGNMENT, 0);
            assert_eq!(header.last(), Some(&b'\n'));
            let len = u16::from_le_bytes([header[8], header[9]]) as usize;
            assert_eq!(len + PREAMBLE_LEN, header.len());
        }
    }

    #[test]
    fn shape_tuples_follow_python_syntax() {
        assert_eq!(shape_tuple(5, &[]), "(5,)");
        assert_eq!(shape_tuple(2, &[3, 4]), "(2, 3, 4)");
    }

    #[test]
    fn final_header_keeps_the_reserved_size() {
        let reserved = header_bytes("|u1", usize::MAX, &[1080, 1920, 3], 0);
        let final_header = header_bytes("|u1", 7, &[1080, 1920, 3], reserved.len());
        assert_eq!(final_header.len(), reserved.len());
    }

    #[test]
    fn i32_items_written_out_of_order_read_back_with_ndarray_npy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cells.npy");
        let writer = NpyWriter::<i32>::create(&path, &[2, 3]).unwrap();
        assert_eq!(writer.item_len(), 6);
        for frame in [2, 0, 3, 1] {
            let item: Vec<i32> = (0..6).map(|i| frame * 100 + i - 3).collect();
            writer.write_items(frame as usize, &item).unwrap();
        }
        writer.finish(4).unwrap();
        let array: Array3<i32> = read_npy(&path).unwrap();
        assert_eq!(array.shape(), &[4, 2, 3]);
        assert_eq!(array[[3, 1, 2]], 302);
        assert_eq!(array[[0, 0, 0]], -3);
    }

    #[test]
    fn items_from_several_threads_land_in_their_places() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub.npy");
        let writer = NpyWriter::<f32>::create(&path, &[1000]).unwrap();
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let writer = &writer;
                scope.spawn(move || {
                    for frame in (thread..64).step_by(4) {
                        writer.write_items(frame, &[frame as f32; 1000]).unwrap();
                    }
                });
            }
        });
        writer.finish(64).unwrap();
        let array: ArrayD<f32> = read_npy(&path).unwrap();
        assert_eq!(array.shape(), &[64, 1000]);
        for frame in 0..64 {
            assert!(
                array
                    .index_axis(ndarray::Axis(0), frame)
                    .iter()
                    .all(|&v| v == frame as f32)
            );
        }
    }

    #[test]
    fn runs_of_f32_and_u8_items_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let sub_path = dir.path().join("sub.npy");
        let sub = NpyWriter::<f32>::create(&sub_path, &[2, 2]).unwrap();
        sub.write_items(0, &[0.5, -0.25, 1e9, 3.0]).unwrap();
        sub.finish(1).unwrap();
        let array: ArrayD<f32> = read_npy(&sub_path).unwrap();
        assert_eq!(array.shape(), &[1, 2, 2]);
        assert_eq!(array.as_slice().unwrap(), &[0.5, -0.25, 1e9, 3.0]);

        let px_path = dir.path().join("pixels.npy");
        let px = NpyWriter::<u8>::create(&px_path, &[1, 2, 3]).unwrap();
        px.write_items(0, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
            .unwrap();
        px.finish(2).unwrap();
        let array: ArrayD<u8> = read_npy(&px_path).unwrap();
        assert_eq!(array.shape(), &[2, 1, 2, 3]);
        assert_eq!(array[[1, 0, 1, 2]], 12);
    }

    #[test]
    fn empty_array_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.npy");
        NpyWriter::<i32>::create(&path, &[4])
            .unwrap()
            .finish(0)
            .unwrap();
        let array: ArrayD<i32> = read_npy(&path).unwrap();
        assert_eq!(array.shape(), &[0, 4]);
    }

    #[test]
    fn finish_cuts_items_past_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        let writer = NpyWriter::<u8>::create(&path, &[3]).unwrap();
        writer.write_items(0, &[1, 2, 3, 4, 5, 6]).unwrap();
        writer.finish(1).unwrap();
        let array: ArrayD<u8> = read_npy(&path).unwrap();
        assert_eq!(array.as_slice().unwrap(), &[1, 2, 3]);
    }

    #[test]
    fn partial_items_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let writer = NpyWriter::<u8>::create(dir.path().join("x.npy"), &[3]).unwrap();
        let err = writer.write_items(0, &[1, 2]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("x.npy"), "{err}");
    }
}
