//! Stage 1, `discover` / `preflight`: the files found under the roots, each probed.
//!
//! With a work directory the result is kept in `inventory.json`; a rerun probes again only
//! the files whose size or mtime changed (and everything when the naming rules changed).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use codecprep_core::blink::discover::{Discovery, discover};
use codecprep_core::blink::probe::{ClipInfo, probe_clip};
use codecprep_core::blink::workdir::{fingerprint, read_json, write_json};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::BlinkError;
use super::progress;
use super::settings::Settings;

pub const INVENTORY_FILE: &str = "inventory.json";

/// What `discover` found and `probe` learnt, in path order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inventory {
    /// Fingerprint of the naming rules the clips were probed with.
    pub rules: String,
    pub discovery: Discovery,
    pub clips: Vec<ClipInfo>,
}

/// A stable key for a clip's outputs: its path, size and mtime.
pub fn clip_key(clip: &ClipInfo) -> String {
    let text = format!("{}\0{}\0{:?}", clip.path.display(), clip.bytes, clip.mtime);
    blake3::hash(text.as_bytes()).to_hex()[..16].to_string()
}

/// Discovers and probes, reusing the probe results of unchanged files from `out`.
pub fn build(settings: &Settings, pool: &rayon::ThreadPool) -> Result<Inventory, BlinkError> {
    let discovery = discover(&settings.discover)?;
    let rules = fingerprint(&settings.rule_text);
    let cached: HashMap<PathBuf, ClipInfo> = settings
        .out
        .as_ref()
        .and_then(|out| read_json::<Inventory>(&out.join(INVENTORY_FILE)).ok())
        .filter(|old| old.rules == rules)
        .map(|old| old.clips.into_iter().map(|c| (c.path.clone(), c)).collect())
        .unwrap_or_default();
    let bar = progress::bar(
        "probe",
        discovery.files.len() as u64,
        settings.show_progress(),
    );
    let reused = AtomicUsize::new(0);
    let clips: Vec<ClipInfo> = pool.install(|| {
        discovery
            .files
            .par_iter()
            .map(|found| {
                let clip = match cached.get(&found.path) {
                    Some(old) if unchanged(old, &found.path) => {
                        reused.fetch_add(1, Ordering::Relaxed);
                        old.clone()
                    }
                    _ => probe_clip(found, &settings.rules),
                };
                bar.inc(1);
                clip
            })
            .collect()
    });
    bar.finish_and_clear();
    let inventory = Inventory {
        rules,
        discovery,
        clips,
    };
    if let Some(out) = &settings.out
        && !settings.dry_run
    {
        write_json(&out.join(INVENTORY_FILE), &inventory)?;
    }
    Ok(inventory)
}

/// The file still has the size and mtime it was probed with.
fn unchanged(old: &ClipInfo, path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64());
    meta.len() == old.bytes && mtime == old.mtime
}
