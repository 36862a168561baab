//! `cv-preinfer`: alias of `codec-video-prep`, like the reference's.

fn main() -> std::process::ExitCode {
    codecprep_cli::preinfer::drop_in_main("cv-preinfer")
}
