//! Which files of the user's roots are Blink clips (and standalone audio) to work on.
//!
//! The rules are the original tool's (docs/blink-stitch.md lists them): recursive by default,
//! hidden entries and symbolic links skipped; `--no-recursive` takes the top-level media files
//! of a root when there are any (only its audio files when it has standalone audio), otherwise
//! the files one level down; extensions restrict discovery; without roots, the legacy
//! `audio_dir` is globbed for `.wav` and `.flac`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use walkdir::WalkDir;

/// Extensions of video containers discovered by default (lower case, no dot).
pub const VIDEO_EXTENSIONS: &[&str] = &["mp4", "mov", "m4v", "ts", "mkv"];
/// Extensions of standalone audio discovered by default.
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "flac", "mp3", "m4a", "aac", "ogg"];
/// What the legacy `audio_dir` fallback globs.
const LEGACY_AUDIO_EXTENSIONS: &[&str] = &["wav", "flac"];

/// Video clip or standalone audio, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Video,
    Audio,
}

impl MediaKind {
    /// The kind a lower-case extension names; unknown extensions count as video containers
    /// (the user asked for them with `--extensions`).
    pub fn of_extension(ext: &str) -> Self {
        if AUDIO_EXTENSIONS.contains(&ext) {
            Self::Audio
        } else {
            Self::Video
        }
    }
}

/// One discovered file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub path: PathBuf,
    /// The root it was found under (naming rules read the folders between the two).
    pub root: PathBuf,
    pub kind: MediaKind,
}

/// An entry left out, with the reason, so preflight can show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// Sorted by path, each path once.
    pub files: Vec<Found>,
    pub skipped: Vec<Skipped>,
    /// Rules that changed what was returned (audio-only preference, one-level fallback, ...).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DiscoverOptions {
    pub roots: Vec<PathBuf>,
    pub recursive: bool,
    /// Normalised extensions (see `normalize_extensions`); `None` for the defaults.
    pub extensions: Option<Vec<String>>,
    /// Legacy fallback when `roots` is empty.
    pub audio_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("input path {0} does not exist")]
    MissingRoot(PathBuf),
    #[error("audio_dir {0} does not exist")]
    MissingAudioDir(PathBuf),
    #[error("no input: give -i/--input-path, input_paths in the config, or audio_dir")]
    NoInput,
    #[error("cannot list {path}: {source}")]
    List {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no extension left after normalising {0:?}")]
    NoExtensions(Vec<String>),
}

/// `".MP4"`, `"mp4"` and `" Mp4 "` all become `"mp4"`; comma-separated items are split;
/// duplicates and empty items are dropped.
pub fn normalize_extensions(items: &[String]) -> Result<Vec<String>, DiscoverError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for ext in items.iter().flat_map(|s| s.split(',')) {
        let ext = ext.trim().trim_start_matches('.').to_ascii_lowercase();
        if !ext.is_empty() && seen.insert(ext.clone()) {
            out.push(ext);
        }
    }
    if out.is_empty() {
        return Err(DiscoverError::NoExtensions(items.to_vec()));
    }
    Ok(out)
}

/// Finds the files to work on. A missing root is an error naming it; unreadable entries
/// inside a root are skipped with a reason.
pub fn discover(options: &DiscoverOptions) -> Result<Discovery, DiscoverError> {
    let extensions: Vec<String> = match &options.extensions {
        Some(list) => list.clone(),
        None => VIDEO_EXTENSIONS
            .iter()
            .chain(AUDIO_EXTENSIONS)
            .map(|s| s.to_string())
            .collect(),
    };
    let mut discovery = Discovery::default();
    if options.roots.is_empty() {
        let dir = options.audio_dir.as_ref().ok_or(DiscoverError::NoInput)?;
        if !dir.is_dir() {
            return Err(DiscoverError::MissingAudioDir(dir.clone()));
        }
        let legacy: Vec<String> = LEGACY_AUDIO_EXTENSIONS
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (files, _) = list_dir(dir, &legacy, &mut discovery.skipped)?;
        discovery.notes.push(format!(
            "no input paths: legacy audio_dir {} globbed for .wav/.flac",
            dir.display()
        ));
        discovery.files = found(files, dir);
    } else {
        for root in &options.roots {
            if std::fs::symlink_metadata(root).is_err() {
                return Err(DiscoverError::MissingRoot(root.clone()));
            }
        }
        for root in &options.roots {
            let files = if root.is_file() {
                vec![root.clone()]
            } else if options.recursive {
                walk(root, &extensions, &mut discovery.skipped)
            } else {
                one_level(root, &extensions, &mut discovery)?
            };
            discovery.files.extend(found(files, root));
        }
    }
    discovery.files.sort_by(|a, b| a.path.cmp(&b.path));
    discovery.files.dedup_by(|a, b| a.path == b.path);
    discovery.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(discovery)
}

fn found(files: Vec<PathBuf>, root: &Path) -> Vec<Found> {
    files
        .into_iter()
        .map(|path| Found {
            kind: MediaKind::of_extension(&extension_of(&path)),
            root: root.to_path_buf(),
            path,
        })
        .collect()
}

fn extension_of(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn wanted(path: &Path, extensions: &[String]) -> bool {
    extensions.contains(&extension_of(path))
}

/// Everything below `root`, hidden entries and symbolic links skipped (and not entered).
fn walk(root: &Path, extensions: &[String], skipped: &mut Vec<Skipped>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries = WalkDir::new(root).follow_links(false).into_iter();
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err.path().unwrap_or(root).to_path_buf();
                skipped.push(Skipped {
                    path,
                    reason: format!("cannot be listed: {err}"),
                });
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let is_dir = entry.file_type().is_dir();
        let reason = if is_hidden(entry.file_name()) {
            Some("hidden")
        } else if entry.path_is_symlink() {
            Some("symbolic link")
        } else {
            None
        };
        if let Some(reason) = reason {
            if is_dir {
                entries.skip_current_dir();
            }
            if is_dir || wanted(entry.path(), extensions) {
                skipped.push(Skipped {
                    path: entry.path().to_path_buf(),
                    reason: reason.to_string(),
                });
            }
            continue;
        }
        if entry.file_type().is_file() && wanted(entry.path(), extensions) {
            files.push(entry.into_path());
        }
    }
    files
}

/// The media files directly in `dir` and its visible, real subdirectories.
fn list_dir(
    dir: &Path,
    extensions: &[String],
    skipped: &mut Vec<Skipped>,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), DiscoverError> {
    let list_error = |source| DiscoverError::List {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(list_error)?;
        let reason = if is_hidden(&entry.file_name()) {
            Some("hidden")
        } else if file_type.is_symlink() {
            Some("symbolic link")
        } else {
            None
        };
        if let Some(reason) = reason {
            if file_type.is_dir() || wanted(&path, extensions) {
                skipped.push(Skipped {
                    path,
                    reason: reason.to_string(),
                });
            }
        } else if file_type.is_dir() {
            dirs.push(path);
        } else if file_type.is_file() && wanted(&path, extensions) {
            files.push(path);
        }
    }
    files.sort();
    dirs.sort();
    Ok((files, dirs))
}

/// The `--no-recursive` rule for one root.
fn one_level(
    root: &Path,
    extensions: &[String],
    discovery: &mut Discovery,
) -> Result<Vec<PathBuf>, DiscoverError> {
    let (top, dirs) = list_dir(root, extensions, &mut discovery.skipped)?;
    if !top.is_empty() {
        let audio: Vec<PathBuf> = top
            .iter()
            .filter(|p| MediaKind::of_extension(&extension_of(p)) == MediaKind::Audio)
            .cloned()
            .collect();
        if !audio.is_empty() && audio.len() < top.len() {
            discovery.notes.push(format!(
                "{}: top level holds standalone audio, so only its {} audio files are used",
                root.display(),
                audio.len()
            ));
            return Ok(audio);
        }
        return Ok(top);
    }
    discovery.notes.push(format!(
        "{}: no media files at the top level, scanning its {} subdirectories one level deep",
        root.display(),
        dirs.len()
    ));
    let mut files = Vec::new();
    for dir in dirs {
        let (mut inner, _) = list_dir(&dir, extensions, &mut discovery.skipped)?;
        files.append(&mut inner);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_normalise() {
        let got =
            normalize_extensions(&[".MP4, wav".into(), "Mp4".into(), " .ts ".into()]).unwrap();
        assert_eq!(got, vec!["mp4", "wav", "ts"]);
        assert!(normalize_extensions(&[" , ".into()]).is_err());
    }
}
