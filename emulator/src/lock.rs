//! The one poisoned-lock policy of the emulator.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, the one poisoned-lock policy of the emulator: no code panics while holding a
/// lock mid-update, so the data behind a poisoned one is still consistent and is used as is.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
