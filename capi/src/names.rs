//! NUL-terminated copies of the core's static names (option values, stages, grid kinds), made
//! once and kept for the life of the library, so the C side can hold them without freeing.

use std::ffi::{CString, c_char};
use std::sync::Mutex;

/// A few dozen names, so a list does. (A hash table keeps pointers into the middle of its
/// allocation, which leak checkers report as "possibly lost" at exit.)
static INTERNED: Mutex<Vec<(&str, CString)>> = Mutex::new(Vec::new());

/// The C string for a static name; the pointer stays valid while the library is loaded.
pub(crate) fn c_name(name: &'static str) -> *const c_char {
    let mut table = INTERNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, interned)) = table.iter().find(|(known, _)| *known == name) {
        return interned.as_ptr();
    }
    let interned = CString::new(name).unwrap_or_default();
    let ptr = interned.as_ptr();
    table.push((name, interned));
    ptr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_name_gives_the_same_pointer() {
        let a = c_name("slice");
        assert_eq!(a, c_name("slice"));
        assert_eq!(unsafe { std::ffi::CStr::from_ptr(a) }, c"slice");
    }
}
