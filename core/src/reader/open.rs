//! Opening a file: clear errors for everything that is not a readable video, and the decoder
//! configuration the bit-cost contract requires.

use std::io;
use std::path::Path;

use super::ReaderOptions;
use super::error::{Error, ErrorKind};
use crate::ffmpeg::{self, BitcostSetupError, Decoder, DecoderSetup, InputContext, StreamInfo};

/// Opens `path` and selects its video stream, which must be H.264, HEVC or VP9.
pub(super) fn open_video_input(path: &Path) -> Result<(InputContext, StreamInfo), Error> {
    let fail = |kind| Error::new(path, kind);
    ffmpeg::init();
    // FFmpeg's "No such file or directory" for a path that exists as a directory, or its
    // generic errors for permissions, are less clear than asking the filesystem first.
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => return Err(fail(ErrorKind::IsDirectory)),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(fail(ErrorKind::NotFound)),
        Err(e) => return Err(fail(ErrorKind::Io(e))),
    }
    let mut input = InputContext::open(path).map_err(|e| {
        fail(if !e.is_invalid_data() {
            ErrorKind::Open(e)
        } else if starts_like_mp4(path) {
            ErrorKind::Mp4WithoutIndex
        } else {
            ErrorKind::NotMedia(e)
        })
    })?;
    input
        .find_stream_info()
        .map_err(|e| fail(ErrorKind::StreamInfo(e)))?;
    let index = input
        .best_video_stream()
        .map_err(|e| fail(ErrorKind::StreamInfo(e)))?
        .ok_or_else(|| fail(ErrorKind::NoVideoStream))?;
    let stream = input.stream_info(index);
    // Cover art is one still picture stored as a video stream, not a video.
    if stream.attached_picture {
        return Err(fail(ErrorKind::NoVideoStream));
    }
    if stream.codec.is_none() {
        return Err(fail(ErrorKind::UnsupportedCodec(stream.codec_name.clone())));
    }
    Ok((input, stream))
}

/// Whether the file begins with an ISO-BMFF `ftyp` box, i.e. is an MP4/MOV that FFmpeg
/// could not read: then its index is what is missing.
fn starts_like_mp4(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| &head[4..8] == b"ftyp")
}

/// Creates and opens the patched decoder for `stream` with the bit-cost export switched on.
/// With `parse_only` the decoder only parses the entropy-coded data (the maps are the same,
/// the frames' pixels are left unwritten), which is much faster.
pub(super) fn open_decoder(
    path: &Path,
    input: &InputContext,
    stream: &StreamInfo,
    options: &ReaderOptions,
    parse_only: bool,
) -> Result<Decoder, Error> {
    let fail = |kind| Error::new(path, kind);
    let mut setup = DecoderSetup::for_stream(input, stream.index)
        .map_err(|e| fail(ErrorKind::OutOfMemory(e)))?
        .ok_or_else(|| fail(ErrorKind::DecoderMissing(stream.codec_name.clone())))?;
    let name = setup.name();
    let setup_error = |source| {
        fail(ErrorKind::DecoderSetup {
            decoder: name.to_owned(),
            source,
        })
    };

    setup
        .export_bitcost(options.measure, parse_only)
        .map_err(|e| match e {
            BitcostSetupError::NotPatched => fail(ErrorKind::NotPatched(name.to_owned())),
            BitcostSetupError::ExactMeasureUnsupported => {
                fail(ErrorKind::ExactMeasureUnsupported(name.to_owned()))
            }
            BitcostSetupError::Option(source) => setup_error(source),
        })?;
    setup.set_threads(options.threads, options.thread_type);
    setup.set_skip_loop_filter(!options.deblock);
    setup.set_packet_time_base(stream.time_base);
    setup.open().map_err(setup_error)
}
