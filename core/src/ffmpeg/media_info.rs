//! What a media file holds, read from its container headers: the probe behind `blink-stitch`.
//!
//! Only demuxers and parsers run here (no decoder is needed for any field), so the same call
//! serves video containers and standalone audio (WAV, FLAC, MP3, ADTS AAC, Ogg, M4A).

use std::ffi::CStr;
use std::path::Path;

use ffmpeg_sys_next as ff;
use serde::{Deserialize, Serialize};

use super::error::FfmpegError;
use super::format::{InputContext, Rational};
use super::packet::timestamp;

/// The first video stream of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoStreamFacts {
    /// FFmpeg's short codec name ("h264", "hevc", ...).
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Average frame rate as a fraction, when the container says.
    pub frame_rate: Option<(u32, u32)>,
    /// Seconds from the container's zero to the stream's first frame.
    pub start: Option<f64>,
    pub duration: Option<f64>,
    pub bit_rate: Option<u64>,
}

/// The first audio stream of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioStreamFacts {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u32,
    pub start: Option<f64>,
    pub duration: Option<f64>,
}

/// Container-level facts plus the first video and audio streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaFacts {
    /// The demuxer that recognised the file ("mov,mp4,m4a,3gp,3g2,mj2", "wav", ...).
    pub format: String,
    pub duration: Option<f64>,
    pub bit_rate: Option<u64>,
    /// The container's `creation_time` tag as written (ISO 8601 in practice).
    pub creation_time: Option<String>,
    pub video: Option<VideoStreamFacts>,
    pub audio: Option<AudioStreamFacts>,
}

/// Opens `path`, reads its headers (and the first packets where the headers are not enough)
/// and copies out what `MediaFacts` lists.
pub fn media_facts(path: &Path) -> Result<MediaFacts, FfmpegError> {
    super::init();
    let mut input = InputContext::open(path)?;
    input.find_stream_info()?;
    let mut facts = MediaFacts {
        format: String::new(),
        duration: input.duration_seconds(),
        bit_rate: input.bit_rate(),
        creation_time: None,
        video: None,
        audio: None,
    };
    let ctx = input.as_ptr();
    // SAFETY: ctx is the open context owned by `input`, alive for this whole block; iformat
    // and metadata belong to it; names are NUL-terminated static strings.
    unsafe {
        let iformat = (*ctx).iformat;
        if !iformat.is_null() && !(*iformat).name.is_null() {
            facts.format = CStr::from_ptr((*iformat).name)
                .to_string_lossy()
                .into_owned();
        }
        facts.creation_time = dictionary_value((*ctx).metadata, c"creation_time");
    }
    for index in 0..input.stream_count() {
        let st = input.stream(index);
        // SAFETY: st is a valid stream of the open context with valid codecpar.
        unsafe {
            let par = (*st).codecpar;
            let time_base = Rational {
                num: (*st).time_base.num,
                den: (*st).time_base.den,
            };
            let start = timestamp((*st).start_time).and_then(|t| time_base.seconds(t));
            let duration = timestamp((*st).duration)
                .filter(|&d| d > 0)
                .and_then(|d| time_base.seconds(d));
            let codec = CStr::from_ptr(ff::avcodec_get_name((*par).codec_id))
                .to_string_lossy()
                .into_owned();
            if facts.creation_time.is_none() {
                facts.creation_time = dictionary_value((*st).metadata, c"creation_time");
            }
            match (*par).codec_type {
                ff::AVMediaType::AVMEDIA_TYPE_VIDEO
                    if facts.video.is_none()
                        && (*st).disposition & ff::AV_DISPOSITION_ATTACHED_PIC == 0 =>
                {
                    let rate = (*st).avg_frame_rate;
                    facts.video = Some(VideoStreamFacts {
                        codec,
                        width: u32::try_from((*par).width).unwrap_or(0),
                        height: u32::try_from((*par).height).unwrap_or(0),
                        frame_rate: match (u32::try_from(rate.num), u32::try_from(rate.den)) {
                            (Ok(num), Ok(den)) if num > 0 && den > 0 => Some((num, den)),
                            _ => None,
                        },
                        start,
                        duration,
                        bit_rate: u64::try_from((*par).bit_rate).ok().filter(|&b| b > 0),
                    });
                }
                ff::AVMediaType::AVMEDIA_TYPE_AUDIO if facts.audio.is_none() => {
                    facts.audio = Some(AudioStreamFacts {
                        codec,
                        sample_rate: u32::try_from((*par).sample_rate).unwrap_or(0),
                        channels: u32::try_from((*par).ch_layout.nb_channels).unwrap_or(0),
                        start,
                        duration,
                    });
                }
                _ => {}
            }
        }
    }
    Ok(facts)
}

/// The value of `key` in an FFmpeg dictionary (NULL dictionaries have no keys).
///
/// # Safety
/// `dict` must be NULL or a valid dictionary that outlives the call.
unsafe fn dictionary_value(dict: *const ff::AVDictionary, key: &CStr) -> Option<String> {
    if dict.is_null() {
        return None;
    }
    // SAFETY: dict is valid per the contract; key is NUL-terminated; the returned entry
    // points into the dictionary and is copied before returning.
    unsafe {
        let entry = ff::av_dict_get(dict, key.as_ptr(), std::ptr::null(), 0);
        if entry.is_null() || (*entry).value.is_null() {
            return None;
        }
        Some(
            CStr::from_ptr((*entry).value)
                .to_string_lossy()
                .into_owned(),
        )
    }
}
