//! Arrays of numbers to and from their little-endian bytes, the layout of the bit-cost map
//! blob and of `.npy` files. On little-endian machines both directions are plain copies (or
//! no copy at all) instead of a loop over 4-byte chunks: maps are hundreds of kilobytes per
//! frame and pass through here twice.

use std::borrow::Cow;

use bytemuck::Pod;

/// Numbers stored little-endian.
pub trait LeScalar: Pod {
    /// The value read from (or to be written as) little-endian bytes on this machine:
    /// unchanged on little-endian machines, byte-swapped on big-endian ones.
    fn swap_on_big_endian(self) -> Self;
}

macro_rules! le_scalar {
    ($($t:ty => $bits:ty),*) => {$(
        impl LeScalar for $t {
            fn swap_on_big_endian(self) -> Self {
                bytemuck::cast(<$bits>::from_le(bytemuck::cast::<$t, $bits>(self)))
            }
        }
    )*};
}

le_scalar!(u8 => u8, i32 => i32, f32 => u32);

/// The values whose little-endian bytes are `bytes`, whose length must be a multiple of the
/// value size (any alignment).
pub fn from_le_bytes<T: LeScalar>(bytes: &[u8]) -> Vec<T> {
    debug_assert_eq!(bytes.len() % size_of::<T>(), 0);
    let mut values: Vec<T> = bytemuck::pod_collect_to_vec(bytes);
    if cfg!(target_endian = "big") {
        values.iter_mut().for_each(|v| *v = v.swap_on_big_endian());
    }
    values
}

/// The little-endian bytes of `values`, borrowed on little-endian machines.
pub fn to_le_bytes<T: LeScalar>(values: &[T]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        Cow::Borrowed(bytemuck::cast_slice(values))
    } else {
        let swapped: Vec<T> = values.iter().map(|v| v.swap_on_big_endian()).collect();
        Cow::Owned(bytemuck::cast_slice(&swapped).to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_little_endian_both_ways() {
        let values = [1.5f32, -0.0, f32::MAX, 1e-30];
        let expected: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(to_le_bytes(&values).as_ref(), expected.as_slice());
        assert_eq!(from_le_bytes::<f32>(&expected), values);
        let ints = [-2i32, 0x0102_0304];
        let bytes = to_le_bytes(&ints).into_owned();
        assert_eq!(bytes, [0xFE, 0xFF, 0xFF, 0xFF, 4, 3, 2, 1]);
        assert_eq!(from_le_bytes::<i32>(&bytes), ints);
    }

    #[test]
    fn unaligned_input_reads_the_same() {
        let mut buffer = vec![0u8];
        buffer.extend((1..=3i32).flat_map(|v| v.to_le_bytes()));
        assert_eq!(from_le_bytes::<i32>(&buffer[1..]), [1, 2, 3]);
    }
}
