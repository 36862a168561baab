//! Streaming writer for `.npy` (format version 1.0) arrays whose first dimension grows.
//!
//! ndarray-npy writes whole arrays; a scan must not hold the whole video in memory, so this
//! writer reserves room for the largest possible header, appends items as they come and
//! rewrites the header with the final count in `finish`.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"\x93NUMPY";
/// Magic, two version bytes and the u16 header length.
const PREAMBLE_LEN: usize = MAGIC.len() + 2 + 2;
/// numpy aligns the data start to 64 bytes so readers can map it directly.
const ALIGNMENT: usize = 64;

/// Element types the writer supports, with their numpy type descriptor.
pub trait NpyElement: Copy {
    const DESCR: &'static str;
    /// Appends the little-endian bytes of `items` to `out`.
    fn extend_le_bytes(items: &[Self], out: &mut Vec<u8>);
}

impl NpyElement for u8 {
    const DESCR: &'static str = "|u1";
    fn extend_le_bytes(items: &[Self], out: &mut Vec<u8>) {
        out.extend_from_slice(items);
    }
}

impl NpyElement for i32 {
    const DESCR: &'static str = "<i4";
    fn extend_le_bytes(items: &[Self], out: &mut Vec<u8>) {
        out.extend(items.iter().flat_map(|v| v.to_le_bytes()));
    }
}

impl NpyElement for f32 {
    const DESCR: &'static str = "<f4";
    fn extend_le_bytes(items: &[Self], out: &mut Vec<u8>) {
        out.extend(items.iter().flat_map(|v| v.to_le_bytes()));
    }
}

/// Writes an array of shape `(count, item_shape...)`, one item at a time.
pub struct NpyStreamWriter<T: NpyElement> {
    file: BufWriter<File>,
    path: PathBuf,
    item_shape: Vec<usize>,
    item_len: usize,
    count: usize,
    /// Length of the reserved preamble + header; the final header is padded to the same size.
    header_total: usize,
    scratch: Vec<u8>,
    element: PhantomData<T>,
}

impl<T: NpyElement> NpyStreamWriter<T> {
    /// Creates (truncates) `path` and reserves the header.
    pub fn create(path: impl AsRef<Path>, item_shape: &[usize]) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        // The widest count a header may have to hold: room for it is reserved now so the data
        // never has to move when the real count is written.
        let header = header_bytes(T::DESCR, usize::MAX, item_shape, 0);
        let header_total = header.len();
        let mut file = BufWriter::new(File::create(&path)?);
        file.write_all(&header)?;
        Ok(Self {
            file,
            path,
            item_shape: item_shape.to_vec(),
            item_len: item_shape.iter().product(),
            count: 0,
            header_total,
            scratch: Vec::new(),
            element: PhantomData,
        })
    }

    /// Appends one item, which must hold exactly `product(item_shape)` values (row-major).
    pub fn append(&mut self, item: &[T]) -> io::Result<()> {
        if item.len() != self.item_len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: item of {} values does not match the item shape {:?}",
                    self.path.display(),
                    item.len(),
                    self.item_shape
                ),
            ));
        }
        self.scratch.clear();
        T::extend_le_bytes(item, &mut self.scratch);
        self.file.write_all(&self.scratch)?;
        self.count += 1;
        Ok(())
    }

    /// Number of items appended so far.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Writes the final shape into the header and flushes the file to disk.
    pub fn finish(self) -> io::Result<()> {
        let header = header_bytes(T::DESCR, self.count, &self.item_shape, self.header_total);
        let mut file = self
            .file
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header)?;
        file.sync_all()
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
    fn streamed_i32_array_reads_back_with_ndarray_npy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cells.npy");
        let mut writer = NpyStreamWriter::<i32>::create(&path, &[2, 3]).unwrap();
        for frame in 0..4 {
            let item: Vec<i32> = (0..6).map(|i| frame * 100 + i - 3).collect();
            writer.append(&item).unwrap();
        }
        assert_eq!(writer.len(), 4);
        writer.finish().unwrap();
        let array: Array3<i32> = read_npy(&path).unwrap();
        assert_eq!(array.shape(), &[4, 2, 3]);
        assert_eq!(array[[3, 1, 2]], 302);
        assert_eq!(array[[0, 0, 0]], -3);
    }

    #[test]
    fn streamed_f32_and_u8_arrays_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let sub_path = dir.path().join("sub.npy");
        let mut sub = NpyStreamWriter::<f32>::create(&sub_path, &[2, 2]).unwrap();
        sub.append(&[0.5, -0.25, 1e9, 3.0]).unwrap();
        sub.finish().unwrap();
        let array: ArrayD<f32> = read_npy(&sub_path).unwrap();
        assert_eq!(array.shape(), &[1, 2, 2]);
        assert_eq!(array.as_slice().unwrap(), &[0.5, -0.25, 1e9, 3.0]);

        let px_path = dir.path().join("pixels.npy");
        let mut px = NpyStreamWriter::<u8>::create(&px_path, &[1, 2, 3]).unwrap();
        px.append(&[1, 2, 3, 4, 5, 6]).unwrap();
        px.append(&[7, 8, 9, 10, 11, 12]).unwrap();
        px.finish().unwrap();
        let array: ArrayD<u8> = read_npy(&px_path).unwrap();
        assert_eq!(array.shape(), &[2, 1, 2, 3]);
        assert_eq!(array[[1, 0, 1, 2]], 12);
    }

    #[test]
    fn empty_array_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.npy");
        NpyStreamWriter::<i32>::create(&path, &[4])
            .unwrap()
            .finish()
            .unwrap();
        let array: ArrayD<i32> = read_npy(&path).unwrap();
        assert_eq!(array.shape(), &[0, 4]);
    }

    #[test]
    fn wrong_item_length_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = NpyStreamWriter::<u8>::create(dir.path().join("x.npy"), &[3]).unwrap();
        let err = writer.append(&[1, 2]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
