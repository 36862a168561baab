//! Structs the caller fills and passes in start with `struct_size`, so that later versions of
//! the library can append fields without breaking programs built against this header.

use crate::status::Failure;

/// Sizes above this are not a struct's size but an uninitialised field.
const MAX_EXTRA_BYTES: usize = 4096;

/// A C struct the caller passes in: `#[repr(C)]`, `struct_size: usize` first, and only
/// fields for which every bit pattern is valid (integers, floats, raw pointers).
///
/// # Safety
///
/// Implementors guarantee the layout described above.
pub(crate) unsafe trait SizedStruct: Copy {
    const NAME: &'static str;
}

/// Reads the caller's struct at `ptr` (checked non-NULL and aligned by the caller).
///
/// `struct_size` must be at least this version's `sizeof`; a larger one (a program built
/// against a later header) is accepted when the bytes this version does not know are all
/// zero, i.e. the caller left the newer fields at their defaults.
///
/// # Safety
///
/// `ptr` points to at least `struct_size` readable bytes, `struct_size` being its first field.
pub(crate) unsafe fn read<T: SizedStruct>(ptr: *const T) -> Result<T, Failure> {
    let known = size_of::<T>();
    // SAFETY: the struct starts with its size field.
    let size = unsafe { ptr.cast::<usize>().read() };
    if size < known || size > known + MAX_EXTRA_BYTES {
        return Err(Failure::invalid(format!(
            "{}.struct_size is {size}, this library needs sizeof({}) = {known} (set it with \
             the library's _default function or to sizeof)",
            T::NAME,
            T::NAME
        )));
    }
    if size > known {
        // SAFETY: the caller's struct is `size` bytes long.
        let extra =
            unsafe { std::slice::from_raw_parts(ptr.cast::<u8>().add(known), size - known) };
        if let Some(offset) = extra.iter().position(|&b| b != 0) {
            return Err(Failure::invalid(format!(
                "{} has fields this library version does not know (non-zero byte at offset \
                 {}); leave newer fields at zero or use a newer libcodecprep",
                T::NAME,
                known + offset
            )));
        }
    }
    // SAFETY: `known` bytes are readable and every bit pattern is a valid `T`.
    Ok(unsafe { ptr.read() })
}
