//! `blink-stitch`: organise, de-duplicate, annotate and stitch multi-camera Blink exports.
//!
//! Each stage is a subcommand working on one work directory (`--out DIR`); a stage runs the
//! stages before it first, and those skip what their state says is finished. docs/blink-stitch.md
//! is the user guide.

mod annotate;
mod cluster;
mod dedupe;
mod error;
mod extract;
mod inventory;
mod package;
mod preflight;
mod progress;
mod settings;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use codecprep_core::blink::workdir::Workdir;
use serde_json::json;

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

/// The stages in order; each runs the ones before it (which skip finished work).
#[derive(Subcommand, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// List the media files found under the roots, with camera and time
    Discover,
    /// Probe every file and print a table of cameras, times, streams, problems and adjustments
    Preflight,
    /// Per clip: content hash, activity from bit cost, perceptual hashes, loudness, thumbnail
    Extract,
    /// Mark duplicates (exact and re-encoded copies), find companions and camera clock offsets
    Dedupe,
    /// Group clips into multi-camera events on the corrected timeline, and scenes within them
    Cluster,
    /// Write annotations.json and annotations.csv per event and clip
    Annotate,
    /// Per event: stitched MP4, contact sheet, optional mosaic and canvases, manifest.json
    Package,
    /// All stages
    Run,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Self::Discover => "discover",
            Self::Preflight => "preflight",
            Self::Extract => "extract",
            Self::Dedupe => "dedupe",
            Self::Cluster => "cluster",
            Self::Annotate => "annotate",
            Self::Package => "package",
            Self::Run => "run",
        }
    }
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
    let stage = cli.command;
    let inventory = inventory::build(&settings, &pool)?;
    let zone = settings.rules.timezone.clone();
    match stage {
        Stage::Discover | Stage::Preflight => {
            if settings.json {
                print_json(&preflight::to_json(stage.name(), &inventory));
            } else if stage == Stage::Discover {
                print!("{}", preflight::list(&inventory, &zone));
                report_problem_count(&inventory);
            } else {
                print!("{}", preflight::table(&inventory, &zone));
            }
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let out = settings.out_dir(stage.name())?;
    if settings.dry_run {
        let doc = dry_run(&inventory, &Workdir::peek(&out), stage);
        if settings.json {
            print_json(&doc);
        } else {
            print!("{}", dry_run_text(&doc));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut workdir = Workdir::open(&out)?;
    report_problem_count(&inventory);
    let mut doc = preflight::to_json(stage.name(), &inventory);
    doc["work_dir"] = json!(out);

    let extracted = extract::run(&settings, &pool, &inventory, &mut workdir)?;
    message(
        &settings,
        &format!(
            "extract: {} clips ({} extracted now, {} already done, {} failed)",
            extracted.clips,
            extracted.extracted,
            extracted.already_done,
            extracted.failed.len()
        ),
    );
    for (path, errors) in &extracted.failed {
        eprintln!(
            "blink-stitch: {}: left out: {}",
            path.display(),
            errors.join("; ")
        );
    }
    doc["extract"] = json!(extracted);
    if stage == Stage::Extract {
        return finish(&settings, doc);
    }

    let signals = extract::load(&out, &inventory);
    let clips = dedupe::analysed(&inventory.clips, &signals);
    let deduped = dedupe::run(&mut workdir, &clips)?;
    message(
        &settings,
        &format!(
            "dedupe: {} duplicates, {} companion pairs, camera offsets {:?}",
            deduped.duplicates.len(),
            deduped.companions.len(),
            deduped.camera_offsets
        ),
    );
    doc["dedupe"] = json!(deduped);
    if stage == Stage::Dedupe {
        return finish(&settings, doc);
    }

    let clustered = cluster::run(&mut workdir, &clips, &deduped, settings.gap)?;
    message(
        &settings,
        &format!("cluster: {} events", clustered.events.len()),
    );
    doc["cluster"] = json!(clustered);
    if stage == Stage::Cluster {
        return finish(&settings, doc);
    }

    let annotations = annotate::run(&mut workdir, &clips, &deduped, &clustered, &zone)?;
    message(
        &settings,
        &format!(
            "annotate: {} and {} written",
            out.join(annotate::JSON_FILE).display(),
            out.join(annotate::CSV_FILE).display()
        ),
    );
    doc["annotations"] = json!(annotations);
    if stage == Stage::Annotate {
        return finish(&settings, doc);
    }

    let packaged = package::run(&settings, &mut workdir, &clips, &clustered, &zone)?;
    message(
        &settings,
        &format!(
            "package: {} events ({} packaged now, {} already done) under {}",
            packaged.events,
            packaged.packaged.len(),
            packaged.already_done.len(),
            out.join("events").display()
        ),
    );
    doc["package"] = json!(packaged);
    finish(&settings, doc)
}

/// What each stage would do, from the state file, without computing or writing anything.
fn dry_run(inventory: &inventory::Inventory, workdir: &Workdir, stage: Stage) -> serde_json::Value {
    let (total, pending) = extract::pending(workdir, inventory);
    let mut doc = json!({
        "stage": stage.name(),
        "dry_run": true,
        "work_dir": workdir.root(),
        "summary": preflight::to_json(stage.name(), inventory)["summary"].clone(),
        "extract": { "clips": total, "to_extract": pending.len() },
    });
    let later = [
        (Stage::Dedupe, dedupe::STAGE),
        (Stage::Cluster, cluster::STAGE),
        (Stage::Annotate, annotate::STAGE),
        (Stage::Package, package::STAGE),
    ];
    for (s, name) in later.into_iter().filter(|(s, _)| *s <= stage) {
        let complete = workdir
            .state()
            .stages
            .get(name)
            .is_some_and(|st| st.complete);
        // A stage reruns when anything before it changes, which only running it can tell.
        doc[s.name()] = json!({ "previously_complete": complete });
    }
    doc
}

/// The dry-run document for people.
fn dry_run_text(doc: &serde_json::Value) -> String {
    let mut text = format!(
        "dry run, nothing written (work directory {})\n{} files found, {} usable\n\
         extract: {} of {} usable clips to extract\n",
        doc["work_dir"].as_str().unwrap_or(""),
        doc["summary"]["files"],
        doc["summary"]["usable"],
        doc["extract"]["to_extract"],
        doc["extract"]["clips"],
    );
    for name in ["dedupe", "cluster", "annotate", "package"] {
        if let Some(complete) = doc[name]["previously_complete"].as_bool() {
            let what = if complete {
                "finished before; reruns only if its inputs changed"
            } else {
                "would run"
            };
            text.push_str(&format!("{name}: {what}\n"));
        }
    }
    text
}

fn message(settings: &Settings, text: &str) {
    if !settings.json {
        eprintln!("blink-stitch: {text}");
    }
}

/// The end of a stage: the JSON document with `--json`, a short summary otherwise.
fn finish(settings: &Settings, doc: serde_json::Value) -> Result<ExitCode, BlinkError> {
    if settings.json {
        print_json(&doc);
    } else if let Some(dir) = doc["work_dir"].as_str() {
        println!(
            "done: {} (work directory {dir})",
            doc["stage"].as_str().unwrap_or("")
        );
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
