//! Selected frames: maps and optional pixels, into library-owned `CodecPrepFrames` or the
//! caller's own pixel buffer.

use codecprep_core::{FrameRecord, PixelFormat, PixelRequest};

use crate::boundary::{Out, arg_mut, call, free_handle, get, slice};
use crate::map::{CodecPrepMapView, map_of};
use crate::reader::CodecPrepReader;
use crate::status::{CodecPrepStatus, Failure};

/// Flag of `codecprep_reader_read_frames*`: return pixels as packed 8-bit BGR (OpenCV's
/// order).
pub const CODECPREP_WANT_PIXELS_BGR: u32 = 1;
/// Flag of `codecprep_reader_read_frames*`: return pixels as packed 8-bit RGB.
pub const CODECPREP_WANT_PIXELS_RGB: u32 = 2;

/// Largest accepted output side (larger requests are mistakes that would allocate gigabytes).
const MAX_OUTPUT_SIDE: u32 = 16384;

/// A frame's pixels, borrowed from the `CodecPrepFrames` they belong to.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CodecPrepPixels {
    /// `sizeof(CodecPrepPixels)` of the library that filled it.
    pub struct_size: usize,
    /// `height` rows of `width * 3` bytes, `stride` bytes apart.
    pub data: *const u8,
    pub width: u32,
    pub height: u32,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// `CODECPREP_WANT_PIXELS_BGR` or `CODECPREP_WANT_PIXELS_RGB`.
    pub format: u32,
}

struct Entry {
    record: FrameRecord,
    view: CodecPrepMapView,
    pixels: Option<CodecPrepPixels>,
}

/// Frames read by `codecprep_reader_read_frames` (or the maps of
/// `codecprep_reader_read_frames_into`), in the order asked. Free with
/// `codecprep_frames_free`.
pub struct CodecPrepFrames {
    entries: Vec<Entry>,
}

impl CodecPrepFrames {
    fn new(records: Vec<FrameRecord>) -> Result<Self, Failure> {
        let mut entries = Vec::with_capacity(records.len());
        for record in records {
            // Views point into the record's heap arrays, which never move.
            let view = CodecPrepMapView::of(&record, map_of(&record)?);
            let pixels = record.pixels.as_ref().map(|p| CodecPrepPixels {
                struct_size: size_of::<CodecPrepPixels>(),
                data: p.data().as_ptr(),
                width: p.width(),
                height: p.height(),
                stride: p.width() as usize * 3,
                format: match p.format() {
                    PixelFormat::Bgr => CODECPREP_WANT_PIXELS_BGR,
                    PixelFormat::Rgb => CODECPREP_WANT_PIXELS_RGB,
                },
            });
            entries.push(Entry {
                record,
                view,
                pixels,
            });
        }
        Ok(Self { entries })
    }

    fn entry(&self, index: usize) -> Result<&Entry, Failure> {
        self.entries.get(index).ok_or_else(|| {
            Failure::argument(
                CodecPrepStatus::OutOfRange,
                format!("index {index} is past the {} frames", self.entries.len()),
            )
        })
    }
}

/// The pixel format `flags` ask for; `None` for no pixels.
fn pixel_format(flags: u32) -> Result<Option<PixelFormat>, Failure> {
    match flags {
        0 => Ok(None),
        CODECPREP_WANT_PIXELS_BGR => Ok(Some(PixelFormat::Bgr)),
        CODECPREP_WANT_PIXELS_RGB => Ok(Some(PixelFormat::Rgb)),
        _ => Err(Failure::invalid(format!(
            "flags 0x{flags:x}: give at most one of CODECPREP_WANT_PIXELS_BGR and \
             CODECPREP_WANT_PIXELS_RGB, no other bits"
        ))),
    }
}

fn check_side(name: &str, value: u32) -> Result<(), Failure> {
    if value > MAX_OUTPUT_SIDE {
        return Err(Failure::invalid(format!(
            "{name} {value} is above {MAX_OUTPUT_SIDE}"
        )));
    }
    Ok(())
}

/// Display-order indices from the caller's `int64_t` array.
fn frame_ids(ids: &[i64]) -> Result<Vec<usize>, Failure> {
    ids.iter()
        .enumerate()
        .map(|(i, &id)| {
            usize::try_from(id).map_err(|_| {
                Failure::argument(
                    CodecPrepStatus::OutOfRange,
                    format!("ids[{i}] = {id} is negative"),
                )
            })
        })
        .collect()
}

/// Output size for pixels written to a caller's buffer: 0 takes the video's display size.
fn fixed_size(
    reader: &mut CodecPrepReader,
    width: u32,
    height: u32,
) -> Result<(u32, u32), Failure> {
    check_side("width", width)?;
    check_side("height", height)?;
    if width != 0 && height != 0 {
        return Ok((width, height));
    }
    let info = reader.probed()?;
    Ok((
        if width == 0 { info.width } else { width },
        if height == 0 { info.height } else { height },
    ))
}

/// Decodes the frames with display-order indices `ids[0..n]` (any order, repeats allowed;
/// `ids` may be NULL when `n` is 0) and sets `*out` to a new `CodecPrepFrames` the caller owns
/// and frees with `codecprep_frames_free` (NULL on failure). Frame `i` of the result is
/// `ids[i]`.
///
/// `flags`: 0 for maps only, or one of `CODECPREP_WANT_PIXELS_BGR` /
/// `CODECPREP_WANT_PIXELS_RGB` for pixels too, scaled (swscale's area filter) to `width` x
/// `height` (0 keeps the decoded size of that side; both are ignored without pixels).
///
/// An index past the end gives `CODECPREP_STATUS_OUT_OF_RANGE` naming the first missing
/// index and the frame count; a negative one too.
///
/// # Safety
///
/// `reader` is NULL or a live reader used by no other thread during the call; `ids` is NULL
/// or points to `n` values; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_read_frames(
    reader: *mut CodecPrepReader,
    ids: *const i64,
    n: usize,
    flags: u32,
    width: u32,
    height: u32,
    out: *mut *mut CodecPrepFrames,
) -> CodecPrepStatus {
    call("codecprep_reader_read_frames", || {
        // SAFETY (all): the caller's contract.
        let out = unsafe { Out::new(out, std::ptr::null_mut(), "out") }?;
        let handle = unsafe { arg_mut(reader, "reader") }?;
        let ids = frame_ids(unsafe { slice(ids, n, "ids") }?)?;
        check_side("width", width)?;
        check_side("height", height)?;
        let pixels = pixel_format(flags)?.map(|format| PixelRequest {
            format,
            width,
            height,
        });
        let records = handle.reader.read_frames(&ids, pixels)?;
        out.set(Box::into_raw(Box::new(CodecPrepFrames::new(records)?)));
        Ok(())
    })
}

/// Stores in `*bytes` the size of one frame's pixels as `codecprep_reader_read_frames_into`
/// writes them for this `width` x `height` (0 for a side: the video's display size, read
/// from the file on first use): `width * height * 3`.
///
/// # Safety
///
/// `reader` is NULL or a live reader used by no other thread during the call; `bytes` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_frame_bytes(
    reader: *mut CodecPrepReader,
    width: u32,
    height: u32,
    bytes: *mut usize,
) -> CodecPrepStatus {
    call("codecprep_reader_frame_bytes", || {
        // SAFETY: the caller's contract.
        let bytes = unsafe { Out::new(bytes, 0, "bytes") }?;
        let handle = unsafe { arg_mut(reader, "reader") }?;
        let (w, h) = fixed_size(handle, width, height)?;
        bytes.set(w as usize * h as usize * 3);
        Ok(())
    })
}

/// Like `codecprep_reader_read_frames` with pixels, but writes them into the caller's buffer
/// `pixels` of `pixels_size` bytes: frame `i` (`ids[i]`) at `pixels + i * frame_bytes`,
/// packed rows of `width * 3` bytes, where `frame_bytes` is what
/// `codecprep_reader_frame_bytes` gives (0 for a side: the video's display size, so every
/// frame has the same size). `flags` must be `CODECPREP_WANT_PIXELS_BGR` or
/// `CODECPREP_WANT_PIXELS_RGB`.
///
/// The size is checked before decoding: a buffer smaller than `n * frame_bytes` gives
/// `CODECPREP_STATUS_BUFFER_TOO_SMALL` (the message states the size needed) and nothing is
/// written. On other failures the buffer's content is unspecified.
///
/// `maps` may be NULL; otherwise `*maps` receives a new `CodecPrepFrames` with the frames'
/// maps (no pixels; `codecprep_frames_pixels` fails on it), owned by the caller (NULL on
/// failure).
///
/// # Safety
///
/// `reader` is NULL or a live reader used by no other thread during the call; `ids` is NULL
/// or points to `n` values; `pixels` is NULL or has `pixels_size` writable bytes; `maps` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_reader_read_frames_into(
    reader: *mut CodecPrepReader,
    ids: *const i64,
    n: usize,
    flags: u32,
    width: u32,
    height: u32,
    pixels: *mut u8,
    pixels_size: usize,
    maps: *mut *mut CodecPrepFrames,
) -> CodecPrepStatus {
    call("codecprep_reader_read_frames_into", || {
        // SAFETY (all): the caller's contract.
        let maps = if maps.is_null() {
            None
        } else {
            Some(unsafe { Out::new(maps, std::ptr::null_mut(), "maps") }?)
        };
        let handle = unsafe { arg_mut(reader, "reader") }?;
        let ids = frame_ids(unsafe { slice(ids, n, "ids") }?)?;
        let format = pixel_format(flags)?.ok_or_else(|| {
            Failure::invalid("flags must ask for pixels (CODECPREP_WANT_PIXELS_BGR or _RGB)")
        })?;
        let (width, height) = fixed_size(handle, width, height)?;
        let frame_bytes = width as usize * height as usize * 3;
        let needed = frame_bytes.checked_mul(ids.len()).ok_or_else(|| {
            Failure::invalid(format!(
                "{} frames of {frame_bytes} bytes overflow size_t",
                ids.len()
            ))
        })?;
        if pixels_size < needed {
            return Err(Failure::argument(
                CodecPrepStatus::BufferTooSmall,
                format!(
                    "pixels_size is {pixels_size} bytes, {} frames of {width}x{height}x3 need \
                     {needed}",
                    ids.len()
                ),
            ));
        }
        if needed > 0 && pixels.is_null() {
            return Err(Failure::argument(
                CodecPrepStatus::NullArgument,
                "pixels is NULL",
            ));
        }
        let request = PixelRequest {
            format,
            width,
            height,
        };
        let mut records = handle.reader.read_frames(&ids, Some(request))?;
        for (i, record) in records.iter_mut().enumerate() {
            let picture = record.pixels.take().ok_or_else(|| {
                Failure::other(
                    CodecPrepStatus::Internal,
                    format!("frame {} came without pixels", record.index),
                )
            })?;
            let data = picture.data();
            if data.len() != frame_bytes {
                return Err(Failure::other(
                    CodecPrepStatus::Internal,
                    format!(
                        "frame {} has {} bytes of pixels, expected {frame_bytes}",
                        record.index,
                        data.len()
                    ),
                ));
            }
            // SAFETY: `i * frame_bytes + frame_bytes <= needed <= pixels_size` bytes of the
            // caller's buffer.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    pixels.add(i * frame_bytes),
                    frame_bytes,
                );
            }
        }
        if let Some(maps) = maps {
            maps.set(Box::into_raw(Box::new(CodecPrepFrames::new(records)?)));
        }
        Ok(())
    })
}

/// Stores the number of frames in `*count`.
///
/// # Safety
///
/// `frames` is NULL or a live `CodecPrepFrames`; `count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_frames_count(
    frames: *const CodecPrepFrames,
    count: *mut usize,
) -> CodecPrepStatus {
    // SAFETY: the caller's contract.
    unsafe {
        get(
            "codecprep_frames_count",
            (frames, "frames"),
            (count, "count"),
            0,
            |f| Ok(f.entries.len()),
        )
    }
}

/// Sets `*view` to the map of frame `index` (0-based position in the ids asked for). The
/// view belongs to `frames` and stays valid until `codecprep_frames_free(frames)`.
///
/// # Safety
///
/// `frames` is NULL or a live `CodecPrepFrames`; `view` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_frames_map(
    frames: *const CodecPrepFrames,
    index: usize,
    view: *mut *const CodecPrepMapView,
) -> CodecPrepStatus {
    // SAFETY: the caller's contract.
    unsafe {
        get(
            "codecprep_frames_map",
            (frames, "frames"),
            (view, "view"),
            std::ptr::null(),
            |f| Ok(&f.entry(index)?.view as *const CodecPrepMapView),
        )
    }
}

/// Sets `*pixels` to the pixels of frame `index`; they belong to `frames` and stay valid
/// until `codecprep_frames_free(frames)`. Fails with `CODECPREP_STATUS_INVALID_ARGUMENT` when
/// the frames were read without pixels.
///
/// # Safety
///
/// `frames` is NULL or a live `CodecPrepFrames`; `pixels` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_frames_pixels(
    frames: *const CodecPrepFrames,
    index: usize,
    pixels: *mut *const CodecPrepPixels,
) -> CodecPrepStatus {
    let pick = |frames: &CodecPrepFrames| {
        let entry = frames.entry(index)?;
        let view = entry.pixels.as_ref().ok_or_else(|| {
            Failure::invalid(format!(
                "frame {} was read without pixels (pass a CODECPREP_WANT_PIXELS_* flag)",
                entry.record.index
            ))
        })?;
        Ok(view as *const CodecPrepPixels)
    };
    // SAFETY: the caller's contract.
    unsafe {
        get(
            "codecprep_frames_pixels",
            (frames, "frames"),
            (pixels, "pixels"),
            std::ptr::null(),
            pick,
        )
    }
}

/// Frees frames, their maps and pixels. NULL is accepted and ignored.
///
/// # Safety
///
/// `frames` is NULL or a `CodecPrepFrames` from the library not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn codecprep_frames_free(frames: *mut CodecPrepFrames) {
    // SAFETY: the caller's contract.
    unsafe { free_handle(frames) }
}
