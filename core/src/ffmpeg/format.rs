//! Owned demuxer (`AVFormatContext`) opened on a file.

use std::ffi::{CString, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};

use ffmpeg_sys_next as ff;

use super::error::{FfmpegError, check};
use super::packet::{Packet, timestamp};
use crate::map::Codec;

/// A rational number as FFmpeg stores time bases and frame rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rational {
    pub num: i32,
    pub den: i32,
}

impl Rational {
    fn from_av(r: ff::AVRational) -> Self {
        Self {
            num: r.num,
            den: r.den,
        }
    }

    /// The value, when both parts are positive (FFmpeg writes 0/0 or 0/1 for "unknown").
    pub fn positive(self) -> Option<f64> {
        (self.num > 0 && self.den > 0).then(|| f64::from(self.num) / f64::from(self.den))
    }

    /// `ticks` of this time base in seconds.
    pub fn seconds(self, ticks: i64) -> Option<f64> {
        (self.den != 0).then(|| ticks as f64 * f64::from(self.num) / f64::from(self.den))
    }
}

/// What the demuxer knows about one stream, copied out of FFmpeg's structs.
#[derive(Debug, Clone)]
pub(crate) struct StreamInfo {
    pub index: usize,
    /// `None` for codecs codecprep cannot read.
    pub codec: Option<Codec>,
    /// FFmpeg's short codec name ("h264", "mpeg4", ...).
    pub codec_name: String,
    pub width: u32,
    pub height: u32,
    pub time_base: Rational,
    pub avg_frame_rate: Rational,
    pub r_frame_rate: Rational,
    /// In `time_base` units.
    pub start_time: Option<i64>,
    /// In `time_base` units.
    pub duration: Option<i64>,
    pub bit_rate: Option<u64>,
    /// Cover art: a single picture stored as a video stream.
    pub attached_picture: bool,
    /// Frames the container's index lists (MP4 sample tables), if it has one.
    pub indexed_frames: Option<u64>,
    /// The codec's global headers (H.264 `avcC`, HEVC `hvcC`, ...); empty when none.
    pub extradata: Vec<u8>,
}

pub(crate) struct InputContext {
    ptr: NonNull<ff::AVFormatContext>,
}

// SAFETY: a demuxer context is not tied to the thread that opened it; &mut self on every
// mutating call prevents concurrent use.
unsafe impl Send for InputContext {}

impl InputContext {
    /// Opens `path` and reads the container header.
    pub(crate) fn open(path: &Path) -> Result<Self, FfmpegError> {
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| FfmpegError::from_code(ff::AVERROR(ff::EINVAL)))?;
        let mut raw = ptr::null_mut();
        // SAFETY: raw is a valid out-pointer; on failure FFmpeg frees the context and leaves
        // it NULL, on success we own it.
        check(unsafe {
            ff::avformat_open_input(&mut raw, c_path.as_ptr(), ptr::null(), ptr::null_mut())
        })?;
        NonNull::new(raw)
            .map(|ptr| Self { ptr })
            .ok_or(FfmpegError::from_code(ff::AVERROR(ff::ENOMEM)))
    }

    /// Reads the first packets to fill in codec parameters the header lacks.
    pub(crate) fn find_stream_info(&mut self) -> Result<(), FfmpegError> {
        // SAFETY: valid, open context; no per-stream options.
        check(unsafe { ff::avformat_find_stream_info(self.ptr.as_ptr(), ptr::null_mut()) })
            .map(drop)
    }

    pub(super) fn stream_count(&self) -> usize {
        // SAFETY: valid context.
        unsafe { (*self.ptr.as_ptr()).nb_streams as usize }
    }

    pub(super) fn stream(&self, index: usize) -> *const ff::AVStream {
        // Indices come from FFmpeg itself, but an out-of-range one would read past the array.
        assert!(
            index < self.stream_count(),
            "stream index {index} out of range"
        );
        // SAFETY: streams holds nb_streams valid pointers.
        unsafe { *(*self.ptr.as_ptr()).streams.add(index) }
    }

    /// The stream FFmpeg would pick for video, if any.
    pub(crate) fn best_video_stream(&self) -> Result<Option<usize>, FfmpegError> {
        // SAFETY: valid context; no decoder is requested back.
        let ret = unsafe {
            ff::av_find_best_stream(
                self.ptr.as_ptr(),
                ff::AVMediaType::AVMEDIA_TYPE_VIDEO,
                -1,
                -1,
                ptr::null_mut(),
                0,
            )
        };
        if ret == ff::AVERROR_STREAM_NOT_FOUND {
            return Ok(None);
        }
        check(ret).map(|index| Some(index as usize))
    }

    pub(crate) fn stream_info(&self, index: usize) -> StreamInfo {
        let st = self.stream(index);
        // SAFETY: st is a valid stream of this context with valid codecpar; codec_id was set
        // by the demuxer from the same headers the bindings were generated from.
        unsafe {
            let par = (*st).codecpar;
            let codec_id = (*par).codec_id;
            let codec = match codec_id {
                ff::AVCodecID::AV_CODEC_ID_H264 => Some(Codec::H264),
                ff::AVCodecID::AV_CODEC_ID_HEVC => Some(Codec::Hevc),
                ff::AVCodecID::AV_CODEC_ID_VP9 => Some(Codec::Vp9),
                _ => None,
            };
            let name = ff::avcodec_get_name(codec_id);
            StreamInfo {
                index,
                codec,
                codec_name: std::ffi::CStr::from_ptr(name)
                    .to_string_lossy()
                    .into_owned(),
                width: u32::try_from((*par).width).unwrap_or(0),
                height: u32::try_from((*par).height).unwrap_or(0),
                time_base: Rational::from_av((*st).time_base),
                avg_frame_rate: Rational::from_av((*st).avg_frame_rate),
                r_frame_rate: Rational::from_av((*st).r_frame_rate),
                start_time: timestamp((*st).start_time),
                duration: timestamp((*st).duration).filter(|&d| d > 0),
                bit_rate: u64::try_from((*par).bit_rate).ok().filter(|&b| b > 0),
                attached_picture: (*st).disposition & ff::AV_DISPOSITION_ATTACHED_PIC != 0,
                indexed_frames: u64::try_from((*st).nb_frames).ok().filter(|&n| n > 0),
                extradata: match usize::try_from((*par).extradata_size) {
                    Ok(len) if len > 0 && !(*par).extradata.is_null() => {
                        std::slice::from_raw_parts((*par).extradata, len).to_vec()
                    }
                    _ => Vec::new(),
                },
            }
        }
    }

    /// Container duration in seconds, if known.
    pub(crate) fn duration_seconds(&self) -> Option<f64> {
        // SAFETY: valid context; duration is in AV_TIME_BASE units.
        let duration = unsafe { (*self.ptr.as_ptr()).duration };
        timestamp(duration)
            .filter(|&d| d > 0)
            .map(|d| d as f64 / f64::from(ff::AV_TIME_BASE))
    }

    /// Container bit rate in bits per second, if known.
    pub(crate) fn bit_rate(&self) -> Option<u64> {
        // SAFETY: valid context.
        let rate = unsafe { (*self.ptr.as_ptr()).bit_rate };
        u64::try_from(rate).ok().filter(|&b| b > 0)
    }

    /// The context itself, for reading fields no method above copies out (probing).
    pub(super) fn as_ptr(&self) -> *const ff::AVFormatContext {
        self.ptr.as_ptr()
    }

    /// Codec parameters of a stream, for setting up its decoder.
    pub(super) fn codec_parameters(&self, index: usize) -> *const ff::AVCodecParameters {
        // SAFETY: stream() checked the index.
        unsafe { (*self.stream(index)).codecpar }
    }

    /// Reads the next packet of any stream into `packet`; `Ok(false)` at the end of input.
    pub(crate) fn read_packet(&mut self, packet: &mut Packet) -> Result<bool, FfmpegError> {
        packet.unref();
        // SAFETY: valid context and packet; the packet was unreferenced as required.
        let ret: c_int = unsafe { ff::av_read_frame(self.ptr.as_ptr(), packet.as_mut_ptr()) };
        match check(ret) {
            Ok(_) => Ok(true),
            Err(e) if e.is_eof() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl Drop for InputContext {
    fn drop(&mut self) {
        let mut ptr = self.ptr.as_ptr();
        // SAFETY: we own the context; this closes the file and frees everything.
        unsafe { ff::avformat_close_input(&mut ptr) }
    }
}
