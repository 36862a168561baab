//! The library's version.

use std::ffi::{CStr, c_char};

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the crate version contains a NUL byte"),
    };

/// The version of the loaded library, "MAJOR.MINOR.PATCH"; compare with
/// `CODECPREP_VERSION_STRING`, the version of the header a program was built with. Static
/// string, never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn codecprep_version() -> *const c_char {
    // Cannot panic; the boundary is kept anyway, as at every entry point.
    std::panic::catch_unwind(|| VERSION.as_ptr()).unwrap_or(c"".as_ptr())
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_the_crate_version() {
        let v = unsafe { std::ffi::CStr::from_ptr(super::codecprep_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
