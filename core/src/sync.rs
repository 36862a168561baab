//! Mutexes whose data stays valid when a holder panics: the panic is reported where it
//! happened (a worker's join, a failed scan), so the data is taken as it is instead of
//! poisoning every later use.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The data of `mutex`, ignoring poisoning.
pub fn into_inner<T>(mutex: Mutex<T>) -> T {
    mutex.into_inner().unwrap_or_else(|e| e.into_inner())
}
