//! The calling thread's last error message, like `errno` with text: set by every failing
//! call, left alone by successful ones.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{self, AssertUnwindSafe};

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `message` as this thread's last error (NUL bytes become spaces, so the C copy is
/// never cut short).
pub(crate) fn set(message: String) {
    let message = if message.contains('\0') {
        message.replace('\0', " ")
    } else {
        message
    };
    LAST_ERROR.with(|slot| *slot.borrow_mut() = message);
}

/// Copies the message of the last failed call on the calling thread into `buf`.
///
/// Returns the size the whole message needs including its terminating NUL, or 0 when no call
/// on this thread has failed yet. Writes at most `size` bytes, always NUL-terminated when
/// `size > 0`; a message that does not fit is cut at a UTF-8 character boundary. Call with
/// `buf = NULL, size = 0` to learn the size. The message stays until the next failure on the
/// same thread; successful calls keep it.
///
/// # Safety
///
/// `buf` must be NULL or point to `size` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_last_error(buf: *mut c_char, size: usize) -> usize {
    let copy = || {
        LAST_ERROR.with(|slot| {
            let message = slot.borrow();
            if message.is_empty() {
                if !buf.is_null() && size > 0 {
                    // SAFETY: the caller provides `size >= 1` writable bytes at `buf`.
                    unsafe { *buf = 0 };
                }
                return 0;
            }
            if !buf.is_null() && size > 0 {
                let mut n = message.len().min(size - 1);
                while !message.is_char_boundary(n) {
                    n -= 1;
                }
                // SAFETY: `n + 1 <= size` bytes are written to the caller's buffer, which
                // cannot overlap the library's own string.
                unsafe {
                    std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            message.len() + 1
        })
    };
    panic::catch_unwind(AssertUnwindSafe(copy)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(size: usize) -> (usize, Vec<u8>) {
        let mut buf = vec![0x55u8; size];
        let ptr = if size == 0 {
            std::ptr::null_mut()
        } else {
            buf.as_mut_ptr().cast()
        };
        let needed = unsafe { codecprep_last_error(ptr, size) };
        (needed, buf)
    }

    #[test]
    fn copies_truncates_at_char_boundaries_and_reports_the_size() {
        std::thread::spawn(|| {
            assert_eq!(read(0).0, 0);
            set("café\0 ok".to_owned());
            let (needed, _) = read(0);
            assert_eq!(needed, "café  ok".len() + 1);
            let (_, buf) = read(needed);
            assert_eq!(&buf[..needed], b"caf\xc3\xa9  ok\0");
            // Room for "caf" and half of "é": cut before the "é".
            let (_, buf) = read(5);
            assert_eq!(&buf[..4], b"caf\0");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn each_thread_has_its_own_message() {
        set("main".to_owned());
        std::thread::spawn(|| assert_eq!(read(0).0, 0))
            .join()
            .unwrap();
        assert_eq!(read(0).0, 5);
    }
}
