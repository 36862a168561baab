//! `codecprep doctor`: checks the linked FFmpeg, one line per check.

use std::ffi::CStr;
use std::process::ExitCode;

use codecprep_core::ThreadType;
use codecprep_core::ffmpeg;

/// libavcodec major version of FFmpeg 5.1, which the codecprep patches target.
const SUPPORTED_AVCODEC_MAJOR: u32 = 59;
const EXPORT_BITCOST: &CStr = c"export_bitcost";
const BITCOST_MEASURE: &CStr = c"bitcost_measure";
/// Decoders codecprep reads; only H.264 must already carry the bit-cost patch.
const DECODERS: [(&str, bool); 3] = [("h264", true), ("hevc", false), ("vp9", false)];

struct Check {
    name: String,
    ok: bool,
    detail: String,
}

impl Check {
    fn new(name: impl Into<String>, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok,
            detail: detail.into(),
        }
    }
}

pub fn run() -> ExitCode {
    let mut checks = vec![version_check()];
    for (decoder, bitcost_required) in DECODERS {
        checks.extend(decoder_checks(decoder, bitcost_required));
    }
    for kind in [ThreadType::Frame, ThreadType::Slice] {
        checks.push(threading_check("h264", kind));
    }
    for check in &checks {
        let status = if check.ok { "OK" } else { "FAIL" };
        println!("{}: {status} ({})", check.name, check.detail);
    }
    if checks.iter().all(|c| c.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn version_check() -> Check {
    let runtime = ffmpeg::libavcodec_version();
    let headers = ffmpeg::libavcodec_header_major();
    let detail = format!("FFmpeg {}, libavcodec {runtime}", ffmpeg::ffmpeg_version());
    if runtime.major != headers {
        Check::new(
            "ffmpeg",
            false,
            format!("{detail}, but the bindings were generated for libavcodec {headers}"),
        )
    } else if runtime.major != SUPPORTED_AVCODEC_MAJOR {
        Check::new(
            "ffmpeg",
            false,
            format!(
                "{detail}; codecprep needs FFmpeg 5.1.x (libavcodec {SUPPORTED_AVCODEC_MAJOR})"
            ),
        )
    } else {
        Check::new("ffmpeg", true, detail)
    }
}

fn decoder_checks(decoder: &str, bitcost_required: bool) -> Vec<Check> {
    let found = match ffmpeg::decoder_private_options(decoder, &[EXPORT_BITCOST, BITCOST_MEASURE]) {
        Ok(found) => found,
        Err(e) => {
            return vec![Check::new(
                format!("decoder {decoder}"),
                false,
                e.to_string(),
            )];
        }
    };
    let Some(options) = found else {
        return vec![Check::new(
            format!("decoder {decoder}"),
            false,
            "missing from the linked FFmpeg (rebuild with ffmpeg/build.sh)",
        )];
    };
    let bitcost = match (options[0], options[1]) {
        (true, true) => Check::new(
            format!("bitcost {decoder}"),
            true,
            "export_bitcost and bitcost_measure options present",
        ),
        (true, false) => Check::new(
            format!("bitcost {decoder}"),
            true,
            "export_bitcost present; no bitcost_measure option, so only the reference measure",
        ),
        (false, _) if bitcost_required => Check::new(
            format!("bitcost {decoder}"),
            false,
            "no export_bitcost option: the linked FFmpeg is not patched by codecprep \
             (rebuild with ffmpeg/build.sh)",
        ),
        (false, _) => Check::new(
            format!("bitcost {decoder}"),
            true,
            "bit cost not available yet",
        ),
    };
    vec![
        Check::new(format!("decoder {decoder}"), true, "present"),
        bitcost,
    ]
}

fn threading_check(decoder: &str, kind: ThreadType) -> Check {
    let label = match kind {
        ThreadType::Frame => "frame",
        ThreadType::Slice => "slice",
    };
    let name = format!("{decoder} {label} threads");
    // Open as the reader would, with the export switched on when the decoder has it.
    match ffmpeg::open_decoder_with_threads(decoder, 2, kind, &[(EXPORT_BITCOST, 1)]) {
        Ok(Some(opened)) if opened.active == Some(kind) => Check::new(
            name,
            true,
            format!("opened with {} {label} threads", opened.count),
        ),
        Ok(Some(_)) => Check::new(
            name,
            false,
            format!("opened, but FFmpeg did not enable {label} threading (built without threads?)"),
        ),
        Ok(None) => Check::new(name, false, "decoder missing"),
        Err(e) => Check::new(name, false, format!("cannot open: {e}")),
    }
}
