//! `codecprep`: bit cost, frames and pixels from compressed video.

mod doctor;
mod error;
mod heatmap;
mod probe;
mod scan;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use codecprep_core::ffmpeg::MAX_THREADS;
use codecprep_core::{Measure, ThreadType};

use error::CliError;

#[derive(Parser)]
#[command(
    name = "codecprep",
    version,
    about = "Bit cost, frames and pixels from compressed video"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode every frame and write its bit-cost maps (and optionally pixels) into DIR
    Scan(scan::ScanArgs),
    /// Print what the container says about the video stream, packet by packet, as JSON
    Probe {
        /// Video file
        video: PathBuf,
    },
    /// Check the linked FFmpeg: version, decoders, bit-cost patch, threading
    Doctor,
    /// Sample, score, group and pack frames into canvases (same flags as codec-video-prep)
    Preinfer(Box<codecprep_cli::preinfer::PreinferArgs>),
    /// Draw the bit-cost map over the frames: a PNG of one frame or an MP4 of all of them
    Heatmap(heatmap::HeatmapArgs),
}

/// Decoder options shared by the decoding commands.
#[derive(clap::Args)]
struct DecodeArgs {
    /// Decoder threads (0 = as many as FFmpeg sees fit)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(0..=MAX_THREADS as i64))]
    threads: u16,
    /// How the decoder threads split the work
    #[arg(long, value_enum, default_value_t = ThreadTypeArg::Slice)]
    thread_type: ThreadTypeArg,
    /// How bits are counted: as the reference tool does, or exactly
    #[arg(long, value_enum, default_value_t = MeasureArg::Reference)]
    measure: MeasureArg,
    /// Run the deblocking / loop filters (off by default, like the reference tool)
    #[arg(long)]
    deblock: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ThreadTypeArg {
    Slice,
    Frame,
}

#[derive(Clone, Copy, ValueEnum)]
enum MeasureArg {
    Reference,
    Exact,
}

impl DecodeArgs {
    fn reader_options(&self) -> codecprep_core::ReaderOptions {
        codecprep_core::ReaderOptions {
            threads: usize::from(self.threads),
            thread_type: match self.thread_type {
                ThreadTypeArg::Slice => ThreadType::Slice,
                ThreadTypeArg::Frame => ThreadType::Frame,
            },
            measure: match self.measure {
                MeasureArg::Reference => Measure::Reference,
                MeasureArg::Exact => Measure::Exact,
            },
            deblock: self.deblock,
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Scan(args) => scan::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Probe { video } => probe::run(&video).map(|()| ExitCode::SUCCESS),
        Command::Doctor => Ok(doctor::run()),
        Command::Preinfer(args) => Ok(codecprep_cli::preinfer::run(&args, "codecprep preinfer")),
        Command::Heatmap(args) => heatmap::run(&args),
    }
}

fn main() -> ExitCode {
    // Usage errors exit with 2 from inside parse().
    let cli = Cli::parse();
    run(cli).unwrap_or_else(|e| {
        eprintln!("codecprep: error: {e}");
        ExitCode::FAILURE
    })
}
