//! `codecprep_preinfer_run`: the whole preinfer job, with progress and cancellation through a
//! callback that always runs on the calling thread.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use codecprep_core::preinfer::{PreinferConfig, PreinferResult, Progress, run_preinfer};

use super::config::CodecPrepPreinferConfig;
use super::result::CodecPrepPreinferResult;
use crate::boundary::{Out, arg, call};
use crate::names::c_name;
use crate::sized;
use crate::status::{CodecPrepStatus, Failure};

/// Progress of a preinfer run: `done` of `total` units of `stage` ("probe", "sample",
/// "decode", "score", "group", "canvas", "write"; a static string). Return 0 to go on,
/// non-zero to cancel: the run stops at its next check (between stages and between groups),
/// removes its partial outputs and returns `CODECPREP_STATUS_CANCELLED`. The last report
/// ("write", 1, 1) comes when the outputs are in place: cancelling there has no effect. Always
/// called on the thread that called `codecprep_preinfer_run`, one call at a time.
pub type CodecPrepProgressCallback = Option<
    unsafe extern "C" fn(
        stage: *const c_char,
        done: usize,
        total: usize,
        user_data: *mut c_void,
    ) -> c_int,
>;

/// A progress report on its way to the calling thread, with where to send the answer
/// (`true`: cancel).
type Report = (Progress, mpsc::SyncSender<bool>);

/// Runs the job on a worker thread while the calling thread answers its progress reports
/// with `callback`; each report waits for its answer, so a cancellation takes effect at the
/// very next check.
fn run_with_callback(
    config: &PreinferConfig,
    callback: impl Fn(Progress) -> bool,
) -> Result<PreinferResult, Failure> {
    let cancel = AtomicBool::new(false);
    let (reports, received) = mpsc::channel::<Report>();
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let report = move |progress: Progress| {
                let (answer, answered) = mpsc::sync_channel(1);
                // If the calling thread is gone the run is being torn down anyway.
                if reports.send((progress, answer)).is_ok() {
                    let _ = answered.recv();
                }
            };
            run_preinfer(config, Some(&report), Some(&cancel))
        });
        // Ends when the worker drops its sender, i.e. when the run is over.
        for (progress, answer) in received {
            if callback(progress) {
                cancel.store(true, Ordering::Relaxed);
            }
            let _ = answer.send(true);
        }
        match worker.join() {
            Ok(result) => result.map_err(Failure::from),
            Err(payload) => std::panic::resume_unwind(payload),
        }
    })
}

/// Runs the preinfer job described by `config` (sample frames, score their bit cost, group
/// them, pack the best blocks into canvases, write canvases, `frame_ids.npy`,
/// `src_patch_position.npy` and `meta.json` into `config->out_dir`), exactly like the
/// `codec-video-prep` command with the same settings.
///
/// `progress` may be NULL; otherwise it is called with `user_data` as described at
/// `CodecPrepProgressCallback`, and returning non-zero cancels (`CODECPREP_STATUS_CANCELLED`).
/// On success `*out` receives a new result the caller owns and frees with
/// `codecprep_preinfer_result_free`; on failure it is NULL, no outputs are left behind, and the
/// status and last error say why (`INVALID_ARGUMENT` for a bad setting, naming it; file
/// errors name the file).
///
/// The job uses several threads internally; different runs may go on in different threads.
///
/// # Safety
///
/// `config` is NULL or points to a `CodecPrepPreinferConfig` of `config->struct_size` bytes
/// whose strings are NULL or NUL-terminated; `progress` is NULL or a function of the
/// documented type; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_preinfer_run(
    config: *const CodecPrepPreinferConfig,
    progress: CodecPrepProgressCallback,
    user_data: *mut c_void,
    out: *mut *mut CodecPrepPreinferResult,
) -> CodecPrepStatus {
    call("codecprep_preinfer_run", || {
        // SAFETY (all): the caller's contract.
        let out = unsafe { Out::new(out, std::ptr::null_mut(), "out") }?;
        let config = unsafe { sized::read(arg(config, "config")?) }?;
        let config = unsafe { config.to_core() }?;
        let result = match progress {
            None => run_preinfer(&config, None, None).map_err(Failure::from),
            Some(callback) => run_with_callback(&config, |p: Progress| {
                // SAFETY: the caller's callback with its own user data.
                unsafe { callback(c_name(p.stage.name()), p.done, p.total, user_data) != 0 }
            }),
        };
        let result = result.map_err(|failure| match failure.status {
            // The core's message is a bare "cancelled": say which run.
            CodecPrepStatus::Cancelled => Failure::other(
                CodecPrepStatus::Cancelled,
                format!(
                    "{}: preinfer run cancelled by the progress callback",
                    config.video.display()
                ),
            ),
            _ => failure,
        })?;
        out.set(Box::into_raw(Box::new(CodecPrepPreinferResult::new(
            result,
        )?)));
        Ok(())
    })
}
