//! The panic boundary and the checks every pointer argument goes through.

use std::any::Any;
use std::ffi::{CStr, c_char};
use std::panic::{self, AssertUnwindSafe};

use crate::last_error;
use crate::status::{CodecPrepStatus, Failure};

/// Runs the body of the C function `name`: a failure is recorded as the thread's last error
/// and returned as its status; a panic becomes `CodecPrepStatus::Panic`.
pub(crate) fn call(
    name: &'static str,
    body: impl FnOnce() -> Result<(), Failure>,
) -> CodecPrepStatus {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => CodecPrepStatus::Ok,
        Ok(Err(failure)) => {
            last_error::set(if failure.about_arguments {
                format!("{name}: {}", failure.message)
            } else {
                failure.message
            });
            failure.status
        }
        Err(payload) => {
            last_error::set(format!(
                "{name}: internal error (panic: {}); please report it",
                panic_message(payload.as_ref())
            ));
            CodecPrepStatus::Panic
        }
    }
}

/// Drops a handle created by `Box::into_raw`, never letting a panic escape.
///
/// # Safety
///
/// `ptr` is NULL or a pointer from `Box::into_raw` not freed before.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: the caller hands back a pointer it got from the library, once.
    let owned = unsafe { Box::from_raw(ptr) };
    // A panic while dropping leaks whatever the drop did not reach, and nothing else.
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(owned)));
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown payload")
}

fn null(what: &str) -> Failure {
    Failure::argument(CodecPrepStatus::NullArgument, format!("{what} is NULL"))
}

fn check_aligned<T>(ptr: *const T, what: &str) -> Result<(), Failure> {
    if ptr.is_aligned() {
        Ok(())
    } else {
        Err(Failure::invalid(format!(
            "{what} ({ptr:p}) is not aligned to {} bytes",
            align_of::<T>()
        )))
    }
}

/// A shared reference from a pointer argument.
///
/// # Safety
///
/// A non-NULL `ptr` points to a valid `T` that outlives `'a` and is not written meanwhile.
pub(crate) unsafe fn arg<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Failure> {
    if ptr.is_null() {
        return Err(null(what));
    }
    check_aligned(ptr, what)?;
    // SAFETY: non-NULL and aligned; validity is the caller's contract.
    Ok(unsafe { &*ptr })
}

/// An exclusive reference from a pointer argument (a handle the call works on).
///
/// # Safety
///
/// A non-NULL `ptr` points to a valid `T` that no one else uses during `'a`.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    if ptr.is_null() {
        return Err(null(what));
    }
    check_aligned(ptr, what)?;
    // SAFETY: non-NULL and aligned; exclusivity is the caller's contract (one thread per
    // handle at a time).
    Ok(unsafe { &mut *ptr })
}

/// A NUL-terminated string argument.
///
/// # Safety
///
/// A non-NULL `ptr` points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, what: &str) -> Result<&'a CStr, Failure> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: the caller's contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// A `(pointer, length)` array argument; NULL is accepted only for an empty array.
///
/// # Safety
///
/// A non-NULL `ptr` points to `len` valid `T` that outlive `'a`.
pub(crate) unsafe fn slice<'a, T>(
    ptr: *const T,
    len: usize,
    what: &str,
) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    check_aligned(ptr, what)?;
    // SAFETY: the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An out-pointer the call will write its result to. Checked and cleared (set to its
/// "nothing" value) before the call does anything else, so it holds that value after any
/// failure.
pub(crate) struct Out<T: Copy>(*mut T);

impl<T: Copy> Out<T> {
    /// # Safety
    ///
    /// A non-NULL `ptr` is valid for writes of `T`.
    pub unsafe fn new(ptr: *mut T, cleared: T, what: &str) -> Result<Self, Failure> {
        if ptr.is_null() {
            return Err(null(what));
        }
        check_aligned(ptr, what)?;
        // SAFETY: non-NULL, aligned, writable by the caller's contract.
        unsafe { ptr.write(cleared) };
        Ok(Self(ptr))
    }

    pub fn set(self, value: T) {
        // SAFETY: checked in `new`.
        unsafe { self.0.write(value) }
    }
}

/// The body of an accessor `name(handle, ..., out)`: checks both pointers (each given with
/// its parameter name), clears `*out` to `empty`, then stores what `pick` finds in the handle
/// (typically a pointer into it, valid as long as the handle).
///
/// # Safety
///
/// A non-NULL `handle.0` points to a live handle used by no other thread during the call; a
/// non-NULL `out.0` is valid for writes.
pub(crate) unsafe fn get<H, T: Copy>(
    name: &'static str,
    handle: (*const H, &str),
    out: (*mut T, &str),
    empty: T,
    pick: impl FnOnce(&H) -> Result<T, Failure>,
) -> CodecPrepStatus {
    call(name, || {
        // SAFETY (both): the caller's contract.
        let out = unsafe { Out::new(out.0, empty, out.1) }?;
        let handle = unsafe { arg(handle.0, handle.1) }?;
        out.set(pick(handle)?);
        Ok(())
    })
}

/// Copies `items` to a caller's array of `capacity` elements (`buf` may be NULL when
/// `capacity` is 0) and stores their count; fails with `BufferTooSmall` (copying nothing)
/// when they do not fit.
///
/// # Safety
///
/// A non-NULL `buf` is valid for `capacity` writes of `T`; `count` is valid for one write.
pub(crate) unsafe fn copy_to_caller<T: Copy>(
    items: &[T],
    buf: *mut T,
    capacity: usize,
    count: *mut usize,
    what: &str,
) -> Result<(), Failure> {
    // SAFETY: the caller's contract.
    let count = unsafe { Out::new(count, 0, "count") }?;
    count.set(items.len());
    if capacity < items.len() {
        return Err(Failure::argument(
            CodecPrepStatus::BufferTooSmall,
            format!(
                "{what}: {} elements, the buffer holds {capacity} (the count was stored)",
                items.len()
            ),
        ));
    }
    if items.is_empty() {
        return Ok(());
    }
    if buf.is_null() {
        return Err(null(what));
    }
    check_aligned(buf, what)?;
    // SAFETY: `items.len() <= capacity` elements fit the caller's buffer.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), buf, items.len()) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_a_status_and_a_message() {
        let status = call("codecprep_test", || panic!("boom"));
        assert_eq!(status, CodecPrepStatus::Panic);
        let mut buf = [0u8; 128];
        // SAFETY: a buffer of its own size.
        let n = unsafe { crate::codecprep_last_error(buf.as_mut_ptr().cast(), buf.len()) };
        let message = std::str::from_utf8(&buf[..n - 1]).unwrap();
        assert!(
            message.starts_with("codecprep_test: internal error (panic: boom)"),
            "{message}"
        );
    }

    #[test]
    fn argument_errors_name_the_function_file_errors_do_not() {
        let status = call("codecprep_test", || {
            Err(Failure::other(CodecPrepStatus::Io, "/x.mp4: cannot read"))
        });
        assert_eq!(status, CodecPrepStatus::Io);
        let mut buf = [0u8; 64];
        // SAFETY: a buffer of its own size.
        unsafe { crate::codecprep_last_error(buf.as_mut_ptr().cast(), buf.len()) };
        assert!(buf.starts_with(b"/x.mp4: cannot read\0"));
        // SAFETY: NULL is refused before anything is read.
        let refused = unsafe { arg::<u64>(std::ptr::null(), "thing") }.unwrap_err();
        assert_eq!(refused.status, CodecPrepStatus::NullArgument);
        assert!(refused.about_arguments && refused.message == "thing is NULL");
    }
}
