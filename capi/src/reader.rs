//! Opening a video: `codecprep_reader_open`, its options, the probe facts and `_free`.

use std::ffi::{CString, OsStr, c_char};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use codecprep_core::{Measure, ProbeInfo, Reader, ReaderOptions, ThreadType, probe};

use crate::boundary::{Out, arg, arg_mut, c_str, call, copy_to_caller, free_handle};
use crate::map::{CodecPrepCodec, CodecPrepMeasure};
use crate::sized::{self, SizedStruct};
use crate::status::{CodecPrepStatus, Failure};

/// Decoder threading.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecPrepThreadType {
    /// Slices of one picture in parallel (the default).
    Slice = 0,
    /// Several pictures in parallel.
    Frame = 1,
}

/// How a reader decodes. Fill with `codecprep_reader_options_default`, then change fields.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CodecPrepReaderOptions {
    /// `sizeof(CodecPrepReaderOptions)`.
    pub struct_size: usize,
    /// Decoder threads; 0 lets FFmpeg choose from the CPU count. Default 1.
    pub threads: u32,
    /// A `CodecPrepThreadType` value. Default `CODECPREP_THREAD_TYPE_SLICE`.
    pub thread_type: u32,
    /// A `CodecPrepMeasure` value. Default `CODECPREP_MEASURE_REFERENCE`.
    pub measure: u32,
    /// Non-zero runs the in-loop (deblocking) filters; maps do not depend on it. Default 0.
    pub deblock: u32,
}

// SAFETY: repr(C), `struct_size` first, integers only.
unsafe impl SizedStruct for CodecPrepReaderOptions {
    const NAME: &'static str = "CodecPrepReaderOptions";
}

impl CodecPrepReaderOptions {
    fn defaults() -> Self {
        let d = ReaderOptions::default();
        Self {
            struct_size: size_of::<Self>(),
            threads: u32::try_from(d.threads).unwrap_or(u32::MAX),
            thread_type: match d.thread_type {
                ThreadType::Slice => CodecPrepThreadType::Slice,
                ThreadType::Frame => CodecPrepThreadType::Frame,
            } as u32,
            measure: CodecPrepMeasure::from(d.measure) as u32,
            deblock: u32::from(d.deblock),
        }
    }

    fn to_core(self) -> Result<ReaderOptions, Failure> {
        let thread_type = match self.thread_type {
            0 => ThreadType::Slice,
            1 => ThreadType::Frame,
            other => {
                return Err(Failure::invalid(format!(
                    "options.thread_type {other} is not a CodecPrepThreadType"
                )));
            }
        };
        let measure = match self.measure {
            0 => Measure::Reference,
            1 => Measure::Exact,
            other => {
                return Err(Failure::invalid(format!(
                    "options.measure {other} is not a CodecPrepMeasure"
                )));
            }
        };
        Ok(ReaderOptions {
            threads: self.threads as usize,
            thread_type,
            measure,
            deblock: self.deblock != 0,
        })
    }
}

/// Fills `options` with the defaults, `struct_size` included.
///
/// Returns `CODECPREP_STATUS_NULL_ARGUMENT` when `options` is NULL.
///
/// # Safety
///
/// `options` is NULL or points to a writable `CodecPrepReaderOptions`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_options_default(
    options: *mut CodecPrepReaderOptions,
) -> CodecPrepStatus {
    call("codecprep_reader_options_default", || {
        let defaults = CodecPrepReaderOptions::defaults();
        // SAFETY: the caller's contract.
        unsafe { Out::new(options, defaults, "options") }?.set(defaults);
        Ok(())
    })
}

/// What a video holds, as far as demuxing tells. Owned by the reader it came from.
#[repr(C)]
#[derive(Debug)]
pub struct CodecPrepVideoInfo {
    /// `sizeof(CodecPrepVideoInfo)` of the library that filled it (later versions append
    /// fields).
    pub struct_size: usize,
    /// A `CodecPrepCodec` value.
    pub codec: u32,
    /// Display size (after cropping).
    pub width: u32,
    pub height: u32,
    /// FFmpeg's codec name ("h264", "hevc", "vp9"); owned by the reader.
    pub codec_name: *const c_char,
    /// Average frame rate, else the base frame rate, else 0.
    pub fps: f64,
    /// Seconds; NaN when unknown.
    pub duration: f64,
    /// First timestamp of the stream in seconds; NaN when unknown.
    pub start_time: f64,
    /// Bits per second; 0 when unknown.
    pub bit_rate: u64,
    /// Number of frames (video packets; each shows one frame).
    pub frame_count: i64,
    /// Number of keyframes (see `codecprep_reader_keyframes`).
    pub keyframe_count: i64,
}

/// Probe facts kept by the reader once asked for.
struct Probed {
    info: ProbeInfo,
    view: CodecPrepVideoInfo,
    _codec_name: CString,
    keyframes: Vec<i64>,
}

/// An open video. Create with `codecprep_reader_open`, free with `codecprep_reader_free`.
pub struct CodecPrepReader {
    pub(crate) reader: Reader,
    probed: Option<Probed>,
}

impl CodecPrepReader {
    /// The probe facts, read from the file on first use.
    pub(crate) fn probed(&mut self) -> Result<&ProbeInfo, Failure> {
        Ok(&self.probe_cache()?.info)
    }

    /// The reader, and the probe facts beside it (for calls that decode with the index).
    pub(crate) fn reader_and_probe(&mut self) -> Result<(&mut Reader, &ProbeInfo), Failure> {
        let info = &fill_probe(&mut self.probed, &self.reader)?.info;
        Ok((&mut self.reader, info))
    }

    fn probe_cache(&mut self) -> Result<&Probed, Failure> {
        fill_probe(&mut self.probed, &self.reader)
    }
}

/// `probed`, read from `reader`'s file when still empty.
fn fill_probe<'a>(probed: &'a mut Option<Probed>, reader: &Reader) -> Result<&'a Probed, Failure> {
    if probed.is_none() {
        let info = probe(reader.path())?;
        let codec_name = CString::new(info.codec.clone()).unwrap_or_default();
        let keyframes: Vec<i64> = info.keyframes.iter().map(|&k| k as i64).collect();
        let view = CodecPrepVideoInfo {
            struct_size: size_of::<CodecPrepVideoInfo>(),
            codec: CodecPrepCodec::from_name(&info.codec) as u32,
            width: info.width,
            height: info.height,
            codec_name: codec_name.as_ptr(),
            fps: info.fps,
            duration: info.duration.unwrap_or(f64::NAN),
            start_time: info.start_time.unwrap_or(f64::NAN),
            bit_rate: info.bit_rate.unwrap_or(0),
            frame_count: info.frame_count as i64,
            keyframe_count: keyframes.len() as i64,
        };
        *probed = Some(Probed {
            info,
            view,
            _codec_name: codec_name,
            keyframes,
        });
    }
    Ok(probed.as_ref().expect("filled above"))
}

/// Opens the video at `path` (a NUL-terminated file name, any bytes but NUL) for reading maps
/// and frames, with `options` (NULL: the defaults). On success `*out` receives a new reader
/// the caller owns and frees with `codecprep_reader_free`; on failure `*out` is NULL and the
/// status says why: `NOT_FOUND`, `NOT_MEDIA`, `NO_VIDEO`, `UNSUPPORTED_CODEC`,
/// `NOT_PATCHED`, ... with a last-error message naming the file.
///
/// The file is opened and its decoder set up here, so a bad file fails now, not later.
///
/// # Safety
///
/// `path` is NULL or a NUL-terminated string; `options` is NULL or points to a
/// `CodecPrepReaderOptions` of `options->struct_size` bytes; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_open(
    path: *const c_char,
    options: *const CodecPrepReaderOptions,
    out: *mut *mut CodecPrepReader,
) -> CodecPrepStatus {
    call("codecprep_reader_open", || {
        // SAFETY (all three): the caller's contract.
        let out = unsafe { Out::new(out, std::ptr::null_mut(), "out") }?;
        let path = unsafe { c_str(path, "path") }?;
        let options = if options.is_null() {
            CodecPrepReaderOptions::defaults()
        } else {
            unsafe { sized::read(arg(options, "options")?) }?
        };
        let path = Path::new(OsStr::from_bytes(path.to_bytes()));
        let reader = Reader::open(path, options.to_core()?)?;
        out.set(Box::into_raw(Box::new(CodecPrepReader {
            reader,
            probed: None,
        })));
        Ok(())
    })
}

/// Sets `*info` to the video's probe facts. The first call reads the file's packets (no
/// decoding); the struct and its strings are owned by the reader and stay valid and
/// unchanged until `codecprep_reader_free`.
///
/// # Safety
///
/// `reader` is NULL or a live reader not used by another thread during the call; `info` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_info(
    reader: *mut CodecPrepReader,
    info: *mut *const CodecPrepVideoInfo,
) -> CodecPrepStatus {
    call("codecprep_reader_info", || {
        // SAFETY: the caller's contract.
        let info = unsafe { Out::new(info, std::ptr::null(), "info") }?;
        let reader = unsafe { arg_mut(reader, "reader") }?;
        info.set(&reader.probe_cache()?.view);
        Ok(())
    })
}

/// Copies the display-order indices of the keyframes into `buf` (room for `capacity`
/// indices) and stores their number in `*count`. When they do not fit, nothing is copied,
/// `*count` still receives the number and the status is `BUFFER_TOO_SMALL`: call with
/// `buf = NULL, capacity = 0` to learn the size. The caller owns `buf`.
///
/// # Safety
///
/// `reader` is NULL or a live reader used by no other thread during the call; `buf` is NULL
/// or has room for `capacity` values; `count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_keyframes(
    reader: *mut CodecPrepReader,
    buf: *mut i64,
    capacity: usize,
    count: *mut usize,
) -> CodecPrepStatus {
    call("codecprep_reader_keyframes", || {
        // SAFETY: the caller's contract.
        let reader = unsafe { arg_mut(reader, "reader") }?;
        let keyframes = &reader.probe_cache()?.keyframes;
        unsafe { copy_to_caller(keyframes, buf, capacity, count, "keyframes") }
    })
}

/// Frees a reader and everything it owns (its info struct). NULL is accepted and ignored.
/// Views and frames obtained through the reader stay valid: they own their data.
///
/// # Safety
///
/// `reader` is NULL or a reader from `codecprep_reader_open` not freed before and not in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_free(reader: *mut CodecPrepReader) {
    // SAFETY: the caller's contract.
    unsafe { free_handle(reader) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_round_trip_to_the_core_defaults() {
        let d = CodecPrepReaderOptions::defaults();
        assert_eq!(d.to_core().unwrap(), ReaderOptions::default());
        let bad = CodecPrepReaderOptions { measure: 7, ..d };
        assert_eq!(
            bad.to_core().unwrap_err().status,
            CodecPrepStatus::InvalidArgument
        );
    }

    #[test]
    fn short_or_dirty_structs_are_refused() {
        #[repr(C)]
        struct Longer {
            options: CodecPrepReaderOptions,
            newer: u64,
        }
        let mut longer = Longer {
            options: CodecPrepReaderOptions {
                struct_size: size_of::<Longer>(),
                ..CodecPrepReaderOptions::defaults()
            },
            newer: 0,
        };
        let ptr = &longer as *const Longer as *const CodecPrepReaderOptions;
        assert!(unsafe { sized::read(ptr) }.is_ok());
        longer.newer = 1;
        let ptr = &longer as *const Longer as *const CodecPrepReaderOptions;
        assert!(unsafe { sized::read(ptr) }.is_err());
        let short = CodecPrepReaderOptions {
            struct_size: 8,
            ..CodecPrepReaderOptions::defaults()
        };
        assert!(unsafe { sized::read(&short) }.is_err());
    }
}
