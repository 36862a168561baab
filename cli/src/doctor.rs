//! `codecprep doctor`: checks the linked FFmpeg, one line per check.

use std::ffi::CStr;
use std::process::ExitCode;

use codecprep_core::ThreadType;
use codecprep_core::ffmpeg::{self, bitcost_options};

/// libavcodec major version of FFmpeg 5.1, which the codecprep patches target.
const SUPPORTED_AVCODEC_MAJOR: u32 = 59;
/// Options every patched decoder has: the export switch, the measure, the parse-only scan.
const BITCOST_OPTIONS: [&CStr; 3] = [
    bitcost_options::EXPORT,
    bitcost_options::MEASURE,
    bitcost_options::SCAN,
];
/// Decoders codecprep reads.
const DECODERS: [&str; 3] = ["h264", "hevc", "vp9"];

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
    for decoder in DECODERS {
        checks.extend(decoder_checks(decoder));
        for kind in [ThreadType::Frame, ThreadType::Slice] {
            checks.push(threading_check(decoder, kind));
        }
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

fn decoder_checks(decoder: &str) -> Vec<Check> {
    let found = match ffmpeg::decoder_private_options(decoder, &BITCOST_OPTIONS) {
        Ok(found) => found,
        Err(e) => {
            return vec![Check::new(
                format!("decoder {decoder}"),
                false,
                e.to_string(),
            )];
        }
    };
    let Some(present) = found else {
        return vec![Check::new(
            format!("decoder {decoder}"),
            false,
            "missing from the linked FFmpeg (rebuild with ffmpeg/build.sh)",
        )];
    };
    let missing: Vec<String> = BITCOST_OPTIONS
        .iter()
        .zip(&present)
        .filter(|(_, present)| !**present)
        .map(|(option, _)| option.to_string_lossy().into_owned())
        .collect();
    let bitcost = if missing.is_empty() {
        Check::new(
            format!("bitcost {decoder}"),
            true,
            "export_bitcost, bitcost_measure and bitcost_scan options present",
        )
    } else {
        Check::new(
            format!("bitcost {decoder}"),
            false,
            format!(
                "no {} option: the linked FFmpeg is not patched by codecprep's current \
                 series (rebuild with ffmpeg/build.sh)",
                missing.join(", ")
            ),
        )
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
    match ffmpeg::open_decoder_with_threads(decoder, 2, kind, &[(bitcost_options::EXPORT, 1)]) {
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
