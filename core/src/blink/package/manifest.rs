//! `manifest.json`: every output of a package directory with its size and BLAKE3 checksum,
//! so a copy can be verified later without the sources.

use std::fs::File;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::PackageError;
use crate::output::video::temporary_path;

/// Version of the manifest's layout; readers refuse newer ones.
pub const MANIFEST_VERSION: u32 = 1;
/// The manifest's file name inside the package directory.
pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// The program and version that wrote it.
    pub created_by: String,
    pub outputs: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Relative to the manifest's directory, `/`-separated.
    pub path: String,
    /// What the file is ("stitched", "mosaic", "contact_sheet", "canvas", ...).
    pub kind: String,
    pub bytes: u64,
    /// BLAKE3 of the content, lower-case hex.
    pub blake3: String,
}

/// A file to list: its path (relative to the directory, or inside it) and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: PathBuf,
    pub kind: String,
}

impl OutputFile {
    pub fn new(path: impl Into<PathBuf>, kind: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            kind: kind.into(),
        }
    }
}

/// Size and BLAKE3 hex of a file.
fn measure(path: &Path) -> Result<(u64, String), PackageError> {
    let file = File::open(path).map_err(PackageError::io(path))?;
    let mut hasher = blake3::Hasher::new();
    let bytes = std::io::copy(&mut &file, &mut hasher).map_err(PackageError::io(path))?;
    Ok((bytes, hasher.finalize().to_hex().to_string()))
}

/// `path` relative to `dir` with `/` separators, for a path inside `dir` without `..`.
fn relative_name(dir: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect();
    parts.filter(|p| !p.is_empty()).map(|p| p.join("/"))
}

/// Checksums `outputs` and writes `dir/manifest.json` (under a temporary name, then renamed).
pub fn write_manifest(dir: &Path, outputs: &[OutputFile]) -> Result<Manifest, PackageError> {
    let mut entries = Vec::with_capacity(outputs.len());
    for output in outputs {
        let path = relative_name(dir, &output.path).ok_or_else(|| {
            PackageError::invalid(
                &output.path,
                format!("not a file inside the package directory {}", dir.display()),
            )
        })?;
        let (bytes, blake3) = measure(&dir.join(&path))?;
        entries.push(ManifestEntry {
            path,
            kind: output.kind.clone(),
            bytes,
            blake3,
        });
    }
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        created_by: format!("codecprep {}", env!("CARGO_PKG_VERSION")),
        outputs: entries,
    };
    let destination = dir.join(MANIFEST_FILE);
    let temporary = temporary_path(&destination);
    let mut text = serde_json::to_string_pretty(&manifest).expect("manifests serialise");
    text.push('\n');
    let written = std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, &destination))
        .map_err(PackageError::io(&destination));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map(|()| manifest)
}

/// Reads `dir/manifest.json` and checks every listed file; returns one line per problem
/// (missing, other size, other checksum, a path outside the directory), empty when all match.
/// A missing, unreadable or newer manifest is an error.
pub fn verify_manifest(dir: &Path) -> Result<Vec<String>, PackageError> {
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read(&path).map_err(PackageError::io(&path))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|source| PackageError::Manifest {
            path: path.clone(),
            source,
        })?;
    if manifest.version > MANIFEST_VERSION {
        return Err(PackageError::invalid(
            &path,
            format!(
                "manifest version {} is newer than this program reads ({MANIFEST_VERSION})",
                manifest.version
            ),
        ));
    }
    let mut problems = Vec::new();
    for entry in &manifest.outputs {
        if relative_name(dir, Path::new(&entry.path)).as_deref() != Some(entry.path.as_str()) {
            problems.push(format!("{}: not a path inside the package", entry.path));
            continue;
        }
        let file = dir.join(&entry.path);
        if !file.is_file() {
            problems.push(format!("{}: missing", entry.path));
            continue;
        }
        match measure(&file) {
            Err(e) => problems.push(e.to_string()),
            Ok((bytes, _)) if bytes != entry.bytes => problems.push(format!(
                "{}: {bytes} bytes, the manifest lists {}",
                entry.path, entry.bytes
            )),
            Ok((_, blake3)) if blake3 != entry.blake3 => {
                problems.push(format!("{}: content changed (BLAKE3 differs)", entry.path));
            }
            Ok(_) => {}
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_verify_and_catch_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("canvases")).unwrap();
        std::fs::write(dir.path().join("a.mp4"), b"video bytes").unwrap();
        std::fs::write(dir.path().join("canvases/c0.png"), b"png").unwrap();
        let outputs = [
            OutputFile::new("a.mp4", "stitched"),
            OutputFile::new(dir.path().join("canvases/c0.png"), "canvas"),
        ];
        let manifest = write_manifest(dir.path(), &outputs).unwrap();
        assert_eq!(manifest.outputs[1].path, "canvases/c0.png");
        assert_eq!(manifest.outputs[0].bytes, 11);
        assert_eq!(
            manifest.outputs[0].blake3,
            blake3::hash(b"video bytes").to_hex().to_string()
        );
        assert_eq!(verify_manifest(dir.path()).unwrap(), Vec::<String>::new());
        // Only the manifest was added.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);

        // One byte changed, same size.
        std::fs::write(dir.path().join("a.mp4"), b"video bytez").unwrap();
        std::fs::remove_file(dir.path().join("canvases/c0.png")).unwrap();
        assert_eq!(
            verify_manifest(dir.path()).unwrap(),
            [
                "a.mp4: content changed (BLAKE3 differs)",
                "canvases/c0.png: missing"
            ]
        );
        std::fs::write(dir.path().join("a.mp4"), b"short").unwrap();
        assert_eq!(
            verify_manifest(dir.path()).unwrap()[0],
            "a.mp4: 5 bytes, the manifest lists 11"
        );
    }

    #[test]
    fn paths_outside_the_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_manifest(dir.path(), &[OutputFile::new("../x", "stitched")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a file inside the package directory")
        );
        assert_eq!(
            relative_name(Path::new("/d"), Path::new("/d/a/b.png")).unwrap(),
            "a/b.png"
        );
        assert!(relative_name(Path::new("/d"), Path::new("/e/b.png")).is_none());
    }

    #[test]
    fn newer_and_broken_manifests_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(verify_manifest(dir.path()).is_err(), "no manifest");
        std::fs::write(dir.path().join(MANIFEST_FILE), b"{").unwrap();
        assert!(
            verify_manifest(dir.path())
                .unwrap_err()
                .to_string()
                .contains("invalid manifest")
        );
        let newer = r#"{"version": 99, "created_by": "x", "outputs": []}"#;
        std::fs::write(dir.path().join(MANIFEST_FILE), newer).unwrap();
        assert!(
            verify_manifest(dir.path())
                .unwrap_err()
                .to_string()
                .contains("version 99")
        );
    }
}
