//! `codec-video-prep`: drop-in replacement for the reference tool's command.

fn main() -> std::process::ExitCode {
    codecprep_cli::preinfer::drop_in_main("codec-video-prep")
}
