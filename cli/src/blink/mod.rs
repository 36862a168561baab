//! `blink-stitch`: organise, de-duplicate, annotate and stitch multi-camera Blink exports.
//!
//! Each stage is a subcommand working on one work directory (`--out DIR`); a stage runs the
//! stages before it first, and those skip what their state says is finished. docs/blink-stitch.md
//! is the user guide.

mod error;
mod inventory;
mod preflight;
mod progress;
mod settings;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::BlinkError;
use settings::{CommonArgs, Settings};

#[derive(Parser)]
#[command(
    name = "blink-stitch",
    version,
    about = "Organise, de-duplicate, annotate and stitch multi-camera Blink clip exports",
    long_about = "Organise, de-duplicate, annotate and stitch multi-camera Blink clip exports.\n\n\
        Stages (each resumable; a stage runs the ones before it): discover, preflight, extract, \
        dedupe, cluster, annotate, package; `run` does them all. Nothing under the input paths \
        is ever modified, moved or deleted."
)]
struct Cli {
    #[command(subcommand)]
    command: Stage,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// List the media files found under the roots, with camera and time
    Discover,
    /// Probe every file and print a table of cameras, times, streams, problems and adjustments
    Preflight,
}

/// Entry point of the `blink-stitch` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("blink-stitch: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode, BlinkError> {
    let settings = Settings::from_args(&cli.common)?;
    let pool = settings.pool()?;
    let inventory = inventory::build(&settings, &pool)?;
    let zone = settings.rules.timezone.clone();
    match cli.command {
        Stage::Discover => {
            if settings.json {
                print_json(&preflight::to_json("discover", &inventory));
            } else {
                print!("{}", preflight::list(&inventory, &zone));
                report_problem_count(&inventory);
            }
        }
        Stage::Preflight => {
            if settings.json {
                print_json(&preflight::to_json("preflight", &inventory));
            } else {
                print!("{}", preflight::table(&inventory, &zone));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report_problem_count(inventory: &inventory::Inventory) {
    let bad = inventory.clips.iter().filter(|c| !c.usable()).count();
    if bad > 0 {
        eprintln!("blink-stitch: {bad} file(s) with problems left out (see `preflight`)");
    }
}

/// One JSON document on stdout.
fn print_json(value: &serde_json::Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut stdout, value);
    let _ = writeln!(stdout);
}
