//! The work directory of `blink-stitch` (`--out DIR`) and its state file.
//!
//! Every file is written under a temporary name in its final folder and then renamed, so a
//! crash leaves either the old or the new content, never half a file. The state file
//! (`state.json`) records for each stage the fingerprint of the inputs it ran on and which
//! items (clips, events) are finished; it is rewritten after every finished item, so a rerun
//! skips them and a crash loses only the items in flight.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Version of the state file layout; a different version starts from scratch.
pub const STATE_VERSION: u32 = 1;
pub const STATE_FILE: &str = "state.json";

#[derive(Debug, thiserror::Error)]
pub enum WorkdirError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON for this version: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WorkdirError> {
    let write_error = |source| WorkdirError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(write_error)
}

/// Serialises `value` as pretty JSON and writes it atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), WorkdirError> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|source| WorkdirError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    text.push(b'\n');
    write_atomic(path, &text)
}

/// Reads JSON written by `write_json`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, WorkdirError> {
    let bytes = std::fs::read(path).map_err(|source| WorkdirError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| WorkdirError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// blake3 of a file's bytes as hex.
pub fn file_blake3(path: &Path) -> Result<String, WorkdirError> {
    let read_error = |source| WorkdirError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(file).map_err(read_error)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// blake3 of any serialisable value's JSON, as hex: the fingerprint of a stage's inputs.
pub fn fingerprint<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    blake3::hash(&bytes).to_hex().to_string()
}

/// What one stage has finished.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageState {
    /// Fingerprint of the inputs the finished items were computed from.
    pub inputs: String,
    /// Keys of finished items (clip or event keys); the stage's own choice.
    pub items: BTreeSet<String>,
    /// The whole stage finished for `inputs`.
    pub complete: bool,
}

/// The state file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub stages: BTreeMap<String, StageState>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            stages: BTreeMap::new(),
        }
    }
}

/// A work directory and its loaded state.
#[derive(Debug)]
pub struct Workdir {
    root: PathBuf,
    state: State,
}

impl Workdir {
    /// Opens (creating if needed) `root` and loads its state. A missing, unreadable or
    /// other-version state file means nothing is finished (its outputs are recomputed).
    pub fn open(root: &Path) -> Result<Self, WorkdirError> {
        std::fs::create_dir_all(root).map_err(|source| WorkdirError::Write {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(Self::peek(root))
    }

    /// Loads the state of `root` without creating anything (for `--dry-run`).
    pub fn peek(root: &Path) -> Self {
        let state = match read_json::<State>(&root.join(STATE_FILE)) {
            Ok(state) if state.version == STATE_VERSION => state,
            _ => State::default(),
        };
        Self {
            root: root.to_path_buf(),
            state,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The stage's state for `inputs`: when the inputs changed, its finished items are
    /// forgotten (they were computed from something else).
    pub fn begin_stage(&mut self, stage: &str, inputs: &str) -> &StageState {
        let entry = self.state.stages.entry(stage.to_string()).or_default();
        if entry.inputs != inputs {
            *entry = StageState {
                inputs: inputs.to_string(),
                ..StageState::default()
            };
        }
        entry
    }

    /// Whether the stage already finished everything for `inputs`.
    pub fn is_complete(&self, stage: &str, inputs: &str) -> bool {
        self.state
            .stages
            .get(stage)
            .is_some_and(|s| s.complete && s.inputs == inputs)
    }

    pub fn is_item_done(&self, stage: &str, item: &str) -> bool {
        self.state
            .stages
            .get(stage)
            .is_some_and(|s| s.items.contains(item))
    }

    /// Records a finished item and saves the state.
    pub fn finish_item(&mut self, stage: &str, item: &str) -> Result<(), WorkdirError> {
        self.state
            .stages
            .entry(stage.to_string())
            .or_default()
            .items
            .insert(item.to_string());
        self.save()
    }

    /// Records the whole stage as finished and saves the state.
    pub fn finish_stage(&mut self, stage: &str) -> Result<(), WorkdirError> {
        self.state
            .stages
            .entry(stage.to_string())
            .or_default()
            .complete = true;
        self.save()
    }

    fn save(&self) -> Result<(), WorkdirError> {
        write_json(&self.root.join(STATE_FILE), &self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_reopen_and_resets_on_new_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let mut wd = Workdir::open(dir.path()).unwrap();
        wd.begin_stage("extract", "a");
        wd.finish_item("extract", "clip1").unwrap();
        let mut wd = Workdir::open(dir.path()).unwrap();
        assert!(wd.is_item_done("extract", "clip1"));
        assert!(!wd.is_complete("extract", "a"));
        wd.finish_stage("extract").unwrap();
        assert!(
            Workdir::open(dir.path())
                .unwrap()
                .is_complete("extract", "a")
        );
        let mut wd = Workdir::open(dir.path()).unwrap();
        assert!(wd.begin_stage("extract", "b").items.is_empty());
    }

    #[test]
    fn atomic_write_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/x.json");
        write_json(&path, &vec![1, 2, 3]).unwrap();
        let back: Vec<i32> = read_json(&path).unwrap();
        assert_eq!(back, vec![1, 2, 3]);
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["x.json"]);
    }

    #[test]
    fn corrupt_state_means_nothing_done() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), b"{ half").unwrap();
        let wd = Workdir::open(dir.path()).unwrap();
        assert!(wd.state().stages.is_empty());
    }
}
