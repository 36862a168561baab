//! `blink-stitch`: multi-camera Blink exports into de-duplicated, annotated, stitched events.

fn main() -> std::process::ExitCode {
    codecprep_cli::blink::main()
}
